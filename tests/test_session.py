"""A browser session's worker: bad input dropped and counted, good frames still flow, clean stop."""

import threading
import time


from focusr import frames
from focusr.geometry import distance
from focusr.pipeline import FocusPipeline
from focusr.session import FocusSession, PointerInbox
from synthetic import Thing, make_scene, still


def make_session():
    got, errors, arrived = [], [], threading.Event()

    def out(payload):
        got.append(payload)
        arrived.set()

    p = FocusPipeline()
    p.detector.weights = "/nonexistent.pt"  # no detector: fast, and the reduced mode
    return FocusSession(on_output=out, on_error=errors.append, pipeline=p), got, errors, arrived


def good_frame(seq):
    scene = make_scene(1, things=[Thing((90, 70), (40, 160, 230), 1, still((200, 150), 1))])
    return frames.pack({"seq": seq, "t": 0.0}, frames.encode_jpeg(scene.frames[0]))


def test_bad_frames_are_dropped_and_counted_and_the_session_goes_on():
    s, got, errors, arrived = make_session()
    try:
        s.submit(good_frame(0))  # the worker is up (it loads the models first: a newer frame would replace these)
        assert arrived.wait(30)
        got.clear()
        for k, bad in enumerate((b"", b"garbage" * 10, frames.pack({"seq": 1}, b"\xff\xd8\xff\xe0truncated")), 1):
            s.submit(bad)
            deadline = time.time() + 10
            while s.dropped < k and time.time() < deadline:
                time.sleep(0.01)
        s.submit(good_frame(2))
        deadline = time.time() + 10
        while not (got and frames.unpack(got[-1])[0].get("seq") == 2) and time.time() < deadline:
            time.sleep(0.02)
        header, jpeg = frames.unpack(got[-1])
        assert header["seq"] == 2 and frames.decode_jpeg(jpeg).shape == (360, 480, 3)
        assert s.dropped == 3 and s.alive
        assert errors and all(e.startswith("frame dropped:") for e in errors)
        # every dropped frame is answered (empty JPEG), so the page's one slot in flight is freed
        notices = [frames.unpack(p)[0] for p in got[:-1]]
        assert len(notices) == 3 and all("dropped" in n for n in notices)
        assert notices[2]["seq"] == 1
    finally:
        s.close(wait=2)


def test_pointer_input_is_validated_and_the_newest_click_wins():
    s, got, errors, arrived = make_session()
    try:
        s.submit(good_frame(1))
        assert arrived.wait(10)
        for bad in (None, "x", [1], [float("nan"), 2], [1e9, 5], {"a": 1}, [-1, 5]):
            s.click(bad)
            s.hover(bad)
        assert s._inbox.click is None and s._inbox.hover is None
        assert len(got) == 1  # nothing to answer: a refused click is no click
    finally:
        s.close(wait=2)
    inbox = PointerInbox()
    for i in range(1000):  # a flood is not a queue: one click waits, the newest
        inbox.click, inbox.click_seq = (100 + i % 7, 100), 1
    pointer = inbox.take({1: 40})
    assert pointer.click == (100 + 999 % 7, 100) and pointer.shown == 40 and not inbox.pending
    inbox.release, inbox.click = True, (50, 60)  # Escape, then a click before the next frame: the click wins
    pointer = inbox.take({})
    assert pointer.click == (50, 60) and not pointer.release and not inbox.pending
    assert inbox.take({}).click is None  # and the Escape is not applied after it
    inbox.release, inbox.click, inbox.click_mode = True, (50, 60), "toggle"  # Escape, then a Ctrl-click
    pointer = inbox.take({})
    assert pointer.mode == "lock" and not pointer.release  # every subject let go, the one clicked kept


def hover_the_right_walker(s, shots, arrived, got):
    """Send `shots` as the page does, one reply at a time, hovering the walker on the right,
    the pointer on his amber box once it shows (he walks ~8 px a frame: a pointer left at
    (664, 280) is off him by the fifth frame); his hover box on the last reply, and where
    the pointer is, on it."""
    point = (664.0, 280.0)
    for seq, frame in enumerate(shots, 1):
        arrived.clear()
        s.hover(point)
        s.submit(frames.pack({"seq": seq, "t": 0.0}, frames.encode_jpeg(frame, 90)))
        assert arrived.wait(30)
        shown = frames.unpack(got[-1])[0]["hover"]
        point = ((shown[0] + shown[2]) / 2, (shown[1] + shown[3]) / 2) if shown else point
    hovered = frames.unpack(got[-1])[0]["hover"]
    assert hovered is not None
    return hovered, point


def test_a_click_is_answered_at_once_on_the_last_frame(make_pipeline):
    """Playing, but no newer frame comes yet (a busy page between captures): the click is shown
    on the frame the user saw, processed again (same seq, marked still), with the walker clicked
    locked; so is Escape. A new source forgets that frame: a click then waits for its first one."""
    import cv2
    from conftest import ASSETS
    from focusr.geometry import iou

    cap = cv2.VideoCapture(str(ASSETS / "vtest.avi"))
    shots = [cap.read()[1] for _ in range(6)]
    got, errors, arrived = [], [], threading.Event()
    s = FocusSession(on_output=lambda b: (got.append(b), arrived.set()), on_error=errors.append,
                     pipeline=make_pipeline(lag=2))
    try:
        hovered, point = hover_the_right_walker(s, shots, arrived, got)
        arrived.clear()
        s.click(point, seq=6)
        assert arrived.wait(5)
        header = frames.unpack(got[-1])[0]
        assert header["seq"] == 6 and header["still"] and header["state"] == "locked", header
        assert iou(header["box"], hovered) >= 0.5 and header["label"] in ("Normal", "Fall"), (header, hovered)
        arrived.clear()
        s.release()
        assert arrived.wait(5)
        header = frames.unpack(got[-1])[0]
        assert header["seq"] == 6 and header["still"] and header["state"] == "idle", header
        s.new_source()
        time.sleep(0.3)
        n = len(got)
        s.click(point, seq=6)
        time.sleep(0.5)
        assert len(got) == n  # the old source's frame is not the picture any more
        s.submit(frames.pack({"seq": 7, "t": 0.0}, frames.encode_jpeg(shots[-1], 90)))
        deadline = time.time() + 10
        while len(got) == n and time.time() < deadline:
            time.sleep(0.02)
        header = frames.unpack(got[-1])[0]
        assert header["seq"] == 7 and not header.get("still") and header["state"] == "locked", header
        assert not errors, errors
    finally:
        s.close(wait=10)


def test_a_click_made_while_a_frame_is_processed_is_on_that_frames_reply(make_pipeline):
    """A busy machine: a frame takes long, and the user clicks while it is half processed. The
    reply the page is waiting for is that frame with the walker clicked locked; no reply
    without the lock comes first (it would cost the user a whole frame's time more)."""
    import cv2
    from conftest import ASSETS
    from focusr.geometry import iou

    cap = cv2.VideoCapture(str(ASSETS / "vtest.avi"))
    shots = [cap.read()[1] for _ in range(7)]
    got, errors, arrived, busy = [], [], threading.Event(), threading.Event()
    p = make_pipeline(lag=2)
    segment, slow = p._segment, []

    def slow_segment(*args):  # a scripted stand-in for a machine busy with other work
        if slow:
            busy.set()
            time.sleep(0.5)
        return segment(*args)

    p._segment = slow_segment
    s = FocusSession(on_output=lambda b: (got.append(b), arrived.set()), on_error=errors.append, pipeline=p)
    try:
        hovered, point = hover_the_right_walker(s, shots[:6], arrived, got)
        n = len(got)
        slow.append(True)
        s.submit(frames.pack({"seq": 7, "t": 0.0}, frames.encode_jpeg(shots[6], 90)))
        assert busy.wait(10)
        s.click(point, seq=6)
        deadline = time.time() + 10
        while len(got) == n and time.time() < deadline:
            time.sleep(0.01)
        header = frames.unpack(got[n])[0]
        assert header["seq"] == 7 and not header.get("still") and header["state"] == "locked", header
        assert iou(header["box"], hovered) >= 0.5 and header["label"] in ("Normal", "Fall"), (header, hovered)
        time.sleep(0.8)
        assert len(got) == n + 1, [frames.unpack(g)[0] for g in got[n:]]  # one reply, not two
        assert not errors, errors
    finally:
        s.close(wait=10)


def test_an_exception_inside_a_stage_passes_the_frame_through_and_says_so_once():
    """A stage that fails never stops the picture: the frame comes back without that stage
    (here: unblurred), and what failed is said once, in plain words, not as an exception."""
    from focusr.pipeline import STAGE_FAILURES

    s, got, errors, arrived = make_session()
    original = s.pipeline.renderer.render
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] in (3, 4):  # frames 1 and 2 (the click is answered on frame 0 again)
            raise RuntimeError("boom")
        return original(*args, **kwargs)

    s.pipeline.renderer.render = flaky
    try:
        for seq in range(5):
            arrived.clear()
            s.submit(good_frame(seq))
            assert arrived.wait(10)
            if seq == 0:
                arrived.clear()
                s.click((200, 150))  # locked at once, on frame 0 again: there is something to blur
                assert arrived.wait(10)
        heads = [frames.unpack(p)[0] for p in got]
        assert [h["seq"] for h in heads] == [0, 0, 1, 2, 3, 4] and heads[1]["still"]
        assert all("dropped" not in h for h in heads) and s.dropped == 0  # every frame comes back
        assert errors == [STAGE_FAILURES["render"]]  # said once, in plain words
        from test_render import sharpness

        corner = [sharpness(frames.decode_jpeg(frames.unpack(p)[1])[250:, 300:]) for p in got]  # background
        assert corner[3] > 3 * corner[5], corner  # frames 1 and 2 unblurred, blur back on frame 3
    finally:
        s.close(wait=2)


def test_close_returns_at_once_and_the_worker_stops_and_closes_its_pipeline():
    """The event loop asks and goes on; the worker, which owns the pipeline, closes it."""
    stopped = []
    p = FocusPipeline()
    p.detector.weights = "/nonexistent.pt"
    s = FocusSession(on_output=lambda payload: None, pipeline=p, on_closed=lambda ms, n: stopped.append((ms, n)))
    s.submit(good_frame(1))
    s.click((200, 150))
    time.sleep(0.3)
    start = time.perf_counter()
    s.close()
    assert time.perf_counter() - start < 0.01  # the caller never waits for a frame or a thread
    s._thread.join(1.0)
    assert not s.alive and len(stopped) == 1
    stop_ms, received = stopped[0]
    assert stop_ms < 1000 and received == 1
    assert p.tracker.subject is None  # the pipeline was closed: its subject let go
    s.submit(good_frame(2))  # after close: ignored, no error
    assert s.received == 1


def test_control_changes_wait_for_the_next_frame():
    """A widget changes a parameter on the event loop while the worker may be mid-frame: the
    change is queued and applied between frames, never under a frame's feet."""
    s, got, errors, arrived = make_session()
    try:
        s.configure("renderer", blur_strength=3.0)
        s.configure("", overlays=False)
        assert s.pipeline.renderer.blur_strength == 14.0 and s.pipeline.overlays  # not yet
        s.submit(good_frame(1))
        assert arrived.wait(10)
        assert s.pipeline.renderer.blur_strength == 3.0 and not s.pipeline.overlays
        s.configure("renderer", blur_strength=99.0)  # out of bounds: refused, said, and the session goes on
        arrived.clear()
        s.submit(good_frame(2))
        assert arrived.wait(10)
        assert s.pipeline.renderer.blur_strength == 3.0
        assert any(e.startswith("setting refused") for e in errors)
    finally:
        s.close(wait=2)


def test_paused_the_still_frame_answers_hover_click_and_controls_then_rests(make_pipeline):
    """Paused, no frames come: hovering a walker shows his box, a click locks him and the
    background blurs, Blur strength changes the picture, all on the last frame (same seq,
    marked still); once nothing changes the worker stops processing (no CPU spent)."""
    import cv2
    from conftest import ASSETS
    from focusr.geometry import iou
    from focusr.session import STILL_SETTLE_S

    cap = cv2.VideoCapture(str(ASSETS / "vtest.avi"))
    shots = [cap.read()[1] for _ in range(6)]
    got, errors, arrived = [], [], threading.Event()
    s = FocusSession(on_output=lambda b: (got.append(b), arrived.set()), on_error=errors.append,
                     pipeline=make_pipeline(lag=2))
    s.configure("renderer", blur_strength=20)

    def reply(pred, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for payload in list(got):
                header, jpeg = frames.unpack(payload)
                if pred(header):
                    return header, frames.decode_jpeg(jpeg)
            time.sleep(0.02)
        raise AssertionError(f"no such reply: last {frames.unpack(got[-1])[0] if got else None}")

    try:
        for seq, frame in enumerate(shots, 1):
            arrived.clear()
            s.submit(frames.pack({"seq": seq, "t": 0.0}, frames.encode_jpeg(frame, 90)))
            assert arrived.wait(30)
        s.pause(True)
        got.clear()
        # the walker on the right, where he is on the paused frame (his detection, two frames
        # late, is of a frame where he was ~16 px to the right)
        he = min(s.pipeline.detector.detect(shots[-1]), key=lambda d: distance(d.box, (664, 280)))
        point = ((he.box[0] + he.box[2]) / 2, (he.box[1] + he.box[3]) / 2)
        s.hover(point)
        header, idle = reply(lambda h: h.get("hover") is not None)
        assert header["seq"] == 6 and header["still"] and header["state"] == "idle"
        hovered = header["hover"]
        got.clear()
        s.click(point, seq=6)
        header, locked = reply(lambda h: h["state"] == "locked")
        assert header["seq"] == 6 and header["still"]
        assert iou(header["box"], hovered) >= 0.5 and header["label"] in ("Normal", "Fall"), (header, hovered)
        time.sleep(0.6)  # the focus pull (0.3 s) is over
        header, locked = frames.unpack(got[-1])[0], frames.decode_jpeg(frames.unpack(got[-1])[1])
        grass = (slice(450, 570), slice(20, 300))  # lawn, far from him: sharp when idle, blurred when locked
        sharpness = lambda img: float(cv2.Laplacian(cv2.cvtColor(img[grass], cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())  # noqa: E731
        assert sharpness(locked) < 0.5 * sharpness(idle), (sharpness(locked), sharpness(idle))
        got.clear()
        s.configure("renderer", blur_strength=0)
        time.sleep(0.8)
        header, unblurred = frames.unpack(got[-1])[0], frames.decode_jpeg(frames.unpack(got[-1])[1])
        assert header["seq"] == 6 and header["state"] == "locked"
        assert sharpness(unblurred) > 0.8 * sharpness(idle), (sharpness(unblurred), sharpness(idle))
        time.sleep(STILL_SETTLE_S + 0.5)  # nothing changes any more: the worker rests
        n = len(got)
        time.sleep(1.0)
        assert len(got) == n, len(got) - n
        assert not errors, errors
    finally:
        s.close(wait=10)


def test_a_seek_while_paused_is_a_new_still_frame_with_its_own_detections(make_pipeline, checker):
    """Paused, the user drags the seek bar: the page sends the frame it lands on, once, marked as
    a cut. Hover boxes are of that frame (its own detections, the real model's), never of the old
    position carried onto a picture they do not belong to; a click there locks who is shown."""
    import cv2
    from conftest import ASSETS
    from focusr.geometry import iou
    from focusr.session import STILL_SETTLE_S

    cap = cv2.VideoCapture(str(ASSETS / "vtest.avi"))
    shots = [cap.read()[1] for _ in range(226)]
    pipeline = make_pipeline(lag=2)
    later = shots[225]  # 22 s on: nobody is where they were at the start
    point = (558, 338)  # where a walker is 22 s on, and nobody was at the start
    walker = next(d.box for d in checker.detect(later) if d.contains(point))  # the real model's box of him
    got, errors, arrived = [], [], threading.Event()
    s = FocusSession(on_output=lambda b: (got.append(b), arrived.set()), on_error=errors.append, pipeline=pipeline)

    def reply(pred, timeout=15.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for payload in list(got):
                header = frames.unpack(payload)[0]
                if pred(header):
                    return header
            time.sleep(0.02)
        raise AssertionError(f"no such reply: last {frames.unpack(got[-1])[0] if got else None}")

    try:
        for seq, frame in enumerate(shots[:6], 1):
            arrived.clear()
            s.submit(frames.pack({"seq": seq, "t": 0.0}, frames.encode_jpeg(frame, 90)))
            assert arrived.wait(30)
        s.pause(True)
        s.hover(point)
        reply(lambda h: h["seq"] == 6 and h.get("still"))
        time.sleep(STILL_SETTLE_S + 0.5)  # the still frame rests: nothing changes
        got.clear()
        s.submit(frames.pack({"seq": 7, "t": 0.0, "cut": True}, frames.encode_jpeg(later, 90)))  # the seek
        header = reply(lambda h: h["seq"] == 7 and h.get("hover") is not None)
        assert iou(header["hover"], walker) >= 0.7, header["hover"]
        got.clear()
        s.click(point, seq=7)
        header = reply(lambda h: h["state"] == "locked")
        assert header["seq"] == 7 and iou(header["box"], walker) >= 0.7, header
        assert not errors, errors
    finally:
        s.close(wait=10)
