"""The dashboard's model: what a page may choose, and what happens when the choice cannot be had."""

import pytest

from focusr import frames as wire
from focusr import models
from focusr.app import FocusrApp
from focusr.types import Pointer, TrackState
from synthetic import Thing, make_scene, still


@pytest.fixture
def app(person_weights, monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSR_DETECTOR", str(person_weights))
    monkeypatch.setenv("FOCUSR_CACHE", str(tmp_path))  # nothing downloaded before; no network here
    a = FocusrApp()
    yield a
    a.session.close()


def test_the_page_picks_a_detector_from_a_fixed_list_and_never_a_path(app, person_weights):
    assert app.detector_model == str(person_weights)  # the server's own choice comes first
    assert set(models.detector_options().values()) == {
        str(person_weights), "yolov8n-seg.pt", "yolov8s-seg.pt", "yolov8m-seg.pt"}
    with pytest.raises(ValueError):
        app.detector_model = "/etc/passwd"
    assert app.pipeline.detector.weights == str(person_weights)


def test_a_detector_that_cannot_be_had_leaves_a_working_app_that_says_why(app, person_weights):
    app.detector_model = "yolov8m-seg.pt"  # not cached, and no network: it cannot load
    scene = make_scene(3, things=[Thing((90, 70), (40, 160, 230), 1, still((200, 180), 3))])
    reply = app.session.handle(wire.pack({"seq": 1}, wire.encode_jpeg(scene.frames[0])), Pointer(click=(200, 180)))
    head, jpeg = wire.unpack(reply)
    assert head["state"] == TrackState.LOCKED.value  # a click still locks, without the detector
    assert wire.decode_jpeg(jpeg).shape == scene.frames[0].shape
    notices = app.pipeline.notices
    assert len(notices) == 1 and "yolov8m-seg.pt" in notices[0] and "FOCUSR_DETECTOR" in notices[0]
    app.detector_model = str(person_weights)
    assert app.pipeline.detector.available and not app.pipeline.notices  # back to the full mode
