"""A cheap frame-to-frame tracker for the subjects kept besides the first.

CSRT costs 9-12 ms a frame per subject on this machine (most of it a fixed cost: a smaller
template hardly helps), so four subjects kept sharp ran at a third of one's frame rate.
Those kept besides the first follow the median motion of corners on them instead, the way
`focusr.carry` carries a clicked subject (pyramidal Lucas-Kanade, a forward-backward check,
points that move otherwise than the rest dropped) and the way OpenCV's MedianFlow works:
about a millisecond. Its drift is what the tracker's other checks already catch: each
detection round confirms or snaps the box, the appearance check notices a box that slid
onto the background, and a subject lost is searched for as with CSRT.

It answers as an OpenCV tracker does (`init(frame, rect)`, `update(frame) -> (ok, rect)`),
so `focusr.track.Tracker` uses either (its `engine`).
"""

from __future__ import annotations

import cv2
import numpy as np

from focusr.carry import AGREE, MIN_POINTS, both_ways, carry_all, corners
from focusr.geometry import clip_box
from focusr.types import Box

RESEED_SHARE = 0.5  # fewer of the points it started with left than this share: find corners on the box afresh
SCALE_STEP = (0.95, 1.05)  # a box grows or shrinks at most this much a frame (a subject walks to or from the camera)
MIN_SCALE_POINTS = 10  # scale is measured only from this many points; fewer give a noisy ratio
AGREE_SHARE = 0.5  # a point agrees with the way expected within AGREE px and this share of its length (a pace changes)
MOST = 0.7  # share of its points that must go one way for that to be its way when its last step's is not
INNER = (0.15, 0.1)  # share of the box's width, height left out each side: a walker's edges are background
COAST_FRAMES = 15  # frames it may move on at its last motion, hidden, before it says it lost the subject


class FlowTracker:
    """Follows a box by the median motion of corners inside it, frame to frame."""

    def __init__(self):
        self._grey: np.ndarray | None = None
        self._points: np.ndarray | None = None
        self._start = 0
        self._rect: tuple[float, float, float, float] | None = None
        self._motion: tuple[float, float] | None = None  # px the box moved in the last step (None: no step yet)
        self._coasting = 0  # frames in a row it moved on at its last motion: nothing on it moved its way

    def init(self, frame: np.ndarray, rect) -> None:
        self._rect = tuple(float(v) for v in rect)
        self._grey = _grey(frame)
        self._motion, self._coasting = None, 0
        self._seed()

    def update(self, frame: np.ndarray, prior: tuple[float, float] | None = None
               ) -> tuple[bool, tuple[float, float, float, float]]:
        """(ok, (x, y, w, h)) on this frame. `prior`: how far the subject is expected to move
        (px a frame), as the caller knows it (the tracker's smoothed velocity); else its own
        last step. Where nothing on the box moves about that way (something passed in front of
        it) it moves on at that motion, up to COAST_FRAMES; not ok: there was nothing on the
        box to follow (a flat patch) or it coasted too long."""
        grey = _grey(frame)
        prev, self._grey = self._grey, grey
        if prev is not None and prev.shape == grey.shape and np.array_equal(prev, grey):
            return self._points is not None, self._rect  # the same frame again (paused): nothing moved, nothing learnt
        if self._points is None or prev is None or prev.shape != grey.shape:
            self._seed()
            return False, self._rect
        moved, after, before = self._step(prev, grey, self._points)
        x, y, w, h = self._rect
        if moved is None:  # hidden: on at its last motion, its points with it, to be found as it comes out
            self._coasting += 1
            moved = self._motion or (0.0, 0.0)
            self._rect = (x + moved[0], y + moved[1], w, h)
            self._points = self._points + np.asarray(moved, np.float32)
            if self._coasting > COAST_FRAMES:
                self._seed()
                return False, self._rect
            return True, self._rect
        self._motion, self._coasting = moved, 0
        k = _scale(before, after)
        cx, cy = x + w / 2 + moved[0], y + h / 2 + moved[1]
        w, h = w * k, h * k
        self._rect = (cx - w / 2, cy - h / 2, w, h)
        self._points = after
        if len(after) < RESEED_SHARE * self._start:
            self._seed()
        return True, self._rect

    def _step(self, a: np.ndarray, b: np.ndarray, points: np.ndarray):
        """(median motion, the points kept where they landed, the same where they started), or
        None and no points. As `carry._flow`, but once it has moved a step, the points moving
        about its last step's way are its own: where another subject crosses in front, its
        corners inside the box move their own way, and a plain median would go with whichever
        covers more of the box. When none do, the way most of them (MOST) went is taken: the
        subject changed pace, or its first step was of a still frame."""
        ahead, good = both_ways(a, b, points)
        motion = (ahead - points).reshape(-1, 2)
        if good.sum() < MIN_POINTS:
            return None, points[:0], points[:0]
        expected = [] if self._motion is None else [(np.asarray(self._motion, np.float32), MIN_POINTS)]
        # its last step's way; else the way most of its points went, if most went one way
        for centre, least in (*expected, (np.median(motion[good], axis=0), max(MIN_POINTS, MOST * good.sum()))):
            reach = AGREE + AGREE_SHARE * float(np.linalg.norm(centre))
            near = good & (np.linalg.norm(motion - centre, axis=1) < reach)
            if near.sum() >= least:
                moved = np.median(motion[near], axis=0)
                return (float(moved[0]), float(moved[1])), ahead[near].reshape(-1, 1, 2), points[near].reshape(-1, 1, 2)
        return None, points[:0], points[:0]

    def _seed(self) -> None:
        """Corners on the inner part of the box, on the newest frame (`carry.corners`)."""
        x, y, w, h = self._rect
        found = corners(self._grey, (x, y, x + w, y + h), None, 1.0, INNER)
        self._points, self._start = (None, 0) if found is None else (found.astype(np.float32), len(found))


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame


def _scale(before: np.ndarray, after: np.ndarray) -> float:
    """How much the points spread out or drew together in one step: the median ratio of their
    distances from their centre after and before it, bounded per frame (1: too few to say)."""
    a, b = after.reshape(-1, 2), before.reshape(-1, 2)
    da = np.linalg.norm(a - np.median(a, axis=0), axis=1)
    db = np.linalg.norm(b - np.median(b, axis=0), axis=1)
    ok = db > 2.0
    if ok.sum() < MIN_SCALE_POINTS:
        return 1.0
    return float(np.clip(np.median(da[ok] / db[ok]), *SCALE_STEP))


class Carried:
    """Detections of one round, each carried by flow to the newest frame once (`carry_all`),
    then followed a frame at a time by its own FlowTracker: the hover looks on every frame for
    the walkers near the pointer, and carrying each from its round's frame afresh every frame
    took several milliseconds a frame (up to 6 flow steps for each of 3). A walker followed
    keeps the points found on him, so his box does not stay on the road he crossed."""

    def __init__(self):
        self._at = None  # the round's frame
        # id(detection) -> (the detection, the frame it was last followed to, its tracker, its box there)
        self._known: dict[int, tuple[object, int, FlowTracker, Box]] = {}

    def to_now(self, detections, at: int, index: int, frames_since) -> list[Box] | None:
        """Each of `detections` (of frame `at`) on frame `index`, the newest; `frames_since(i)`:
        the frames from i to it, or None when gone. None when the frames from `at` are gone."""
        if at != self._at:
            self._at, self._known = at, {}
        out: list[Box | None] = [None] * len(detections)
        afresh = []
        newest = None
        for i, d in enumerate(detections):
            known = self._known.get(id(d))
            if known is None or known[0] is not d or known[1] not in (index - 1, index):
                afresh.append(i)
            elif known[1] == index:
                out[i] = known[3]
            else:
                if newest is None:  # made grey once for all of them
                    newest = (frames_since(index) or [None])[-1]
                    newest = _grey(newest) if newest is not None else None
                ok, (x, y, w, h) = known[2].update(newest) if newest is not None else (False, (0, 0, 0, 0))
                if ok:
                    out[i] = clip_box((x, y, x + w, y + h), newest.shape)
                    self._known[id(d)] = (d, index, known[2], out[i])
                else:  # nothing on it to follow, or hidden too long: from its round's frame again
                    afresh.append(i)
        if afresh:
            past = frames_since(at)
            if past is None or len(past) < 2:
                return None
            for i, path in zip(afresh, carry_all(past, [(detections[i].box, detections[i].mask) for i in afresh])):
                follower = FlowTracker()
                x1, y1, x2, y2 = out[i] = path[-1]
                follower.init(past[-1], (x1, y1, x2 - x1, y2 - y1))
                self._known[id(detections[i])] = (detections[i], index, follower, out[i])
        return out
