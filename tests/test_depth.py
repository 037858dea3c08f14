"""The focus plane (issue 16, item 3): with a depth map, blur follows the difference in depth
from the subject, in front and behind, and what is as near as the subject stays sharp. No depth
model can be had offline here: the rendering is tested with depth maps given directly, and the
wiring (the model's input, its output's scaling, the pipeline's use of it, a missing model
reported as the others are) with a scripted stand-in for the onnxruntime session."""

from types import SimpleNamespace

import numpy as np
import pytest

from focusr import models
from focusr.depth import INPUT_SIZE, MEAN, STD, Depth, DepthEstimator
from focusr.model_status import MISSING, statuses
from focusr.pipeline import FocusPipeline
from focusr.render import Renderer

H, W = 480, 640
BACKGROUND = 30
ROW = 240


def detail(out, frame, region):
    """How much of the frame's fine detail is gone in a region (mean absolute change)."""
    return float(np.abs(out[region].astype(int) - frame[region].astype(int)).mean())


@pytest.fixture
def textured():
    rng = np.random.default_rng(5)
    frame = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    matte = np.zeros((H, W), np.uint8)
    matte[180:300, 280:360] = 255  # the subject, in the middle
    return frame, matte


def test_what_is_as_near_as_the_subject_stays_sharp_however_far_in_the_picture(textured):
    frame, matte = textured
    depth = np.full((H, W), 0.1, np.float32)  # a far wall ...
    depth[:, :200] = 0.5  # ... and, at the left, a fence as near as the subject
    depth[matte > 0] = 0.5
    by_depth = Renderer().render(frame, matte, depth=Depth(depth))
    by_distance = Renderer().render(frame, matte)
    fence, wall = (slice(40, 440), slice(10, 180)), (slice(40, 440), slice(460, 630))
    assert detail(by_depth, frame, fence) < 3  # in the focus plane: sharp, at full detail
    assert detail(by_depth, frame, wall) > 40  # behind it: blurred
    assert detail(by_distance, frame, fence) > 40  # by distance in the picture the fence was blurred


def lamp_scene(depths):
    """Lamps on one row, each 200 px from the subject's centre in the picture, at its own depth."""
    frame = np.full((H, W, 3), BACKGROUND, np.uint8)
    matte = np.zeros((H, W), np.uint8)
    matte[200:280, 300:340] = 255
    frame[200:280, 300:340] = 120
    depth = np.full((H, W), 0.5, np.float32)
    xs = [100, 540]
    for x, d in zip(xs, depths):
        frame[ROW - 2:ROW + 3, x - 2:x + 3] = 255
        depth[ROW - 60:ROW + 61, x - 60:x + 61] = d
    return frame, matte, depth, xs


def radius(out, x):
    row = out[ROW, x - 60:x + 61, 1].astype(float) - BACKGROUND
    above = np.flatnonzero(row > row.max() / 2)
    return (above[-1] - above[0] + 1) / 2


def spread(out, x):
    """How far a lamp's light is spread: the root mean square distance of the light above the
    background from the lamp (a disc of radius R gives R / sqrt 2), for mixtures of blurs too."""
    patch = np.clip(out[ROW - 60:ROW + 61, x - 60:x + 61, 1].astype(float) - BACKGROUND, 0, None)
    yy, xx = np.mgrid[-60:61, -60:61]
    return float(np.sqrt((patch * (xx ** 2 + yy ** 2)).sum() / patch.sum()))


def test_blur_grows_with_the_depth_difference_not_the_distance_in_the_picture():
    frame, matte, depth, xs = lamp_scene([0.4, 0.1])  # both 200 px away; one a little, one much farther
    out = Renderer(bokeh="disc").render(frame, matte, depth=Depth(depth))
    near, far = radius(out, xs[0]), radius(out, xs[1])
    assert far > near + 4, (near, far)
    assert abs(far - 2 * Renderer().blur_strength) <= 0.1 * 2 * Renderer().blur_strength  # past behind_falloff: full blur


def test_things_in_front_blur_sooner_than_things_behind():
    frame, matte, depth, xs = lamp_scene([0.62, 0.38])  # as much nearer as the other is farther
    out = Renderer(bokeh="disc").render(frame, matte, depth=Depth(depth))
    front, behind = spread(out, xs[0]), spread(out, xs[1])
    assert Depth.front < Depth.behind and front > 1.5 * behind, (front, behind)
    same = Renderer(bokeh="disc").render(frame, matte, depth=Depth(depth, front=0.35, behind=0.35))
    a, b = spread(same, xs[0]), spread(same, xs[1])
    assert abs(a - b) <= 0.1 * b, (a, b)  # one falloff for both: the same blur


class ScriptedDepthModel:
    """onnxruntime.InferenceSession's stand-in: checks what the estimator feeds it and answers
    with a given map (nearness at its own scale, 256x256, with an unknown offset and gain)."""

    def __init__(self, answer):
        self.answer, self.seen = answer, []

    def get_inputs(self):
        return [SimpleNamespace(name="image", shape=[1, 3, "height", "width"])]

    def run(self, outputs, feeds):
        x = feeds["image"]
        self.seen.append(x)
        return [self.answer[None]]


def test_the_estimator_feeds_the_model_as_it_was_trained_and_scales_its_answer():
    answer = np.linspace(3.0, 900.0, INPUT_SIZE * INPUT_SIZE, dtype=np.float32).reshape(INPUT_SIZE, INPUT_SIZE)
    est = DepthEstimator(use_depth=True)
    est._session = ScriptedDepthModel(answer)
    frame = np.zeros((H, W, 3), np.uint8)
    frame[..., 2] = 255  # red, in OpenCV's BGR
    near = est.estimate(frame, 0).near
    x = est._session.seen[0]
    assert x.shape == (1, 3, INPUT_SIZE, INPUT_SIZE) and x.dtype == np.float32
    assert np.allclose(x[0, :, 10, 10], (np.array([1, 0, 0]) - MEAN) / STD, atol=1e-5)  # RGB, ImageNet-normalised
    assert near.min() == 0.0 and near.max() == 1.0 and near[0, 0] < near[-1, -1]  # 0 far .. 1 near
    assert est.estimate(frame, 3).near is near and len(est._session.seen) == 1  # reused between runs ...
    est.front_falloff, est.behind_falloff = 0.1, 0.6
    assert (est.estimate(frame, est.interval).front, est.estimate(frame, est.interval).behind) == (0.1, 0.6)
    assert len(est._session.seen) == 2  # ... every `interval` frames; the falloffs are the stage's
    est.use_depth = False
    assert est.estimate(frame, 99) is None


def test_the_pipeline_blurs_by_depth_when_the_cue_is_on(textured, monkeypatch):
    frame, matte = textured
    small = np.full((INPUT_SIZE, INPUT_SIZE), 10.0, np.float32)
    small[:, :80] = 50.0  # the left as near as the subject
    small[96:160, 112:144] = 50.0  # the subject (its box, at the model's size)
    p = FocusPipeline(background_detection=False)
    p.depth.use_depth = True
    p.depth._session = ScriptedDepthModel(small)
    out = p._render(frame, matte, None, 1.0, 0)
    fence, wall = (slice(40, 440), slice(10, 180)), (slice(40, 440), slice(460, 630))
    assert detail(out, frame, fence) < 3 and detail(out, frame, wall) > 40
    p.depth.use_depth = False
    assert detail(p._render(frame, matte, None, 1.0, 1), frame, fence) > 40


def test_a_missing_depth_model_is_reported_like_the_others_and_the_blur_goes_on(textured, monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSR_OFFLINE", "1")
    monkeypatch.setenv("FOCUSR_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(models, "cache_dir", lambda: tmp_path)
    frame, matte = textured
    p = FocusPipeline(background_detection=False)
    p.depth.use_depth = True
    assert not p.depth.load()
    out = p._render(frame, matte, None, 1.0, 0)
    assert np.array_equal(out, Renderer().render(frame, matte))  # by distance, as before
    (depth,) = [m for m in statuses(p) if m.name == "Depth model"]
    assert depth.state == MISSING and "downloads are off" in depth.reason
    assert models.DEPTH_URL in depth.fix and "FOCUSR_DEPTH" in depth.fix and depth.meaning
    assert any("depth model" in n and "blur by distance" in n for n in p.notices)
    p.depth.use_depth = False
    assert not [m for m in statuses(p) if m.name == "Depth model"] and not any("depth" in n for n in p.notices)


def test_a_depth_file_that_is_no_model_is_refused_in_a_line(tmp_path):
    bad = tmp_path / "depth.onnx"
    bad.write_bytes(b"\x08" + bytes(200_000))
    est = DepthEstimator(use_depth=True, model=str(bad))
    assert not est.load()
    assert est.error.startswith("depth model depth.onnx could not be loaded (") and "\n" not in est.error
    est.model = str(tmp_path / "nothing.onnx")
    assert not est.load() and "not found" in est.error
