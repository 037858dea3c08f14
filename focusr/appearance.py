"""What the tracked subject looks like: a colour histogram and a grey template of its box.

Every tracked frame is checked against it, so an occluder that steals CSRT is noticed, and a
lost subject is found again by its looks, not by its class. Learned slowly, and only from
views it is confident of, so drift cannot creep in.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from focusr.types import Box

TEMPLATE = (32, 48)  # w, h of the grey appearance template
CONFIDENT = 0.6  # appearance score above which the model may learn from the current view
HIST_BINS = (16, 8)  # hue, saturation bins: hue carries most of a colour, so it gets the finer split
COLOUR_WEIGHT = 0.6  # share of the histogram in the appearance score: robust to pose changes
TEMPLATE_WEIGHT = 0.4  # share of the template in it: tells apart same-coloured subjects
INNER_MARGIN_X = 0.2  # box width share left out each side of the histogram: mostly background there
INNER_MARGIN_Y = 0.1  # box height share left out top and bottom: head and feet reach the edges, keep more
TRACK_LEARN_RATE = 0.05  # appearance learning per confident tracked frame: slow, so drift cannot creep in
CONFIRM_LEARN_RATE = 0.1  # learning when a detection confirms the box: a detector-checked view is trusted more


class Appearance:
    """Colour histogram + grey template of the subject, updated slowly while confident."""

    def __init__(self, small: np.ndarray, box: Box, hsv: np.ndarray):
        self.hist = _hist(hsv, box)
        self.template = _template(small, box)

    def similarity(self, small: np.ndarray, hsv: np.ndarray, box: Box) -> float:
        h = _hist(hsv, box)
        colour = 1.0 - float(cv2.compareHist(self.hist, h, cv2.HISTCMP_BHATTACHARYYA))
        ncc = float(cv2.matchTemplate(_template(small, box), self.template, cv2.TM_CCOEFF_NORMED)[0, 0])
        return COLOUR_WEIGHT * colour + TEMPLATE_WEIGHT * max(ncc, 0.0)

    def update(self, small: np.ndarray, hsv: np.ndarray, box: Box, rate: float = CONFIRM_LEARN_RATE) -> None:
        self.hist = (1 - rate) * self.hist + rate * _hist(hsv, box)
        self.template = ((1 - rate) * self.template + rate * _template(small, box)).astype(np.float32)


def _inner(box: Box, shape) -> tuple[int, int, int, int]:
    """The central part of the box, where the subject is rather than its background."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    xa, xb = int(x1 + INNER_MARGIN_X * w), int(math.ceil(x2 - INNER_MARGIN_X * w))
    ya, yb = int(y1 + INNER_MARGIN_Y * h), int(math.ceil(y2 - INNER_MARGIN_Y * h))
    H, W = shape[:2]
    xa, ya = min(max(xa, 0), W - 1), min(max(ya, 0), H - 1)
    return xa, ya, max(xb, xa + 1), max(yb, ya + 1)


def _hist(hsv: np.ndarray, box: Box) -> np.ndarray:
    xa, ya, xb, yb = _inner(box, hsv.shape)
    patch = hsv[ya:yb, xa:xb]
    hist = cv2.calcHist([patch], [0, 1], None, HIST_BINS, [0, 180, 0, 256])
    return cv2.normalize(hist, hist, 1.0, 0.0, cv2.NORM_L1)


def _template(small: np.ndarray, box: Box) -> np.ndarray:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    H, W = small.shape[:2]
    x1, y1 = min(max(x1, 0), W - 1), min(max(y1, 0), H - 1)
    patch = small[y1 : max(y2, y1 + 1), x1 : max(x2, x1 + 1)]
    grey = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY) if patch.ndim == 3 else patch
    return cv2.resize(grey, TEMPLATE, interpolation=cv2.INTER_AREA).astype(np.float32)
