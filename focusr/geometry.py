"""Boxes: overlap, clamping, centres and distances, written once for every stage.

A box is (x1, y1, x2, y2) in frame pixels (`types.Box`).
"""

from __future__ import annotations

import math

from focusr.types import Box, Point

MIN_BOX_PX = 4  # smallest box side: trackers and templates need a few pixels to work on


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def clip_box(box: Box, shape: tuple[int, ...], min_size: float = MIN_BOX_PX) -> Box:
    """The box inside a frame of `shape` (h, w, ...), at least `min_size` on each side."""
    h, w = shape[:2]
    x1, y1, x2, y2 = box
    x1, x2 = sorted((min(max(x1, 0.0), w - 1.0), min(max(x2, 0.0), float(w))))
    y1, y2 = sorted((min(max(y1, 0.0), h - 1.0), min(max(y2, 0.0), float(h))))
    if x2 - x1 < min_size:  # grown inwards at the frame's edge, so it never reaches past it
        x2 = min(float(w), x1 + min_size)
        x1 = max(0.0, min(x1, x2 - min_size))
    if y2 - y1 < min_size:
        y2 = min(float(h), y1 + min_size)
        y1 = max(0.0, min(y1, y2 - min_size))
    return (x1, y1, x2, y2)


def center(box: Box) -> Point:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def gap(a: Box, b: Box) -> float:
    """The distance between two boxes' centres, in pixels."""
    (ax, ay), (bx, by) = center(a), center(b)
    return math.hypot(ax - bx, ay - by)


def area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def distance(box: Box, point: Point) -> float:
    """How far the point is outside the box, in pixels (0 inside or on its edge)."""
    x, y = point
    dx = max(box[0] - x, 0.0, x - box[2])
    dy = max(box[1] - y, 0.0, y - box[3])
    return math.hypot(dx, dy)


def scaled(box: Box, s: float) -> Box:
    return (box[0] * s, box[1] * s, box[2] * s, box[3] * s)


def square_around(point: Point, radius: float, shape: tuple[int, ...]) -> Box:
    """A square of side 2 * radius centred on the point, inside the frame."""
    h, w = shape[:2]
    x, y = point
    return (max(x - radius, 0.0), max(y - radius, 0.0), min(x + radius, w - 1.0), min(y + radius, h - 1.0))
