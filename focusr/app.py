"""The dashboard: a Viewer that renders a session's pipeline, camera and live figures.

Model apart from view: the sidebar is generated from the pipeline's parameters, the
camera component only moves bytes and pointer input, and the session object owns the
work. Plots are fed by one periodic callback on the event loop, never by the worker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from functools import partial

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource, Legend
from bokeh.plotting import figure

from focusr import models
from focusr.camera import CameraView
from focusr.pipeline import FocusPipeline
from focusr.session import SERVER_STAGES, FocusSession
from focusr.types import TrackState

log = logging.getLogger(__name__)

STATES = [s.value for s in TrackState]
STATE_COLOURS = {"idle": "#9aa0aa", "locked": "#50dc50", "lost": "#e63c3c", "reacquired": "#f5b301"}
STAGE_COLOURS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2"]
ROLLOVER = 240  # two minutes at two points a second


def configured_pipeline() -> FocusPipeline:
    """A pipeline with the models the server was configured with (never chosen by the client)."""
    pipeline = FocusPipeline()
    labels = [s.strip() for s in os.environ.get("FOCUSR_PERSON_LABELS", "person").split(",") if s.strip()]
    pipeline.detector.person_labels = labels
    return pipeline


class FocusrApp(pn.viewable.Viewer):
    """One browser session's page."""

    status = param.String(default="", doc="The status line: source, tracker state, subject, FPS (HTML).")
    detector_model = param.Selector(
        default=None, objects=[], check_on_set=True,
        doc="Detector weights, from the server's fixed list (never a client's path).",
    )

    def __init__(self, **params):
        super().__init__(**params)
        self.pipeline = configured_pipeline()
        options = models.detector_options()
        self.param.detector_model.objects = options
        self.detector_model = next(iter(options.values()))
        self.camera = CameraView(
            sizing_mode="stretch_width", autostart=os.environ.get("FOCUSR_AUTOSTART", ""),
        )
        self.session = self._start_session()
        self._doc = pn.state.curdoc
        self._out_lock = threading.Lock()
        self._out_payload: bytes | None = None
        self._nodelay_done = False
        self._was_connected = False
        self._started = time.monotonic()
        self._shown_errors: set[str] = set()
        self._shown_notices: set[str] = set()
        self._id = self._doc.session_context.id[:8] if self._doc is not None and self._doc.session_context else "-"
        self.camera.param.watch(self._on_frame, "frame")
        self.camera.param.watch(self._on_hover, "hover")
        self.camera.param.watch(self._on_click, "click")
        self.camera.param.watch(self._on_release, "release")
        self.camera.param.watch(self._on_browser_error, "error")
        self._fps = ColumnDataSource({"t": [], "captured": [], "processed": [], "displayed": []}, name="focusr-fps")
        self._lat = ColumnDataSource({"t": [], **{s: [] for s in SERVER_STAGES}, "display": []},
                                     name="focusr-latency")
        self._states = ColumnDataSource({"t": [], "state": [], "colour": []}, name="focusr-state")
        self._status_line = pn.pane.HTML('<div class="focusr-status">starting…</div>', sizing_mode="stretch_width")
        self._template = None
        self._periodic = None
        if self._doc is not None and self._doc.session_context is not None:
            self._periodic = pn.state.add_periodic_callback(self._tick, period=500)
            pn.state.on_session_destroyed(self._cleanup)
        self.pipeline.detector.model  # loads (once per process) so a missing model shows at once
        if self._periodic is not None:
            pn.state.onload(self._warn_reduced_mode)  # a notification sent before the page is up is lost

    # -- layout --------------------------------------------------------------------------------
    def controls(self) -> list:
        p = self.pipeline
        return [
            pn.pane.Markdown("### Focus"),
            pn.Param(p.renderer, parameters=["blur_strength", "focus_falloff", "near_blur", "feather"],
                     show_name=False, widgets={"blur_strength": {"type": pn.widgets.FloatSlider}}),
            pn.Param(p, parameters=["rack_focus", "overlays", "show_status"], show_name=False),
            pn.pane.Markdown("### Detection and tracking"),
            pn.Param(p, parameters=["detect_interval", "track_scale"], show_name=False),
            pn.Param(self, parameters=["detector_model"], show_name=False,
                     widgets={"detector_model": {"type": pn.widgets.Select, "name": "Detector"}}),
            pn.Param(p.detector, parameters=["confidence", "image_size"], show_name=False),
            pn.Param(p.segmenter, parameters=["interval"], show_name=False,
                     widgets={"interval": {"type": pn.widgets.IntSlider, "name": "Segmentation interval"}}),
            pn.pane.Markdown("### Low light"),
            pn.Param(p.enhancer, parameters=["enabled", "strength"], show_name=False,
                     widgets={"enabled": {"type": pn.widgets.Checkbox, "name": "Low-light enhancement"}}),
            pn.pane.Markdown("### Camera"),
            pn.Param(self.camera, parameters=["capture_width", "jpeg_quality"], show_name=False),
            pn.pane.Markdown(
                "**Keys**: click a subject to focus · Esc release · Space pause · W webcam · F fullscreen",
                styles={"font-size": "12px", "color": "#9aa0aa"}),
        ]

    def plots(self):
        common = dict(height=210, sizing_mode="stretch_width", toolbar_location=None, x_axis_label="seconds")
        fps = figure(title="Frames per second", **common)
        for name, colour in (("captured", "#9aa0aa"), ("processed", "#4c78a8"), ("displayed", "#50dc50")):
            fps.line("t", name, source=self._fps, color=colour, line_width=2, legend_label=name)
        fps.legend.location = "top_left"
        fps.legend.orientation = "horizontal"
        fps.y_range.start = 0

        lat = figure(title="Latency per stage (ms)", **common)
        renderers = lat.varea_stack(list(SERVER_STAGES), x="t", source=self._lat, color=STAGE_COLOURS)
        line = lat.line("t", "display", source=self._lat, color="#f5b301", line_width=2, line_dash="dashed")
        lat.add_layout(Legend(items=[(s, [r]) for s, r in zip(SERVER_STAGES, renderers)]
                              + [("capture→display", [line])], location="top_left", orientation="horizontal",
                              label_text_font_size="9px"), "above")
        lat.y_range.start = 0

        state = figure(title="Tracker state", y_range=STATES[::-1], **common)
        state.rect("t", "state", width=0.5, height=0.8, source=self._states, color="colour", line_color=None)
        return pn.Row(pn.pane.Bokeh(fps), pn.pane.Bokeh(lat), pn.pane.Bokeh(state), sizing_mode="stretch_width")

    @param.depends("status", watch=True)
    def _show_status(self):
        self._status_line.object = f'<div class="focusr-status">{self.status}</div>'

    def template(self):
        if self._template is None:
            # Bootstrap: everything it needs is served locally (no web fonts), so it works offline
            self._template = pn.template.BootstrapTemplate(
                title="FOCUSR · AI smart autofocus",
                sidebar=self.controls(),
                main=[self.__panel__()],
                header_background="#1f232b",
                theme="dark",
                sidebar_width=330,
                busy_indicator=None,  # every frame is an event: a spinner flickering at 30 Hz helps no one
            )
        return self._template

    def __panel__(self):
        return pn.Column(self._status_line, self.camera, self.plots(), sizing_mode="stretch_width")

    def servable(self, **kwargs):
        return self.template().servable(**kwargs)

    # -- the session's worker ------------------------------------------------------------------
    def _start_session(self) -> FocusSession:
        return FocusSession(on_output=self._deliver, on_error=self._error_from_worker, pipeline=self.pipeline)

    def _end_session(self, reason: str) -> None:
        """Stop the worker and drop the subject's buffers. Called when the tab goes away, from
        the periodic tick (so within half a second), not when Bokeh later destroys the session."""
        if self.session.closed:
            return
        start = time.perf_counter()
        self.session.close()
        log.info("session %s %s: worker stopped in %.0f ms (alive: %s) after %d frames", self._id, reason,
                 (time.perf_counter() - start) * 1000.0, self.session.alive, self.session.received)

    # -- events from the browser (event loop) ----------------------------------------------------
    def _on_frame(self, event) -> None:
        if event.new:
            if self.session.closed:  # the same tab came back (a reconnect): a fresh worker
                self.session = self._start_session()
            self.session.submit(event.new)

    def _on_hover(self, event) -> None:
        self.session.hover(event.new if event.new else None)

    def _on_click(self, event) -> None:
        click = event.new or {}
        if isinstance(click, dict) and "x" in click and "y" in click:
            self.session.click((click.get("x"), click.get("y")))

    def _on_release(self, event) -> None:
        self.session.release()

    def _on_browser_error(self, event) -> None:
        message = str(event.new).split("|", 1)[-1].strip()
        if message:
            self._notify(message)

    # -- from the worker thread ----------------------------------------------------------------
    def _connected(self) -> bool:
        """False once the tab's websocket has come and gone. Before it first opens (a busy
        browser can take a while after loading the page) the session is not over."""
        context = self._doc.session_context if self._doc is not None else None
        session = getattr(context, "_session", None)
        if session is None or getattr(session, "connection_count", 1) > 0:
            self._was_connected = True
            return True
        return not self._was_connected

    def _deliver(self, payload: bytes) -> None:
        """From the worker: hand the frame to the event loop (the one thread-safe way in,
        which also wakes the loop at once). If one is still waiting, the newer replaces it."""
        if self._doc is None or self._doc.session_context is None:
            self.camera.output = payload  # not served (a notebook, a test): no loop to hand to
            return
        with self._out_lock:
            waiting, self._out_payload = self._out_payload is not None, payload
        if not waiting:
            try:
                self._doc.add_next_tick_callback(self._flush_output)
            except Exception:  # the session is closing
                pass

    def _flush_output(self) -> None:
        with self._out_lock:
            payload, self._out_payload = self._out_payload, None
        if payload is not None and self._connected():  # a closed tab gets nothing more
            self._ensure_nodelay()
            self.camera.output = payload

    def _ensure_nodelay(self) -> None:
        """Bokeh sends each frame as a few small websocket messages then the JPEG; with
        Nagle's algorithm on, the kernel holds them for the client's delayed ACK (~40 ms a
        frame). Interactive video wants every message on the wire at once."""
        if self._nodelay_done:
            return
        session = getattr(self._doc.session_context, "_session", None)
        for connection in getattr(session, "_subscribed_connections", ()):
            socket = getattr(connection, "_socket", None)
            if socket is not None and hasattr(socket, "set_nodelay"):
                socket.set_nodelay(True)
                self._nodelay_done = True

    def _error_from_worker(self, message: str) -> None:
        if self._doc is not None and self._doc.session_context is not None:
            try:
                self._doc.add_next_tick_callback(partial(self._notify, message, once=True))
            except Exception:  # the session is closing
                pass

    # -- on the event loop ---------------------------------------------------------------------
    def _notify(self, message: str, once: bool = False) -> None:
        key = message.split(":", 1)[0] if once else message
        if once and key in self._shown_errors:
            return
        self._shown_errors.add(key)
        notifications = pn.state.notifications
        if notifications is not None:
            notifications.error(message, duration=8000)

    @param.depends("detector_model", watch=True)
    def _choose_detector(self) -> None:
        """The worker loads it on its next detection (once per process), not the event loop;
        if it cannot be had, the next tick says so and the app goes on in reduced mode."""
        self.pipeline.detector.weights = self.detector_model

    def _warn_reduced_mode(self) -> None:
        """Say once what is missing and how to fix it: at start, and when a model choice fails."""
        for notice in self.pipeline.notices:
            if notice not in self._shown_notices and pn.state.notifications is not None:
                pn.state.notifications.warning(f"Reduced mode: {notice}", duration=0)
            self._shown_notices.add(notice)

    def _tick(self) -> None:
        if not self._connected():
            self._end_session("disconnected")
            return
        now = time.monotonic() - self._started
        stats = self.camera.stats or {}
        s = self.session
        processed = s.processed_fps()
        stages = s.mean_timings()
        display = stats.get("latency_median_ms")
        self._fps.stream({"t": [now], "captured": [stats.get("captured_fps", 0.0)], "processed": [processed],
                          "displayed": [stats.get("displayed_fps", 0.0)]}, rollover=ROLLOVER)
        self._lat.stream({"t": [now], **{k: [stages.get(k, 0.0)] for k in SERVER_STAGES},
                          "display": [display if display is not None else np.nan]}, rollover=ROLLOVER)
        state = s.records[-1].state.value if s.records else "idle"
        self._states.stream({"t": [now], "state": [state], "colour": [STATE_COLOURS[state]]}, rollover=ROLLOVER)
        label = s.records[-1].label if s.records else None
        parts = [
            f"<b>source</b> {self.camera.source}" + (" (paused)" if self.camera.paused else ""),
            f'<b>state</b> <span class="st-{state}">{state}</span>',
            f"<b>subject</b> {label or '—'}",
            f"<b>fps</b> {stats.get('displayed_fps', 0.0):.1f} shown / {processed:.1f} processed",
            f"<b>skipped</b> {stats.get('skipped', 0)}",
        ]
        if s.dropped:
            parts.append(f"<b>dropped</b> {s.dropped}")
        if self.pipeline.notices:
            parts.append("<b>reduced mode</b>")
            self._warn_reduced_mode()
        self.status = " · ".join(parts)

    def _cleanup(self, session_context) -> None:
        if self._periodic is not None:
            self._periodic.stop()
        self._end_session("ended")
