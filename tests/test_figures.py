"""The state plot's bars: one per subject kept, each in its own lane of its state's row."""

from focusr import style
from focusr.figures import ROW_HEIGHT, STATES, state_rows
from focusr.types import TrackState


def test_each_subject_gets_its_own_lane_colour_and_name_in_the_row_of_its_state():
    rows = state_rows(3.0, [("Normal", TrackState.LOCKED), ("cup", TrackState.LOST), ("Fall", TrackState.REACQUIRED)])
    assert rows["subject"] == ["1 Normal", "2 cup", "3 Fall"]
    assert rows["state"] == ["locked", "lost", "reacquired"] and rows["t"] == [3.0] * 3
    assert [y[0] for y in rows["y"]] == rows["state"] and all(y[0] in STATES for y in rows["y"])
    # the colours of their lock boxes: the first green, the lost one red, the third its own
    assert rows["colour"] == [style.subject_colour(0), style.STATE_COLOURS[TrackState.LOST], style.subject_colour(2)]
    # lanes: the first on top, none overlapping, all inside the row
    tops = [y[1] + h / 2 for y, h in zip(rows["y"], rows["h"])]
    bottoms = [y[1] - h / 2 for y, h in zip(rows["y"], rows["h"])]
    assert tops[0] <= ROW_HEIGHT / 2 + 1e-9 and bottoms[-1] >= -ROW_HEIGHT / 2 - 1e-9
    assert all(b >= t2 - 1e-9 for b, t2 in zip(bottoms, tops[1:])), (tops, bottoms)


def test_one_subject_fills_the_row_and_none_is_one_idle_bar():
    one = state_rows(1.0, [("Normal", TrackState.LOCKED)])
    assert one["y"] == [("locked", 0.0)] and abs(one["h"][0] - 0.9 * ROW_HEIGHT) < 1e-9
    none = state_rows(1.0, [])
    assert none["state"] == ["idle"] and none["colour"] == [style.MUTED] and none["subject"] == ["none"]


def test_a_plot_off_screen_gets_no_points_until_it_is_seen_then_all_of_them():
    """The browser redraws a plot on every update; one nobody sees costs the video its frames.
    Its points wait (at most the plot's own history) and go in one update once it is in view."""
    from focusr.figures import ROLLOVER, LiveFigures
    from focusr.session import Snapshot

    figs = LiveFigures()
    snap = Snapshot(captured_fps=30.0, processed_fps=20.0, displayed_fps=19.0, stages_ms={"detect": 5.0},
                    display_ms=80.0, state=TrackState.LOCKED, label="Normal", subjects=[("Normal", TrackState.LOCKED)],
                    skipped=0, dropped=0, detect_every=5.0, notices=[], models=[])
    fps_view, latency_view, state_view = figs.views
    latency_view.in_view = state_view.in_view = False  # scrolled away: only the top plot shows
    for _ in range(3):
        figs.stream(snap)
    assert len(figs.fps.data["t"]) == 3 and len(figs.latency.data["t"]) == 0 and len(figs.states.data["t"]) == 0
    latency_view.in_view = True
    figs.stream(snap)
    assert len(figs.latency.data["t"]) == 4 and figs.latency.data["display"] == [80.0] * 4
    assert len(figs.states.data["t"]) == 0
    latency_view.in_view = False
    for _ in range(ROLLOVER + 10):  # never more waits than the plot keeps
        figs.stream(snap)
    assert len(figs._waiting[1]["t"]) == ROLLOVER and len(figs._waiting[2]["t"]) == ROLLOVER + 14
    state_view.in_view = True
    figs.stream(snap)
    assert len(figs.states.data["t"]) == ROLLOVER + 15 and not figs._waiting[2]


def test_the_state_plot_keeps_the_last_minute_so_its_legend_names_only_recent_subjects():
    """The legend lists each subject the state plot holds bars of: subjects let go more than a
    minute ago (the time axis shows one) are gone from it, however many lanes the rows had."""
    from focusr.figures import WINDOW_S, LiveFigures
    from focusr.session import Snapshot

    def snap(subjects):
        return Snapshot(captured_fps=30.0, processed_fps=20.0, displayed_fps=19.0, stages_ms={}, display_ms=None,
                        state=subjects[0][1], label=subjects[0][0], subjects=subjects, skipped=0, dropped=0,
                        detect_every=5.0, notices=[], models=[])

    figs = LiveFigures()
    four = [(label, TrackState.LOCKED) for label in ("Normal", "Fall", "cup", "dog")]
    for _ in range(20):
        figs.stream(snap(four))
    assert sorted(set(figs.states.data["subject"])) == ["1 Normal", "2 Fall", "3 cup", "4 dog"]
    figs._started -= WINDOW_S / 2  # half a minute on, one subject kept
    figs.stream(snap(four[:1]))
    assert len(set(figs.states.data["subject"])) == 4  # the others' bars still show
    figs._started -= WINDOW_S / 2 + 1  # over a minute since the four were kept
    for _ in range(3):
        figs.stream(snap(four[:1]))
    assert set(figs.states.data["subject"]) == {"1 Normal"} and len(figs.states.data["t"]) == 4


def test_the_axes_show_the_last_minute_up_to_its_largest_value_set_by_the_server():
    """The server sets each axis with its points: the time axis the last minute, each value axis
    from 0 to a little above the largest value in it (a rounded top, so it seldom changes). A
    range the browser fits itself is sent back to the server on every redraw (three plots,
    twice a second, every tab), and one sent after its tab closed was an error in the log."""
    from bokeh.models import DataRange1d

    from focusr.figures import WINDOW_S, LiveFigures, top
    from focusr.session import Snapshot

    def snap(fps, ms, display):
        return Snapshot(captured_fps=fps, processed_fps=fps - 2, displayed_fps=fps - 3,
                        stages_ms={"detect": ms, "track": ms / 2}, display_ms=display, state=TrackState.LOCKED,
                        label="Normal", subjects=[("Normal", TrackState.LOCKED)], skipped=0, dropped=0,
                        detect_every=5.0, notices=[], models=[])

    figs = LiveFigures()
    fps_plot, latency_plot, state_plot = (view.object.object for view in figs.views)
    assert not any(isinstance(r, DataRange1d) for p in (fps_plot, latency_plot, state_plot)
                   for r in (p.x_range, p.y_range))
    figs.stream(snap(28.0, 40.0, 90.0))  # a burst a minute and more ago
    figs._started -= WINDOW_S + 10
    for _ in range(5):
        figs.stream(snap(12.0, 20.0, None))
    now = figs.fps.data["t"][-1]
    assert fps_plot.x_range.end == now and abs(fps_plot.x_range.start - (now - WINDOW_S)) < 1e-6
    assert latency_plot.x_range is fps_plot.x_range is state_plot.x_range
    assert fps_plot.y_range.start == 0 and 12.0 < fps_plot.y_range.end <= 15.0  # the burst has left the minute
    assert latency_plot.y_range.start == 0 and 30.0 < latency_plot.y_range.end <= 35.0  # 20 + 10 stacked
    figs.stream(snap(12.0, 20.0, 240.0))  # capture to display above the stack
    assert 240.0 < latency_plot.y_range.end <= 300.0
    assert (top([8.3]), top([23.0]), top([412.0]), top([0.2, float("nan")])) == (9.0, 25.0, 450.0, 1.0)
