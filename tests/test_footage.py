"""Integration: real models on real footage (Debian's opencv-doc), with thresholds."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from focusr.geometry import center, iou
from focusr.types import Pointer, TrackState

DATA = Path(__file__).parent / "data"


def yellow_box_truth(frame: np.ndarray) -> np.ndarray:
    """The box in box.mp4 is yellow: its largest yellow blob, convex-filled, is the truth."""
    hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
    yellow = cv2.inRange(hsv, (15, 110, 110), (35, 255, 255))
    yellow = cv2.morphologyEx(yellow, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(yellow)
    blob = (labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])).astype(np.uint8)
    truth = np.zeros_like(blob)
    cv2.fillConvexPoly(truth, cv2.convexHull(cv2.findNonZero(blob)), 1)
    return truth.astype(bool)


def test_box_clip_click_on_the_box_keeps_it_matted_and_locked(make_pipeline):
    from conftest import asset

    # background detections 2-9 frames late at 30 fps, as live; no hover outline: when it is
    # ready depends on the clock, and a click within it takes it (tests/test_preview.py)
    p = make_pipeline(lag=(2, 9), hover_preview=False)
    cap = cv2.VideoCapture(str(asset("box.mp4")))
    ious, held = [], []
    i = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        truth = yellow_box_truth(frame)
        if i == 0:
            ys, xs = np.nonzero(truth)
            click = Pointer(click=(float(xs.mean()), float(ys.mean())))
        _, res = p.process(frame, click if i == 0 else Pointer(), t=i / 30)
        m = res.matte > 127 if res.matte is not None else np.zeros_like(truth)
        ious.append((m & truth).sum() / (m | truth).sum())
        held.append(res.state in (TrackState.LOCKED, TrackState.REACQUIRED))
        i += 1
    assert i > 400
    print(f"box.mp4: mean matte IoU {np.mean(ious):.3f}, lock held {np.mean(held):.1%} of {i} frames")
    assert np.mean(ious) >= 0.8
    assert np.mean(held) >= 0.98


@pytest.mark.parametrize("start", [0, 100, 180])
def test_a_click_on_the_box_locks_the_box_where_the_model_sees_the_whole_frame_as_a_person(make_pipeline, start):
    """From box.mp4's third second the person model calls the whole frame "Fall" (0.4-0.6):
    a box filling the frame is not offered, so hovering the yellow box and clicking it locks
    the box, and the lock stays on it for two seconds (a CI run had locked the frame: nothing
    was blurred)."""
    from conftest import asset

    p = make_pipeline(lag=(2, 9), hover_preview=False)  # as above: the click grows its own region
    cap = cv2.VideoCapture(str(asset("box.mp4")))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    inside, hovers = [], []
    for i in range(start, start + 90):
        ok, frame = cap.read()
        assert ok
        truth = yellow_box_truth(frame)
        ys, xs = np.nonzero(truth)
        point = (float(xs.mean()), float(ys.mean()))
        h, w = truth.shape
        # the pointer rests on the box for a second, then clicks it; then two seconds on
        pointer = Pointer(hover=point) if i < start + 30 else Pointer(click=point) if i == start + 30 else Pointer()
        _, res = p.process(frame, pointer, t=i / 30)
        if res.hover is not None:
            hovers.append((res.hover.box[2] - res.hover.box[0]) * (res.hover.box[3] - res.hover.box[1]) / (w * h))
        if i > start + 30:
            assert res.subject is not None, f"frame {i}: the lock was lost"
            x1, y1, x2, y2 = (int(round(v)) for v in res.subject.box)
            around = np.zeros_like(truth)  # the box turns: its upright bounding box
            around[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
            inside.append(around[max(y1, 0):y2, max(x1, 0):x2].mean())
    print(f"box.mp4 from frame {start}: largest hover {max(hovers, default=0):.2f} of the frame, "
          f"lock box on the box: min {min(inside):.2f}, mean {np.mean(inside):.2f}")
    assert max(hovers, default=0) <= 0.5
    assert min(inside) >= 0.6 and np.mean(inside) >= 0.8  # on the box, never the frame around it


@pytest.mark.parametrize("seed", [0, 6])
def test_vtest_lock_stays_on_the_same_pedestrian_while_others_cross(make_pipeline, seed):
    """Background detections arrive 1-6 frames late at 10 fps (drawn per detection from
    `seed`), as live on a busy machine. With seed 6 a detection of him arrived while CSRT
    had stuck to the background as another walker crossed, and he was lost at frame 100."""
    from conftest import asset

    truth = json.loads((DATA / "vtest_red_jacket.json").read_text())
    boxes = {int(k): v for k, v in truth["boxes"].items()}
    start, click = truth["click"]["frame"], truth["click"]["point"]
    p = make_pipeline(lag=(1, 6), seed=seed)
    cap = cv2.VideoCapture(str(asset("vtest.avi")))
    hits, misses = 0, []
    # as a user: the pointer rests on him from a second before; the click comes on the first
    # frame from `start` on whose predecessor showed a hover box there, and takes that box
    hovered, clicked = None, None
    p.detector.detect(np.zeros((480, 640, 3), np.uint8))  # warm, as in a session that has been running
    for i in range(max(boxes) + 1):
        ok, frame = cap.read()
        assert ok
        if i < start - 10:
            continue
        pointer = Pointer(hover=tuple(click))
        if clicked is None and i >= start and hovered is not None:
            pointer, clicked = Pointer(hover=tuple(click), click=tuple(click), shown=p.frame_index), i
        _, res = p.process(frame, pointer, t=i / 10)
        hovered = res.hover
        if i == clicked:
            assert res.subject is not None and p.detector.is_person(res.subject.label)
        if i in boxes and clicked is not None:
            g, b = boxes[i], res.subject.box if res.subject else None
            on_him = b is not None and (
                iou(b, g) >= 0.3 or (g[0] <= (b[0] + b[2]) / 2 <= g[2] and g[1] <= (b[1] + b[3]) / 2 <= g[3]))
            if on_him:
                hits += 1
            else:
                misses.append((i, res.state.value, b))
    print(f"vtest.avi: clicked on frame {clicked}, then on him at {hits}/{hits + len(misses)} hand-labelled checkpoints")
    assert clicked is not None and clicked <= start + 5 and hits + len(misses) >= len(boxes) - 1
    assert not misses, misses


def test_a_click_that_grows_only_a_speck_locks_the_area_around_it_and_holds(no_detector_pipeline):
    """box.mp4 at 640x480 as the browser sends it (JPEG, every 4th frame skipped, played back
    as the fake camera's bounce does), clicked where colour growing finds only a speck of the
    print: a speck cannot be tracked, so the area around the click is locked, and it holds."""
    from conftest import asset

    cap = cv2.VideoCapture(str(asset("box.mp4")))
    frames = []
    while len(frames) <= 215:
        ok, frame = cap.read()
        assert ok
        frames.append(cv2.resize(frame, (640, 480), interpolation=cv2.INTER_AREA))
    p = no_detector_pipeline
    states, areas = [], []
    for k, i in enumerate(j for j in range(215, 160, -1) if j % 4):
        sent = cv2.imdecode(cv2.imencode(".jpg", frames[i], [cv2.IMWRITE_JPEG_QUALITY, 80])[1], cv2.IMREAD_COLOR)
        _, res = p.process(sent, Pointer(click=(366.2, 150.5)) if k == 0 else Pointer(), t=k / 23)
        states.append(res.state)
        x1, y1, x2, y2 = res.subject.box
        areas.append((x2 - x1) * (y2 - y1) / (640 * 480))
    assert TrackState.LOST not in states, states.index(TrackState.LOST)
    assert min(areas) >= 0.002, min(areas)  # never a speck


def vtest_frames(first: int, last: int, size=(640, 480)) -> dict[int, np.ndarray]:
    """vtest.avi's frames first..last, at the size the page sends."""
    from conftest import asset

    cap = cv2.VideoCapture(str(asset("vtest.avi")))
    out = {}
    for i in range(last + 1):
        ok, frame = cap.read()
        assert ok
        if i >= first:
            out[i] = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return out


@pytest.mark.parametrize("seed", [0, 6])
def test_a_walker_clicked_behind_the_sign_post_is_followed_when_he_walks_out_of_its_box(make_pipeline, seed):
    """vtest.avi frames 94-135 as the live page gets them (each frame processed twice: the 30 fps
    camera of 10 fps footage, about half its frames processed; detections 2-9 frames late,
    drawn from `seed`: with 6 he is not detected until he is out of the box). The
    pointer rests on a walker passing behind the teal sign on the lamp post; his amber box, which
    the post fills half of, is clicked. He walks on; CSRT, seeded on a box that is mostly post,
    stayed on the post and showed 'locked' there for seconds while the detector found him beside
    it. Now the one who walked out of the box is followed (the detector, asked at once while the
    tracker is in doubt, settles it in three rounds, about 1.3 s here): from 1.5 s after the
    click the green box is on a person (IoU >= 0.5 with the real model's detection of that
    frame, or of the one before or after: the model misses him on a few) on at least 90% of
    frames, and never on the post."""
    frames = vtest_frames(94, 136)
    p = make_pipeline(lag=(2, 9), seed=seed)
    aim = (367.5, 170.0)  # frame 102: his box (351, 143, 384, 211), the post's sign over its middle
    post = (357.0, 185.0)  # the sign's centre
    hovered, clicked, k, seen = None, None, 0, []
    p.detector.detect(frames[94])  # warm, as in a session that has been running
    for i in range(94, 136):
        for _ in range(2):
            if clicked is None and i >= 102 and hovered is not None:
                cx, cy = hovered[0] + 0.3 * (hovered[2] - hovered[0]), hovered[1] + 0.35 * (hovered[3] - hovered[1])
                pointer, clicked, clicked_box = Pointer(hover=(cx, cy), click=(cx, cy), shown=p.frame_index), i, hovered
            else:
                pointer = Pointer(hover=aim) if clicked is None else Pointer()
            _, res = p.process(frames[i], pointer, t=k / 20)
            k += 1
            if clicked is None and i >= 102 and res.hover is not None:
                hovered = res.hover.box
        if clicked is not None and i >= clicked + 15:
            box = res.subject.box if res.subject else None
            seen.append((i, res.state.value, box))
    # the real model's people on each frame; it misses him on a few: a neighbouring frame's count
    people = {i: [d.box for d in p.detector.detect(frames[i]) if p.detector.is_person(d.label)]
              for i in range(seen[0][0] - 1, seen[-1][0] + 2)}
    seen = [(i, state, [round(v) for v in box] if box else None,
             round(max((iou(box, d) for j in (i - 1, i, i + 1) for d in people[j]), default=0.0) if box else 0.0, 2),
             box is not None and np.hypot(*np.subtract(center(box), post)) < 20) for i, state, box in seen]
    assert clicked is not None and clicked <= 106, "no amber box on him"
    assert iou(clicked_box, (351, 143, 384, 211)) >= 0.5, clicked_box  # it was him, behind the post
    on_him = [s for s in seen if s[1] in ("locked", "reacquired") and s[3] >= 0.5]
    print(f"behind the post: on a person {len(on_him)}/{len(seen)} frames from 1.5 s after the click")
    assert not [s for s in seen if s[1] != "lost" and s[4]], seen  # never locked on the post
    assert len(on_him) >= 0.9 * len(seen), seen
