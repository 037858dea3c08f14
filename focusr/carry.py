"""Carrying a clicked subject from the frame the user saw to the frame being processed now.

The user clicks a box drawn on a frame shown a moment ago, from detections of an earlier
frame still: by the time the click is handled the subject has moved on, 10 to 60 pixels for
a walker. The tracker must start where the subject is now, or it learns the background.
Pyramidal Lucas-Kanade flow follows points on the subject through a few of the frames in
between (a forward-backward check drops points that slid off it); their median motion moves
the box. A few milliseconds, and steady on textured subjects where CSRT, tuned for speed
per frame, slips on a busy background when it has to jump several frames at once.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from focusr.geometry import center, clip_box
from focusr.types import Box

CARRY_STEPS = 6  # flow steps at most between the clicked frame and now (frames in between are skipped evenly)
WORK_SIZE = 120  # px: the subject's longest side at the scale flow runs at (never above full resolution)
MAX_POINTS = 80  # corners followed on the subject
INNER = (0.2, 0.1)  # share of the box's width, height left out each side when no mask: mostly background there
FB_ERROR = 1.0  # px (work scale): a point that does not come back to where it started within this is dropped
MIN_POINTS = 5  # fewer surviving points than this: the motion is not known from the flow
KEEP_SHARE = 0.3  # below this share of its points left the subject is hidden: it moves on at its last speed
AGREE = 2.0  # px (work scale): a point whose motion differs from the median by more is not on the subject
TRAIL_FRAMES = 90  # the hover box's own path kept: a click on it starts from there without flow again
CORNER_MARGIN = 4  # px around the mask the corner measure is computed on (its 3x3 block and derivatives)
FLOW_MARGIN = 96  # px (work scale) around the points the flow runs on: beyond its reach (15 px window, 3 levels)
LK = dict(winSize=(15, 15), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))


def carry(frames: list[np.ndarray], box: Box, mask: np.ndarray | None = None) -> list[Box]:
    """The subject's box on each of `frames` (oldest first; `box` is on the first, `mask`, if
    given, its frame-sized bool mask there). Frames between the flow's steps get the box of
    the nearest step; the last frame always gets its own."""
    return carry_all(frames, [(box, mask)])[0]


def carry_all(frames: list[np.ndarray], subjects: list[tuple[Box, np.ndarray | None]]) -> list[list[Box]]:
    """`carry` for several subjects over the same frames: each frame is made grey once, at the
    scale the largest subject needs (no subject is followed at more than WORK_SIZE px)."""
    n = len(frames)
    if n < 2 or not subjects:
        return [[box] * n for box, _ in subjects]
    s = min(min(1.0, WORK_SIZE / max(x2 - x1, y2 - y1, 1.0)) for (x1, y1, x2, y2), _ in subjects)
    grey = _Grey(frames, s)
    chain = _chain(0, n - 1)
    return [_moved(box, chain, _follow(grey, chain, corners(grey[0], box, mask, s)), n, s, frames[0].shape)
            for box, mask in subjects]


def velocity(boxes: list[Box]) -> tuple[float, float]:
    """Pixels a frame the carried subject moved, on average."""
    if len(boxes) < 2:
        return (0.0, 0.0)
    (ax, ay), (bx, by) = center(boxes[0]), center(boxes[-1])
    return ((bx - ax) / (len(boxes) - 1), (by - ay) / (len(boxes) - 1))


class _Grey:
    """The frames in grey at the work scale, each made once, when first needed."""

    def __init__(self, frames, s: float):
        self.frames, self.s, self._made = frames, s, {}

    def __getitem__(self, i: int) -> np.ndarray:
        if i not in self._made:
            frame = self.frames[i]
            grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
            self._made[i] = cv2.resize(grey, None, fx=self.s, fy=self.s, interpolation=cv2.INTER_AREA) \
                if self.s < 1 else grey
        return self._made[i]


def _chain(a: int, b: int) -> list[int]:
    """Frame indices from a to b (either way), at most CARRY_STEPS steps, evenly spaced."""
    n = abs(b - a)
    steps = min(n, CARRY_STEPS)
    sign = 1 if b >= a else -1
    return [a] + [a + sign * round(k * n / steps) for k in range(1, steps + 1)] if steps else [a]


def _follow(grey: _Grey, chain: list[int], points) -> list[tuple[float, float]] | None:
    """How far the points moved (median, work scale) from the chain's first frame to each of its
    frames; None if there was nothing to follow. Points that disagree with the rest are dropped;
    once too few are left the subject is hidden, and it goes on at its last speed."""
    if points is None:
        return None
    moves, total, speed, start = [(0.0, 0.0)], (0.0, 0.0), None, len(points)
    for a, b in zip(chain, chain[1:]):
        moved = None
        if len(points) >= max(MIN_POINTS, KEEP_SHARE * start):
            moved, points = _flow(grey[a], grey[b], points)
        if moved is not None:
            speed = (moved[0] / abs(b - a), moved[1] / abs(b - a))
        elif speed is not None:
            moved, points = (speed[0] * abs(b - a), speed[1] * abs(b - a)), points[:0]
        if moved is not None:
            total = (total[0] + moved[0], total[1] + moved[1])
        moves.append(total)
    return moves


def _moved(box: Box, chain: list[int], moves, n: int, s: float, shape) -> list[Box]:
    """The box on each of n frames: moved as the chain frame nearest to it says."""
    if moves is None:
        return [box] * n
    out = []
    for i in range(n):
        k = min(range(len(chain)), key=lambda c: (abs(chain[c] - i), -c))
        dx, dy = float(moves[k][0]) / s, float(moves[k][1]) / s
        out.append(clip_box((box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy), shape))
    return out


def corners(grey: np.ndarray, box: Box, mask: np.ndarray | None, s: float, inner=INNER) -> np.ndarray | None:
    """Corners to follow on the subject: inside its mask, if given, else on its box without
    `inner` of its width and height each side (`box` at full resolution, `grey` at scale `s`);
    None: too few to follow."""
    h, w = grey.shape[:2]
    where = np.zeros((h, w), np.uint8)
    if mask is not None and mask.any():
        where = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    else:
        x1, y1, x2, y2 = (v * s for v in box)
        mx, my = inner[0] * (x2 - x1), inner[1] * (y2 - y1)
        xa, ya = max(int(x1 + mx), 0), max(int(y1 + my), 0)
        xb, yb = min(int(np.ceil(x2 - mx)), w), min(int(np.ceil(y2 - my)), h)
        where[ya:yb, xa:xb] = 1
    if not where.any():
        return None
    # only around the mask: over the whole frame the corner measure took ~7 ms at 768x576, here
    # ~0.05 ms; the margin keeps the measure at the mask's edge what it is on the whole frame
    x, y, bw, bh = cv2.boundingRect(where)
    xa, ya, xb, yb = max(x - CORNER_MARGIN, 0), max(y - CORNER_MARGIN, 0), \
        min(x + bw + CORNER_MARGIN, w), min(y + bh + CORNER_MARGIN, h)
    found = cv2.goodFeaturesToTrack(np.ascontiguousarray(grey[ya:yb, xa:xb]), MAX_POINTS, 0.01, 3,
                                    mask=np.ascontiguousarray(where[ya:yb, xa:xb]))
    if found is None or len(found) < MIN_POINTS:
        return None
    return found + np.float32([xa, ya])


def _flow(a: np.ndarray, b: np.ndarray, points: np.ndarray):
    """Median motion of the points from a to b, and the points that moved with it, where they
    landed. A point is dropped if it does not come back to where it started (forward-backward
    check) or moved otherwise than the rest: it slid onto something passing in front."""
    ahead, good = both_ways(a, b, points)
    if good.sum() < MIN_POINTS:
        return None, points[:0]
    motion = (ahead - points).reshape(-1, 2)
    median = np.median(motion[good], axis=0)
    good &= np.linalg.norm(motion - median, axis=1) < AGREE
    if good.sum() < MIN_POINTS:
        return None, points[:0]
    return tuple(np.median(motion[good], axis=0)), ahead[good].reshape(-1, 1, 2)


def both_ways(a: np.ndarray, b: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the points landed on b, and which of them came back to where they started on a
    when followed back (the forward-backward check)."""
    # around the points only (their pyramids over a 768x576 frame cost more than the flow): a
    # point that would move out of that reach is lost to the flow's window anyway
    h, w = a.shape[:2]
    (x1, y1), (x2, y2) = points.reshape(-1, 2).min(axis=0), points.reshape(-1, 2).max(axis=0)
    xa, ya = max(int(x1) - FLOW_MARGIN, 0), max(int(y1) - FLOW_MARGIN, 0)
    xb, yb = min(int(x2) + FLOW_MARGIN + 1, w), min(int(y2) + FLOW_MARGIN + 1, h)
    a, b, at = a[ya:yb, xa:xb], b[ya:yb, xa:xb], np.float32([xa, ya])
    ahead, ok, _ = cv2.calcOpticalFlowPyrLK(a, b, points - at, None, **LK)
    back, ok_back, _ = cv2.calcOpticalFlowPyrLK(b, a, ahead, None, **LK)
    return ahead + at, (ok.ravel() == 1) & (ok_back.ravel() == 1) & \
        (np.linalg.norm((back + at - points).reshape(-1, 2), axis=1) < FB_ERROR)


class Follow:
    """A detection's box carried frame by frame to where its subject is now: the hover box is
    drawn on the subject, not where the detector saw it a few frames ago, and a click on it
    starts from there. One flow step a frame while the same detection stays under the pointer;
    a new one is carried from its own frame (`frames_since`) once."""

    def __init__(self):
        self._source = None
        self.detected_at = -1  # the frame the followed detection is of
        self._index = -1
        self._frame: np.ndarray | None = None
        self.box: Box | None = None
        self._trail: deque[tuple[int, Box]] = deque(maxlen=TRAIL_FRAMES)  # (frame index, box), this source's

    @property
    def source(self):
        """The detection followed now (None: none)."""
        return self._source

    def follow(self, source, detected_at: int, frame: np.ndarray, index: int, frames_since,
               now: Box | None = None) -> Box | None:
        """`source`: the detection under the pointer (None: nothing); `frames_since(i)`: the
        frames from i to this one, or None when they are gone; `now`: its box on this frame,
        when the caller has already carried it there."""
        if source is None:
            self._source, self.box, self._frame = None, None, None
            self._trail.clear()
            return None
        if source is self._source and self._index == index - 1 and self._frame is not None \
                and self._frame.shape == frame.shape:
            # the same one: `now` when the caller has followed it here already (not twice a frame)
            self.box = now if now is not None else carry([self._frame, frame], self.box)[-1]
        else:
            self._trail.clear()
            self.detected_at = detected_at
            if now is not None:
                self.box = now
            else:
                past = frames_since(detected_at)
                path = carry(past, source.box, source.mask) if past else [source.box]
                self._trail.extend(zip(range(index - len(path) + 1, index + 1), path))
                self.box = path[-1]
        self._trail.append((index, self.box))
        self._source, self._index, self._frame = source, index, frame
        return self.box

    def path(self, source, since: int) -> list[Box] | None:
        """Where `source`'s subject was on each frame from `since` to the last one followed,
        if it is the source followed and every one of those frames is known (else None): a
        click on the hover box needs no flow again."""
        if source is not self._source or not self._trail or self._trail[0][0] > since:
            return None
        out = [(i, b) for i, b in self._trail if i >= since]
        if not out or out[0][0] != since or any(b[0] - a[0] != 1 for a, b in zip(out, out[1:])):
            return None
        return [b for _, b in out]

    def box_at(self, index: int) -> Box | None:
        """Where the followed subject was on frame `index` (None: not followed then)."""
        return next((b for i, b in self._trail if i == index), None)

    @property
    def last(self) -> int:
        """The index of the last frame followed (-1: none)."""
        return self._index if self._source is not None else -1
