"""The product's look. Its colours, written once: the overlays drawn into frames (BGR), the
plots and the page's CSS (custom properties, which reach into every component's shadow DOM).
And the page's JS and CSS files, which ship inside the package (focusr/assets/)."""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote

from focusr.timing import STAGES
from focusr.types import TrackState

HOVER = "#ffbf00"  # amber: "this can be focused"
STATE_COLOURS = {
    TrackState.IDLE: "#9aa0aa",
    TrackState.LOCKED: "#50dc50",
    TrackState.LOST: "#e63c3c",
    TrackState.REACQUIRED: "#f5b301",
}
MUTED = STATE_COLOURS[TrackState.IDLE]
# Each subject kept sharp in its own colour: the first in the locked green, then sky, violet, coral
# (none of them amber, the hover's, or red, a lost subject's).
SUBJECT_COLOURS = (STATE_COLOURS[TrackState.LOCKED], "#4cc3ff", "#b48cff", "#ff8a65")


def subject_colour(i: int) -> str:
    """The i-th subject kept's colour, the first green (more subjects than colours: round again)."""
    return SUBJECT_COLOURS[i % len(SUBJECT_COLOURS)]


def lock_colour(i: int, state: TrackState) -> str:
    """The i-th subject's colour in `state`, alike in its lock box, the status line and the state
    plot: its own colour, red while it is lost."""
    return STATE_COLOURS[TrackState.LOST] if state == TrackState.LOST else subject_colour(i)

# One colour per stage of a frame's trip (Tableau 10: tells ten series apart, also in print).
STAGE_COLOURS = dict(zip(STAGES, ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2",
                                  "#eeca3b", "#9d755d")))
FPS_COLOURS = {"captured": MUTED, "processed": STAGE_COLOURS["decode"], "displayed": STATE_COLOURS[TrackState.LOCKED]}
DISPLAY_LATENCY = "#d62dd6"  # magenta, dashed: unlike every stage's colour (amber was taken for overlay's yellow)


def bgr(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (b, g, r), the order OpenCV draws in."""
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return (b, g, r)


def css_variables() -> str:
    """Custom properties (--focusr-locked, --focusr-hover, ...) for assets/*.css. Each
    component's styles live in its shadow root, where :root matches nothing: :host does."""
    names = {f"--focusr-{state.value}": colour for state, colour in STATE_COLOURS.items()}
    names["--focusr-hover"] = HOVER
    return ":host,:root{" + "".join(f"{k}:{v};" for k, v in names.items()) + "}"


def asset(name: str) -> str:
    """The text of one of the package's asset files, found through the package (a wheel, an
    editable install or a checkout alike)."""
    return resources.files("focusr").joinpath("assets", name).read_text(encoding="utf-8")


def script_url(name: str) -> str:
    """An asset script as a data: URL, for the page's <head> (`pn.config.js_files`): nothing
    to serve. Its text starts with a `//` comment, kept as written, so Panel takes it for an
    absolute URL and never puts a relative path in front of it."""
    text = asset(name)
    if not text.startswith("//"):
        raise ValueError(f"assets/{name} must start with a // comment (see script_url)")
    return "data:text/javascript;charset=utf-8," + quote(text, safe="/")
