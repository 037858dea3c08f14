"""Stage names written once, the stage clock and the FPS meter."""

import pytest

from focusr.timing import PIPELINE_STAGES, STAGES, FpsMeter, StageClock


def test_a_frames_trip_is_decode_the_pipeline_then_encode():
    assert STAGES == ("decode", *PIPELINE_STAGES, "encode")


def test_the_clock_adds_up_repeated_stages():
    clock = StageClock()
    for _ in range(2):
        with clock("track"):
            pass
    assert set(clock.ms) == {"track"} and clock.total_ms == clock.ms["track"] >= 0


def test_fps_meter_follows_the_gap_between_frames():
    meter = FpsMeter(smoothing=0.5)
    assert meter.tick(0.0) is None  # one frame is no rate yet
    assert meter.tick(0.1) == pytest.approx(10.0)
    assert meter.tick(0.15) == pytest.approx(15.0)  # half way to the new 20 fps
