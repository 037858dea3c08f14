"""A click locks the subject the user saw under the cursor: deterministic, at the session level.

Synthetic footage with known trajectories (four textured subjects of one class that cross,
moving 2-6 px a frame) goes through a real FocusSession exactly as the page drives it: binary
JPEG frames, one in flight, hover and click between frames. A scripted background detector
returns the true boxes three frames late with jitter. Clicks name the reply that was on
screen; they reach the server one to three frames later; they land off-centre, near edges,
just outside the box, between two subjects. Every click is checked for WHO got locked.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from focusr import frames
from focusr.geometry import iou
from focusr.pipeline import REGION_MAX_SHARE, FocusPipeline
from focusr.session import FocusSession
from focusr.types import Pointer
from scripted import LABEL, SIZE, ScriptedBackground, ScriptedDetector, crossing_scene
from synthetic import Thing, make_scene, still


class Page:
    """Drives a session like camera.js: one frame in flight, the reply's header is what is shown."""

    def __init__(self, scene, lag: int = 3):
        self.scene = scene
        self.background = ScriptedBackground(scene, lag=lag)
        pipeline = FocusPipeline(background=self.background, detector=ScriptedDetector(), rack_focus=0.0)
        self.replies: list[dict] = []
        self._got = threading.Event()
        self.session = FocusSession(on_output=self._out, pipeline=pipeline)
        self.i = 0  # next frame of the footage

    def _out(self, payload):
        self.replies.append(frames.unpack(payload)[0])
        self._got.set()

    def step(self) -> dict:
        """The next frame and its reply. A click or release made before it may have been answered
        at once on the last frame (a reply marked still), or be taken by this one."""
        seq, n = self.i + 1, len(self.replies)
        self.session.submit(frames.pack({"seq": seq, "t": 0.0}, frames.encode_jpeg(self.scene.frames[self.i], 90)))
        deadline = time.monotonic() + 20
        while not any(r["seq"] == seq for r in self.replies[n:]):
            assert self._got.wait(max(deadline - time.monotonic(), 0)), "no reply"
            self._got.clear()
        self.i += 1
        reply = next(r for r in self.replies[n:] if r["seq"] == seq)
        assert "dropped" not in reply and not reply.get("still"), reply
        return reply

    def truth(self, k: int, frame: int | None = None):
        return self.scene.things[k].box_at(self.i - 1 if frame is None else frame)

    def who(self, box) -> tuple[int, float]:
        """Which subject a box is on, now, and how well."""
        scores = [iou(box, self.truth(k)) for k in range(len(self.scene.things))]
        return int(np.argmax(scores)), max(scores)

    def close(self):
        self.session.close(wait=5)


def clear_of_others(page: Page, k: int, frame: int, limit: float = 0.15) -> bool:
    box = page.truth(k, frame)
    return all(iou(box, page.truth(j, frame)) < limit for j in range(len(page.scene.things)) if j != k)


# where in (or near) the box the user clicks: fractions of its width and height; outside the
# box by a few pixels for the last two (within the 12 px tolerance of a shown box)
SPOTS = [(0.3, 0.35), (0.08, 0.9), (0.92, 0.1), (0.5, 0.04), (0.7, 0.6), (-0.06, 0.5), (0.5, 1.05)]


def test_every_click_locks_the_hovered_subject_carried_to_now():
    scene = crossing_scene(400)
    page = Page(scene)
    results = []
    try:
        for _ in range(8):  # the first detections come in
            page.step()
        trial, last_key = 0, 0
        while page.i < len(scene.frames) - 20 and trial < 21:
            k = trial % len(scene.things)
            if not clear_of_others(page, k, page.i - 1):
                page.step()
                continue
            # the pointer goes to the subject as the user sees it, and rests until a box shows
            x1, y1, x2, y2 = page.truth(k)
            page.session.hover(((x1 + x2) / 2, (y1 + y2) / 2))
            for _ in range(12):
                reply = page.step()
                if reply["hover"] is not None:
                    break
            hover = reply["hover"]
            # the box is on the subject as it is on the frame shown, and the user saw that subject
            # plainly while the box came up (detections are of a frame up to 8 earlier)
            if hover is None or page.who(hover) != (k, pytest.approx(page.who(hover)[1])) or page.who(hover)[1] < 0.5 \
                    or not all(clear_of_others(page, k, f) for f in range(page.i - 12, page.i)):
                page.session.hover(None)
                page.step()
                continue
            hover_iou = page.who(hover)[1]
            fx, fy = SPOTS[trial % len(SPOTS)]
            hx1, hy1, hx2, hy2 = hover
            point = (min(max(hx1 + fx * (hx2 - hx1), 0), SIZE[0] - 1), min(max(hy1 + fy * (hy2 - hy1), 0), SIZE[1] - 1))
            clicked_on = reply["seq"]
            for _ in range(trial % 3):  # the click reaches the server 1 to 3 frames after it was made
                page.step()
            page.session.click(point, seq=clicked_on)
            if trial % 5 == 4:  # a double click: the same spot twice; it locks once
                page.session.click(point, seq=clicked_on)
            reply = page.step()
            key = page.session.pipeline.tracker.subject.key
            who, score = page.who(reply["box"]) if reply["box"] else (None, 0.0)
            held = []
            for _ in range(6):  # and it stays on them
                later = page.step()
                held.append(page.who(later["box"])[0] == k if later["box"] else False)
            results.append({"trial": trial, "target": k, "point": point, "delay": trial % 3 + 1,
                            "state": reply["state"], "label": reply["label"], "who": who, "iou": round(score, 2),
                            "held": all(held), "locks": key - last_key, "box": reply["box"], "hover_iou": round(hover_iou, 2),
                            "truth": [round(v) for v in page.truth(k, page.i - 7)]})
            last_key = key
            page.session.hover(None)
            if trial % 2:
                page.session.release()
            page.step()
            trial += 1
    finally:
        page.close()
    print("\n".join(map(str, results)))
    assert len(results) >= 20, results
    wrong = [r for r in results if not (r["state"] == "locked" and r["label"] == LABEL and r["who"] == r["target"]
                                        and r["iou"] >= 0.5 and r["held"] and r["locks"] == 1)]
    assert not wrong, wrong  # every click, the subject the user pointed at: 100%


def test_a_click_between_two_subjects_takes_the_one_whose_box_it_is_within_tolerance_of():
    """Two still subjects 30 px apart: a click 6 px right of the left one's shown box is on
    nothing, within tolerance of that box only; a click 6 px left of the right one's, the right."""
    n = 40
    a = Thing((60, 120), (40, 160, 230), 1, still((250, 240), n))
    b = Thing((60, 120), (200, 90, 60), 2, still((340, 240), n), shape="rect")
    for x, want in ((286.0, 0), (304.0, 1)):
        page = Page(make_scene(n, size=SIZE, things=[a, b], seed=3))
        page.background.jitter = 0.0
        try:
            for _ in range(10):
                reply = page.step()
            page.session.click((x, 240.0), seq=reply["seq"])
            reply = page.step()
            assert reply["state"] == "locked" and page.who(reply["box"])[0] == want, (x, reply)
        finally:
            page.close()


def test_a_click_on_the_locked_subject_keeps_it_and_a_click_off_every_box_grows_a_bounded_region():
    scene = crossing_scene(60)
    page = Page(scene)
    try:
        for _ in range(10):
            reply = page.step()
        box = page.background.detections(page.i - 1)[2].box  # a box as the detector would have it
        page.session.click(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2), seq=reply["seq"])
        reply = page.step()
        key = page.session.pipeline.tracker.subject.key
        x1, y1, x2, y2 = reply["box"]
        page.session.click((x1 + 0.8 * (x2 - x1), y1 + 0.2 * (y2 - y1)), seq=reply["seq"])  # on the green box
        reply = page.step()
        assert page.session.pipeline.tracker.subject.key == key and page.who(reply["box"])[0] == 2
        # the top-left corner is background far from every subject: a region, never most of the frame
        page.session.click((20.0, 20.0), seq=reply["seq"])
        reply = page.step()
        x1, y1, x2, y2 = reply["box"]
        assert reply["label"] == "object" and x1 < 20 < x2 and y1 < 20 < y2, reply
        assert (x2 - x1) * (y2 - y1) <= REGION_MAX_SHARE * SIZE[0] * SIZE[1], reply
    finally:
        page.close()


def test_a_click_that_would_grow_over_most_of_the_frame_locks_a_square_around_it(no_detector_pipeline):
    """A flat wall over most of the picture: growing from a click on it would take the wall."""
    frame = np.full((480, 640, 3), (90, 120, 150), np.uint8)
    frame[:, 560:] = (30, 30, 30)
    p = no_detector_pipeline
    _, res = p.process(frame, Pointer(click=(300.0, 240.0)))
    x1, y1, x2, y2 = res.subject.box
    assert res.subject.kind == "region" and x1 < 300 < x2 and y1 < 240 < y2
    assert (x2 - x1) * (y2 - y1) <= REGION_MAX_SHARE * 640 * 480, res.subject.box


def test_a_subject_moving_under_a_resting_pointer_is_hovered_where_it_is_now():
    """The detector's boxes are a few frames old (lag 3 here, then up to 5 more frames until the
    next set): a subject moving 2-6 px a frame has left its box while the pointer rests on it.
    Whenever a subject is under the resting pointer now (6 px inside its true box, clear of the
    others), the hover says so, on it: its box on that subject now (IoU >= 0.5)."""
    scene = crossing_scene(240)
    page = Page(scene)
    under, hovered, wrong = 0, 0, []
    points = [(500, 260), (280, 170), (580, 280), (500, 130)]  # where subjects pass most, in turn
    try:
        for _ in range(8):
            page.step()
        for f in range(8, 232):
            point = points[(f // 56) % len(points)]  # the pointer rests a while, then moves
            page.session.hover(point)
            reply = page.step()
            at = page.i - 1
            subjects = [k for k in range(len(scene.things)) if clear_of_others(page, k, at, 0.05)
                        and inside_by(page.truth(k), point, 6)]
            if not subjects:
                continue
            under += 1
            if reply["hover"] is not None:
                k, score = page.who(reply["hover"])
                if k == subjects[0] and score >= 0.5:
                    hovered += 1
                    continue
            wrong.append((at, subjects[0], reply["hover"]))
    finally:
        page.close()
    print(f"subject under the resting pointer on {under} frames: hovered on it {hovered}")
    assert under >= 60
    assert hovered >= 0.95 * under, wrong


def inside_by(box, point, margin: float) -> bool:
    x, y = point
    return box[0] + margin <= x <= box[2] - margin and box[1] + margin <= y <= box[3] - margin


def test_a_tap_without_hover_locks_the_subject_where_it_is_on_the_frame_tapped():
    """A phone has no hover: a tap lands where the subject is on the frame on screen, and its
    detection (of a frame up to 8 earlier) may be 10-40 px behind it. The tap still takes it."""
    scene = crossing_scene(300)
    page = Page(scene)
    results = []
    try:
        for _ in range(8):
            page.step()
        trial = 0
        while page.i < len(scene.frames) - 12 and trial < 12:
            k = trial % len(scene.things)
            shown = page.i - 1  # the reply on screen
            if not all(clear_of_others(page, k, f, 0.05) for f in range(shown - 10, shown + 1)):
                page.step()
                continue
            x1, y1, x2, y2 = page.truth(k, shown)
            point = (x1 + 0.5 * (x2 - x1), y1 + 0.3 * (y2 - y1))
            page.session.click(point, seq=page.replies[-1]["seq"])
            reply = page.step()
            who, score = page.who(reply["box"]) if reply["box"] else (None, 0.0)
            results.append({"trial": trial, "target": k, "who": who, "iou": round(score, 2), "label": reply["label"]})
            page.session.release()
            for _ in range(3):
                page.step()
            trial += 1
    finally:
        page.close()
    print("\n".join(map(str, results)))
    assert len(results) >= 10, results
    wrong = [r for r in results if not (r["label"] == LABEL and r["who"] == r["target"] and r["iou"] >= 0.5)]
    assert not wrong, wrong


def test_the_amber_box_stays_on_a_walker_the_model_misses_and_a_click_on_it_takes_him():
    """The pointer rests on a walker (3 px a frame) until his amber box shows; then the model
    misses him for a while (as the real one does, now and then). His box stays, carried by flow
    with him, on every frame (it went out four frames later, and a click on it, naming a frame
    whose detections lacked him, grew a region on the road: 1 click in 11 in bench_browser).
    The click on it locks him."""
    n = 80
    walker = Thing((50, 110), (40, 160, 230), 1, [(150 + 3 * i, 240) for i in range(n)])
    other = Thing((50, 110), (200, 90, 60), 2, still((520, 240), n), shape="rect")
    page = Page(make_scene(n, size=SIZE, things=[walker, other], seed=5))
    page.background.jitter = 0.0
    try:
        for _ in range(8):
            page.step()
        x1, y1, x2, y2 = page.truth(0)
        page.session.hover(((x1 + x2) / 2, (y1 + y2) / 2))
        for _ in range(12):
            reply = page.step()
            if reply["hover"]:
                break
        seen = reply["hover"]
        page.background.missed[0] = range(page.i - 2, n)  # from here on the model misses him
        hovers = []
        for _ in range(8):
            reply = page.step()
            hovers.append(reply["hover"])
        point = (seen[0] + 0.3 * (seen[2] - seen[0]), seen[1] + 0.35 * (seen[3] - seen[1]))
        point = (point[0] + 3 * 8, point[1])  # where the hand follows him, as the box moved
        page.session.hover(point)
        page.session.click(point, seq=reply["seq"])
        assert all(h is not None and page.who(h) == (0, pytest.approx(page.who(h)[1])) for h in hovers), hovers
        reply = page.step()
        assert reply["state"] == "locked" and reply["label"] == LABEL, reply
        who, score = page.who(reply["box"])
        assert who == 0 and score >= 0.5, (reply["box"], page.truth(0))
    finally:
        page.close()


def side_by_side(n: int, gap: float = 42.0, speed: float = 2.5):
    """Two walkers of a size and look alike, side by side (centres `gap` px apart: their boxes
    touch), walking together across the frame at up to `speed` px a frame, slowing to turn at
    either side and walking back, as a couple does in vtest.avi."""
    span = (SIZE[0] - 2 * 40 - gap) / 2  # half the way across
    period = 2 * np.pi * span / speed  # frames there and back

    def path(x0):
        return [(x0 + span * (1 - np.cos(2 * np.pi * i / period)), 240 + 6 * np.sin(i / 15)) for i in range(n)]
    left = Thing((40, 72), (90, 110, 150), 11, path(40))
    right = Thing((40, 72), (100, 105, 140), 12, path(40 + gap))
    return make_scene(n, size=SIZE, things=[left, right], seed=9)


def test_a_walker_beside_another_stays_locked_while_detections_come_late():
    """Two walkers side by side, their boxes touching; the detector is 10-20 frames behind (a
    busy machine: four tabs, or detection given way to the frame path). A click on either's
    amber box locks him, and so does a tap on him with no box shown (a phone); the lock stays
    on him for the next 40 frames while those late detections come in and refine it: never on
    the one beside him, whose old box is where he is now. (With detections 10-20
    frames late a carried lock once jumped to the walker beside the hovered one in the
    browser test: hovered [359,153,397,218], locked [318,147,360,219].)"""
    scene = side_by_side(640)
    page = Page(scene, lag=(10, 20))
    results = []
    try:
        for _ in range(24):
            page.step()
        trial = 0
        while page.i < len(scene.frames) - 60 and trial < 12:
            k, tap = trial % 2, trial % 3 == 2
            x1, y1, x2, y2 = page.truth(k)
            if tap:  # the walker as he is on the frame on screen
                reply, hover = page.replies[-1], page.truth(k)
            else:
                page.session.hover(((x1 + x2) / 2, (y1 + y2) / 2))
                for _ in range(30):
                    reply = page.step()
                    if reply["hover"] is not None:
                        break
                hover = reply["hover"]
            if hover is None or page.who(hover)[0] != k or page.who(hover)[1] < 0.5:
                results.append({"trial": trial, "target": k, "hover": hover, "who": None})
                trial += 1
                continue
            fx, fy = SPOTS[trial % len(SPOTS)]
            if tap:  # on him: with no box shown, a tap just beside him is on the other
                fx, fy = min(max(fx, 0.15), 0.85), min(max(fy, 0.1), 0.9)
            if k == 0:  # the spots nearest the other walker are the ones that matter
                fx = 1 - fx
            hx1, hy1, hx2, hy2 = hover
            point = (hx1 + fx * (hx2 - hx1), hy1 + fy * (hy2 - hy1))
            clicked_on = reply["seq"]
            for _ in range(trial % 3):
                page.step()
            page.session.click(point, seq=clicked_on)
            page.session.hover(None)
            frames = []
            for _ in range(40):
                reply = page.step()
                box = reply["box"] if reply["state"] != "lost" else None
                frames.append((iou(box, page.truth(k)), iou(box, page.truth(1 - k))) if box else (0.0, 0.0))
            results.append({"trial": trial, "target": k, "tap": tap, "hover": [round(v) for v in hover],
                            "first": round(frames[0][0], 2),  # the lock on the reply after the click
                            "on_him": sum(mine >= 0.4 for mine, _ in frames),
                            "on_other": sum(other >= 0.3 and other > mine for mine, other in frames)})
            page.session.release()
            page.step()
            trial += 1
    finally:
        page.close()
    print("\n".join(map(str, results)))
    assert len(results) >= 12, results
    bad = [r for r in results if "first" not in r or r["first"] < 0.5 or r["on_other"]]
    assert not bad, bad  # every click locks him, and his lock is never on the one beside him
    on_him = sum(r["on_him"] for r in results) / (40 * len(results))
    print(f"lock on him on {on_him:.0%} of the frames after the clicks")
    assert on_him >= 0.9
