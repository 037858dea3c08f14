"""Overlays drawn on the output: hover box, lock box, status line."""

from __future__ import annotations

import math

import cv2
import numpy as np

from focusr import style
from focusr.types import Box, TrackState

STATE_COLOURS = {state: style.bgr(colour) for state, colour in style.STATE_COLOURS.items()}  # BGR
AMBER = style.bgr(style.HOVER)
GREEN = STATE_COLOURS[TrackState.LOCKED]
RED = STATE_COLOURS[TrackState.LOST]


def _ints(box: Box) -> tuple[int, int, int, int]:
    return tuple(int(round(v)) for v in box)


def dashed_box(img: np.ndarray, box: Box, colour, thickness: int = 2, dash: int = 8) -> None:
    """The hover box: amber and dashed, 'this can be focused'."""
    x1, y1, x2, y2 = _ints(box)
    for (ax, ay), (bx, by) in (((x1, y1), (x2, y1)), ((x2, y1), (x2, y2)), ((x2, y2), (x1, y2)), ((x1, y2), (x1, y1))):
        length = max(abs(bx - ax), abs(by - ay))
        for start in range(0, length, 2 * dash):
            end = min(start + dash, length)
            p = (ax + (bx - ax) * start // max(length, 1), ay + (by - ay) * start // max(length, 1))
            q = (ax + (bx - ax) * end // max(length, 1), ay + (by - ay) * end // max(length, 1))
            cv2.line(img, p, q, colour, thickness, cv2.LINE_AA)


def lock_box(img: np.ndarray, box: Box, t: float, colour=GREEN) -> None:
    """The lock box: corner brackets that breathe, 'this is in focus'."""
    x1, y1, x2, y2 = _ints(box)
    pulse = 0.5 + 0.5 * math.sin(2 * math.pi * 1.2 * t)
    pad = int(2 + 3 * pulse)
    x1, y1, x2, y2 = x1 - pad, y1 - pad, x2 + pad, y2 + pad
    arm = max(6, int(0.22 * min(x2 - x1, y2 - y1)))
    for cx, cy, dx, dy in ((x1, y1, 1, 1), (x2, y1, -1, 1), (x1, y2, 1, -1), (x2, y2, -1, -1)):
        cv2.line(img, (cx, cy), (cx + dx * arm, cy), colour, 2, cv2.LINE_AA)
        cv2.line(img, (cx, cy), (cx, cy + dy * arm), colour, 2, cv2.LINE_AA)


def status(img: np.ndarray, state: TrackState, label: str | None, fps: float | None, note: str = "") -> None:
    text = state.value.upper() + (f"  {label}" if label else "")
    if fps is not None:
        text += f"  {fps:4.1f} fps"
    if note:
        text += f"  {note}"
    scale = max(0.4, img.shape[1] / 1400)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(img, (6, 6), (14 + w, 14 + h + base), (0, 0, 0), -1)
    cv2.putText(img, text, (10, 10 + h), cv2.FONT_HERSHEY_SIMPLEX, scale, STATE_COLOURS[state], 1, cv2.LINE_AA)
