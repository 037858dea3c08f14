"""A click goes first: while one tab's click is on its way, the other tabs' frames and the shared
detector wait (at most HOLD_S), so the click is answered as fast as on an idle machine."""

import threading
import time

import numpy as np
import pytest

from focusr import frames
from focusr.click_first import CLICKS, HOLD_S, ClickFirst
from focusr.detect import BackgroundDetector, Detector
from focusr.pipeline import FocusPipeline
from focusr.session import FocusSession
from synthetic import Thing, make_scene, still


def test_the_gate_holds_the_others_until_the_click_is_answered():
    gate = ClickFirst()
    assert gate.wait_turn("b") == 0.0 and not gate.busy()
    gate.claim("a")
    assert gate.busy() and gate.wait_turn("a") == 0.0  # the clicking tab itself never waits
    waited = []
    t = threading.Thread(target=lambda: waited.append(gate.wait_turn("b")))
    t.start()
    time.sleep(0.2)
    assert t.is_alive()  # b waits ...
    gate.release("a")  # ... until a's reply is sent
    t.join(2)
    assert not t.is_alive() and 0.15 <= waited[0] < HOLD_S
    assert not gate.busy()


def test_a_click_that_is_never_answered_holds_the_others_for_a_moment_only():
    gate = ClickFirst()
    gate.claim("a", seconds=0.3)
    start = time.monotonic()
    waited = gate.wait_turn("b")
    assert 0.25 <= waited <= time.monotonic() - start < 2.0
    assert not gate.busy()  # expired
    gate.claim("a", seconds=10)
    assert 0.25 <= gate.wait_turn("b", most=0.3) < 2.0  # and a waiter gives up after `most`
    gate.release("a")


def test_the_shared_detector_starts_nothing_while_a_click_is_on_its_way():
    background = BackgroundDetector(Detector(weights="/nonexistent.pt"))
    try:
        frame = np.zeros((120, 160, 3), np.uint8)
        CLICKS.claim("tab")
        assert not background.submit(frame, 1)
        CLICKS.release("tab")
        assert background.submit(frame, 2)
    finally:
        CLICKS.release("tab")
        background.close()


class Tab:
    """A session as a browser tab sees it: replies, and when each arrived."""

    def __init__(self):
        self.replies: list[tuple[float, dict]] = []
        self.arrived = threading.Event()
        p = FocusPipeline()
        p.detector.weights = "/nonexistent.pt"  # no detector: the gate, not the model, is under test
        self.session = FocusSession(on_output=self._out, pipeline=p)

    def _out(self, payload):
        self.replies.append((time.monotonic(), frames.unpack(payload)[0]))
        self.arrived.set()

    def send(self, seq: int) -> None:
        scene = make_scene(1, things=[Thing((90, 70), (40, 160, 230), 1, still((200, 150), 1))])
        self.arrived.clear()
        self.session.submit(frames.pack({"seq": seq, "t": 0.0}, frames.encode_jpeg(scene.frames[0])))

    def reply(self, seq: int, timeout: float = 30.0) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, head in self.replies:
                if head.get("seq") == seq:
                    return at, head
            time.sleep(0.005)
        raise AssertionError(f"no reply to frame {seq}")


@pytest.fixture
def tabs():
    made = [Tab(), Tab()]
    for tab in made:  # each worker is up (its models loaded): from now a frame takes milliseconds
        tab.send(0)
        tab.reply(0)
    yield made
    for tab in made:
        tab.session.close(wait=5)


def test_another_tabs_frame_waits_for_a_click_and_goes_on_after_it(tabs):
    a, b = tabs
    a.session.click((200, 150))  # a's click reaches the server; its frame is on the way
    b.send(1)
    time.sleep(0.3)
    assert not any(head.get("seq") == 1 for _, head in b.replies)  # b's frame waits ...
    a.send(1)
    a_at, a_head = a.reply(1)
    b_at, _ = b.reply(1)
    assert a_head["state"] in ("locked", "reacquired")  # the click was answered on a's frame ...
    assert b_at >= a_at  # ... before b's frame was
    assert not CLICKS.busy()


def test_escape_or_a_click_never_answered_holds_the_other_tab_for_a_moment_only(tabs):
    a, b = tabs
    a.session.click((200, 150))
    a.session.release()  # Escape before the frame came: nothing is on its way any more
    start = time.monotonic()
    b.send(1)
    assert b.reply(1)[0] - start < HOLD_S
    a.session.click((200, 150))  # never answered (the tab went away): b goes on after HOLD_S
    start = time.monotonic()
    b.send(2)
    assert HOLD_S * 0.8 <= b.reply(2)[0] - start < HOLD_S + 5
