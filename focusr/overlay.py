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


def lock_colour(i: int, state: TrackState) -> tuple[int, int, int]:
    """The i-th subject's lock box colour in `state` (BGR): style.lock_colour."""
    return style.bgr(style.lock_colour(i, state))


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


def outline(img: np.ndarray, contours, colour, thickness: int = 2) -> None:
    """A region's outline (contours in frame pixels): what a click there would keep sharp."""
    cv2.polylines(img, list(contours), True, colour, thickness, cv2.LINE_AA)


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


STATUS_SCALE = 1 / 1400  # status text scale per pixel of frame width: small, out of the picture's way
MIN_STATUS_SCALE = 0.25  # below this Hershey text is unreadable: parts are left off instead
FONT = cv2.FONT_HERSHEY_SIMPLEX


def status(img: np.ndarray, state: TrackState, label: str | None, fps: float | None, note: str = "") -> None:
    """The status line in the top-left corner, sized to the frame so it always fits: on a
    narrow frame it gets smaller, and if even the smallest readable size is too wide, the
    least needed parts (the frame rate, then the note, then the label) are left off."""
    head = state.value.upper() + (f"  {label}" if label else "")
    rate = f"  {fps:4.1f} fps processed" if fps is not None else ""  # the plots' word for this rate
    tail = f"  {note}" if note else ""
    W = img.shape[1]
    k = min(1.0, W / 640)  # the box's margins as at 640 wide, smaller on a narrower frame
    outer, pad = max(1, round(6 * k)), max(1, round(4 * k))
    room = W - 2 * (outer + pad) - 1
    for text in dict.fromkeys((head + rate + tail, head + tail, head, state.value.upper())):
        (w1, _), _ = cv2.getTextSize(text, FONT, 1.0, 1)
        scale = min(max(0.4, W * STATUS_SCALE), room / max(w1, 1))
        if scale >= MIN_STATUS_SCALE:
            break
    (w, h), base = cv2.getTextSize(text, FONT, scale, 1)
    while w > room and scale > 0.05:  # text width does not scale exactly: trim until it fits
        scale *= 0.95
        (w, h), base = cv2.getTextSize(text, FONT, scale, 1)
    cv2.rectangle(img, (outer, outer), (outer + 2 * pad + w, outer + 2 * pad + h + base), (0, 0, 0), -1)
    cv2.putText(img, text, (outer + pad, outer + pad + h), FONT, scale, STATE_COLOURS[state], 1, cv2.LINE_AA)
