"""Adaptive quality (issue 15): the controller steps down when the page falls behind the
target, by one level at a time, and back up when it keeps up, without see-sawing."""

from focusr.quality import AIM_HOLD_S, DOWN_AFTER_S, LEVELS, UP_AFTER_S, QualityController


def run(q, fps, seconds, t0, captured=30.0, running=True):
    """Half-second ticks of a steady displayed fps; the changes, with their times."""
    changes, t = [], t0
    while t < t0 + seconds:
        c = q.observe(t, fps, captured, running)
        if c is not None:
            changes.append((t, c))
        t += 0.5
    return changes, t


def test_a_slow_page_steps_down_a_level_every_two_seconds_to_the_lowest_and_stays():
    q = QualityController(target_fps=24, adaptive=True)
    changes, t = run(q, 10.0, 20, 0.0)
    assert [c.level for _, c in changes] == [1, 2, 3]
    gaps = [b - a for (a, _), (b, _) in zip(changes, changes[1:])]
    assert all(DOWN_AFTER_S <= g <= DOWN_AFTER_S + 0.5 for g in gaps), gaps  # measured afresh at each level
    assert changes[0][0] == DOWN_AFTER_S and "10 fps < 24: lowered" in changes[0][1].why
    assert q.current == LEVELS[-1] and q.current.capture_width < LEVELS[0].capture_width


def test_quality_comes_back_when_the_load_drops_and_a_step_up_that_fails_waits_longer():
    q = QualityController(target_fps=24, adaptive=True)
    _, t = run(q, 10.0, 5, 0.0)  # down to level 2
    assert q.level == 2
    ups, t = run(q, 24.0, UP_AFTER_S + 0.5, t)
    assert [c.level for _, c in ups] == [1]
    downs, t = run(q, 15.0, DOWN_AFTER_S + 0.5, t)  # that level was too much after all
    assert [c.level for _, c in downs] == [2]
    ups, t = run(q, 24.0, 2 * UP_AFTER_S - 0.5, t)
    assert ups == []  # it waits twice as long before trying again
    ups, t = run(q, 24.0, 1.0, t)
    assert [c.level for _, c in ups] == [1]


def test_a_short_dip_or_a_slow_source_is_not_load():
    q = QualityController(target_fps=24, adaptive=True)
    assert run(q, 10.0, DOWN_AFTER_S - 0.5, 0.0)[0] == []  # a dip shorter than the wait
    assert run(q, 9.5, 30, 10.0, captured=10.0)[0] == []  # a 10 fps video shown at 10 fps keeps up
    assert run(q, 0.0, 30, 50.0, running=False)[0] == []  # paused
    q.adaptive = False
    assert run(q, 5.0, 30, 90.0)[0] == [] and q.level == 0


def test_nothing_moves_while_the_user_aims():
    q = QualityController(target_fps=24, adaptive=True)
    t = 0.0
    while t < 20:  # the pointer moving over the picture all the while
        q.aimed(t)
        assert q.observe(t, 8.0, 30.0) is None
        t += 0.5
    changes, _ = run(q, 8.0, AIM_HOLD_S + DOWN_AFTER_S + 0.5, t)
    assert [round(at - t, 1) for at, _ in changes] == [AIM_HOLD_S - 0.5 + DOWN_AFTER_S]  # held, then measured
