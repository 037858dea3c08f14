"""The locked subject's chain of detections: where the model saw it, round after round.

CSRT follows pixels, and a tracker seeded on a box that is half background (a walker passing a
sign post, or a hover box a few pixels behind a fast walker) stays on that background while
its subject walks on. The detector sees the walker move on: each round's detection of him lies
where his last one, moved at his own speed, predicts. The chain keeps that thread, on the
detections' own frames (never carried by the tracker's motion, which is what went wrong), so
the tracker can be told when it has left its subject, within one detection round.

Association is by overlap with the prediction, as in SORT: the one detection that overlaps
it enough continues the chain; two that do (walkers crossing) say nothing that round, and
the prediction goes on at the subject's speed.
"""

from __future__ import annotations

from focusr.carry import velocity
from focusr.geometry import center, iou
from focusr.types import Box

CHAIN_IOU = 0.3  # a detection overlapping the prediction this much continues the chain ...
CHAIN_WIDTH = (0.7, 1.4)  # ... if it is about the subject's width and height (about_size)
CHAIN_MISSES = 3  # rounds in a row that continue nobody: the thread is lost (the tracker's own judgement stands)
CHAIN_SPEED_KEEP = 0.5  # share of the chain's speed kept when a round measures it afresh


def about_size(box: Box, ref: Box) -> bool:
    """Whether `box` is about `ref`'s width and height (CHAIN_WIDTH): the same subject, not
    two merged into one box, nor a box around a box-sized one."""
    lo, hi = CHAIN_WIDTH
    return (lo <= (box[2] - box[0]) / max(ref[2] - ref[0], 1e-3) <= hi
            and lo <= (box[3] - box[1]) / max(ref[3] - ref[1], 1e-3) <= hi)


class Chain:
    """One subject's detections, in the tracker's (small) frame pixels and frame indices."""

    def __init__(self, at: int, box: Box, speed: tuple[float, float] = (0.0, 0.0)):
        self.at, self.box, self.speed = at, box, speed
        self.missed = 0

    @classmethod
    def from_path(cls, last: int, path: list[Box]) -> Chain:
        """From the subject's path up to frame `last`, oldest first (the click's carry: its
        first box is the detection clicked on, of its own frame)."""
        return cls(last - len(path) + 1, path[0], velocity(path))

    def predict(self, at: int) -> Box:
        """Where the subject's detection should be on frame `at`, at its speed."""
        k = at - self.at
        vx, vy = self.speed
        x1, y1, x2, y2 = self.box
        return (x1 + vx * k, y1 + vy * k, x2 + vx * k, y2 + vy * k)

    def step(self, at: int, boxes: list[Box]) -> int | None:
        """A round of detections of frame `at` (of the subject's kind): the index of the one
        that continues the chain, which then moves on to it; None when none does, or two
        could (the prediction goes on)."""
        if at <= self.at:
            return None
        pred = self.predict(at)
        fits = [(iou(b, pred), i) for i, b in enumerate(boxes) if iou(b, pred) >= CHAIN_IOU and about_size(b, pred)]
        if len(fits) != 1:
            self.missed += len(fits) == 0
            return None
        i = fits[0][1]
        (px, py), (cx, cy) = center(self.box), center(boxes[i])
        k = max(at - self.at, 1)
        keep = CHAIN_SPEED_KEEP
        self.speed = (keep * self.speed[0] + (1 - keep) * (cx - px) / k,
                      keep * self.speed[1] + (1 - keep) * (cy - py) / k)
        self.at, self.box, self.missed = at, boxes[i], 0
        return i

    @property
    def lost(self) -> bool:
        return self.missed >= CHAIN_MISSES

    def scale(self, kx: float, ky: float) -> None:
        """The frame size changed."""
        x1, y1, x2, y2 = self.box
        self.box = (x1 * kx, y1 * ky, x2 * kx, y2 * ky)
        self.speed = (self.speed[0] * kx, self.speed[1] * ky)
