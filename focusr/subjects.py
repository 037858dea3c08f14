"""Several subjects: those kept sharp besides the first (a Ctrl-click, or `--add`), each with its
own tracker and cut-out made with the pipeline's settings, tracked and re-acquired on its own;
and what they share: one picture (the blur grows with the distance from the nearest subject,
so the mattes combine by their maximum) and the detections (a walker is one subject's only).

The first subject stays the pipeline's own (`FocusPipeline.tracker`, `.segmenter`): its
click is carried from the frame it was made on, its detections carried by flow to now, and
the chain of detections keeps it off a lamp post. Those kept besides it take the detector's
boxes as they come (`Tracker.update` compares them where the subject was on their frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import param

from focusr.corrections import Correction
from focusr.geometry import area, distance, iou
from focusr.segment import Segmenter
from focusr.track import Tracker
from focusr.types import Box, Detection, Subject, TrackState

SHARE_MIN_IOU = 0.1  # a detection overlapping a subject's box less than this is not matched to it
KEPT_ENGINE = "flow"  # Tracker.engine of those kept besides the first: CSRT's ~10 ms a frame each made four cost 3x one
MOST_SUBJECTS = 8  # kept sharp at once: each costs a tracker and a cut-out on every frame
TOO_MANY = (f"At most {MOST_SUBJECTS} subjects are kept sharp at once: Ctrl-click one to let it go, "
            "then add another.")


def settings(stage: param.Parameterized) -> dict:
    """A stage's parameter values, to make another like it."""
    return {k: v for k, v in stage.param.values().items() if k != "name"}


@dataclass
class Kept:
    """A subject kept besides the first: its own tracker and segmenter (sharing the first's
    person model), the scale it is tracked at, its last matte, its newest detection and its
    correction clicks."""

    tracker: Tracker
    segmenter: Segmenter
    scale: float = 1.0
    matte: np.ndarray | None = None
    detection: Detection | None = None  # the detection it took in the newest round (the hover box skips it)
    fresh: Detection | None = field(default=None, repr=False)  # the one it took on this frame, for its matte
    corrections: list[Correction] = field(default_factory=list)  # its correction clicks, oldest first

    @classmethod
    def like(cls, tracker: Tracker, segmenter: Segmenter) -> Kept:
        """One with the settings of the first subject's stages (`follow` keeps them so), followed
        frame to frame by flow rather than CSRT (KEPT_ENGINE)."""
        seg = Segmenter(**settings(segmenter))
        seg.share_model(segmenter)
        return cls(Tracker(**{**settings(tracker), "engine": KEPT_ENGINE}), seg)

    def follow(self, events) -> None:
        """A control of the first subject's tracker or segmenter changed (param events): this
        subject's changes with it, as the user expects of a control."""
        stage = self.tracker if isinstance(events[0].obj, Tracker) else self.segmenter
        stage.param.update(**{e.name: e.new for e in events})


def current(tracker: Tracker) -> Subject | None:
    """A tracker's subject with its box now (None: it keeps nobody)."""
    subject, box = tracker.subject, tracker.box
    if subject is None or tracker.state == TrackState.IDLE:
        return None
    return subject if box is None else Subject(box=box, label=subject.label, kind=subject.kind, key=subject.key)


def combined(mattes: list[np.ndarray | None], shape) -> np.ndarray | None:
    """One matte for the picture: each pixel as sharp as the subject that keeps it sharpest."""
    ready = [m for m in mattes if m is not None and m.shape == tuple(shape[:2])]
    if not ready:
        return None
    return ready[0] if len(ready) == 1 else np.maximum.reduce(ready)


def shares(detections: list[Detection] | None, at: int | None, trackers: list[Tracker]) -> list:
    """For each tracker, the detections it may take: one each, matched one to one by overlap
    with where the subjects were on the detections' frame (the best overlap first), and those
    matched to nobody, which anyone may take (to re-acquire). Two walkers who cross keep to
    their own detections; without this, both trackers could snap to the one in front."""
    if detections is None or len(trackers) < 2:
        return [detections] * len(trackers)
    boxes = [(t.box_at(at) or t.box) if t.state != TrackState.IDLE else None for t in trackers]
    pairs = sorted(((iou(d.box, b), i, j) for i, b in enumerate(boxes) if b is not None
                    for j, d in enumerate(detections)), reverse=True)
    owner: dict[int, int] = {}
    for score, i, j in pairs:
        if score < SHARE_MIN_IOU:
            break
        if j not in owner and i not in owner.values():
            owner[j] = i
    return [[d for j, d in enumerate(detections) if owner.get(j, i) == i] for i in range(len(trackers))]


def under(boxes: list[tuple[object, Box | None]], point, tol: float):
    """Of (owner, box) pairs, the owner whose box is at most `tol` px from `point`, the
    smallest box first (one subject in front of another); None: no kept subject there."""
    near = [(owner, box) for owner, box in boxes if box is not None and distance(box, point) <= tol]
    if not near:
        return None
    return min(near, key=lambda ob: area(ob[1]))[0]
