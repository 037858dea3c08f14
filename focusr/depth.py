"""Depth: how near each pixel is, so that the focus plane can follow the scene (issue 16).

A monocular depth model (MiDaS v2.1 small by default, ONNX, run by onnxruntime) gives relative
inverse depth: nearness, larger for nearer things, of unknown scale. That is what a lens needs:
a point's blur grows with the difference of its inverse depth from the focused subject's, so
the renderer takes nearness, scaled to 0..1 over the frame, and the subject's median of it.
Off unless the user turns the Depth cue on; the model is downloaded into the model cache on
first use and, when it cannot be had, is reported as the other models are (`failure`), and
the blur goes on by distance in the picture. Depth changes slowly: it is estimated every
`interval` frames and reused between.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np
import param

from focusr import models

MEAN = np.array([0.485, 0.456, 0.406], np.float32)  # ImageNet statistics, as MiDaS was trained
STD = np.array([0.229, 0.224, 0.225], np.float32)
INPUT_SIZE = 256  # the model's side when its graph leaves it open


@dataclass(frozen=True)
class Depth:
    """The depth stage's result: each pixel's nearness (0 far .. 1 near, any size) and how far in
    front of and behind the subject, in nearness, blur becomes full (the falloffs)."""

    near: np.ndarray
    front: float = 0.2
    behind: float = 0.35

    def at(self, size: tuple[int, int]) -> Depth:
        """The same at `size` (w, h)."""
        if self.near.shape[::-1] == tuple(size):
            return self
        return Depth(cv2.resize(self.near, size, interpolation=cv2.INTER_AREA), self.front, self.behind)

    def spread(self, subject: np.ndarray) -> np.ndarray:
        """0 (in focus) .. 1 (full blur) per pixel: nearness's difference from the median over the
        boolean mask `subject` (of this size), divided by the falloff on its side, clipped."""
        delta = self.near - float(np.median(self.near[subject]))
        return np.clip(np.where(delta > 0, delta / self.front, -delta / self.behind), 0.0, 1.0).astype(np.float32)


class DepthEstimator(param.Parameterized):
    """Relative nearness (0 far .. 1 near) of each pixel of a frame, from a depth model."""

    controls = {"Depth": ["use_depth", "behind_falloff", "front_falloff"]}

    use_depth = param.Boolean(
        default=False, label="Depth cue",
        doc="Blur by depth, in front of and behind the subject, as a lens does (a monocular depth model, "
            "downloaded on first use), not only by distance from the subject in the picture.",
    )
    behind_falloff = param.Number(
        label="Falloff behind", default=Depth.behind, bounds=(0.02, 1.0), step=0.01,
        doc="How much farther than the subject a thing is when its blur is full: a share of the scene's range "
            "of inverse depth (what a lens's blur follows).",
    )
    front_falloff = param.Number(
        label="Falloff in front", default=Depth.front, bounds=(0.02, 1.0), step=0.01,
        doc="The same for things nearer than the subject (they blur sooner, as on a lens focused near).",
    )
    model = param.String(default="", doc="Depth model .onnx; empty means FOCUSR_DEPTH or MiDaS v2.1 small.")
    interval = param.Integer(default=5, bounds=(1, 60), doc="Estimate depth every N frames; reused between.")

    def __init__(self, **params):
        super().__init__(**params)
        self._session = None
        self.error: str | None = None
        self.failure: models.ModelUnavailable | None = None
        self._last: tuple[int, np.ndarray] | None = None  # (frame index, nearness)
        self._loading: threading.Thread | None = None

    @param.depends("model", watch=True)
    def _forget_model(self):
        self._session, self.error, self.failure, self._last = None, None, None, None
        self._loading = None

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> bool:
        """Load the model now (downloading it on first use); False if it cannot be had (`error`)."""
        if self._session is None and self.failure is None:
            try:
                self._session = models.load_depth(models.depth_choice(self.model))
            except models.ModelUnavailable as exc:
                self.failure = exc
                self.error = f"{exc}; blur by distance in the picture instead"
        return self._session is not None

    def load_soon(self) -> bool:
        """Whether the model is there; if not yet asked for, it is loaded (or downloaded) on a
        thread of its own, so no frame waits for it."""
        if self._session is None and self.failure is None and self._loading is None:
            self._loading = threading.Thread(target=self.load, name="focusr-depth-load", daemon=True)
            self._loading.start()
        return self._session is not None

    def estimate(self, frame: np.ndarray, index: int = 0) -> Depth | None:
        """`frame`'s depth (nearness at the model's size: the renderer scales it) with this
        stage's falloffs; None when the Depth cue is off, or its model is loading or cannot be had."""
        if not self.use_depth or not self.load_soon():
            return None
        if self._last is None or not 0 <= index - self._last[0] < self.interval:
            self._last = (index, self.run(frame))
        return Depth(self._last[1], self.front_falloff, self.behind_falloff)

    def run(self, frame: np.ndarray) -> np.ndarray:
        """One pass of the model: BGR frame in, nearness 0..1 out (min to max over the frame)."""
        entry = self._session.get_inputs()[0]
        h, w = (d if isinstance(d, int) and d > 0 else INPUT_SIZE for d in entry.shape[2:4])
        rgb = cv2.cvtColor(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        x = ((rgb.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1)[None]
        out = np.asarray(self._session.run(None, {entry.name: x})[0], np.float32)
        out = out.reshape(out.shape[-2:])
        lo, hi = np.percentile(out, (1, 99))
        return np.clip((out - lo) / max(hi - lo, 1e-6), 0.0, 1.0).astype(np.float32)
