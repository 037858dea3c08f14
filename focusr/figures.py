"""Live figures: frames per second, latency per stage and each subject's tracking state over time.

A Viewer with its own data sources; the app streams a session `Snapshot` into it twice a
second, on the event loop. Bokeh sends only the new points, never the whole plot. A plot that
is off screen (scrolled away, or the tab hidden) gets nothing: its points wait and go together
when it is seen again (`focusr.inview`), so the browser never redraws what nobody sees.

The axes' extents are set here, with the points (the last minute; the largest value in it,
rounded up), never worked out in the browser: the ends a range fitted in the browser
(DataRange1d) takes are sent back to the server as patches (7 in a tab's first 10 s here), each
a message for the server's event loop, and one that arrives after its tab closed is an error in
the server's log.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left

import panel as pn
import param
from bokeh.core.properties import field, value
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, Range1d
from bokeh.plotting import figure

from focusr import style
from focusr.inview import InView
from focusr.session import Snapshot
from focusr.timing import STAGES
from focusr.types import TrackState

ROLLOVER = 240  # two minutes at two points a second
WINDOW_S = 60  # the plots show the last minute; the state plot keeps no more, so its legend names only its subjects
STATES = [s.value for s in TrackState]
STATE_COLUMNS = ("t", "y", "h", "colour", "subject", "state")
ROW_HEIGHT = 0.8  # of a state's row on the state plot: the subjects kept share it, a lane each
LANES_KEPT = 4  # the state plot keeps ROLLOVER points of up to this many subjects


def state_rows(t: float, subjects: list[tuple[str, TrackState]]) -> dict[str, list]:
    """One bar per subject kept at time `t` (none kept: one idle bar), on the row of its state;
    with several, each in its own lane of the row (the first on top) and its own colour, named
    "1 Normal", "2 Normal", ... as in the status line."""
    rows = subjects or [("none", TrackState.IDLE)]
    h = ROW_HEIGHT / len(rows)
    out = {k: [] for k in STATE_COLUMNS}
    for i, (label, state) in enumerate(rows):
        out["t"].append(t)
        out["y"].append((state.value, round(ROW_HEIGHT / 2 - h * (i + 0.5), 3)))  # a factor and its offset
        out["h"].append(0.9 * h)
        out["colour"].append(style.lock_colour(i, state) if subjects else style.MUTED)
        out["subject"].append(f"{i + 1} {label}" if subjects else label)
        out["state"].append(state.value)
    return out
FPS_SERIES = tuple(style.FPS_COLOURS)


def top(values) -> float:
    """The top of a y axis showing `values` (0 up): a little above the largest, rounded up to
    half a power of ten (8.3 -> 9, 23 -> 25, 412 -> 450), so it changes seldom."""
    most = max((v for v in values if v == v), default=0.0) * 1.05  # v == v: not NaN
    if most <= 1.0:
        return 1.0
    step = 10 ** math.floor(math.log10(most)) / 2
    return math.ceil(most / step) * step


LEGEND_FONT = "11px"
BORDER_LEFT = 92  # px left of each plot's data: room for the widest y labels ("reacquired"), so the data lines up
BORDER_RIGHT = 130  # px right of it: the widest legend ("capture→display"); the plots share one time axis


class LiveFigures(pn.viewable.Viewer):
    """The three live plots under the video, one above the other on one time axis (named once,
    under the last), their data areas lined up, each legend beside its data, values on hover."""

    height = param.Integer(default=230, bounds=(200, 600),
                           doc="Height of each plot in pixels (its data area is about 60 px less; the last "
                               "plot is 30 px taller for the time axis' name).")

    def __init__(self, **params):
        super().__init__(**params)
        self._started = time.monotonic()
        self.fps = ColumnDataSource({"t": [], **{k: [] for k in FPS_SERIES}}, name="focusr-fps")
        self.latency = ColumnDataSource({"t": [], **{s: [] for s in STAGES}, "display": []}, name="focusr-latency")
        self.states = ColumnDataSource({k: [] for k in STATE_COLUMNS}, name="focusr-state")
        # a new source (the page's webcam or a file): a line across each plot, named on the state plot
        self.sources = ColumnDataSource({"t": [], "source": []}, name="focusr-sources")
        self.views = [InView(object=pn.pane.Bokeh(p, sizing_mode="stretch_width"), sizing_mode="stretch_width")
                      for p in self._plots()]
        # each plot: its source, how many rows it keeps, its pane, and its points not sent while it was off screen
        self._fed = list(zip((self.fps, self.latency, self.states), (ROLLOVER, ROLLOVER, ROLLOVER * LANES_KEPT),
                             self.views))
        self._waiting: list[dict[str, list]] = [{} for _ in self.views]
        self._layout = pn.Column(*self.views, sizing_mode="stretch_width")

    def stream(self, snap: Snapshot) -> None:
        t = [time.monotonic() - self._started]
        display = snap.display_ms if snap.display_ms is not None else math.nan
        rows = ({"t": t, "captured": [snap.captured_fps], "processed": [snap.processed_fps],
                 "displayed": [snap.displayed_fps]},
                {"t": t, **{s: [snap.stages_ms.get(s, 0.0)] for s in STAGES}, "display": [display]},
                state_rows(t[0], snap.subjects))
        seen = False
        for k, ((source, rollover, view), new) in enumerate(zip(self._fed, rows)):
            waiting = self._waiting[k]
            for column, values in new.items():
                waiting[column] = (waiting.get(column, []) + values)[-rollover:]
            if view.in_view:
                if source is self.states:  # the last minute's bars, however many subjects each row had
                    times = list(source.data["t"]) + waiting["t"]
                    rollover = len(times) - bisect_left(times, t[0] - WINDOW_S)
                source.stream(waiting, rollover=rollover)
                self._waiting[k] = {}
                self._fit(k, t[0])
                seen = True
        if seen:  # the time axis, shared: the last minute
            start = max(t[0] - WINDOW_S, 0.0)
            self._time_axis.update(start=start, end=max(t[0], start + 1.0))

    def _fit(self, k: int, now: float) -> None:
        """Plot `k`'s value axis after new points: up to its largest value in the last minute
        (the state plot's rows are fixed)."""
        if k == 2:
            return
        data = (self.fps, self.latency)[k].data
        first = bisect_left(list(data["t"]), now - WINDOW_S)
        if k == 0:
            values = [v for name in FPS_SERIES for v in data[name][first:]]
        else:  # stacked: the sum of the stages, or the capture-to-display line above it
            stacked = [sum(row) for row in zip(*(data[s][first:] for s in STAGES))]
            values = stacked + list(data["display"][first:])
        self._value_axes[k].end = top(values)

    def mark(self, source: str) -> None:
        """A new source started here: each plot gets a line, the state plot its name."""
        self.sources.stream({"t": [time.monotonic() - self._started], "source": [source]},
                            rollover=ROLLOVER)

    def _marks(self, fig, label: bool = False) -> None:
        fig.vspan(x="t", source=self.sources, line_color=style.MUTED, line_dash="dotted", line_width=1.5)
        if label:
            fig.text(x="t", y=value(STATES[-1]), text="source", source=self.sources, x_offset=4, y_offset=-2,
                     text_font_size="9px", text_color=style.MUTED, text_baseline="middle")

    @staticmethod
    def _legend(fig, items) -> None:
        """Beside the data, never over it; one entry per line (`items`: LegendItems, or (label,
        renderers) pairs)."""
        fig.add_layout(Legend(items=items, location="top_left", label_text_font_size=LEGEND_FONT,
                              glyph_width=14, glyph_height=10, spacing=0, padding=4, margin=4,
                              background_fill_alpha=0.0, border_line_alpha=0.0), "right")

    def _plots(self):
        time_axis = self._time_axis = Range1d(0.0, 1.0)  # the last minute, shared (`_fit`)
        self._value_axes = (Range1d(0.0, 1.0), Range1d(0.0, 1.0))  # frames/s, ms
        common = dict(height=self.height, sizing_mode="stretch_width", toolbar_location=None, x_range=time_axis,
                      min_border_left=BORDER_LEFT, min_border_right=BORDER_RIGHT)
        fps = figure(title="Frames per second", y_axis_label="frames/s", name="focusr-plot-fps",
                     y_range=self._value_axes[0], **common)
        lines = [fps.line("t", name, source=self.fps, color=colour, line_width=2)
                 for name, colour in style.FPS_COLOURS.items()]
        self._legend(fps, [(name, [line]) for name, line in zip(style.FPS_COLOURS, lines)])
        fps.add_tools(HoverTool(renderers=lines[:1], mode="vline", tooltips=[
            ("at", "@t{0.0} s"), *((name, f"@{name}{{0.0}} fps") for name in style.FPS_COLOURS)]))
        self._marks(fps)

        lat = figure(title="Latency per stage", y_axis_label="ms", name="focusr-plot-latency",
                     y_range=self._value_axes[1], **common)
        renderers = lat.varea_stack(list(STAGES), x="t", source=self.latency,
                                    color=[style.STAGE_COLOURS[s] for s in STAGES])
        line = lat.line("t", "display", source=self.latency, color=style.DISPLAY_LATENCY, line_width=2,
                        line_dash="dashed")
        self._legend(lat, [(s, [r]) for s, r in zip(STAGES, renderers)] + [("capture→display", [line])])
        lat.add_tools(HoverTool(renderers=[line], mode="vline", tooltips=[
            ("at", "@t{0.0} s"), *((s, f"@{s}{{0.0}} ms") for s in STAGES), ("capture→display", "@display{0} ms")]))
        self._marks(lat)

        state = figure(title="Tracker state", y_range=STATES[::-1], x_axis_label="seconds since the page opened",
                       name="focusr-plot-state",
                       **{**common, "height": self.height + 30})
        rects = state.rect("t", "y", width=0.5, height="h", source=self.states, color="colour", line_color=None)
        self._legend(state, [LegendItem(label=field("subject"), renderers=[rects])])  # each subject of late
        state.add_tools(HoverTool(renderers=[rects], tooltips=[("at", "@t{0.0} s"), ("subject", "@subject"),
                                                               ("state", "@state")]))
        self._marks(state, label=True)
        return fps, lat, state

    def __panel__(self):
        return self._layout
