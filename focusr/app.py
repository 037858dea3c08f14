"""The dashboard: a Viewer that composes the camera, the controls, the status line and the
live figures for one browser session.

It computes nothing. The session (focusr/session.py) owns the pipeline and its worker;
the link (focusr/link.py) carries frames to the tab; the figures (focusr/figures.py) plot
what the session reports. The sidebar is generated from the controls each stage declares;
its widgets edit `settings`, a copy of the pipeline's parameters that never runs a frame,
and every change goes to the session, which applies it between frames.
"""

from __future__ import annotations

import atexit
from html import escape
import logging
import os
import re
import sys
import threading
import time
import traceback
from functools import partial

import panel as pn
import param

from focusr import models, session as sessions, style
from focusr.camera import CameraView, keys_markdown
from focusr.figures import LiveFigures
from focusr.link import BrowserLink, quiet_closed_sockets, quiet_closed_writes
from focusr.model_status import LOADED, LOADING, MISSING, ModelStatus
from focusr.pipeline import FocusPipeline
from focusr.quality import QualityController
from focusr.session import FocusSession, Snapshot
from focusr.types import TrackState

log = logging.getLogger(__name__)

DETECTOR_SECTION = "Detection and tracking"  # where the detector picker joins the stage controls


CONTROL_WIDTH = 250  # px: a sidebar widget, with room beside it for its tooltip icon


def control(owner: param.Parameterized, name: str):
    """A parameter's widget with its doc as a tooltip (Panel gives sliders and checkboxes none)."""
    doc = owner.param[name].doc
    if not doc or isinstance(owner.param[name], param.Selector):  # a select shows its own
        return pn.Param(owner, parameters=[name], show_name=False, sizing_mode="stretch_width")
    widget = pn.Param(owner, parameters=[name], show_name=False, widgets={name: {"width": CONTROL_WIDTH}},
                      width=CONTROL_WIDTH + 10)
    return pn.Row(widget, pn.widgets.TooltipIcon(value=doc, margin=(14, 0, 0, 0), width=20))


MODELS_SECTION = "Models"
STATE_WORDS = {LOADED: "loaded", LOADING: "loading…", MISSING: "missing"}


def state_words(m: ModelStatus) -> str:
    if m.state == LOADING and m.progress is not None:
        return f"downloading {m.progress:.0%}"
    return STATE_WORDS[m.state]


def models_html(statuses: list[ModelStatus]) -> str:
    """The Models section: each model, its state, and for a missing one why, what it means and
    (folded) how to fix it."""
    if not statuses:
        return '<div class="focusr-models">starting…</div>'
    rows = []
    for m in statuses:
        row = (f'<div class="model {m.state}"><span class="dot" aria-hidden="true"></span>'
               f'<b>{escape(m.name)}</b> <span class="file">{escape(m.file)}</span> '
               f'<span class="state">{state_words(m)}</span>')
        if m.state == MISSING:
            row += f'<div class="why">{escape(m.reason)}.</div><div class="means">{escape(m.meaning)}</div>'
            if m.fix:
                row += f'<details><summary>How to fix</summary>{escape(m.fix)}</details>'
        rows.append(row + "</div>")
    return f'<div class="focusr-models">{"".join(rows)}</div>'


def theme() -> str:
    """The page's theme: Panel's own reading of ?theme= (default: light, dark), else dark."""
    return pn.config.theme if "theme" in (pn.state.session_args or {}) else "dark"


def theme_switch():
    """A link in the header to the other theme (the page reloads in it)."""
    light = theme() == "dark"
    return pn.pane.HTML(
        f'<a class="focusr-theme" href="?theme={"default" if light else "dark"}" '
        f'aria-label="Switch to the {"light" if light else "dark"} theme">{"☀ Light" if light else "☾ Dark"}</a>',
        stylesheets=[".focusr-theme { color: inherit; text-decoration: none; font: 14px system-ui, sans-serif; "
                     "border: 1px solid currentColor; border-radius: 6px; padding: 3px 10px; opacity: 0.85; }"
                     ".focusr-theme:focus-visible { outline: 2px solid #ffbf00; }"], margin=(8, 12))


PHONE_AGENTS = re.compile(r"Mobi|Android|iPhone|iPad|iPod")


def on_a_phone() -> bool:
    """Whether this session's browser says it is a phone or tablet (its User-Agent)."""
    headers = pn.state.headers or {}
    return bool(PHONE_AGENTS.search(str(headers.get("User-Agent", ""))))


class FocusrApp(pn.viewable.Viewer):
    """One browser session's page."""

    status = param.String(default="", doc="The status line: source, tracker state, subject, FPS (HTML).")
    detector_model = param.Selector(
        default=None, objects=[], check_on_set=True, label="Detector",
        doc="Detector weights, from the server's fixed list (never a client's path).",
    )

    def __init__(self, **params):
        super().__init__(**params)
        self.settings = FocusPipeline()  # the controls' values; the session's pipeline follows them
        options = models.detector_options()
        self.param.detector_model.objects = options
        self.detector_model = next(iter(options.values()))
        self.camera = CameraView(sizing_mode="stretch_width", autostart=os.environ.get("FOCUSR_AUTOSTART", ""))
        self.figures = LiveFigures()
        self.quality = QualityController()  # holds a target fps by what the page sends (off by default)
        self._quality_why = ""
        self._own_camera: dict | None = None  # the user's frame size and JPEG quality, while a level overrides them
        self.quality.param.watch(lambda _: self._apply_quality(), "adaptive")
        self.link = BrowserLink(pn.state.curdoc, self._show_frame)
        self._notifications = pn.state.notifications if self.link.served else None
        if self._notifications is not None:  # over the sidebar's foot: never over the video or status line
            self._notifications.position = "bottom-left"
        self._status_line = pn.pane.HTML('<div class="focusr-status">starting…</div>', sizing_mode="stretch_width",
                                         stylesheets=[style.css_variables(), style.asset("app.css")])
        self._models = pn.pane.HTML(models_html([]), sizing_mode="stretch_width",
                                    stylesheets=[style.css_variables(), style.asset("app.css")])
        self._shown: set[str] = set()
        self._browser_notice = None  # the page's latest error notification: a newer one replaces it
        self._end_reason = "ended"
        self._template = None
        self.session = self._start_session()
        for _, stage, names in self.settings.control_groups():
            self.settings.stage(stage).param.watch(partial(self._configure, stage), names)
        for name, handler in (("frame", self._on_frame), ("hover", self._on_hover), ("click", self._on_click),
                              ("release", self._on_release), ("error", self._on_browser_error),
                              ("started", self._on_new_source), ("paused", self._on_paused)):
            self.camera.param.watch(handler, name)
        self._periodic = None
        if self.link.served:
            self._periodic = pn.state.add_periodic_callback(self._tick, period=500)
            pn.state.on_session_destroyed(self._cleanup)

    # -- layout --------------------------------------------------------------------------------
    def controls(self) -> list:
        """The sidebar: each stage's declared controls, section by section, then the camera's."""
        sections: dict[str, list] = {}
        for section, stage, names in self.settings.control_groups():
            sections.setdefault(section, []).extend(control(self.settings.stage(stage), n) for n in names)
        sections.setdefault(DETECTOR_SECTION, []).insert(0, control(self, "detector_model"))
        for owner in (self.camera, self.quality):
            for section, names in owner.controls.items():
                sections.setdefault(section, []).extend(control(owner, n) for n in names)
        out = []
        for section, widgets in sections.items():
            out += [pn.pane.Markdown(f"### {section}"), *widgets]
        return out + [pn.pane.Markdown(f"### {MODELS_SECTION}"), self._models,
                      pn.pane.Markdown(keys_markdown(), styles={"font-size": "12px", "color": style.MUTED})]

    def template(self):
        if self._template is None:
            # Bootstrap: everything it needs is served locally (no web fonts), so it works offline
            self._template = pn.template.BootstrapTemplate(
                title="FOCUSR · AI smart autofocus",
                sidebar=self.controls(),
                main=[self.__panel__()],
                header_background="#1f232b",
                theme=theme(),
                header=[theme_switch()],
                sidebar_width=330,
                busy_indicator=None,  # every frame is an event: a spinner flickering at 30 Hz helps no one
                meta_viewport="width=device-width, initial-scale=1",  # a phone lays the page out at its own width
                collapsed_sidebar=on_a_phone(),  # the controls wait in the drawer: the video comes first
            )
            self._template.config.raw_css.append(style.asset("page.css"))
        return self._template

    def __panel__(self):
        return pn.Column(self._status_line, self.camera, self.figures, sizing_mode="stretch_width")

    def servable(self, **kwargs):
        return self.template().servable(**kwargs)

    @param.depends("status", watch=True)
    def _show_status(self):
        self._status_line.object = f'<div class="focusr-status">{self.status}</div>'

    # -- the session ---------------------------------------------------------------------------
    def _start_session(self) -> FocusSession:
        session = FocusSession(on_output=self.link.send, on_error=self._error_from_worker,
                               on_closed=self._session_closed)
        for _, stage, names in self.settings.control_groups():  # a reconnect keeps the page's settings
            session.configure(stage, **{n: getattr(self.settings.stage(stage), n) for n in names})
        session.configure("detector", weights=self.detector_model)
        session.pause(self.camera.paused)
        return session

    def _configure(self, stage: str, *events) -> None:
        self.session.configure(stage, **{e.name: e.new for e in events})

    @param.depends("detector_model", watch=True)
    def _choose_detector(self) -> None:
        """The worker loads it on its next detection (once per process), never the event loop;
        if it cannot be had, the next tick says so and the app goes on in reduced mode."""
        if getattr(self, "session", None) is not None:  # at start, _start_session passes it on
            self.session.configure("detector", weights=self.detector_model)

    def _end_session(self, reason: str) -> None:
        """Ask the worker to stop; it says when it has (`_session_closed`). Never waits here."""
        if not self.session.closed:
            self._end_reason = reason
            self.session.close()

    def _session_closed(self, stop_ms: float, frames: int) -> None:
        if not _shutting_down.is_set():  # at shutdown one line says it for every session
            log.info("session %s %s: worker stopped in %.0f ms after %d frames", self.link.session_id,
                     self._end_reason, stop_ms, frames)

    # -- events from the browser (event loop) ----------------------------------------------------
    def _on_frame(self, event) -> None:
        if event.new:
            if self.session.closed:  # the same tab came back (a reconnect): a fresh worker
                self.session = self._start_session()
            self.session.submit(event.new)

    def _on_hover(self, event) -> None:
        if event.new:
            self.quality.aimed(time.monotonic())
        self.session.hover(event.new if event.new else None)

    def _on_click(self, event) -> None:
        self.quality.aimed(time.monotonic())
        click = event.new or {}
        if isinstance(click, dict) and "x" in click and "y" in click:
            self.session.click((click.get("x"), click.get("y")), click.get("seq"), str(click.get("mode", "lock")))

    def _on_release(self, event) -> None:
        self.session.release()

    def _on_paused(self, event) -> None:
        self.session.pause(event.new)

    def _on_new_source(self, event) -> None:
        """A new source starts fresh: no subject, no hover, and the plots mark the change. A
        source that plays ends the page's last error (a refused file's notification would stay
        over the new picture)."""
        self.session.new_source()
        self.link.call_soon(self._end_browser_notice)
        # a priority change runs outside the document's lock: the plots change on the next tick
        self.link.call_soon(partial(self.figures.mark, self.camera.source))

    def _on_browser_error(self, event) -> None:
        """One notification for the page's errors at a time: a retry that fails the same way
        replaces it rather than stacking another."""
        message = str(event.new).split("|", 1)[-1].strip()
        if not message:
            return
        self._end_browser_notice()
        self._browser_notice = self._notify(message)

    def _end_browser_notice(self) -> None:
        if self._browser_notice is not None:
            self._browser_notice.destroy()
            self._browser_notice = None

    # -- on the event loop ---------------------------------------------------------------------
    def _show_frame(self, payload: bytes) -> None:
        self.camera.output = payload

    def _error_from_worker(self, message: str) -> None:
        self.link.call_soon(partial(self._notify, message, once=True))

    def _notify(self, message: str, once: bool = False, kind: str = "error", duration: int = 8000):
        """Show a notification; with `once`, only the first of its kind (the text before ':').
        Returns it, or None when it was not shown (not before the tab's websocket is open: it
        would be lost)."""
        key = message.split(":", 1)[0] if once else message
        if (once and key in self._shown) or self._notifications is None or not self.link.opened():
            return None
        self._shown.add(key)
        return getattr(self._notifications, kind)(message, duration=duration)

    def _tick(self) -> None:
        if not self.link.connected():
            self._end_session("disconnected")
            return
        snap = self.session.snapshot(self.camera.stats)
        self.figures.stream(snap)
        running = self.camera.source != "none" and not self.camera.paused
        change = self.quality.observe(time.monotonic(), snap.displayed_fps, snap.captured_fps, running)
        if change is not None:
            self._apply_quality(change.why)
        html = models_html(snap.models)
        if html != self._models.object:
            self._models.object = html
        explained = set()
        for m in snap.models:  # a missing model: one short sentence, once; the Models section says the rest
            if m.state == MISSING:
                explained |= {n for n in snap.notices if m.reason in n}
                key = f"model|{m.name}|{m.reason}"
                if key not in self._shown and self._notify(
                        f"Reduced mode: the {m.name.lower()} is missing. See Models in the sidebar.",
                        kind="warning", duration=12000):
                    self._shown.add(key)
        for notice in snap.notices:  # anything else that went wrong (a detection that failed): once
            if notice not in explained and notice not in self._shown and self._notify(notice, kind="warning"):
                self._shown.add(notice)
        self.status = self._status_html(snap)

    def _apply_quality(self, why: str = "") -> None:
        """The quality level's frame size and JPEG quality to the page (through its controls, so
        the sliders show them); back at the top level, or with adaptive quality off, the user's own."""
        level = self.quality.current
        self._quality_why = why if self.quality.level else ""
        if self.quality.level == 0:
            if self._own_camera is not None:
                self.camera.param.update(**self._own_camera)
                self._own_camera = None
        else:
            if self._own_camera is None:
                self._own_camera = {"capture_width": self.camera.capture_width,
                                    "jpeg_quality": self.camera.jpeg_quality}
            self.camera.param.update(capture_width=level.capture_width, jpeg_quality=level.jpeg_quality)
        if why:
            log.info("session %s: quality %s (%s)", self.link.session_id, level.name, why)

    def _status_html(self, snap: Snapshot) -> str:
        state = snap.state.value
        minor = lambda html: f'<span class="minor">{html}</span>'  # noqa: E731 - left off on a phone
        parts = [
            f"<b>source</b> {self.camera.source}" + (" (paused)" if self.camera.paused else ""),
            f'<b>state</b> <span class="st-{state}">{state}</span>',
            f"<b>subject{'s' if len(snap.subjects) > 1 else ''}</b> {self._subjects_html(snap)}",
            f"<b>fps</b> {snap.displayed_fps:.1f} displayed" + minor(f" / {snap.processed_fps:.1f} processed"),
            minor(f"<b>skipped</b> {snap.skipped}"),
        ]
        if snap.detect_every is not None:
            interval = self.settings.detect_interval
            why = "" if snap.detect_every <= 1.5 * interval else (
                " (as fast as the detector runs here)" if snap.state == TrackState.IDLE
                else f" ({interval} while choosing; less while tracking, to save CPU)")
            parts.append(minor(f"<b>detect</b> every {snap.detect_every:.0f} frames{why}"))
        if snap.dropped:
            parts.append(minor(f"<b>dropped</b> {snap.dropped}"))
        if self.quality.level:
            parts.append(minor(f"<b>quality</b> {self.quality.current.name} ({escape(self._quality_why)})"))
        if snap.notices:
            parts.append("<b>reduced mode</b>")
        return '<span class="sep"> · </span>'.join(parts)

    @staticmethod
    def _subjects_html(snap: Snapshot) -> str:
        """Each subject kept, in its lock box's colour (a lost one says so); '—' for none."""
        if not snap.subjects:
            return "—"
        return " ".join(
            f'<span class="subject" style="color:{style.lock_colour(i, state)}">'
            f"{escape(label)}{' (lost)' if state == TrackState.LOST else ''}</span>"
            for i, (label, state) in enumerate(snap.subjects))

    def _cleanup(self, session_context) -> None:
        if self._periodic is not None:
            self._periodic.stop()
        self._end_session("ended")


_configured = threading.Lock()
_shutting_down = threading.Event()


def configure_server() -> None:
    """Once per process: the log format, quiet normal disconnects, a shutdown that stops every
    session's worker and says so in one line."""
    with _configured:
        if getattr(configure_server, "done", False):
            return
        logger = logging.getLogger("focusr")
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False  # Bokeh's root handler would print each line twice
        quiet_closed_writes()
        # before the interpreter's own executors shut down (MediaPipe runs its calls on one): a
        # worker still processing a (paused) frame would fail mid-stage. threading runs these
        # newest first, ahead of atexit.
        getattr(threading, "_register_atexit", atexit.register)(_shutdown)
        _quiet_torch_teardown()
        configure_server.done = True


def _quiet_torch_teardown() -> None:
    """As Python exits, torch's operator-library finalizers can run after the functions they
    call are gone, and each prints 'Exception ignored ... TypeError' with a traceback: noise at
    every server stop, about nothing FOCUSR or the user can act on. Exactly that is dropped;
    every other unraisable error is reported as before."""
    previous = sys.unraisablehook

    def hook(unraisable):
        frames = traceback.extract_tb(unraisable.exc_traceback) if unraisable.exc_traceback else []
        if isinstance(unraisable.exc_value, TypeError) and any(
                f.filename.endswith(os.path.join("torch", "library.py")) for f in frames):
            return
        previous(unraisable)

    sys.unraisablehook = hook


def _shutdown() -> None:
    _shutting_down.set()
    n = sessions.close_all()
    log.info("server stopped: %d session%s closed", n, "" if n == 1 else "s")


def page():
    """The served page for one session: `panel serve dashboard.py` and `focusr serve` run this."""
    configure_server()
    quiet_closed_sockets()  # the loop serving this session
    # the system's light or dark theme: a script in the page's head (the Bootstrap template
    # leaves its own js_files out, Panel's are in the head before anything is drawn)
    pn.extension(notifications=True, js_files={"focusr-theme": style.script_url("theme.js")})
    return FocusrApp().servable()
