"""Live figures: frames per second, latency per stage and the tracker's state over time.

A Viewer with its own data sources; the app streams a session `Snapshot` into it twice a
second, on the event loop. Bokeh sends only the new points, never the whole plot.
"""

from __future__ import annotations

import math
import time

import panel as pn
import param
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, Legend
from bokeh.plotting import figure

from focusr import style
from focusr.session import Snapshot
from focusr.timing import STAGES
from focusr.types import TrackState

ROLLOVER = 240  # two minutes at two points a second
STATES = [s.value for s in TrackState]
FPS_SERIES = tuple(style.FPS_COLOURS)


class LiveFigures(pn.viewable.Viewer):
    """The three live plots under the video."""

    height = param.Integer(default=210, bounds=(120, 600), doc="Height of each plot in pixels.")

    def __init__(self, **params):
        super().__init__(**params)
        self._started = time.monotonic()
        self.fps = ColumnDataSource({"t": [], **{k: [] for k in FPS_SERIES}}, name="focusr-fps")
        self.latency = ColumnDataSource({"t": [], **{s: [] for s in STAGES}, "display": []}, name="focusr-latency")
        self.states = ColumnDataSource({"t": [], "state": [], "colour": []}, name="focusr-state")
        # a new source (the page's webcam or a file): a line across each plot, named on the state plot
        self.sources = ColumnDataSource({"t": [], "source": []}, name="focusr-sources")
        self._layout = pn.Row(*(pn.pane.Bokeh(p) for p in self._plots()), sizing_mode="stretch_width")

    def stream(self, snap: Snapshot) -> None:
        t = [time.monotonic() - self._started]
        self.fps.stream({"t": t, "captured": [snap.captured_fps], "processed": [snap.processed_fps],
                         "displayed": [snap.displayed_fps]}, rollover=ROLLOVER)
        display = snap.display_ms if snap.display_ms is not None else math.nan
        self.latency.stream({"t": t, **{s: [snap.stages_ms.get(s, 0.0)] for s in STAGES}, "display": [display]},
                            rollover=ROLLOVER)
        self.states.stream({"t": t, "state": [snap.state.value], "colour": [style.STATE_COLOURS[snap.state]]},
                           rollover=ROLLOVER)

    def mark(self, source: str) -> None:
        """A new source started here: each plot gets a line, the state plot its name."""
        self.sources.stream({"t": [time.monotonic() - self._started], "source": [source]},
                            rollover=ROLLOVER)

    def _marks(self, fig, data_renderers, label: bool = False) -> None:
        fig.vspan(x="t", source=self.sources, line_color=style.MUTED, line_dash="dotted", line_width=1.5)
        if label:
            fig.text(x="t", y=value(STATES[-1]), text="source", source=self.sources, x_offset=4, y_offset=-2,
                     text_font_size="9px", text_color=style.MUTED, text_baseline="middle")
        fig.x_range.renderers = list(data_renderers)  # a mark from long ago never stretches the axis

    def _plots(self):
        common = dict(height=self.height, sizing_mode="stretch_width", toolbar_location=None, x_axis_label="seconds")
        fps = figure(title="Frames per second", **common)
        lines = [fps.line("t", name, source=self.fps, color=colour, line_width=2, legend_label=name)
                 for name, colour in style.FPS_COLOURS.items()]
        self._marks(fps, lines)
        fps.legend.location = "top_left"
        fps.legend.orientation = "horizontal"
        fps.y_range.start = 0

        lat = figure(title="Latency per stage (ms)", **common)
        renderers = lat.varea_stack(list(STAGES), x="t", source=self.latency,
                                    color=[style.STAGE_COLOURS[s] for s in STAGES])
        line = lat.line("t", "display", source=self.latency, color=style.DISPLAY_LATENCY, line_width=2,
                        line_dash="dashed")
        lat.add_layout(Legend(items=[(s, [r]) for s, r in zip(STAGES, renderers)] + [("capture→display", [line])],
                              location="top_left", orientation="horizontal", label_text_font_size="9px"), "above")
        lat.y_range.start = 0
        self._marks(lat, [*renderers, line])

        state = figure(title="Tracker state", y_range=STATES[::-1], **common)
        rects = state.rect("t", "state", width=0.5, height=0.8, source=self.states, color="colour", line_color=None)
        self._marks(state, [rects], label=True)
        return fps, lat, state

    def __panel__(self):
        return self._layout
