"""What each output frame showed the user, and what a click on it meant.

A click is made on the frame that was on screen, which the server processed a few frames
ago; the boxes drawn on it came from detections of an earlier frame still (the detector
runs in the background). So the pipeline keeps, for its recent output frames, what it drew
(`Shown`), and a click is resolved against the frame it was made on (`resolve`), never
against whatever a fresh detection of a later frame happens to find under the same pixel.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from focusr.geometry import area, distance
from focusr.types import Box, Detection, Point

SHOWN_FRAMES = 90  # output frames remembered: 3 s at 30 fps, longer than any reply takes to be seen
CLICK_TOLERANCE = 12 / 640  # a click this share of the frame's long side outside a shown box still takes it


@dataclass(frozen=True)
class Shown:
    """One output frame as the user saw it."""

    index: int  # the pipeline's frame index
    detections: tuple[Detection, ...]  # what could be clicked: the detections of frame `detections_at`
    detections_at: int
    hover: Detection | None  # the amber box drawn, where its subject was on this frame (`carry.Follow`)
    hover_source: Detection | None  # the detection it was carried from (of frame `detections_at`)
    lock: Box | None  # the green box drawn around the locked subject
    subject_key: int | None  # which lock that was


@dataclass(frozen=True)
class Choice:
    """What a click meant: keep the locked subject, take a shown detection, or grow a region."""

    kind: str  # "keep", "detection" or "region"
    detection: Detection | None = None  # its box is on frame `at`
    at: int | None = None
    source: Detection | None = None  # as the detector gave it, with its mask (of frame `detections_at`)


class ShownFrames:
    """The recent output frames, by index."""

    def __init__(self, keep: int = SHOWN_FRAMES):
        self._frames: deque[Shown] = deque(maxlen=keep)

    def add(self, shown: Shown) -> None:
        self._frames.append(shown)

    def clear(self) -> None:
        self._frames.clear()

    def get(self, index: int | None) -> Shown | None:
        """The frame shown as `index` (None: the newest); an index no longer kept gives the
        oldest kept, the nearest to what the user saw."""
        if not self._frames:
            return None
        if index is None:
            return self._frames[-1]
        for shown in reversed(self._frames):
            if shown.index <= index:
                return shown
        return self._frames[0]


def tolerance(shape) -> float:
    return CLICK_TOLERANCE * max(shape[:2])


def resolve(shown: Shown | None, point: Point, tol: float) -> Choice:
    """The subject the user meant by clicking `point` on the frame `shown`.

    In order: the hover box drawn under (or within `tol` of) the pointer; the locked
    subject's box (a click on what is already locked keeps it); a detection of that frame
    whose mask or box holds the point, the tightest (a bottle in a hand is the bottle); a
    box within `tol`, the nearest. Only where nothing was shown does a click grow a region.
    """
    if shown is None:
        return Choice("region")
    if shown.hover is not None and distance(shown.hover.box, point) <= tol:
        return Choice("detection", shown.hover, shown.index, shown.hover_source)
    if shown.lock is not None and distance(shown.lock, point) <= tol:
        return Choice("keep")
    hits = [d for d in shown.detections if d.contains(point)]
    if hits:
        best = min(hits, key=lambda d: float(d.mask.sum()) if d.mask is not None else d.area)
        return Choice("detection", best, shown.detections_at, best)
    near = [d for d in shown.detections if distance(d.box, point) <= tol]
    if near:
        best = min(near, key=lambda d: (distance(d.box, point), area(d.box)))
        return Choice("detection", best, shown.detections_at, best)
    return Choice("region")


RECENT_FRAMES = 45  # frames kept to carry a clicked subject forward: 1.5 s at 30 fps ...
RECENT_BYTES = 64 << 20  # ... or fewer, for large frames (45 at 640x480; 23 at 1280x720)


class RecentFrames:
    """The last frames processed, by index, to carry a clicked subject from the frame it was
    shown on to the current one. References, not copies: a frame is never written to once it
    has been processed. Bounded by count and by bytes."""

    def __init__(self, keep: int = RECENT_FRAMES, max_bytes: int = RECENT_BYTES):
        self.keep, self.max_bytes = keep, max_bytes
        self._frames: deque[tuple[int, np.ndarray]] = deque()

    def add(self, index: int, frame: np.ndarray) -> None:
        self._frames.append((index, frame))
        limit = max(1, min(self.keep, self.max_bytes // max(frame.nbytes, 1)))
        while len(self._frames) > limit:
            self._frames.popleft()

    def newest(self) -> np.ndarray | None:
        """The last frame added (None: none yet)."""
        return self._frames[-1][1] if self._frames else None

    def since(self, index: int, shape, until: int | None = None) -> list[np.ndarray] | None:
        """The frames from `index` to the newest (or to `until`), oldest first; None if `index`
        is no longer kept or the frame size changed on the way."""
        out = [f for i, f in self._frames if i >= index and (until is None or i <= until)]
        if not out or self._frames[0][0] > index or any(f.shape != shape for f in out):
            return None
        return out
