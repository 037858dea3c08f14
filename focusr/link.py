"""The link between one session's worker thread and its browser tab, over Bokeh's websocket.

Everything here leans on how Bokeh and Tornado carry a session (private attributes
included), so it lives in this one module: handing frames from the worker to the event
loop, Nagle's algorithm, telling a closed tab from one that has not connected yet, and
keeping a normal disconnect out of the error log.
"""

from __future__ import annotations

import asyncio
import logging
import threading

log = logging.getLogger(__name__)

_CLOSED_SOCKET_ERRORS = ("WebSocketClosedError", "StreamClosedError")


class BrowserLink:
    """One tab's end of the link: `send` from any thread, `connected` on the event loop."""

    def __init__(self, doc, deliver):
        """`deliver(payload)` puts a frame into the page; it is called on the event loop."""
        self._doc = doc
        self._deliver = deliver
        self._lock = threading.Lock()
        self._pending: bytes | None = None
        self._nodelay = False
        self._was_connected = False

    @property
    def served(self) -> bool:
        return self._doc is not None and self._doc.session_context is not None

    @property
    def session_id(self) -> str:
        return self._doc.session_context.id[:8] if self.served else "-"

    def send(self, payload: bytes) -> None:
        """From the worker: hand the frame to the event loop (the one thread-safe way in,
        which also wakes the loop at once). If one is still waiting, the newer replaces it."""
        if not self.served:  # a notebook or a test: no loop to hand to
            self._deliver(payload)
            return
        with self._lock:
            waiting, self._pending = self._pending is not None, payload
        if not waiting:
            self.call_soon(self._flush)

    def call_soon(self, callback) -> None:
        """Run `callback` on the session's event loop, from any thread; nothing if it has closed."""
        if not self.served:
            callback()
            return
        try:
            self._doc.add_next_tick_callback(callback)
        except Exception:  # the session is closing
            pass

    def _flush(self) -> None:
        with self._lock:
            payload, self._pending = self._pending, None
        if payload is not None and self.connected():  # a closed tab gets nothing more
            self._set_nodelay()
            self._deliver(payload)

    def connected(self) -> bool:
        """False once the tab's websocket has come and gone. Before it first opens (a busy
        browser can take a while after loading the page) the session is not over."""
        session = getattr(self._doc.session_context, "_session", None) if self.served else None
        if session is None or getattr(session, "connection_count", 1) > 0:
            self._was_connected = self._was_connected or session is not None
            return True
        return not self._was_connected

    def opened(self) -> bool:
        """Whether the tab's websocket is open now: a notification sent before is lost."""
        session = getattr(self._doc.session_context, "_session", None) if self.served else None
        return session is not None and getattr(session, "connection_count", 0) > 0

    def _set_nodelay(self) -> None:
        """Bokeh sends each frame as a few small websocket messages then the JPEG; with
        Nagle's algorithm on, the kernel holds them for the client's delayed ACK (~40 ms a
        frame). Interactive video wants every message on the wire at once."""
        if self._nodelay:
            return
        session = getattr(self._doc.session_context, "_session", None)
        for connection in getattr(session, "_subscribed_connections", ()):
            socket = getattr(connection, "_socket", None)
            if socket is not None and hasattr(socket, "set_nodelay"):
                socket.set_nodelay(True)
                self._nodelay = True


def quiet_closed_sockets(loop: asyncio.AbstractEventLoop | None = None) -> None:
    """A tab that closes while frames are on their way leaves write futures failed with
    WebSocketClosedError that nobody awaits; asyncio would log each as 'Task exception was
    never retrieved' with a traceback. That is a normal disconnect: keep it out of the log,
    and pass every other unhandled error on as before. Once per loop."""
    loop = loop or asyncio.get_event_loop()
    if getattr(loop, "_focusr_quiet", False):
        return
    previous = loop.get_exception_handler()

    def handler(loop, context):
        exc = context.get("exception")
        if exc is not None and type(exc).__name__ in _CLOSED_SOCKET_ERRORS:
            log.debug("write to a closed tab dropped: %s", type(exc).__name__)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    loop._focusr_quiet = True


class _DowngradeClosedWrites(logging.Filter):
    """Bokeh and Panel log each frame lost to a closing tab as a WARNING; to an operator
    that is part of a normal disconnect, so it goes to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "connection was closed" in record.getMessage():
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def quiet_closed_writes() -> None:
    """A tab opening or closing is one line in the log, the session's own (focusr.app): Bokeh's
    per-connection lines go to DEBUG, and so do frames lost to a closing tab."""
    for name in ("bokeh.server.views.ws", "panel.io.document"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DowngradeClosedWrites) for f in logger.filters):
            logger.addFilter(_DowngradeClosedWrites())
    for name in ("bokeh.server.views.ws", "bokeh.server.connection"):
        logging.getLogger(name).setLevel(logging.WARNING)
