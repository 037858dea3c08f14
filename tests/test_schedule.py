"""When the detector runs: the interval rules; a share of a core unless the user is choosing."""

import time

import cv2
import pytest

from conftest import ASSETS
from focusr.schedule import LOST_SHARE, DetectionSchedule
from focusr.types import Pointer


def test_the_share_holds_while_tracking_unless_the_user_is_choosing():
    """Idle, the user is about to choose: hover boxes need fresh detections. Tracked, a moving
    pointer is a user looking for the next subject, so the interval alone rules until the
    pointer rests 1 s. Lost: searched for at once, within a larger share (several lost
    subjects must not keep the model busy for good), unless the user is choosing."""
    s = DetectionSchedule()
    assert s.share(None, 0.0, tracking=False, share=0.3) is None  # idle
    assert s.share(None, 0.0, tracking=False, share=0.3, lost=True) == LOST_SHARE > 0.3
    assert s.share(None, 0.1, tracking=True, share=0.3) == 0.3  # tracked, nobody choosing
    assert s.share((100, 100), 0.2, tracking=True, share=0.3) is None  # the pointer moves
    assert s.share((120, 100), 0.3, tracking=True, share=0.3) is None
    assert s.share((120, 100), 1.0, tracking=True, share=0.3) is None  # resting, not yet 1 s
    assert s.share((120, 100), 1.4, tracking=True, share=0.3) == 0.3
    assert s.share((300, 90), 1.5, tracking=True, share=0.3) is None  # moving again
    assert s.share(None, 1.6, tracking=True, share=0.3) == 0.3  # off the video
    assert s.share((10, 10), 1.7, tracking=False, share=0.3, lost=True) is None  # lost, and choosing another


def test_due_every_interval_frames_and_every_frame_while_lost():
    s = DetectionSchedule()
    s.started(0)
    assert [i for i in range(1, 12) if s.due(i, 5, urgent=False)] == list(range(5, 12))
    assert s.due(1, 5, urgent=True)
    s.started(5)
    s.started(10)
    assert s.cadence == pytest.approx(5.0)


def vtest_frames(n):
    cap = cv2.VideoCapture(str(ASSETS / "vtest.avi"))
    return [cap.read()[1] for _ in range(n)]


@pytest.mark.parametrize("interval", [1, 4, 15])
def test_offline_renders_detect_exactly_every_interval_frames(make_pipeline, interval):
    p = make_pipeline(detect_interval=interval, background_detection=False)
    for frame in vtest_frames(30):
        p.process(frame)
    assert p.detector.runs == -(-30 // interval)


def test_the_sidebar_interval_sets_how_often_the_live_detector_runs(make_pipeline):
    """The 'Detect every N frames' control, in the live (background) mode, at a real-time frame
    rate, while the user is choosing (so the CPU share does not step in): N=2 runs the detector
    as often as it can keep up; N=30 runs it once a second at 30 fps. The detector is the
    default model's network (yolov8n-seg.yaml) at 320 px: light enough to keep up here."""
    frames = vtest_frames(60)
    runs = {}
    for interval in (2, 30):
        p = make_pipeline(detect_interval=interval)
        p.detector.param.update(weights="yolov8n-seg.yaml", image_size=320)
        start = time.perf_counter()
        for i, frame in enumerate(frames):
            p.process(frame, Pointer(hover=(100 + 3 * i, 200)))  # a moving pointer: choosing
            time.sleep(max(0.0, start + (i + 1) / 30 - time.perf_counter()))
        runs[interval] = p.detector.runs
    print(f"detections in 60 frames at 30 fps: every 2 -> {runs[2]}, every 30 -> {runs[30]}")
    assert runs[30] == 2  # frames 0 and 30
    assert runs[2] >= 3 * runs[30]
