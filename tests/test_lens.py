"""The lens (issue 16): a bright out-of-focus point becomes a flat-topped disc, or the
aperture's polygon, of the radius the aperture and the distance from the subject say; light is
blurred as light; the subject's light does not leak out and nothing is painted over it."""

import cv2
import numpy as np
import pytest

from focusr.look import lens
from focusr.render import REFERENCE_APERTURE, Renderer

H, W = 480, 640
BACKGROUND = 30
ROW = 240


def lamps(xs, size=5):
    """A dark street at night: a grey subject at the left, small clipped lamps on one row."""
    frame = np.full((H, W, 3), BACKGROUND, np.uint8)
    matte = np.zeros((H, W), np.uint8)
    matte[150:330, 40:140] = 255
    frame[150:330, 40:140] = 200
    for x in xs:
        frame[ROW - size // 2:ROW + size // 2 + 1, x - size // 2:x + size // 2 + 1] = 255
    return frame, matte


def spot(out, x, reach=80):
    """A lamp's spot after the blur: its peak above the background, and its half-height
    radius and profile along the row and the column through it."""
    row = out[ROW, max(x - reach, 0):x + reach, 1].astype(float) - BACKGROUND
    col = out[ROW - reach:ROW + reach, x, 1].astype(float) - BACKGROUND
    peak = row.max()
    wide = np.flatnonzero(row > peak / 2)
    tall = np.flatnonzero(col > peak / 2)
    return peak, (wide[-1] - wide[0] + 1) / 2, (tall[-1] - tall[0] + 1) / 2, row


def far_radius(renderer):
    """The disc radius far from the subject: twice the blur's sigma, scaled by the aperture."""
    return 2 * renderer.blur_strength * REFERENCE_APERTURE / renderer.aperture


def test_a_far_lamp_becomes_a_flat_topped_disc_of_the_expected_radius():
    frame, matte = lamps([560])
    disc = Renderer(bokeh="disc")
    peak, half_w, half_h, row = spot(disc.render(frame, matte), 560)
    r = far_radius(disc)
    assert abs(half_w - r) <= 0.1 * r and abs(half_h - r) <= 0.1 * r  # round, and its size
    centre = len(row) // 2
    top = row[centre - int(0.6 * r):centre + int(0.6 * r)]
    assert top.min() >= 0.9 * peak  # flat-topped: the middle 60% within 10% of the peak
    assert peak >= 40  # and it shows: a 5-px lamp lights a 28-px disc well above the street
    # a Gaussian smears the same lamp into a faint spot
    assert spot(Renderer(bokeh="gaussian").render(frame, matte), 560)[0] < peak / 4


def test_bloom_sets_how_bright_the_disc_of_a_clipped_lamp_is():
    frame, matte = lamps([560])
    peaks = [spot(Renderer(bokeh="disc", bloom=b).render(frame, matte), 560)[0] for b in (0.0, 0.5, 1.0)]
    assert peaks[0] < 15 < peaks[0] + 20 < peaks[1] < peaks[2] - 10, peaks  # unboosted, a 5-px lamp all but vanishes


def test_the_disc_grows_with_distance_from_the_subject():
    xs = [190, 260, 330, 420]
    frame, matte = lamps(xs)
    out = Renderer(bokeh="disc").render(frame, matte)
    radii = [spot(out, x, reach=45)[1] for x in xs]
    assert all(b > a + 2 for a, b in zip(radii, radii[1:])), radii


@pytest.mark.parametrize("shape", ["disc", "blades"])
def test_a_smaller_f_number_makes_a_larger_disc(shape):
    frame, matte = lamps([560])
    radii = {}
    for f in (1.4, 2.8, 5.6):
        r = Renderer(bokeh=shape, aperture=f)
        radii[f] = spot(r.render(frame, matte), 560)[2]  # the polygon's corner is up: its height is 2r
        assert abs(radii[f] - far_radius(r) * (1.0 if shape == "disc" else 1.1)) <= 0.15 * far_radius(r), (f, radii)
    assert radii[1.4] > 1.7 * radii[2.8] > 1.7 * 1.7 * radii[5.6]


@pytest.mark.parametrize("blades", [5, 6, 7])
def test_blades_draw_the_aperture_polygon(blades):
    frame, matte = lamps([560])
    out = Renderer(bokeh="blades", blades=blades).render(frame, matte)
    peak = out[ROW - 60:ROW + 60, 500:620, 1].astype(float).max() - BACKGROUND
    shape = (out[ROW - 60:ROW + 60, 500:620, 1].astype(float) - BACKGROUND > peak / 2).astype(np.uint8)
    contours, _ = cv2.findContours(shape, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    outline = max(contours, key=cv2.contourArea)
    corners = cv2.approxPolyDP(outline, 0.04 * cv2.arcLength(outline, True), True)
    assert len(corners) == blades
    x, y, w, h = cv2.boundingRect(outline)
    # a regular polygon with a corner up: width over height is known exactly
    angles = -np.pi / 2 + 2 * np.pi * np.arange(blades) / blades
    expected = (np.cos(angles).max() - np.cos(angles).min()) / (np.sin(angles).max() - np.sin(angles).min())
    assert abs(w / h - expected) <= 0.08, (w / h, expected)
    disc = Renderer(bokeh="disc").render(frame, matte)
    shape = (disc[ROW - 60:ROW + 60, 500:620, 1].astype(float) - BACKGROUND > peak / 2).astype(np.uint8)
    x, y, w, h = cv2.boundingRect(shape)
    assert abs(w / h - 1.0) <= 0.06


def test_light_is_blurred_as_light():
    # fine black and white stripes far from the subject: blurred as light they are half the light,
    # which sRGB writes as ~188, not the 128 that averaging the gamma-encoded values gives
    frame = np.zeros((H, W, 3), np.uint8)
    frame[:, :, :] = ((np.arange(W) // 2) % 2 * 255).astype(np.uint8)[None, :, None]
    matte = np.zeros((H, W), np.uint8)
    matte[200:280, 20:60] = 255
    half = float(lens.to_srgb(np.float32(0.5)))
    disc = Renderer(bokeh="disc", bloom=0.0).render(frame, matte)[100:380, 400:600]
    assert abs(disc.mean() - half) <= 3 and disc.std() <= 3
    gauss = Renderer(bokeh="gaussian").render(frame, matte)[100:380, 400:600]
    assert abs(gauss.mean() - 127.5) <= 3


@pytest.mark.parametrize("shape", ["disc", "blades"])
def test_no_light_crosses_the_subjects_edge(shape):
    # a white subject on a dark street, lamps just beside it: the subject's light does not glow
    # into the street, and the lamps' discs are not painted over the subject
    frame, matte = lamps([160, 175])
    frame[150:330, 40:140] = 255
    out = Renderer(bokeh=shape).render(frame, matte).astype(int)
    assert np.abs(out[160:320, 40 + 8:140 - 8] - 255).max() <= 2  # the subject as it was
    street = out[340:420, 40:140]  # below the subject: 10-90 px from its edge, no lamp near
    assert street.max() <= BACKGROUND + 3, street.max()
    left = out[150:330, 0:30]  # and to its left
    assert left.max() <= BACKGROUND + 3


def test_kernels_hold_the_same_light_and_area_whatever_the_shape():
    for radius in (1.5, 4.0, 9.25):
        disc, hexagon = lens.kernel(radius), lens.kernel(radius, 6)
        assert abs(disc.sum() - 1) < 1e-5 and abs(hexagon.sum() - 1) < 1e-5
        # the same area lit: the amount of blur does not change with the shape
        lit = [(k > k.max() / 2).sum() for k in (disc, hexagon)]
        assert abs(lit[0] - lit[1]) <= 0.12 * lit[0] + 2, (radius, lit)
        # whole: a polygon's corners reach past the disc of the same area; none is cut by the kernel's edge
        for k in (disc, hexagon, lens.kernel(radius, 5)):
            assert max(k[0].max(), k[-1].max(), k[:, 0].max(), k[:, -1].max()) == 0, (radius, k.shape)


def test_a_rack_focus_through_the_lens_pulls_from_the_old_subject_to_the_new():
    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)  # detail everywhere: blur shows as lost detail
    old, new = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    old[150:330, 40:140], new[150:330, 480:580] = 255, 255
    renderer = Renderer(bokeh="disc")

    def error(out, region):
        return np.abs(out[region].astype(int) - frame[region].astype(int)).mean()

    at_old, at_new = (slice(170, 310), slice(60, 120)), (slice(170, 310), slice(500, 560))
    start = renderer.render(frame, new, previous=old, mix=0.0)
    end = renderer.render(frame, new, previous=old, mix=1.0)
    assert error(start, at_old) < 2 and error(start, at_new) > 20  # the old one sharp, the new one not yet
    assert error(end, at_new) < 2 and error(end, at_old) > 20
