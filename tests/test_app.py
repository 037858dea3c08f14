"""The dashboard's model: what a page may choose, what its sidebar is made of, and what happens
when a choice cannot be had."""

import pytest

from focusr import frames as wire
from focusr import models
from focusr.app import FocusrApp
from focusr.types import Pointer, TrackState
from synthetic import Thing, make_scene, still


@pytest.fixture
def app(person_weights, selfie_model, monkeypatch, tmp_path):
    monkeypatch.setenv("FOCUSR_DETECTOR", str(person_weights))
    monkeypatch.setenv("FOCUSR_SEGMENTER", str(selfie_model))
    monkeypatch.setenv("FOCUSR_CACHE", str(tmp_path))  # nothing cached; FOCUSR_OFFLINE: nothing fetched
    a = FocusrApp()
    yield a
    a.session.close(wait=2)


def frame_through(app, click=None):
    scene = make_scene(3, things=[Thing((90, 70), (40, 160, 230), 1, still((200, 180), 3))])
    reply = app.session.handle(wire.pack({"seq": 1}, wire.encode_jpeg(scene.frames[0])), Pointer(click=click))
    return scene, reply


def test_the_page_picks_a_detector_from_a_fixed_list_and_never_a_path(app, person_weights):
    assert app.detector_model == str(person_weights)  # the server's own choice comes first
    assert set(models.detector_options().values()) == {
        str(person_weights), "yolov8n-seg.pt", "yolov8s-seg.pt", "yolov8m-seg.pt"}
    with pytest.raises(ValueError):
        app.detector_model = "/etc/passwd"
    frame_through(app)
    assert app.session.pipeline.detector.weights == str(person_weights)


def test_a_detector_that_cannot_be_had_leaves_a_working_app_that_says_why(app, person_weights):
    app.detector_model = "yolov8m-seg.pt"  # not cached, and downloads are off: it cannot load
    scene, reply = frame_through(app, click=(200, 180))
    head, jpeg = wire.unpack(reply)
    assert head["state"] == TrackState.LOCKED.value  # a click still locks, without the detector
    assert wire.decode_jpeg(jpeg).shape == scene.frames[0].shape
    notices = app.session.snapshot().notices
    assert len(notices) == 1 and "yolov8m-seg.pt" in notices[0] and "FOCUSR_DETECTOR" in notices[0]
    app.detector_model = str(person_weights)
    frame_through(app)
    assert app.session.pipeline.detector.available and not app.session.snapshot().notices  # full mode again


def test_the_sidebar_is_built_from_what_each_stage_declares(app):
    """Every declared control has a widget, and nothing else from the pipeline does."""
    import panel as pn

    params = [p for c in app.controls() for p in ([c] if isinstance(c, pn.Param) else getattr(c, "objects", []))
              if isinstance(p, pn.Param)]  # a control may sit in a row beside its tooltip
    shown = {w.name for p in params for w in p.layout}
    for _, stage, names in app.settings.control_groups():
        obj = app.settings.stage(stage)
        for name in names:
            assert obj.param[name].label in shown, (stage, name)
    assert "Detect every N frames" in shown and "Low-light enhancement" in shown and "Detector" in shown
    for hidden in ("Detect share", "Background detection", "Person labels", "Device", "Weights"):
        assert hidden not in shown  # server settings, not user controls


def test_a_sidebar_change_reaches_the_running_pipeline_between_frames(app):
    app.settings.renderer.blur_strength = 2.5  # what the slider does
    app.settings.enhancer.enabled = True
    assert app.session.pipeline.renderer.blur_strength != 2.5  # not under a frame's feet
    frame_through(app)
    assert app.session.pipeline.renderer.blur_strength == 2.5 and app.session.pipeline.enhancer.enabled


def test_a_reconnect_gets_a_fresh_pipeline_with_the_pages_settings(app):
    """One owner: a closed session's pipeline is never handed to the next one."""
    app.settings.detect_interval = 12
    first = app.session
    frame_through(app)
    first.close(wait=2)
    app._on_frame(type("Event", (), {"new": wire.pack({"seq": 2}, b"")})())
    assert app.session is not first and app.session.pipeline is not first.pipeline
    frame_through(app)
    assert app.session.pipeline.detect_interval == 12


def test_the_models_section_says_loaded_missing_and_how_to_fix_it(tmp_path, selfie_model):
    """Each model, its state; a missing one: why in a line, what it means, and (folded) the fix."""
    from focusr.app import models_html
    from focusr.model_status import LOADED, LOADING, MISSING, statuses
    from focusr.pipeline import FocusPipeline

    p = FocusPipeline()
    p.detector.weights = str(tmp_path / "gone.pt")
    p.segmenter.person_model = str(selfie_model)
    assert [s.state for s in statuses(p)] == [LOADING, LOADING]  # asking loads nothing
    p.detector.model, p.segmenter.load()
    detector, segmenter = statuses(p)
    assert detector.state == MISSING and "gone.pt" in detector.reason and "FOCUSR_DETECTOR" in detector.fix
    assert "FOCUSR_DETECTOR" not in detector.reason and detector.meaning.startswith("Clicks still lock")
    assert segmenter.state == LOADED and segmenter.file == "selfie_segmentation.tflite"
    html = models_html([detector, segmenter])
    assert html.count('class="model ') == 2 and "<details><summary>How to fix</summary>" in html
    assert html.index("gone.pt") < html.index("<details>")  # the reason is on show, the fix folded
    p.close()


def test_a_quality_step_reaches_the_page_and_the_status_line(app):
    from focusr.quality import LEVELS

    app.quality.adaptive = True  # (off by default: focusr.quality says why)
    app.camera.param.update(capture_width=800, jpeg_quality=0.9)  # the user's own
    change = None
    for t in range(20):  # the page shows 8 fps of the 30 it captures, target 24
        change = app.quality.observe(t * 0.5, 8.0, 30.0) or change
    assert change is not None
    app._apply_quality(change.why)
    level = LEVELS[app.quality.level]
    assert app.quality.level >= 2 and (app.camera.capture_width, app.camera.jpeg_quality) == (
        level.capture_width, level.jpeg_quality)
    frame_through(app)
    assert app.session.pipeline.detector.image_size == 640  # the detector's input is left alone
    assert f"<b>quality</b> {level.name} (8 fps &lt; 24: lowered)" in app._status_html(app.session.snapshot({}))
    app.quality.adaptive = False  # off: the user's own settings back at once
    assert (app.camera.capture_width, app.camera.jpeg_quality) == (800, 0.9)
    assert "quality" not in app._status_html(app.session.snapshot({}))
