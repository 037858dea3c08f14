"""The lens: what an out-of-focus point becomes.

A Gaussian spreads a point into a soft spot; a real lens spreads it over the image of its
aperture, a flat-topped disc (round blades) or a polygon (straight ones), and the bright ones
show. To get that, light is blurred as light: the sRGB gamma is undone first and redone after
(blurring gamma-encoded values darkens highlights into smears), and highlights are boosted
before the blur, because a camera's 255 stands for anything from "white" to "the sun": a small
clipped point must keep enough energy to paint a visible disc (the inverse of the clipping that
made it 255), and the disc is clipped flat again on the way back.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

SHAPES = ("gaussian", "disc", "blades")
HIGHLIGHT = 0.85  # linear light above which a value counts as a highlight (sRGB ~239)
GAIN = 10.0  # a fully clipped highlight's energy is multiplied by up to 1 + bloom * GAIN
SUPERSAMPLE = 8  # a kernel's outline is drawn this much finer, then averaged: smooth edges


def _srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


_TO_LINEAR = _srgb_to_linear(np.arange(256, dtype=np.float64) / 255.0).astype(np.float32)
# a highlight's share of full boost, by sRGB value: 0 up to HIGHLIGHT, rising smoothly to 1 at 255
_BOOST = np.clip((_TO_LINEAR - HIGHLIGHT) * (1.0 / (1.0 - HIGHLIGHT)), 0.0, 1.0) ** 2
_TO_SRGB = (255.0 * np.where(np.linspace(0, 1, 4096) <= 0.0031308, 12.92 * np.linspace(0, 1, 4096),
                             1.055 * np.linspace(0, 1, 4096) ** (1 / 2.4) - 0.055)).astype(np.float32)


def to_srgb(linear: np.ndarray) -> np.ndarray:
    """float32 linear light (clipped to 0..1) -> float32 sRGB in 0..255 (4096-step table)."""
    index = (np.clip(linear, 0.0, 1.0) * (len(_TO_SRGB) - 1) + 0.5).astype(np.int32)
    return _TO_SRGB[index]


def light(image: np.ndarray, bloom: float) -> np.ndarray:
    """uint8 sRGB -> float32 linear light, highlights given their energy back: a pixel whose
    brightest channel is above HIGHLIGHT (linear) is multiplied by up to 1 + bloom * GAIN when
    clipped, smoothly (no edge where the boost starts). Per pixel at full size, before any
    downsampling, so a small highlight gets the same boost wherever it falls on the work grid.
    About 1.4 ms at 640x480."""
    linear = cv2.LUT(image, _TO_LINEAR)
    if bloom > 0:
        gain = (1.0 + bloom * GAIN * _BOOST).astype(np.float32)
        channels = cv2.split(image)  # (numpy's max over the last axis is 50 times slower)
        brightest = cv2.max(cv2.max(channels[0], channels[1]), channels[2]) if len(channels) == 3 else channels[0]
        linear *= cv2.LUT(brightest, gain)[..., None]
    return linear


@lru_cache(maxsize=64)
def kernel(radius: float, blades: int = 0) -> np.ndarray:
    """The aperture's image for a blur of `radius` px: a disc (blades 0) or a regular polygon
    with `blades` sides and a corner up, antialiased, summing to 1. Cached: a few radii recur."""
    r = max(float(radius), 0.5)
    if blades >= 3:  # the polygon's area matches the disc's, so a shape change keeps the amount of blur:
        r *= np.sqrt(np.pi / (blades / 2 * np.sin(2 * np.pi / blades)))  # its corners reach past the disc
    half = int(np.ceil(r)) + 1  # a pixel to spare: the antialiased outline is never cut by the kernel's edge
    size = 2 * half + 1
    big = np.zeros((size * SUPERSAMPLE, size * SUPERSAMPLE), np.uint8)
    c = (size * SUPERSAMPLE - 1) / 2.0
    rr = r * SUPERSAMPLE
    if blades >= 3:
        angles = -np.pi / 2 + 2 * np.pi * np.arange(blades) / blades
        corners = np.stack([c + rr * np.cos(angles), c + rr * np.sin(angles)], axis=1)
        cv2.fillPoly(big, [np.round(corners * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    else:
        cv2.circle(big, (int(round(c * 16)), int(round(c * 16))), int(round(rr * 16)), 255, -1, cv2.LINE_AA, shift=4)
    k = cv2.resize(big.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    k /= k.sum()
    k.setflags(write=False)
    return k


def spread(image: np.ndarray, radius: float, shape: str, blades: int = 6) -> np.ndarray:
    """`image` (float32, any channels) as the lens shows it out of focus by `radius` px:
    a Gaussian of sigma radius / 2 (the disc's own spread), a disc, or a `blades`-sided polygon."""
    if shape == "gaussian" or radius < 1.0:  # under a pixel every shape looks the same
        return cv2.GaussianBlur(image, (0, 0), max(radius / 2.0, 0.3))
    k = kernel(round(radius * 4) / 4, blades if shape == "blades" else 0)  # quarter pixels: few kernels
    return cv2.filter2D(image, -1, k, borderType=cv2.BORDER_REFLECT)
