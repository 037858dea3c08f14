"""Background work gives way to the frame path (focusr.priority): the detection thread and the
hover preview's grower run at a lower scheduling priority than the threads that answer frames
and clicks, and nothing else in the process is touched."""

from __future__ import annotations

import os
import sys
import threading
import time

import numpy as np
import pytest

from focusr import priority
from focusr.detect import BackgroundDetector, Detector
from focusr.preview import RegionPreview

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a nice value per thread is Linux's"),
    pytest.mark.skipif(sys.platform.startswith("linux") and os.getpriority(os.PRIO_PROCESS, 0) >= 19,
                       reason="the process already runs at the lowest priority"),
]


def nice_of(native_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, native_id)


def expected(before: int) -> int:
    return min(19, before + priority.BACKGROUND_NICE)


def test_background_lowers_only_the_calling_thread():
    main = nice_of(threading.get_native_id())
    seen = {}

    def work():
        seen["took"] = priority.background()
        seen["nice"] = nice_of(threading.get_native_id())

    t = threading.Thread(target=work)
    t.start()
    t.join(5)
    assert seen["took"] is True
    assert seen["nice"] == expected(main) > main
    assert nice_of(threading.get_native_id()) == main  # the caller's own thread, and the process, as they were


def wait_for_nice(native_id: int, value: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and nice_of(native_id) != value:
        time.sleep(0.01)
    return nice_of(native_id)


def test_detection_thread_runs_in_the_background():
    main = nice_of(threading.get_native_id())
    background = BackgroundDetector(Detector())
    try:
        assert wait_for_nice(background._thread.native_id, expected(main)) == expected(main)
        assert nice_of(threading.get_native_id()) == main
    finally:
        background.close()


def test_preview_grower_runs_in_the_background():
    main = nice_of(threading.get_native_id())
    grown = {}

    def grow(frame, point, size):
        grown["nice"] = nice_of(threading.get_native_id())
        mask = np.zeros(frame.shape[:2], bool)
        mask[10:20, 10:20] = True
        return (10.0, 10.0, 20.0, 20.0), mask

    preview = RegionPreview(grow)
    frame = np.zeros((48, 64, 3), np.uint8)
    try:
        for index in range(40):  # the pointer rests: a region is grown once it has rested long enough
            preview.at(frame, (15.0, 15.0), index, lambda i: [])
            if "nice" in grown:
                break
            time.sleep(0.02)
        assert grown.get("nice") == expected(main)
        assert nice_of(threading.get_native_id()) == main
    finally:
        preview.close()
