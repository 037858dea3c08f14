"""Carrying boxes by flow (focusr.carry): where a subject is on later frames, and what it costs.

The flow and its corners work on the region around the subject, not the whole frame (the corner
measure over a 768x576 frame took ~7 ms a call); the hover carries the detections near the pointer
on from the last frame, a step a frame, not from their round's frame again every frame."""

import cv2
import numpy as np
import pytest

from focusr.carry import corners
from focusr.flowtrack import Carried
from focusr.geometry import center
from synthetic import Thing, linear, make_scene

N = 40


@pytest.fixture(scope="module")
def scene():
    """Two textured subjects crossing the frame at 3 and 5 px a frame, opposite ways."""
    return make_scene(N, (480, 360), [
        Thing((60, 120), (60, 90, 200), seed=1, path=linear((100, 150), (100 + 3 * (N - 1), 150), N)),
        Thing((50, 100), (200, 120, 60), seed=2, path=linear((400, 230), (400 - 5 * (N - 1), 230), N)),
    ])


def off(box, truth) -> float:
    (ax, ay), (bx, by) = center(box), center(truth)
    return float(np.hypot(ax - bx, ay - by))


def test_corners_around_the_box_are_the_corners_the_whole_frame_gives(scene):
    """Computed on the box and a margin, the corners are exactly the whole frame's inside the box."""
    grey = cv2.cvtColor(scene.frames[0], cv2.COLOR_BGR2GRAY)
    rng = np.random.default_rng(0)
    for _ in range(100):
        x, y = rng.uniform(-20, 470), rng.uniform(-20, 350)
        box = (x, y, x + rng.uniform(8, 200), y + rng.uniform(8, 250))
        where = np.zeros(grey.shape, np.uint8)
        x1, y1, x2, y2 = box
        mx, my = 0.2 * (x2 - x1), 0.1 * (y2 - y1)
        ya, yb = max(int(y1 + my), 0), max(int(np.ceil(y2 - my)), 0)
        where[ya:yb, max(int(x1 + mx), 0):max(int(np.ceil(x2 - mx)), 0)] = 1
        whole = cv2.goodFeaturesToTrack(grey, 80, 0.01, 3, mask=where) if where.any() else None
        got = corners(grey, box, None, 1.0)
        if whole is None or len(whole) < 5:
            assert got is None
        else:
            assert np.allclose(np.sort(got.reshape(-1, 2), 0), np.sort(whole.reshape(-1, 2), 0))


def test_the_hover_carries_each_detection_on_a_step_a_frame(scene):
    """Detections of frame 0, looked at from frame 10 to the end: each is where its subject is
    (within 3 px), and after the first frame each is followed onto the newest frame, never
    carried from frame 0 again."""
    detections = [type("D", (), {"box": t.box_at(0), "mask": None})() for t in scene.things]
    carried, asked = Carried(), []

    def since(i):
        asked.append(i)
        return scene.frames[i:index + 1]

    for index in range(10, N):
        asked.clear()
        boxes = carried.to_now(detections, 0, index, since)
        for box, thing in zip(boxes, scene.things):
            assert off(box, thing.box_at(index)) <= 3.0, (index, box, thing.box_at(index))
        assert asked == ([0] if index == 10 else [index])  # the newest frame alone


def test_the_hover_carries_afresh_when_the_round_or_the_frames_change(scene):
    """A new round of detections is carried from its own frame; with the frames gone, None."""
    first = [type("D", (), {"box": scene.things[0].box_at(0), "mask": None})()]
    carried = Carried()
    assert carried.to_now(first, 0, 12, lambda i: scene.frames[i:13]) is not None
    later = [type("D", (), {"box": scene.things[0].box_at(10), "mask": None})()]
    asked = []
    box = carried.to_now(later, 10, 13, lambda i: asked.append(i) or scene.frames[i:14])[0]
    assert asked == [10] and off(box, scene.things[0].box_at(13)) <= 3.0
    assert carried.to_now(later, 10, 20, lambda i: None) is None
