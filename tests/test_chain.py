"""The chain of detections (focusr.chain) and the tracker that it corrects when the box stays
on the background while the detector sees its subject walk on (vtest.avi's lamp post)."""

import cv2
import numpy as np

from focusr.chain import CHAIN_MISSES, Chain
from focusr.geometry import iou
from focusr.track import Tracker
from focusr.types import Detection, Subject, TrackState
from synthetic import Thing, linear, make_scene, still


def walker(at, x, y=100.0, w=30.0, h=60.0):
    return (x, y, x + w, y + h)


def test_the_chain_goes_on_to_the_detection_where_its_subject_was_heading():
    chain = Chain.from_path(10, [walker(0, 100 + 3 * k) for k in range(4)])  # frames 7..10, 3 px a frame
    assert chain.speed[0] == 3.0 and chain.at == 7
    # frame 16: him 3 px a frame on; another walker coming the other way 60 px ahead
    assert chain.step(16, [walker(16, 160), walker(16, 127)]) == 1 and chain.box == walker(16, 127)
    assert chain.predict(19)[0] == 136


def test_two_candidates_say_nothing_and_a_merged_pair_is_not_him():
    chain = Chain(0, walker(0, 100), speed=(2.0, 0.0))
    assert chain.step(5, [walker(5, 108), walker(5, 112)]) is None  # crossing: ambiguous, no step
    assert chain.at == 0 and chain.missed == 0
    assert chain.step(6, [(95, 100, 160, 160)]) is None  # two walkers in one box: twice his width
    assert chain.missed == 1
    for k in range(CHAIN_MISSES - 1):
        assert chain.step(7 + k, []) is None
    assert chain.lost


def _track(scene, boxes_at, lock_box, rounds, scale=0.5):
    """Lock on `lock_box` at frame 0 (its detection there), then detections of the subject's
    kind every `rounds` frames, of that frame: boxes_at(i). The tracker's box per frame."""
    tracker, out = Tracker(), []
    for i, frame in enumerate(scene.frames):
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        if i == 0:
            tracker.lock(small, hsv, scale, Subject(lock_box, "person", "detection", 1), index=0, carried=[lock_box])
        else:
            dets = [Detection(b, "person", 0.9) for b in boxes_at(i)] if i % rounds == 0 else None
            tracker.update(small, hsv, 1 / 30, dets, index=i, detected_at=i if dets is not None else None)
        out.append((tracker.state, tracker.box))
    return out


def test_a_box_left_on_the_background_follows_the_detector_to_its_subject():
    """A walker comes out from behind a sign post, 4 px a frame; he was clicked behind it, so
    the box is the post's and CSRT's pixels stand still there. The detector sees him walk on:
    the box goes to him within two rounds of his detections leaving it, and stays with him."""
    n = 45
    him = Thing((30, 80), (200, 90, 60), 5, linear((200, 150), (200 + 4 * (n - 1), 150), n))
    post = Thing((44, 100), (60, 170, 200), 3, still((200, 150), n))
    scene = make_scene(n, things=[him, post])  # the post in front
    start = post.box_at(0)
    seen = _track(scene, lambda i: [him.box_at(i)], start, rounds=3)
    left = next(i for i in range(n) if iou(him.box_at(i), start) < 0.5)  # his detection is off the post from here
    after = [iou(box, him.box_at(i)) for i, (state, box) in enumerate(seen) if i >= left + 6]
    assert all(s == TrackState.LOCKED for s, _ in seen)
    assert min(after) >= 0.5, np.round(after, 2)


def test_a_box_that_moves_with_its_subject_is_not_pulled_away_by_a_stray_detection():
    """The tracker follows a walker (its box moves with him); the detections near where he was
    heading are of someone else who turns off: the box stays on its walker."""
    n = 45
    subject = Thing((40, 80), (60, 170, 200), 3, linear((120, 150), (300, 150), n))
    scene = make_scene(n, things=[subject])
    other = lambda i: [walker(i, 100 + 4 * i, 110 + 3 * i, 40, 80)]  # noqa: E731  leaves his line
    seen = _track(scene, lambda i: other(i) if i > 3 else [subject.box_at(i)], subject.box_at(0), rounds=3)
    on = [iou(box, subject.box_at(i)) for i, (_, box) in enumerate(seen)]
    assert min(on) >= 0.5, np.round(on, 2)
