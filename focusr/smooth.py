"""Smoothing the drawn box: steady when the subject is still, no lag when it moves."""

from __future__ import annotations

import math

import numpy as np

from focusr.types import Box

SMOOTH_MIN_CUTOFF = 0.5  # Hz, One-Euro cutoff at rest: removes a still subject's pixel jitter
SMOOTH_BETA = 0.02  # cutoff rise with speed: lets real motion through without lag
SMOOTH_D_CUTOFF = 1.0  # Hz, cutoff of the speed estimate itself


class OneEuro:
    """One-Euro filter on box corners: steady when the subject is still, no lag when it moves.

    Casiez et al., CHI 2012. Cutoff frequency rises with speed, so jitter of a pixel or two
    is smoothed away while real motion passes through.
    """

    def __init__(self, min_cutoff: float = SMOOTH_MIN_CUTOFF, beta: float = SMOOTH_BETA,
                 d_cutoff: float = SMOOTH_D_CUTOFF):
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.value: np.ndarray | None = None
        self.speed = np.zeros(4)

    @staticmethod
    def _alpha(cutoff: float, dt: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    def reset(self, box: Box | None = None) -> None:
        self.value = None if box is None else np.asarray(box, float)
        self.speed = np.zeros(4)

    def __call__(self, box: Box, dt: float) -> Box:
        x = np.asarray(box, float)
        if self.value is None or dt <= 0:
            self.value = x
            return tuple(x)
        raw_speed = (x - self.value) / dt
        a_d = self._alpha(self.d_cutoff, dt)
        self.speed = a_d * raw_speed + (1 - a_d) * self.speed
        cutoff = self.min_cutoff + self.beta * np.abs(self.speed)
        tau = 1.0 / (2 * math.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        self.value = a * x + (1 - a) * self.value
        return tuple(self.value)
