"""Stage names and the clocks that time them: written once, read by the pipeline, the
session, the benchmark, the plots and the CLI's report."""

from __future__ import annotations

import time
from contextlib import contextmanager

# What FocusPipeline.process runs, in order.
PIPELINE_STAGES = ("enhance", "detect", "track", "segment", "render", "overlay")
# A frame's whole trip through the server: the browser's JPEG in, the pipeline, a JPEG out.
STAGES = ("decode", *PIPELINE_STAGES, "encode")


class StageClock:
    """Milliseconds per stage for one frame."""

    def __init__(self):
        self.ms: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[stage] = self.ms.get(stage, 0.0) + (time.perf_counter() - start) * 1000.0

    @property
    def total_ms(self) -> float:
        return sum(self.ms.values())


class FpsMeter:
    """Frames a second, smoothed, from the wall-clock gap between successive frames."""

    def __init__(self, smoothing: float = 0.1):
        self.smoothing = smoothing
        self.fps: float | None = None
        self._last: float | None = None

    def tick(self, now: float | None = None) -> float | None:
        now = time.perf_counter() if now is None else now
        if self._last is not None and now > self._last:
            inst = 1.0 / (now - self._last)
            self.fps = inst if self.fps is None else (1 - self.smoothing) * self.fps + self.smoothing * inst
        self._last = now
        return self.fps
