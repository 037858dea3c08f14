"""The hover over something the detector does not see (issue 23): once the pointer rests, the
outline of the region a click there would take is drawn, it moves with what it outlines, and a
click within it locks exactly that region. Deterministic: synthetic footage with exact masks
and a scripted detector that never sees one of the subjects; the region is grown on its own
thread, so each test waits for it frame by frame (at most a few seconds)."""

from __future__ import annotations

import time

import numpy as np


from focusr.geometry import center, iou
from focusr.pipeline import FocusPipeline
from focusr.types import Pointer
from scripted import ScriptedBackground, ScriptedDetector, crossing_scene

UNSEEN = 2  # the subject the scripted detector never reports


def pipeline(scene) -> FocusPipeline:
    background = ScriptedBackground(scene, lag=3)
    background.missed[UNSEEN] = range(len(scene.frames))
    return FocusPipeline(background=background, detector=ScriptedDetector(), rack_focus=0.0)


def hover_until_preview(p, scene, start: int, thing: int, wait_s: float = 10.0):
    """Frames from `start` with the pointer resting on `thing`'s centre (where it is on each
    frame, so the pointer moves with it a few px a frame ... as a hand would not: it rests on the
    point it had at `start`), until a frame's result has a preview; that result and its index."""
    point = center(scene.things[thing].box_at(start))
    deadline, i = time.monotonic() + wait_s, start
    while time.monotonic() < deadline:
        _, r = p.process(scene.frames[i], Pointer(hover=point), t=i / 30)
        if r.preview is not None:
            return r, i, point
        time.sleep(0.02)
        i += 1
    raise AssertionError("no preview within the wait")


def test_resting_on_an_undetected_subject_outlines_it_and_a_click_takes_that_region():
    scene = crossing_scene(120)
    p = pipeline(scene)
    try:
        for i in range(10):  # detections of the others arrive
            p.process(scene.frames[i], Pointer(), t=i / 30)
        r, i, point = hover_until_preview(p, scene, 10, UNSEEN)
        truth = scene.things[UNSEEN].box_at(i)
        print(f"preview on frame {i}: IoU with the unseen subject {iou(r.preview, truth):.2f}, hover box {r.hover}")
        assert r.hover is None  # no detection there: no amber box, the outline instead
        assert iou(r.preview, truth) >= 0.5
        grown = p.preview.grown
        for j in range(i + 1, i + 6):  # resting on: the outline follows it, nothing is grown again
            _, r = p.process(scene.frames[j], Pointer(hover=point), t=j / 30)
            assert r.preview is not None and iou(r.preview, scene.things[UNSEEN].box_at(j)) >= 0.5
        assert p.preview.grown == grown
        shown = r.preview
        j += 1
        _, r = p.process(scene.frames[j], Pointer(hover=point, click=point, shown=j - 1), t=j / 30)
        lock = r.subject
        print(f"locked {lock.label} {lock.kind}: IoU with the unseen subject {iou(lock.box, scene.things[UNSEEN].box_at(j)):.2f}, "
              f"with the outline shown {iou(lock.box, shown):.2f}")
        assert lock.kind == "region" and iou(lock.box, scene.things[UNSEEN].box_at(j)) >= 0.5
        assert iou(lock.box, shown) >= 0.8  # what was outlined is what was taken
    finally:
        p.close()


def test_no_outline_over_a_detected_subject_or_a_passing_pointer():
    scene = crossing_scene(60)
    p = pipeline(scene)
    try:
        for i in range(10):
            p.process(scene.frames[i], Pointer(), t=i / 30)
        for i in range(10, 30):  # on a detected subject: its amber box, no region grown
            _, r = p.process(scene.frames[i], Pointer(hover=center(scene.things[0].box_at(i))), t=i / 30)
            assert r.preview is None
            time.sleep(0.01)
        assert r.hover is not None
        for i in range(30, 60):  # a pointer sweeping over the unseen one (8 px a frame) never rests
            x, y = center(scene.things[UNSEEN].box_at(i))
            _, r = p.process(scene.frames[i], Pointer(hover=(x - 120 + 8 * (i - 30), y)), t=i / 30)
            assert r.preview is None
        assert p.preview.grown == 0
    finally:
        p.close()


def test_on_real_footage_the_outline_is_the_box_and_a_click_takes_it(make_pipeline):
    """box.mp4, a still frame (paused, processed again as the pointer rests on the yellow box,
    which the person model does not see): the outline is the box's, and a click within it
    locks that region at once. One grow on one frame: the same on every run."""
    import cv2

    from conftest import asset
    from focusr import overlay
    from test_footage import yellow_box_truth

    cap = cv2.VideoCapture(str(asset("box.mp4")))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 90)
    frame = cap.read()[1]
    truth = yellow_box_truth(frame)
    ys, xs = np.nonzero(truth)
    point, around = (float(xs.mean()), float(ys.mean())), (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    p = make_pipeline(lag=1)
    deadline, r = time.monotonic() + 10, None
    while time.monotonic() < deadline and (r is None or r.preview is None):
        out, r = p.process(frame, Pointer(hover=point))
        time.sleep(0.02)
    assert r.preview is not None and r.hover is None
    print(f"outline box {[round(v) for v in r.preview]}, the yellow box {around}: IoU {iou(r.preview, around):.2f}")
    assert iou(r.preview, around) >= 0.8
    assert np.all(out == overlay.AMBER, axis=2).sum() > 100  # drawn on the picture
    shown = r.preview
    _, r = p.process(frame, Pointer(hover=point, click=point, shown=r.index))
    print(f"locked {r.subject.label} {r.subject.kind} at {[round(v) for v in r.subject.box]}")
    assert r.subject.kind == "region" and iou(r.subject.box, shown) >= 0.9
    assert iou(r.subject.box, around) >= 0.8
