"""The graded blur: sharp subject, blur growing smoothly with distance, no halo, rack focus."""

import cv2
import numpy as np
import pytest

from focusr.render import Renderer
from synthetic import texture


def sharpness(img: np.ndarray) -> float:
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


@pytest.fixture
def scene():
    frame = texture((360, 640), 1, (120, 120, 120), spread=60.0, scale=2)
    matte = np.zeros((360, 640), np.uint8)
    matte[130:230, 40:140] = 255  # subject at the left edge, so distance runs across the frame
    return frame, matte


def test_subject_stays_sharp_and_background_is_blurred(scene):
    frame, matte = scene
    out = Renderer().render(frame, matte)
    inner = (slice(140, 220), slice(50, 130))
    assert np.abs(out[inner].astype(int) - frame[inner].astype(int)).mean() < 2.0
    assert sharpness(out[:, 400:]) < 0.05 * sharpness(frame[:, 400:])


def test_blur_grows_with_distance_without_bands():
    # a horizontal grating: every vertical strip holds the same detail, so the contrast
    # that survives in a strip measures how much blur it got
    y = np.arange(360, dtype=np.float32)[:, None]
    grating = 128 + 80 * np.sin(2 * np.pi * y / 24.0) * np.ones((1, 640), np.float32)
    frame = np.repeat(grating[..., None], 3, axis=2).astype(np.uint8)
    matte = np.zeros((360, 640), np.uint8)
    matte[130:230, 40:140] = 255
    out = Renderer(focus_falloff=0.6, blur_strength=8).render(frame, matte)
    kept = [float(out[120:240, x : x + 40].std() / frame[120:240, x : x + 40].std()) for x in range(160, 600, 40)]
    assert all(b <= a + 0.01 for a, b in zip(kept, kept[1:])), np.round(kept, 3)  # heavier further away
    assert kept[0] > 3 * kept[-1] + 0.02, np.round(kept, 3)
    steps = np.abs(np.diff(kept))
    assert steps.max() < 0.35 * (kept[0] - kept[-1]), np.round(kept, 3)  # gradual: no band, no step


def test_no_halo_of_subject_colour_around_it():
    frame = np.full((240, 320, 3), 20, np.uint8)
    frame[90:150, 130:190] = 250  # a bright subject on a dark background
    matte = np.zeros((240, 320), np.uint8)
    matte[90:150, 130:190] = 255
    out = Renderer(blur_strength=20).render(frame, matte)
    ring = out[70:85, 130:190].astype(float)  # background just above the subject
    assert ring.mean() < 45, ring.mean()  # a naive blur would smear the bright subject out here


def test_rack_focus_moves_smoothly_from_old_subject_to_new(scene):
    frame, _ = scene
    old = np.zeros(frame.shape[:2], np.uint8)
    old[130:230, 40:140] = 255
    new = np.zeros(frame.shape[:2], np.uint8)
    new[130:230, 500:600] = 255
    r = Renderer()
    left = (slice(140, 220), slice(50, 130))
    sharp = [sharpness(r.render(frame, new, old, mix)[left]) for mix in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert all(b < a for a, b in zip(sharp, sharp[1:])), sharp  # old subject softens step by step


def test_no_subject_means_no_blur(scene):
    frame, _ = scene
    assert Renderer().render(frame, None) is frame


def test_rack_focus_pulls_from_the_old_matte_to_the_new_over_its_duration():
    from focusr.render import RackFocus

    rack = RackFocus()
    new = np.zeros((4, 4), np.uint8)
    rack.begin(None, new.shape, t=10.0)  # a first lock racks from all-sharp
    assert rack.all_sharp(10.0, 0.3) and not rack.all_sharp(10.01, 0.3)  # its own frame is all sharp: nothing to render
    assert not rack.all_sharp(10.0, 0.0)  # a cut: in focus at once
    previous, mix = rack.step(10.15, 0.3)
    assert mix == pytest.approx(0.5) and (previous == 255).all()
    assert rack.step(10.3, 0.3) == (None, 1.0)  # done, and stays done
    assert rack.step(11.0, 0.3) == (None, 1.0)
    old = np.full((4, 4), 7, np.uint8)
    rack.begin(old, new.shape, t=20.0)
    assert not rack.all_sharp(20.0, 0.3)  # from another subject: its matte shows from the first frame
    assert rack.step(20.0, 0.0) == (None, 1.0)  # a zero duration is a cut


def test_a_matte_of_another_size_is_fitted_to_the_frame(scene):
    """A matte (or a rack focus's previous one) made before the frame size changed is scaled to
    the frame, never a crash or an empty region."""
    from focusr.render import RackFocus

    frame, matte = scene
    small = cv2.resize(frame, (160, 90), interpolation=cv2.INTER_AREA)
    out = Renderer().render(small, matte, previous=np.full_like(matte, 255), mix=0.5)
    assert out.shape == small.shape
    inner = (slice(34, 56), slice(12, 33))  # the subject, a quarter the size
    assert np.abs(out[inner].astype(int) - small[inner].astype(int)).mean() < 3.0
    assert sharpness(out[:, 110:]) < 0.5 * sharpness(small[:, 110:])
    rack = RackFocus()
    rack.begin(matte, (90, 160), t=0.0)
    assert rack.previous.shape == (90, 160)
    rack.rescale((180, 320))
    assert rack.step(0.1, 0.3)[0].shape == (180, 320)


def test_subjects_apart_are_composited_each_in_its_own_box_as_in_one(scene, monkeypatch):
    """Subjects spread over the frame are composited each around its own part of the matte
    (not one frame-wide box: with four kept subjects that box was most of the frame); the
    picture is the one a single box gives, and every subject is as sharp."""
    import focusr.render as render

    frame, _ = scene
    matte = np.zeros((360, 640), np.uint8)
    for x, y in ((40, 30), (500, 40), (60, 250), (520, 240)):
        cv2.ellipse(matte, (x + 40, y + 40), (30, 40), 0, 0, 360, 255, -1)
    matte = cv2.GaussianBlur(matte, (0, 0), 2)  # soft edges, as a segmenter gives
    renderer = Renderer()
    parts = render._parts(matte, cv2.resize(matte, (160, 90), interpolation=cv2.INTER_AREA), 10)
    assert len(parts) == 4 and sum((x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in parts) < 0.25 * 640 * 360
    apart = renderer.render(frame, matte)
    one = lambda alpha, small, pad: [(0, 0, 640, 360)]  # noqa: E731 - the one box around everything
    monkeypatch.setattr(render, "_parts", one)
    whole = renderer.render(frame, matte)
    diff = np.abs(apart.astype(int) - whole.astype(int))
    print(f"parts {parts}; difference from one box: max {diff.max()}, mean {diff.mean():.4f}")
    assert diff.max() <= 2 and diff.mean() < 0.01
