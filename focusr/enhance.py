"""Low-light enhancement: lift dark webcam frames before anything looks at them."""

from __future__ import annotations

import cv2
import numpy as np
import param


class Enhancer(param.Parameterized):
    """Local contrast (CLAHE) on lightness, so detection and tracking see a dim scene too."""

    controls = {"Low light": ["enabled", "strength"]}

    enabled = param.Boolean(default=False, label="Low-light enhancement", doc="Brighten dark frames (local contrast on lightness).")
    strength = param.Number(
        label="Low-light strength", default=2.0, bounds=(1.0, 6.0), step=0.5, doc="CLAHE clip limit: higher is stronger."
    )

    @param.depends("strength", watch=True, on_init=True)
    def _build(self):
        self._clahe = cv2.createCLAHE(clipLimit=self.strength, tileGridSize=(8, 8))

    def enhance(self, frame: np.ndarray) -> np.ndarray:
        if not self.enabled:
            return frame
        lab = cv2.cvtColor(frame, cv2.COLOR_BGR2LAB)
        lab[..., 0] = self._clahe.apply(lab[..., 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
