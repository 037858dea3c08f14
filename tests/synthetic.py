"""Synthetic footage with exact ground truth: textured objects moving over a textured
background, optionally passing behind an occluder. Deterministic for a given seed."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


def texture(shape, seed: int, base, spread: float = 40.0, scale: int = 8) -> np.ndarray:
    """Smooth random colour texture around a base BGR colour."""
    rng = np.random.default_rng(seed)
    h, w = shape
    coarse = rng.normal(0, 1, (h // scale + 2, w // scale + 2, 3)).astype(np.float32)
    smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0, 0.35, (h, w, 3)).astype(np.float32)
    img = np.asarray(base, np.float32) + spread * (smooth + fine)
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass
class Thing:
    """A textured ellipse (or rectangle) that moves along a path."""

    size: tuple[int, int]  # w, h
    colour: tuple[int, int, int]
    seed: int
    path: list[tuple[float, float]] = field(default_factory=list)  # centre per frame
    shape: str = "ellipse"

    def __post_init__(self):
        w, h = self.size
        self.skin = texture((h, w), self.seed, self.colour, spread=35.0, scale=4)
        self.alpha = np.zeros((h, w), np.uint8)
        if self.shape == "ellipse":
            cv2.ellipse(self.alpha, (w // 2, h // 2), (w // 2 - 1, h // 2 - 1), 0, 0, 360, 1, -1)
        else:
            self.alpha[:] = 1

    def mask_at(self, i: int, shape) -> np.ndarray:
        out = np.zeros(shape, bool)
        self._paste(out, self.alpha.astype(bool), i)
        return out

    def draw(self, frame: np.ndarray, i: int) -> None:
        region = self._region(i, frame.shape[:2])
        if region is None:
            return
        (fy1, fy2, fx1, fx2), (sy1, sy2, sx1, sx2) = region
        a = self.alpha[sy1:sy2, sx1:sx2].astype(bool)
        frame[fy1:fy2, fx1:fx2][a] = self.skin[sy1:sy2, sx1:sx2][a]

    def box_at(self, i: int):
        cx, cy = self.path[i]
        w, h = self.size
        return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

    def _region(self, i, shape):
        H, W = shape
        cx, cy = self.path[i]
        w, h = self.size
        x1, y1 = int(round(cx - w / 2)), int(round(cy - h / 2))
        fx1, fy1, fx2, fy2 = max(x1, 0), max(y1, 0), min(x1 + w, W), min(y1 + h, H)
        if fx2 <= fx1 or fy2 <= fy1:
            return None
        return (fy1, fy2, fx1, fx2), (fy1 - y1, fy2 - y1, fx1 - x1, fx2 - x1)

    def _paste(self, out, src, i):
        region = self._region(i, out.shape)
        if region is None:
            return
        (fy1, fy2, fx1, fx2), (sy1, sy2, sx1, sx2) = region
        out[fy1:fy2, fx1:fx2] |= src[sy1:sy2, sx1:sx2]


@dataclass
class Scene:
    frames: list[np.ndarray]
    masks: list[np.ndarray]  # exact visible mask of the subject (things[0])
    things: list[Thing]

    def __len__(self):
        return len(self.frames)


def make_scene(n: int = 60, size=(480, 360), things: list[Thing] | None = None,
               occluder: tuple[int, int, int, int] | None = None, seed: int = 0) -> Scene:
    """Render n frames. things[0] is the subject; later things are drawn on top of it;
    the occluder (x1, y1, x2, y2) is drawn over everything."""
    W, H = size
    background = texture((H, W), seed + 100, (110, 140, 95), spread=30.0, scale=24)
    wall = texture((H, W), seed + 200, (70, 70, 160), spread=25.0, scale=6) if occluder else None
    frames, masks = [], []
    for i in range(n):
        frame = background.copy()
        for thing in things:
            thing.draw(frame, i)
        mask = things[0].mask_at(i, (H, W))
        for thing in things[1:]:
            mask &= ~thing.mask_at(i, (H, W))
        if occluder:
            x1, y1, x2, y2 = occluder
            frame[y1:y2, x1:x2] = wall[y1:y2, x1:x2]
            mask[y1:y2, x1:x2] = False
        frames.append(frame)
        masks.append(mask)
    return Scene(frames, masks, things)


def linear(start, end, n: int) -> list[tuple[float, float]]:
    return [(start[0] + (end[0] - start[0]) * i / max(n - 1, 1), start[1] + (end[1] - start[1]) * i / max(n - 1, 1))
            for i in range(n)]


def still(point, n: int) -> list[tuple[float, float]]:
    return [tuple(point)] * n


def matte_iou(matte: np.ndarray | None, truth: np.ndarray) -> float:
    if matte is None:
        return 0.0
    m = matte > 127
    union = (m | truth).sum()
    return float((m & truth).sum() / union) if union else 1.0
