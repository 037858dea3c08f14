"""Scripted stand-ins for the detector, for testing the logic around it (which subject a click
means, carrying it forward) apart from the model: synthetic footage whose true boxes are known,
and a background detector that returns those boxes a fixed number of frames late, with jitter.
The real model is tested beside these, on real footage (test_footage.py, test_dashboard.py)."""

from __future__ import annotations

import numpy as np

from focusr.detect import Detector
from focusr.geometry import clip_box
from focusr.types import Detection
from synthetic import Thing, make_scene

SIZE = (640, 480)
LABEL = "ball"  # one class for every subject: who is who must come from where, never from the label


def bounce(start, velocity, n: int, size=SIZE, half=(40, 70)) -> list[tuple[float, float]]:
    """A centre moving at `velocity` px a frame, bouncing off the frame's edges (the subject's
    half size `half` kept inside)."""
    (x, y), (vx, vy) = start, velocity
    out = []
    for _ in range(n):
        out.append((x, y))
        x, y = x + vx, y + vy
        if not half[0] <= x <= size[0] - half[0]:
            vx, x = -vx, min(max(x, half[0]), size[0] - half[0])
        if not half[1] <= y <= size[1] - half[1]:
            vy, y = -vy, min(max(y, half[1]), size[1] - half[1])
    return out


def crossing_scene(n: int = 240):
    """Four textured subjects about a person's size, moving 2-6 px a frame, crossing each other."""
    things = [
        Thing((60, 130), (40, 160, 230), 1, bounce((90, 250), (5, 1), n)),
        Thing((70, 120), (200, 90, 60), 2, bounce((560, 260), (-4, -1), n), shape="rect"),
        Thing((56, 124), (60, 200, 90), 3, bounce((320, 120), (2, 3), n)),
        Thing((64, 126), (170, 60, 170), 4, bounce((200, 380), (6, -2), n), shape="rect"),
    ]
    return make_scene(n, size=SIZE, things=things, seed=7)


class ScriptedDetector(Detector):
    """The model's stand-in: it is 'loaded'; live clicks must never wait for a detection."""

    @property
    def model(self):
        return self

    def detect(self, frame):
        raise AssertionError("a live click waited for a detection")


class ScriptedBackground:
    """BackgroundDetector's stand-in: the true boxes of the frame it was given, `lag` frames
    later (counted in polls, one a frame: deterministic), each edge moved by up to `jitter` px.
    `lag`: a number of frames, or a (fewest, most) range drawn from per detection (a busy
    machine's detector, behind by 10-20 frames)."""

    def __init__(self, scene, lag: int | tuple[int, int] = 3, jitter: float = 4.0, seed: int = 0):
        self.scene, self.lag, self.jitter = scene, lag, jitter
        self.rng = np.random.default_rng(seed)
        self.error = None
        self.owner: dict[tuple, tuple[int, int]] = {}  # a detection's box, as a reply rounds it -> (thing, frame)
        self.missed: dict[int, range] = {}  # thing -> frames on which the model misses it
        self._job: tuple[int, int, int] | None = None  # (pipeline frame index, footage frame, polls left)
        self._thumbs: np.ndarray | None = None

    def submit(self, frame, index: int, share=None) -> bool:
        if self._job is not None:
            return False
        lag = self.lag if isinstance(self.lag, int) else int(self.rng.integers(self.lag[0], self.lag[1] + 1))
        self._job = (index, self.footage_frame(frame, index), lag)
        return True

    def footage_frame(self, frame, index: int) -> int:
        """Which frame of the footage this is. The pipeline's index runs ahead of the footage's
        when a frame is processed again (a click answered at once on the last one): it is found
        by its picture among the frames up to `index`."""
        import cv2

        if self._thumbs is None:
            self._thumbs = np.stack([cv2.resize(f, (80, 60), interpolation=cv2.INTER_AREA)
                                     for f in self.scene.frames]).astype(np.float32)
        lo, hi = max(index - 60, 0), min(index, len(self._thumbs) - 1)
        thumb = cv2.resize(frame, (80, 60), interpolation=cv2.INTER_AREA).astype(np.float32)
        return lo + int(np.argmin(np.abs(self._thumbs[lo:hi + 1] - thumb).mean(axis=(1, 2, 3))))

    def poll(self):
        if self._job is None:
            return None
        index, shown, left = self._job
        if left > 1:
            self._job = (index, shown, left - 1)
            return None
        self._job = None
        return index, self.detections(shown)

    def detections(self, index: int) -> list[Detection]:
        out = []
        for k, thing in enumerate(self.scene.things):
            if index in self.missed.get(k, ()):
                continue
            box = clip_box(tuple(np.add(thing.box_at(index), self.rng.uniform(-self.jitter, self.jitter, 4))),
                           (SIZE[1], SIZE[0]))
            self.owner[tuple(round(v, 1) for v in box)] = (k, index)
            out.append(Detection(box, LABEL, 0.9))
        return out

    def close(self, wait: float = 0.0) -> None:
        pass


class LaggedDetector:
    """BackgroundDetector's stand-in around a real Detector: the real model's detections of
    the frame it was given, returned `lag` polls later (one poll a frame). The live page's
    lag varies with the machine's load; a test on real footage fixes it, so that it is the
    same on every run and on every machine."""

    def __init__(self, detector: Detector, lag: int | tuple[int, int] = 3, seed: int = 0):
        """`lag`: a number of frames, or a (fewest, most) range drawn from per detection."""
        self.detector, self.lag = detector, lag
        self.rng = np.random.default_rng(seed)
        self.error = None
        self._job: tuple[int, list[Detection], int] | None = None  # (frame index, found, polls left)

    def submit(self, frame, index: int, share=None) -> bool:
        if self._job is not None:
            return False
        lag = self.lag if isinstance(self.lag, int) else int(self.rng.integers(self.lag[0], self.lag[1] + 1))
        self._job = (index, self.detector.detect(frame), lag)
        return True

    def poll(self):
        if self._job is None:
            return None
        index, found, left = self._job
        if left > 1:
            self._job = (index, found, left - 1)
            return None
        self._job = None
        return index, found

    def close(self, wait: float = 0.0) -> None:
        pass
