"""Hard cuts: a frame that does not follow from the one before (an edited video's next shot,
or a seek).

Why: after a cut the subject is not where its box was. Left alone, the tracker follows
whatever now fills the box and keeps calling it locked (a walker's lock sat on box.mp4's
pictures for 14 frames after a splice). On a cut the pipeline drops what was detected and
lets every subject's sight go at once (`Tracker.lost_sight`); each is then looked for as any
lost subject.

A cut changes both the picture's layout and its colours: the mean grey difference of two
64 x 48 thumbnails (over 9.7 levels in no pair of consecutive frames of vtest.avi or box.mp4;
68 across their splice) and the Bhattacharyya distance of their hue-saturation histograms
(at most 0.16 within those clips, a fast pan or a light switched on keeps the colours; 0.60
across the splice). About 0.2 ms a frame.
"""

from __future__ import annotations

import cv2
import numpy as np

THUMB = (64, 48)
CUT_GREY = 30.0  # mean absolute grey difference (0-255) above which the layout changed
CUT_COLOUR = 0.35  # Bhattacharyya distance of the hue-saturation histograms above which the colours did


class CutDetector:
    """Says whether each frame is a cut from the one before it."""

    def __init__(self):
        self._last: tuple[np.ndarray, np.ndarray] | None = None

    def seen(self, frame: np.ndarray) -> bool:
        """Whether `frame` is a cut from the frame seen before (False for the first)."""
        small = cv2.resize(frame, THUMB, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
        hist = cv2.calcHist([cv2.cvtColor(small, cv2.COLOR_BGR2HSV)], [0, 1], None, [16, 8], [0, 180, 0, 256])
        cv2.normalize(hist, hist, 1, 0, cv2.NORM_L1)
        last, self._last = self._last, (grey, hist)
        if last is None:
            return False
        layout = float(np.mean(np.abs(grey - last[0])))
        colour = float(cv2.compareHist(hist, last[1], cv2.HISTCMP_BHATTACHARYYA))
        return layout > CUT_GREY and colour > CUT_COLOUR
