"""One browser session: its pipeline, its worker thread and its running figures.

Frames arrive on the server's event loop; processing happens on this session's own
thread so a slow frame never blocks other sessions or the widgets. The hand-over
slot holds one frame: a newer frame replaces an older one that has not started,
so the latest frame always wins and latency cannot build up.

A click or an Escape is answered at once: when no newer frame is waiting, the worker processes
the last frame again with it (the picture the user just saw, now with the green box), rather
than waiting for the page's next frame, which on a busy machine is a capture, an encode and a
round trip away.

Paused, the page sends no frames; the worker processes the last one again whenever the user
hovers, clicks, releases or moves a control (and for a moment after, while focus pulls or a
detection lands), so a subject can be chosen and the look tuned on a still frame. A seek while
paused sends one frame, marked as a cut: a new still frame, with its own detections.

The worker thread owns the pipeline: it is the only thread that runs it, changes it or
closes it. Control changes made on the event loop (`configure`) wait in a queue and are
applied between frames, never while a frame is half processed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field

import param

from focusr import frames, model_status, models
from focusr.model_status import ModelStatus
from focusr.pipeline import FocusPipeline, Superseded
from focusr.timing import StageClock
from focusr.types import CLICK_MODES, Pointer, TrackState

log = logging.getLogger(__name__)

SHOWN_REPLIES = 90  # replies whose frame index is remembered: a click names the one it was made on
FIGURES_WINDOW_S = 2.0  # rates and mean timings are over this much recent time
STILL_FPS = 15.0  # paused: the still frame is processed again at most this often ...
STILL_SETTLE_S = 1.0  # ... for this long after the last change, plus the focus pull's own time

_live: weakref.WeakSet[FocusSession] = weakref.WeakSet()


@dataclass
class FrameRecord:
    """What the worker did with one frame, for the plots and the status line."""

    done: float  # time.monotonic() when finished
    timings_ms: dict[str, float]
    state: TrackState
    label: str | None
    subjects: list[tuple[str, TrackState]] = field(default_factory=list)  # every subject kept: label, state


@dataclass
class Snapshot:
    """A session as the page shows it, twice a second: the live figures and the status line."""

    captured_fps: float
    processed_fps: float
    displayed_fps: float
    stages_ms: dict[str, float]
    display_ms: float | None  # capture to display, median, measured in the page
    state: TrackState
    label: str | None
    subjects: list[tuple[str, TrackState]]  # every subject kept, the first first: label, state
    skipped: int
    dropped: int
    detect_every: float | None  # frames between detections, as they really ran
    notices: list[str]
    models: list[ModelStatus]  # each model: loaded, loading or missing (the page's Models section)


@dataclass
class PointerInbox:
    """Pointer input gathered between frames; applied to the next frame processed. Clicks do
    not queue: the newest wins (a double click, or clicks made while a frame was slow, lock
    once, on what was clicked last)."""

    hover: tuple[float, float] | None = None
    click: tuple[float, float] | None = None
    click_seq: int | None = None  # the reply on screen when it was made
    click_mode: str = "lock"  # what it does (types.CLICK_MODES)
    release: bool = False

    @property
    def pending(self) -> bool:
        """A click or a release not yet shown: it is answered on the last frame if no new one waits."""
        return self.click is not None or self.release

    def take(self, shown: dict[int, int]) -> Pointer:
        """`shown`: reply seq -> pipeline frame index, for the frames recently sent back."""
        click, seq, self.click, self.click_seq = self.click, self.click_seq, None, None
        mode = self.click_mode
        if click is not None and self.release and mode in ("add", "toggle"):
            mode = "lock"  # Escape, then a Ctrl-click before the next frame: all let go, this one kept
        release, self.release = self.release and click is None, False  # a click made after Escape wins
        return Pointer(hover=self.hover, click=click, release=release,
                       shown=shown.get(seq) if click is not None and seq is not None else None, mode=mode)


class FocusSession(param.Parameterized):
    """Runs one session's frames through its pipeline, off the event loop."""

    jpeg_quality = param.Integer(default=80, bounds=(40, 95), doc="Quality of the JPEG frames sent back.")

    def __init__(self, on_output, on_error=None, pipeline: FocusPipeline | None = None, on_closed=None,
                 **params):
        """`pipeline` (made here if not given) belongs to the session from now on: its worker
        closes it. `on_closed(stop_ms, frames)` is called from the worker once it has stopped."""
        super().__init__(**params)
        self.pipeline = pipeline or FocusPipeline()
        self._on_output = on_output
        self._on_error = on_error or (lambda message: None)
        self._on_closed = on_closed
        self._lock = threading.Condition()
        self._slot: bytes | None = None
        self._inbox = PointerInbox()
        self._sent: dict[int, int] = {}  # reply seq -> pipeline frame index, the latest SHOWN_REPLIES (worker only)
        self._changes: list[tuple[str, dict]] = []
        self._paused = False
        self._last: bytes | None = None  # the last frame processed: the still frame while paused (worker only)
        self._forget = False  # a new source: the last frame is no longer what the page shows
        self._still_until = 0.0  # monotonic: paused, the still frame is processed again until then
        self._detect_still = False  # paused just now: detect on the still frame
        self._closed = False
        self._close_requested = 0.0
        self.received = 0
        self.replaced = 0  # frames that a newer one replaced before they started
        self.dropped = 0  # frames refused as bad input
        self.last_error: str | None = None
        self.records: deque[FrameRecord] = deque(maxlen=240)
        self.frame_size: tuple[int, int] | None = None
        self._thread = threading.Thread(target=self._run, name="focusr-session", daemon=True)
        _live.add(self)
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
            if self._paused:  # a seek while paused: a new still frame, with its own detections
                self._detect_still = True
                self._changed()
            self._lock.notify()

    def pause(self, paused: bool) -> None:
        """Paused: no frames come; what the user does is shown on the last one (see the module)."""
        with self._lock:
            self._paused = bool(paused)
            if self._paused:  # the still frame gets its own detections (a tap needs no hover)
                self._detect_still = True
                self._changed()

    def _changed(self) -> None:
        """Something the picture shows changed (lock held): a paused session shows it on its
        still frame, for STILL_SETTLE_S and the focus pull's time."""
        self._still_until = time.monotonic() + STILL_SETTLE_S + float(self.pipeline.rack_focus)
        self._lock.notify()

    def hover(self, point) -> None:
        with self._lock:
            self._inbox.hover = self._point(point)
            self._changed()

    def click(self, point, seq=None, mode: str = "lock") -> None:
        """A click at `point` (frame pixels) on the reply `seq` that was on screen; `mode`: what
        it does to the subjects kept (types.CLICK_MODES; anything else is a plain click)."""
        p = self._point(point)
        if p is not None:
            with self._lock:
                self._inbox.click = p
                self._inbox.click_mode = mode if mode in CLICK_MODES else "lock"
                self._inbox.click_seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
                self._changed()

    def release(self) -> None:
        with self._lock:
            self._inbox.click = None
            self._inbox.release = True
            self._changed()

    def new_source(self) -> None:
        """The page switched to another camera or file: no subject, no hover, and the last frame
        (of the old source) is not answered again."""
        with self._lock:
            self._inbox = PointerInbox(release=True)
            self._forget = True
            self._changed()

    def configure(self, stage: str, **values) -> None:
        """Set parameters of the pipeline (stage "") or of one of its stages ("renderer", ...),
        between frames: the worker applies them before the next frame it processes."""
        with self._lock:
            self._changes.append((stage, values))
            self._changed()

    def close(self, wait: float = 0.0) -> None:
        """Ask the worker to stop; it closes the pipeline itself. Returns at once unless `wait`
        seconds are given (tests and scripts), so the event loop never waits for a frame."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close_requested = time.perf_counter()
            self._slot = None
            self._lock.notify()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(wait)

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
        try:
            self._apply_changes()  # the page's settings (its chosen detector) before the first load
            self.pipeline.detector.model  # load (once per process) here, never on the event loop
            self.pipeline.segmenter.load()  # and the person segmenter, so no click waits for it
            next_still, awaiting, unanswered = 0.0, None, False
            while True:
                with self._lock:
                    payload = self._next_payload(next_still)
                    if payload is None:
                        break
                    pointer = self._inbox.take(self._sent)
                    detect_still, self._detect_still = self._detect_still, False
                still = payload is self._last
                if still:
                    next_still = time.monotonic() + 1.0 / STILL_FPS
                if detect_still:  # paused just now, or a seek while paused: this frame's own detections
                    self.pipeline.detect_soon()
                    awaiting = self.pipeline.frame_index + 1
                elif not still:
                    awaiting = None
                try:
                    answers = pointer.click is not None or pointer.release  # never dropped for a newer click
                    reply = self.handle(payload, pointer, still=still and not unanswered, droppable=not answers)
                    unanswered = reply is None
                    if unanswered:  # a click came in meanwhile: this frame again at once, with it
                        continue
                    self._on_output(reply)
                    if (awaiting is not None and self.pipeline.detections_at < awaiting) or \
                            (still and self.pipeline.growing):  # a hover's region is still being grown
                        with self._lock:  # go on until they land (the model may be slow to start)
                            self._still_until = max(self._still_until, time.monotonic() + 2.0 / STILL_FPS)
                    else:
                        awaiting = None
                except frames.FrameError as exc:
                    self._drop(payload, f"frame dropped: {exc}")
                except Exception as exc:  # never let one frame kill the session's worker
                    log.exception("frame processing failed")
                    self._drop(payload, f"processing error: {type(exc).__name__}: {str(exc)[:120]}")
        finally:
            self.pipeline.close()
            if self._on_closed is not None:
                stop_ms = (time.perf_counter() - self._close_requested) * 1000.0 if self._close_requested else 0.0
                try:
                    self._on_closed(stop_ms, self.received)
                except Exception:
                    log.exception("session close callback failed")

    def _next_payload(self, next_still: float) -> bytes | None:
        """(Lock held) the next frame to process: a new one; the last one again for a click or
        a release (see the module); or, paused, the still frame again (not before `next_still`);
        None once closed."""
        while not self._closed:
            if self._forget:
                self._last, self._forget = None, False
            if self._slot is not None:
                payload, self._slot = self._slot, None
                return payload
            if self._last is not None and self._inbox.pending:
                return self._last
            now = time.monotonic()
            if self._paused and self._last is not None and now < self._still_until:
                if now >= next_still:
                    return self._last
                self._lock.wait(next_still - now)
            else:
                self._lock.wait()
        return None

    def _apply_changes(self) -> None:
        with self._lock:
            changes, self._changes = self._changes, []
        for stage, values in changes:
            target = getattr(self.pipeline, stage) if stage else self.pipeline
            try:
                target.param.update(**values)
            except ValueError as exc:  # out of bounds: the widget cannot send one, a script might
                self._report(f"setting refused: {models.reason(exc)}")

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

    def handle(self, payload: bytes, pointer: Pointer = Pointer(), still: bool = False,
               droppable: bool = False) -> bytes | None:
        """One frame as the dashboard sends it in, the frame it sends back out (same thread).
        `still`: the last frame again, while paused (the reply says so). `droppable`: a click or
        an Escape that comes in while this frame is half processed drops it (None), so that
        the reply the page waits for is this frame with the click, not without it and then
        again with it: one frame's time sooner, on a busy machine a few hundred ms."""
        self._apply_changes()
        clock = StageClock()
        with clock("decode"):
            header, jpeg = frames.unpack(payload)
            image = frames.decode_jpeg(jpeg)
        self._last = payload
        self.frame_size = (image.shape[1], image.shape[0])
        if header.get("cut") is True and not still:  # the page seeked: this frame does not follow the last
            self.pipeline.cut()
        try:
            out, result = self.pipeline.process(image, pointer, clock=clock,
                                                dropped=(lambda: self._inbox.pending) if droppable else None)
        except Superseded:
            return None
        notices = self.pipeline.notices
        for message in result.warnings:  # a stage that failed on this frame, said once; the frame goes on
            if message not in notices:
                self._report(message)
        with clock("encode"):
            jpeg_out = frames.encode_jpeg(out, self.jpeg_quality)
        seq = header.get("seq")
        if isinstance(seq, int):
            self._sent[seq] = result.index
            if len(self._sent) > SHOWN_REPLIES:
                del self._sent[next(iter(self._sent))]
        reply = {"seq": seq, "t": header.get("t"), **result.summary(), "server_ms": round(clock.total_ms, 1)}
        if still:
            reply["still"] = True
        self.records.append(FrameRecord(time.monotonic(), clock.ms, result.state, reply["label"],
                                        [(s.label, state) for s, state in result.subjects]))
        return frames.pack(reply, jpeg_out)

    def _report(self, message: str) -> None:
        self.last_error = message
        try:
            self._on_error(message)
        except Exception:
            log.exception("error callback failed")

    # -- figures -----------------------------------------------------------------------------
    def _recent(self) -> list[FrameRecord]:
        now = time.monotonic()
        return [r for r in list(self.records) if now - r.done <= FIGURES_WINDOW_S]

    def snapshot(self, browser: dict | None = None) -> Snapshot:
        """The figures now, over the last FIGURES_WINDOW_S; `browser` holds what the page
        measured (CameraView.stats)."""
        browser = browser or {}
        recent = self._recent()
        stages = {k for r in recent for k in r.timings_ms}
        mean_ms = {k: sum(r.timings_ms.get(k, 0.0) for r in recent) / len(recent) for k in stages}
        last = self.records[-1] if self.records else None
        return Snapshot(
            captured_fps=float(browser.get("captured_fps", 0.0)), processed_fps=len(recent) / FIGURES_WINDOW_S,
            displayed_fps=float(browser.get("displayed_fps", 0.0)), stages_ms=mean_ms,
            display_ms=browser.get("latency_median_ms"), state=last.state if last else TrackState.IDLE,
            label=last.label if last else None, subjects=last.subjects if last else [],
            skipped=int(browser.get("skipped", 0)), dropped=self.dropped,
            detect_every=self.pipeline.detect_cadence, notices=self.pipeline.notices,
            models=model_status.statuses(self.pipeline),
        )


def close_all(wait: float = 5.0) -> int:
    """Stop every live session's worker and wait (up to `wait` seconds in all) for each to
    close its pipeline: at server shutdown, so no inference is left running as Python exits.
    Returns how many were running."""
    sessions = [s for s in list(_live) if not s.closed]
    for s in sessions:
        s.close()
    deadline = time.perf_counter() + wait
    for s in sessions:
        s.close(wait=max(deadline - time.perf_counter(), 0.01))
    return len(sessions)
