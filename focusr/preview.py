"""The hover over something the detector did not see: the outline of the region a click there
would take, so the user sees before clicking what will be kept sharp.

Growing that region (`segment.grow_region`: a flood fill, then GrabCut widened until the
object no longer runs into its window) takes 100-300 ms at a click's detail on this machine:
far too much for every frame. So it is grown at half that detail (PREVIEW_WORK_SIZE), on its
own thread, once the pointer has rested a moment, one at a time, on a copy of the frame under
the pointer then, and never more than a share of one core (BUDGET: after a grow that took d,
the next waits d / BUDGET); while the pointer stays there its outline is drawn, carried by
flow with what it outlines (`carry.Follow`, one step a frame). A click within it takes
exactly that region, from the frame it was grown on: no second grow, and what was shown is
what is kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from focusr.carry import Follow
from focusr.geometry import center
from focusr.types import REGION_LABEL, Box, Detection, Point

log = logging.getLogger(__name__)

REST_PX = 6.0  # the pointer moved less than this since the last frame: it rests (and a region grown here is its)
REST_FRAMES = 3  # frames it must rest before a region is grown under it: none for a pointer passing over
PREVIEW_WORK_SIZE = 160  # px, the frame's longest side when growing a preview (a click grows at GROW_WORK_SIZE)
BUDGET = 0.05  # share of one core the previews may take: after a grow of d seconds, none for d / BUDGET


@dataclass(frozen=True)
class Preview:
    """A region grown under the resting pointer: where (`point`), on which frame (`index`), its
    box and frame-sized bool mask there, and the mask's outline (contours, frame pixels)."""

    point: Point
    index: int
    box: Box
    mask: np.ndarray
    outline: tuple[np.ndarray, ...]


class RegionPreview:
    """Grows the region under a resting pointer off the frame path and follows it to now."""

    def __init__(self, grow: Callable[[np.ndarray, Point, int], tuple[Box, np.ndarray]]):
        self._grow = grow  # (frame, point, work size) -> the region's box and mask, as a click grows it
        self._free_at = 0.0  # monotonic: no grow starts before (BUDGET)
        self._pool: ThreadPoolExecutor | None = None
        self._job: Future | None = None
        self._job_point: Point | None = None
        self._rest: tuple[Point, int] | None = None  # (where the pointer rests, frames it has)
        self.result: Preview | None = None
        self._follow = Follow()
        self._source: Detection | None = None  # the result as a detection, for the flow to follow
        self.grown = 0  # regions grown so far (the bench counts them) ...
        self.seconds = 0.0  # ... and the time they took

    def at(self, frame: np.ndarray, point: Point | None, index: int, frames_since) -> tuple[Preview, Box] | None:
        """The region a click at `point` would take and its box now, when one has been grown
        there; else None (and one is started once the pointer has rested REST_FRAMES frames).
        `frames_since(i)`: the frames from i to this one, for the flow (None: gone)."""
        if point is None:
            self._rest = None
            self._show(None, frame, index, frames_since)
            return None
        near = lambda a: a is not None and np.hypot(a[0] - point[0], a[1] - point[1]) <= REST_PX  # noqa: E731
        frames = self._rest[1] + 1 if self._rest is not None and near(self._rest[0]) else 1
        self._rest = (point, frames)
        self._collect()
        if self.result is not None and near(self.result.point):
            return self._show(self.result, frame, index, frames_since)
        if frames >= REST_FRAMES and self._job is None and time.monotonic() >= self._free_at:
            self._start(frame, point, index)
        return self._show(None, frame, index, frames_since)

    @property
    def growing(self) -> bool:
        """Whether a region is being grown now."""
        return self._job is not None

    def taken(self, click: Point) -> Preview | None:
        """The region shown under `click`, if a click there takes it (it was grown where the
        pointer rested, within REST_PX of the click)."""
        self._collect()
        r = self.result
        return r if r is not None and np.hypot(r.point[0] - click[0], r.point[1] - click[1]) <= REST_PX else None

    def clear(self) -> None:
        """Forget what was grown (a new picture: a cut, a new source, another frame size)."""
        self.result, self._rest, self._source = None, None, None
        self._follow = Follow()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _start(self, frame: np.ndarray, point: Point, index: int) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="focusr-preview")
        self._job_point = point
        self._job = self._pool.submit(self._run, frame.copy(), point, index)

    def _run(self, frame: np.ndarray, point: Point, index: int) -> Preview:
        start = time.monotonic()
        try:
            box, mask = self._grow(frame, point, PREVIEW_WORK_SIZE)
        finally:
            took = time.monotonic() - start
            self.seconds += took
            self._free_at = time.monotonic() + took * (1 - BUDGET) / BUDGET
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return Preview(point, index, box, mask, tuple(contours))

    def _collect(self) -> None:
        """Take the finished job's region (a failed one is logged and dropped)."""
        if self._job is None or not self._job.done():
            return
        job, self._job = self._job, None
        try:
            self.result = job.result()
            self.grown += 1
        except Exception:
            log.exception("growing the hover preview failed at %s", self._job_point)

    def _show(self, preview: Preview | None, frame, index: int, frames_since) -> tuple[Preview, Box] | None:
        """The preview and its box carried by flow from its frame to this one."""
        if preview is None:
            self._follow.follow(None, -1, frame, index, frames_since)
            return None
        if self._source is None or self._source.box != preview.box:
            self._source = Detection(preview.box, REGION_LABEL, 1.0, preview.mask)
        box = self._follow.follow(self._source, preview.index, frame, index, frames_since)
        return preview, box


def shifted(preview: Preview, box: Box) -> list[np.ndarray]:
    """The preview's outline moved with its box to `box` (where flow carried it)."""
    (ax, ay), (bx, by) = center(preview.box), center(box)
    d = np.array([[[round(bx - ax), round(by - ay)]]], np.int32)
    return [c + d for c in preview.outline]
