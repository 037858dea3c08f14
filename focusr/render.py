"""Rendering: a photographic, graded background blur around a sharp subject.

Blur grows smoothly with distance from the subject: three blur levels are
blended continuously (no bands), all at a reduced resolution because a blurred
image has no detail to lose, then upsampled once. The background blur is
premultiplied by "not subject" so the subject's colours do not bleed into a
halo around it, and the matte edge is feathered. What an out-of-focus point becomes (a soft
spot, a disc, a polygon) is the lens's (focusr.look.lens); the aperture scales the blur.
"""

from __future__ import annotations

import cv2
import numpy as np
import param

from focusr.depth import Depth
from focusr.look import lens

LEVELS = (0.35, 0.65, 1.0)  # share of full strength at the subject's edge, mid-way, far away
SHARP_LEVEL = 0.25  # by depth, below this blur level the frame itself shows through (the focus plane)
REFERENCE_APERTURE = 2.8  # the f-number at which the blur is Blur strength
LENS_WORK_RADIUS = 8.0  # px: the largest disc, drawn at the work size; enough for its round edge to show


def fit(matte: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The matte at frame size `shape` (h, w): as it is if it already is, else scaled to it."""
    h, w = shape[:2]
    if matte.shape[:2] == (h, w):
        return matte
    return cv2.resize(matte, (w, h), interpolation=cv2.INTER_AREA if matte.shape[1] > w else cv2.INTER_LINEAR)


class Renderer(param.Parameterized):
    """Composites the sharp subject over a graded blur of the frame."""

    controls = {"Focus": ["blur_strength", "focus_falloff", "near_blur", "feather"],
                "Lens": ["aperture", "bokeh", "blades", "bloom"]}

    aperture = param.Number(
        label="Aperture (f-number)", default=REFERENCE_APERTURE, bounds=(1.4, 16.0), step=0.1,
        doc=f"As on a lens: the blur far from the subject is Blur strength at f/{REFERENCE_APERTURE:g}, "
            f"times {REFERENCE_APERTURE:g} / f (f/1.4 doubles it, f/16 all but stops it).",
    )
    bokeh = param.Selector(
        label="Bokeh", default="gaussian", objects=list(lens.SHAPES),
        doc="What an out-of-focus point becomes: a soft spot (gaussian), a flat disc as from a round aperture "
            "(disc), or a polygon from straight aperture blades (blades). Disc and blades blur in linear light, "
            "and bright points glow.",
    )
    blades = param.Integer(
        label="Aperture blades", default=6, bounds=(5, 9), doc="Sides of the polygon that bokeh 'blades' draws.",
    )
    bloom = param.Number(
        label="Highlight bloom", default=0.5, bounds=(0.0, 1.0), step=0.05,
        doc="How strongly bright out-of-focus points become visible discs (disc and blades bokeh).",
    )
    blur_strength = param.Number(
        label="Blur strength (px)", default=14.0, bounds=(0.0, 40.0), step=0.5,
        doc=f"Blur far from the subject at f/{REFERENCE_APERTURE:g} (Gaussian sigma, in pixels of a 640-wide "
            f"frame; a disc's radius is twice it).",
    )
    focus_falloff = param.Number(
        label="Focus falloff (× diagonal)", default=0.35, bounds=(0.02, 1.0), step=0.01,
        doc="Distance from the subject, as a share of the frame diagonal, over which blur reaches full strength.",
    )
    near_blur = param.Number(
        label="Near blur (× full blur)", default=LEVELS[0], bounds=(0.0, 1.0), step=0.05,
        doc="Share of full blur right beside the subject (the background is out of focus even there).",
    )
    feather = param.Number(
        label="Feather (px)", default=2.5, bounds=(0.0, 10.0), step=0.5, doc="Softness of the matte edge, in pixels."
    )

    def render(self, frame: np.ndarray, matte: np.ndarray | None, previous: np.ndarray | None = None,
               mix: float = 1.0, depth: Depth | None = None) -> np.ndarray:
        """Blend `frame` with its graded blur. During a rack focus, `previous` is the old
        subject's matte and `mix` goes 0 -> 1. A matte of another size than the frame (one
        made before the frame size changed) is scaled to the frame. `depth` (focusr.depth): blur
        then follows nearness's difference from the subject's median, in front and behind, and
        what is as near as the subject stays sharp, as on a lens."""
        if matte is None or self.blur_strength <= 0:
            return frame
        H, W = frame.shape[:2]
        matte = fit(matte, (H, W))
        previous = fit(previous, (H, W)) if previous is not None else None
        sigma = self.blur_strength * W / 640.0 * REFERENCE_APERTURE / self.aperture
        near = self.near_blur if depth is None else 0.0  # by depth, the focus plane itself is sharp
        lensed = self.bokeh != "gaussian"
        if lensed:  # the largest disc about LENS_WORK_RADIUS px at the work size: round, and cheap
            scale = float(np.clip(LENS_WORK_RADIUS / max(2.0 * sigma, 1e-3), 0.125, 0.5))
        else:  # blur has no detail to lose: work where the lightest level is ~1.5 px wide
            scale = float(np.clip(1.5 / max(sigma * max(near, 0.1), 1e-3), 0.125, 0.5))
        sw, sh = max(int(W * scale), 8), max(int(H * scale), 8)
        alpha = self._mix(matte, previous, mix)  # uint8, full size
        racking = previous is not None and mix < 1.0
        matte_small = cv2.resize(matte, (sw, sh), interpolation=cv2.INTER_AREA)
        if depth is not None:
            depth = depth.at((sw, sh))
        level = self._level(matte_small, depth)
        if racking:
            before = cv2.resize(previous, (sw, sh), interpolation=cv2.INTER_AREA)
            level = mix * level + (1.0 - mix) * self._level(before, depth)

        # premultiplied: colour and coverage blurred together, so only background colours
        # spread and the subject leaves no halo; one 4-channel blur per level
        alpha_small = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA) if racking else matte_small
        if lensed:  # as light, premultiplied at full size: a work pixel half on a subject (whose
            # highlights are boosted many times) takes in none of its light
            linear, back_full = lens.light(frame, self.bloom), 1.0 - alpha.astype(np.float32) * (1.0 / 255.0)
            small = cv2.resize(linear, (sw, sh), interpolation=cv2.INTER_AREA)
            back = cv2.resize(back_full, (sw, sh), interpolation=cv2.INTER_AREA)
            prem = np.dstack([cv2.resize(linear * back_full[..., None], (sw, sh), interpolation=cv2.INTER_AREA),
                              back])
        else:
            small = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
            back = 1.0 - alpha_small.astype(np.float32) / 255.0
            prem = np.dstack([small * back[..., None], back])
        layers = []
        for k in range(3):
            s = max(sigma * scale * (near + (1 - near) * k / 2), 0.3)
            blurred = lens.spread(prem, 2.0 * s, self.bokeh, self.blades)
            den = blurred[..., 3:4]
            w = np.clip(den * 4.0, 0.0, 1.0)  # inside the subject there is no background to spread
            layers.append(w * blurred[..., :3] / np.maximum(den, 1e-4) + (1.0 - w) * small)
        t = level[..., None]  # 0..2 between the three layers: continuous, so no bands
        graded = np.where(t < 1.0, layers[0] + (layers[1] - layers[0]) * t,
                          layers[1] + (layers[2] - layers[1]) * (t - 1.0))
        if lensed:  # back to sRGB; a boosted highlight clips flat: the top of its disc
            graded = lens.to_srgb(graded)
        out = cv2.resize(np.clip(graded + 0.5 * lensed, 0, 255).astype(np.uint8), (W, H),
                         interpolation=cv2.INTER_LINEAR)
        if depth is not None:  # the focus plane at full detail, not upsampled from the work size
            b = cv2.resize(np.clip(level * (1.0 / SHARP_LEVEL), 0.0, 1.0), (W, H), interpolation=cv2.INTER_LINEAR)
            out = (cv2.blendLinear(frame.astype(np.float32), out.astype(np.float32), 1.0 - b, b) + 0.5).astype(np.uint8)

        # the sharp subjects, feathered, composited only where the matte reaches: around each
        # part of it on its own (subjects spread over the frame are not one frame-wide box)
        f = self.feather * W / 640.0
        pad = int(3 * f) + 2
        parts = _parts(alpha, alpha_small if racking else matte_small, pad)
        blurred = out.copy() if len(parts) > 1 else out  # parts' boxes may overlap: each blends from the blur
        for x1, y1, x2, y2 in parts:
            a = alpha[y1:y2, x1:x2].astype(np.float32) * (1.0 / 255.0)
            if f > 0:
                a = cv2.GaussianBlur(a, (0, 0), f)
            region = cv2.blendLinear(frame[y1:y2, x1:x2].astype(np.float32),
                                     blurred[y1:y2, x1:x2].astype(np.float32), a, 1.0 - a)
            out[y1:y2, x1:x2] = np.clip(region + 0.5, 0, 255).astype(np.uint8)
        return out

    @staticmethod
    def _mix(matte, previous, mix) -> np.ndarray:
        if previous is not None and mix < 1.0:
            return cv2.addWeighted(matte, mix, previous, 1.0 - mix, 0.0)
        return matte

    def _level(self, m: np.ndarray, depth: Depth | None = None) -> np.ndarray:
        """0 at the subject, rising smoothly to 2 at `focus_falloff` of the diagonal (work size);
        with `depth` (at the work size), by depth from the subject instead (Depth.spread)."""
        if depth is not None and (m >= 128).any():
            t = depth.spread(m >= 128)
            return (2.0 * t * t * (3.0 - 2.0 * t)).astype(np.float32)
        sh, sw = m.shape
        outside = (m < 128).astype(np.uint8)
        if outside.all():
            return np.full((sh, sw), 2.0, np.float32)
        dist = cv2.distanceTransform(outside, cv2.DIST_L2, 3)
        t = np.clip(dist / (self.focus_falloff * np.hypot(sw, sh)), 0.0, 1.0)
        return (2.0 * t * t * (3.0 - 2.0 * t)).astype(np.float32)  # smoothstep: no kink, no band


def _parts(alpha: np.ndarray, small: np.ndarray, pad: int) -> list[tuple[int, int, int, int]]:
    """Boxes (x1, y1, x2, y2), `pad` px beyond them, around the parts of the full-size matte
    `alpha`, found on its small copy `small` (a box there is a whole cell wider each side, so
    nothing a small copy rounds away is left out). One box when there is one part."""
    H, W = alpha.shape[:2]
    sh, sw = small.shape[:2]
    n, _, stats, _ = cv2.connectedComponentsWithStats((small > 0).astype(np.uint8), connectivity=8)
    if n <= 2:  # nothing, or one part: its exact box on the full-size matte
        x, y, w, h = cv2.boundingRect(alpha)
        if w == 0 or h == 0:
            return []
        return [(max(x - pad, 0), max(y - pad, 0), min(x + w + pad, W), min(y + h + pad, H))]
    kx, ky = W / sw, H / sh
    out = []
    for x, y, w, h, _ in stats[1:]:
        out.append((max(int((x - 1) * kx) - pad, 0), max(int((y - 1) * ky) - pad, 0),
                    min(int(np.ceil((x + w + 1) * kx)) + pad, W), min(int(np.ceil((y + h + 1) * ky)) + pad, H)))
    return out


class RackFocus:
    """A change of subject pulls focus over `seconds`, the way a focus puller racks a lens:
    the old subject's matte blends into the new one (from all-sharp on a first lock)."""

    def __init__(self):
        self.previous: np.ndarray | None = None
        self.start = 0.0
        self.from_sharp = False

    def begin(self, previous: np.ndarray | None, shape: tuple[int, int], t: float) -> None:
        """From `previous` (None: all sharp) to the subject's matte, on frames of `shape`."""
        self.previous = fit(previous, shape) if previous is not None else np.full(shape, 255, np.uint8)
        self.from_sharp = previous is None
        self.start = t

    def all_sharp(self, t: float, seconds: float) -> bool:
        """Whether nothing is blurred yet at `t`, pulling over `seconds`: a first lock's own
        frame (a cut, 0 s, is in focus at once). Its matte and blur are not seen."""
        return seconds > 0 and self.previous is not None and self.from_sharp and t <= self.start

    def rescale(self, shape: tuple[int, int]) -> None:
        """The frame size changed: the matte focus comes from is scaled to it."""
        if self.previous is not None:
            self.previous = fit(self.previous, shape)

    def clear(self) -> None:
        self.previous = None

    def step(self, t: float, seconds: float) -> tuple[np.ndarray | None, float]:
        """The matte focus comes from, and how far along (0..1) the pull is at `t`."""
        if self.previous is None or seconds <= 0:
            self.previous = None
            return None, 1.0
        mix = min((t - self.start) / seconds, 1.0)
        if mix >= 1.0:
            self.previous = None
            return None, 1.0
        return self.previous, mix
