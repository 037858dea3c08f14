"""Typed values that pass between stages and out to the dashboard and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in source-frame pixels
Point = tuple[float, float]


class TrackState(str, Enum):
    IDLE = "idle"
    LOCKED = "locked"
    LOST = "lost"
    REACQUIRED = "reacquired"


HELD = (TrackState.LOCKED, TrackState.REACQUIRED)  # the subject is where its box says: kept sharp, tracked


@dataclass(frozen=True)
class Detection:
    box: Box
    label: str
    score: float
    mask: np.ndarray | None = None  # bool, frame-sized, when the model segments

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    def contains(self, point: Point) -> bool:
        x, y = point
        if self.mask is not None:
            h, w = self.mask.shape
            xi, yi = int(x), int(y)
            return 0 <= xi < w and 0 <= yi < h and bool(self.mask[yi, xi])
        x1, y1, x2, y2 = self.box
        return x1 <= x <= x2 and y1 <= y <= y2


@dataclass(frozen=True)
class Subject:
    """What the user locked: a detector class, or a region grown from the click."""

    box: Box
    label: str
    kind: str  # "detection" or "region"
    key: int  # changes whenever the user picks a new subject


@dataclass(frozen=True)
class Pointer:
    """The user's input for one frame, in source-frame pixels."""

    hover: Point | None = None
    click: Point | None = None
    release: bool = False
    shown: int | None = None  # the frame on screen when the click was made (its index); None: this one
    mode: str = "lock"  # what the click does: one of CLICK_MODES


# What a click does to the subjects kept sharp: "lock" starts over with the one clicked; "add"
# keeps it too; "remove" lets the kept one clicked go; "toggle" (Ctrl-click) adds, or removes
# a kept one; "include" (Shift-click) and "exclude" (Alt-click) correct the nearest one's
# cut-out by the region under the click (focusr.corrections).
CLICK_MODES = ("lock", "add", "remove", "toggle", "include", "exclude")
REGION_LABEL = "object"  # what a click on something the detector did not see locks (a region grown from it)


@dataclass
class FrameResult:
    index: int
    t: float
    state: TrackState
    subject: Subject | None  # the first of `subjects` (None: none kept)
    matte: np.ndarray | None  # uint8 0..255, frame-sized: how sharp each pixel is kept (all subjects)
    hover: Detection | None
    detections: list[Detection]
    preview: Box | None = None  # over what the detector did not see: the box of the region a click there takes
    timings_ms: dict[str, float] = field(default_factory=dict)
    detected: bool = False  # whether new detections arrived on this frame
    warnings: list[str] = field(default_factory=list)
    subjects: list[tuple[Subject, TrackState]] = field(default_factory=list)  # every subject kept, first first

    def summary(self) -> dict:
        """What a frame's reply says about it, in JSON types: the page's header and the CLI's
        report both carry exactly this."""
        rounded = lambda box: [round(v, 1) for v in box] if box is not None else None  # noqa: E731
        return {
            "state": self.state.value,
            "label": self.subject.label if self.subject else None,
            "box": rounded(self.subject.box if self.subject else None),
            "hover": rounded(self.hover.box if self.hover else None),
            "hover_label": self.hover.label if self.hover else None,
            "preview": rounded(self.preview),
            "detected": self.detected,
            "subjects": [{"key": s.key, "label": s.label, "state": state.value, "box": rounded(s.box)}
                         for s, state in self.subjects],
        }
