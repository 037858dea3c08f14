"""Correction clicks: a Shift-click adds the region under the cursor to the nearest subject's
matte (a bag the cut-out left off), an Alt-click takes one away (the wall it took in).

A correction is a region, not a pixel: the patch of like colour around the click, stopped at
edges and bounded to a share of the subject's size (one click means a part, never the scene).
It is kept relative to the subject's box (its centre and size), so it moves and scales with
the subject as it is tracked, until the subject is let go or clicked afresh. The tracker's box
trails a walker by a few pixels between detections, and a bag swings: on each frame the region
is found again near where the box puts it, by its own look on the frame it was made on (its
pixels matched under its mask, `Correction.placed`). Corrections are
laid over the subject's cut-out on every frame, in the order they were made (a later one wins where they overlap); the
cut-out itself is never changed, so they never pile up frame after frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from focusr.types import Box, Point

REACH = 0.6  # a correction reaches at most this share of the subject's larger side from the click
MOST_SHARE = 0.5  # ... and covers at most this share of its box's area
LEAST_PX = 12  # ... and at least a disc this wide: a speck of like colour is taken as a part of it
TOLERANCE = (14, 10, 10)  # Lab difference from neighbour to neighbour that is still "like colour"
EDGES = (60, 150)  # Canny thresholds: the fill stops at these edges
SEARCH_SHARE = 0.15  # found again within this share of the subject's size of where its box puts it
SEARCH_LEAST_PX = 4  # ... and at least this many pixels
LOOKS_LIKE = 40.0  # RMS difference (grey levels) under its mask at most: it is there; else where the box puts it


@dataclass(frozen=True)
class Correction:
    """One correction click: where the region is relative to the subject's box when it was made
    (offsets from the box's centre, in units of its size: `_frame_of`), and its mask there."""

    at: tuple[float, float, float, float]  # the region's box, from the subject's box centre, in its sizes
    mask: np.ndarray  # bool, the region within `at`
    include: bool  # True: Shift-click (add), False: Alt-click (take away)
    look: np.ndarray | None = None  # its pixels (BGR) within `at` on the frame it was made on

    @classmethod
    def grown(cls, frame: np.ndarray, point: Point, box: Box, include: bool) -> Correction:
        """The region a click at `point` means on `frame`, for the subject whose box there is `box`."""
        mask = region(frame, point, box)
        ys, xs = np.nonzero(mask)
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        (cx, cy), size = _frame_of(box)
        return cls(((x1 - cx) / size, (y1 - cy) / size, (x2 - cx) / size, (y2 - cy) / size),
                   mask[y1:y2, x1:x2].copy(), include, frame[y1:y2, x1:x2].copy())

    def placed(self, box: Box, shape, frame: np.ndarray | None = None) -> tuple[tuple[slice, slice], np.ndarray] | None:
        """Where the region is on a frame of `shape` with the subject at `box`: (the frame's
        slices, the region's mask there), None if it falls outside the frame. Given the `frame`,
        where its look matches best near there (`_found`)."""
        (cx, cy), size = _frame_of(box)
        u1, v1, u2, v2 = self.at
        x1, y1 = int(round(cx + u1 * size)), int(round(cy + v1 * size))
        x2, y2 = max(int(round(cx + u2 * size)), x1 + 1), max(int(round(cy + v2 * size)), y1 + 1)
        mask = cv2.resize(self.mask.astype(np.uint8), (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST) > 0
        if frame is not None and self.look is not None:
            dx, dy = self._found(frame, (x1, y1, x2, y2), mask, max(SEARCH_SHARE * size, SEARCH_LEAST_PX))
            x1, y1, x2, y2 = x1 + dx, y1 + dy, x2 + dx, y2 + dy
        H, W = shape[:2]
        fx1, fy1, fx2, fy2 = max(x1, 0), max(y1, 0), min(x2, W), min(y2, H)
        if fx2 <= fx1 or fy2 <= fy1:
            return None
        return (slice(fy1, fy2), slice(fx1, fx2)), mask[fy1 - y1 : fy2 - y1, fx1 - x1 : fx2 - x1]

    def _found(self, frame: np.ndarray, at: tuple[int, int, int, int], mask: np.ndarray,
               reach: float) -> tuple[int, int]:
        """How far from `at` (x1, y1, x2, y2 on `frame`) its look matches best, within `reach`
        pixels (and the frame): (0, 0) when it is not clearly there (nothing within LOOKS_LIKE,
        or partly off the frame): the box's word stands."""
        x1, y1, x2, y2 = at
        H, W = frame.shape[:2]
        if x1 < 0 or y1 < 0 or x2 > W or y2 > H or not mask.any():
            return 0, 0
        r = int(np.ceil(reach))
        sx1, sy1 = max(x1 - r, 0), max(y1 - r, 0)
        look = self.look if self.look.shape[:2] == mask.shape else \
            cv2.resize(self.look, (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA)
        # one mask channel serves the three colour channels
        cost = cv2.matchTemplate(frame[sy1:min(y2 + r, H), sx1:min(x2 + r, W)], look, cv2.TM_SQDIFF,
                                 mask=mask.astype(np.uint8))
        best, _, (bx, by), _ = cv2.minMaxLoc(cost)
        if np.sqrt(max(best, 0.0) / (3 * mask.sum())) > LOOKS_LIKE:
            return 0, 0
        return bx - (x1 - sx1), by - (y1 - sy1)


def _frame_of(box: Box) -> tuple[tuple[float, float], float]:
    """A subject's box as a centre and one size (the root of its area): a box that jitters in
    width or height does not stretch its corrections one way."""
    x1, y1, x2, y2 = box
    return ((x1 + x2) / 2, (y1 + y2) / 2), max(float(np.sqrt(max((x2 - x1) * (y2 - y1), 1.0))), 1.0)


def region(frame: np.ndarray, point: Point, box: Box) -> np.ndarray:
    """The frame-sized bool mask a correction click at `point` takes: the patch of like colour
    (Lab flood fill) that the frame's edges bound, within REACH of the click and MOST_SHARE of
    the box; never less than a LEAST_PX disc around the click."""
    H, W = frame.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    reach = max(REACH * max(bw, bh), LEAST_PX)
    px, py = min(max(int(point[0]), 0), W - 1), min(max(int(point[1]), 0), H - 1)
    x1, y1 = max(int(px - reach), 0), max(int(py - reach), 0)
    x2, y2 = min(int(px + reach) + 1, W), min(int(py + reach) + 1, H)
    window = frame[y1:y2, x1:x2]
    lab = cv2.cvtColor(cv2.GaussianBlur(window, (3, 3), 0), cv2.COLOR_BGR2LAB)
    edges = cv2.Canny(cv2.cvtColor(window, cv2.COLOR_BGR2GRAY), *EDGES)
    flood = np.zeros((y2 - y1 + 2, x2 - x1 + 2), np.uint8)
    flood[1:-1, 1:-1][edges > 0] = 1  # the fill does not cross an edge
    seed = (px - x1, py - y1)
    flood[seed[1] + 1, seed[0] + 1] = 0  # (a click on an edge pixel still fills)
    cv2.floodFill(lab, flood, seed, 0, TOLERANCE, TOLERANCE, 4 | cv2.FLOODFILL_MASK_ONLY | (2 << 8))
    grown = flood[1:-1, 1:-1] == 2
    yy, xx = np.ogrid[y1:y2, x1:x2]
    near = (xx - px) ** 2 + (yy - py) ** 2
    grown &= near <= reach**2
    most = MOST_SHARE * max(bw * bh, LEAST_PX**2)
    if grown.sum() > most:  # too much of like colour: the nearest part of it, as much as allowed
        grown &= near <= np.sort(near[grown])[int(most) - 1]
    grown |= near <= (LEAST_PX / 2) ** 2
    out = np.zeros((H, W), bool)
    out[y1:y2, x1:x2] = grown
    return out


def corrected(matte: np.ndarray | None, corrections: list[Correction], box: Box | None,
              frame: np.ndarray | None = None) -> np.ndarray | None:
    """The subject's matte (uint8, 0..255) with its corrections laid over it where the subject
    is now (`box`), each found again on `frame` near there: a new array; the matte given is
    never changed."""
    if matte is None or not corrections or box is None:
        return matte
    out = matte.copy()
    for c in corrections:
        where = c.placed(box, out.shape, frame)
        if where is not None:
            (ys, xs), mask = where
            out[ys, xs][mask] = 255 if c.include else 0
    return out
