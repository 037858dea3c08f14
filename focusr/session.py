"""One browser session: its pipeline, its worker thread and its running figures.

Frames arrive on the server's event loop; processing happens on this session's own
thread so a slow frame never blocks other sessions or the widgets. The hand-over
slot holds one frame: a newer frame replaces an older one that has not started,
so the latest frame always wins and latency cannot build up.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import param

from focusr import frames
from focusr.pipeline import FocusPipeline, StageClock
from focusr.types import Pointer, TrackState

log = logging.getLogger(__name__)

SERVER_STAGES = ("decode", "detect", "track", "segment", "render", "encode")


@dataclass
class FrameRecord:
    """What the worker did with one frame, for the plots and the status line."""

    done: float  # time.monotonic() when finished
    timings_ms: dict[str, float]
    state: TrackState
    label: str | None


@dataclass
class PointerInbox:
    """Pointer input gathered between frames; applied to the next frame processed."""

    hover: tuple[float, float] | None = None
    clicks: list[tuple[float, float]] = field(default_factory=list)
    release: bool = False

    def take(self) -> Pointer:
        click = self.clicks.pop(0) if self.clicks else None
        pointer = Pointer(hover=self.hover, click=click, release=self.release and click is None)
        if pointer.release:
            self.release = False
        return pointer


class FocusSession(param.Parameterized):
    """Runs one session's frames through its pipeline, off the event loop."""

    jpeg_quality = param.Integer(default=80, bounds=(40, 95), doc="Quality of the JPEG frames sent back.")

    def __init__(self, on_output, on_error=None, pipeline: FocusPipeline | None = None, **params):
        super().__init__(**params)
        self.pipeline = pipeline or FocusPipeline()
        self._on_output = on_output
        self._on_error = on_error or (lambda message: None)
        self._lock = threading.Condition()
        self._slot: bytes | None = None
        self._inbox = PointerInbox()
        self._closed = False
        self.received = 0
        self.replaced = 0  # frames that a newer one replaced before they started
        self.dropped = 0  # frames refused as bad input
        self.last_error: str | None = None
        self.records: deque[FrameRecord] = deque(maxlen=240)
        self.frame_size: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._run, name="focusr-session", daemon=True)
        self._thread.start()

    # -- event loop side ---------------------------------------------------------------------
    def submit(self, payload: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            self.received += 1
            if self._slot is not None:
                self.replaced += 1
            self._slot = payload
            self._lock.notify()

    def hover(self, point) -> None:
        with self._lock:
            self._inbox.hover = self._point(point)

    def click(self, point) -> None:
        p = self._point(point)
        if p is not None:
            with self._lock:
                if len(self._inbox.clicks) < 4:  # a flood of clicks is not a queue of work
                    self._inbox.clicks.append(p)

    def release(self) -> None:
        with self._lock:
            self._inbox.clicks.clear()
            self._inbox.release = True

    def close(self, timeout: float = 2.0) -> None:
        with self._lock:
            self._closed = True
            self._slot = None
            self._lock.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        self.pipeline.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _point(self, point) -> tuple[float, float] | None:
        try:
            x, y = (float(point[0]), float(point[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            return None
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        if self.frame_size is not None:
            w, h = self.frame_size
            if not (0 <= x < w and 0 <= y < h):
                return None
        return (x, y)

    # -- worker side -------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._lock:
                while self._slot is None and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                payload, self._slot = self._slot, None
                pointer = self._inbox.take()
            try:
                self._process(payload, pointer)
            except frames.FrameError as exc:
                self._drop(payload, f"frame dropped: {exc}")
            except Exception as exc:  # never let one frame kill the session's worker
                log.exception("frame processing failed")
                self._drop(payload, f"processing error: {type(exc).__name__}: {str(exc)[:120]}")

    def _drop(self, payload, message: str) -> None:
        """Count it, say so once, and answer anyway: the page keeps one frame in flight and
        would otherwise wait for a reply that never comes."""
        self.dropped += 1
        self._report(message)
        try:
            seq = frames.unpack(payload)[0].get("seq")
        except frames.FrameError:
            seq = None
        try:
            self._on_output(frames.pack({"seq": seq, "dropped": message}, b""))
        except Exception:
            log.exception("could not send the drop notice")

    def _process(self, payload: bytes, pointer: Pointer) -> None:
        self._on_output(self.handle(payload, pointer))

    def handle(self, payload: bytes, pointer: Pointer = Pointer()) -> bytes:
        """One frame as the dashboard sends it in, the frame it sends back out (same thread)."""
        clock = StageClock()
        with clock("decode"):
            header, jpeg = frames.unpack(payload)
            image = frames.decode_jpeg(jpeg)
        self.frame_size = (image.shape[1], image.shape[0])
        out, result = self.pipeline.process(image, pointer, clock=clock)
        with clock("encode"):
            jpeg_out = frames.encode_jpeg(out, self.jpeg_quality)
        timings = clock.ms
        subject = result.subject
        reply = {
            "seq": header.get("seq"), "t": header.get("t"), "state": result.state.value,
            "label": subject.label if subject else None,
            "box": [round(v, 1) for v in subject.box] if subject else None,
            "hover": [round(v, 1) for v in result.hover.box] if result.hover else None,
            "hover_label": result.hover.label if result.hover else None,
            "server_ms": round(sum(timings.values()), 1),
        }
        self.records.append(FrameRecord(time.monotonic(), timings, result.state, reply["label"]))
        return frames.pack(reply, jpeg_out)

    def _report(self, message: str) -> None:
        self.last_error = message
        try:
            self._on_error(message)
        except Exception:
            log.exception("error callback failed")

    # -- figures -----------------------------------------------------------------------------
    def processed_fps(self, window: float = 2.0) -> float:
        now = time.monotonic()
        recent = [r for r in list(self.records) if now - r.done <= window]
        return len(recent) / window

    def mean_timings(self, window: float = 2.0) -> dict[str, float]:
        now = time.monotonic()
        recent = [r for r in list(self.records) if now - r.done <= window]
        if not recent:
            return {}
        stages = {k for r in recent for k in r.timings_ms}
        return {k: sum(r.timings_ms.get(k, 0.0) for r in recent) / len(recent) for k in stages}
