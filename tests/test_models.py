"""Model loading: real weights, clear messages when a model cannot be had, reduced mode."""

import pytest

from conftest import asset
from focusr import models
from focusr.detect import Detector
from focusr.segment import Segmenter


def test_missing_detector_names_the_file_and_the_fix(tmp_path):
    det = Detector(weights=str(tmp_path / "nope.pt"))
    assert not det.available
    assert "nope.pt" in det.error and "FOCUSR_DETECTOR" in det.error
    assert det.detect(None) == []


def test_official_detector_offline_says_where_it_looked_and_how_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("FOCUSR_CACHE", str(tmp_path))
    monkeypatch.setenv("FOCUSR_OFFLINE", "1")  # what an air-gapped machine sets; no download is tried
    det = Detector(weights="yolov8n-seg.pt")
    assert not det.available
    assert "yolov8n-seg.pt" in det.error and str(tmp_path) in det.error and "FOCUSR_DETECTOR" in det.error
    assert "FOCUSR_OFFLINE" in det.error  # why it was not fetched
    assert not list(tmp_path.iterdir())  # and nothing was written


def test_offline_switch_is_read_at_each_use(monkeypatch):
    for value, off in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("FOCUSR_OFFLINE", value)
        assert models.offline() is off


def test_person_labels_are_parsed_in_one_place(monkeypatch):
    assert models.parse_labels(" Normal, Fall ,,") == ["Normal", "Fall"]
    monkeypatch.setenv("FOCUSR_PERSON_LABELS", "Normal,Fall")
    assert Detector().person_labels == ["Normal", "Fall"]  # the server's setting is every detector's default
    monkeypatch.delenv("FOCUSR_PERSON_LABELS")
    assert Detector().person_labels == ["person"]


def test_corrupt_weights_are_reported_not_raised(tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"not a checkpoint")
    det = Detector(weights=str(bad))
    assert not det.available and "broken.pt" in det.error


def test_environment_variable_chooses_the_detector(person_weights, monkeypatch):
    monkeypatch.setenv("FOCUSR_DETECTOR", str(person_weights))
    assert models.detector_choice() == str(person_weights)
    assert Detector().available


def test_weights_load_once_per_process(person_weights):
    a = models.load_yolo(str(person_weights))
    b = models.load_yolo(str(person_weights))
    assert a is b


def test_person_segmenter_offline_and_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv("FOCUSR_CACHE", str(tmp_path))
    monkeypatch.setenv("FOCUSR_OFFLINE", "1")
    with pytest.raises(models.ModelUnavailable, match="selfie_segmenter.tflite.*FOCUSR_OFFLINE"):
        models.segmenter_path("selfie_segmenter.tflite")
    assert not (tmp_path / "selfie_segmenter.tflite").exists()
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"\0" * 100)
    seg = Segmenter(person_model=str(bad))
    assert seg._person_segmenter() is None and "person segmenter" in seg.error


def test_recorded_checksum_catches_a_corrupted_download(tmp_path, monkeypatch, selfie_model):
    monkeypatch.setenv("FOCUSR_CACHE", str(tmp_path))
    target = tmp_path / "selfie_segmenter.tflite"
    target.write_bytes(selfie_model.read_bytes())
    target.with_suffix(".sha256").write_text("0" * 64)
    with pytest.raises(models.ModelUnavailable, match="corrupt"):
        models.segmenter_path("selfie_segmenter.tflite")


def test_any_failure_to_load_the_detector_is_reduced_mode_not_a_crash(monkeypatch):
    """A broken install, or a server stopped while the first load is importing torch: the
    session's worker gets a message, never an exception."""
    def broken(choice):
        raise ImportError("torch is half imported")

    monkeypatch.setattr(models, "load_yolo", broken)
    det = Detector(weights="anything.pt")
    assert det.model is None and not det.available
    assert "could not be loaded" in det.error and "ImportError" in det.error


class SlowServer:
    """A local server that hands out `data` for any path, slowly (so a download can be watched)."""

    def __init__(self, data: bytes):
        import http.server
        import threading
        import time

        class Slow(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the handler's name
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                step = max(len(data) // 40, 16384)
                for i in range(0, len(data), step):
                    self.wfile.write(data[i:i + step])
                    time.sleep(0.02)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self):
        self.server.shutdown()


def watch_loading(p, load, which: int) -> list[float]:
    """Load a model of pipeline `p` on a thread; the shares downloaded that the Models section
    showed meanwhile (model `which` of `statuses`)."""
    import threading
    import time

    from focusr.model_status import LOADING, statuses

    loader = threading.Thread(target=load)
    loader.start()
    seen = []
    while loader.is_alive():
        status = statuses(p)[which]
        if status.state == LOADING and status.progress is not None:
            seen.append(status.progress)
        time.sleep(0.01)
    return seen


def test_a_first_use_download_shows_its_progress_in_the_models_section(tmp_path, monkeypatch, selfie_model):
    """The person segmenter downloaded on first use (from a local server here, slowed so it can
    be watched): the Models section says "downloading N%" as it comes, then "loaded"."""
    from focusr.app import state_words
    from focusr.model_status import LOADED, LOADING, statuses
    from focusr.pipeline import FocusPipeline

    server = SlowServer(selfie_model.read_bytes())
    monkeypatch.setenv("FOCUSR_OFFLINE", "0")
    monkeypatch.setenv("FOCUSR_CACHE", str(tmp_path))
    monkeypatch.setattr(models, "SEGMENTER_URL", f"{server.url}/{models.DEFAULT_SEGMENTER}")
    p = FocusPipeline()
    p.segmenter.person_model = ""  # the official one: downloaded on first use
    seen = watch_loading(p, p.segmenter.load, 1)
    server.close()
    assert len(seen) >= 3 and seen == sorted(seen) and 0 < seen[len(seen) // 2] < 1, seen
    assert state_words(statuses(p)[1]) == "loaded" and statuses(p)[1].state == LOADED
    assert models.downloading(models.DEFAULT_SEGMENTER) is None
    shown = type(statuses(p)[1])("Person segmenter", "x.tflite", LOADING, progress=0.42)
    assert state_words(shown) == "downloading 42%"
    p.close()


def test_official_detector_weights_download_on_first_use_with_their_progress_shown(tmp_path, monkeypatch,
                                                                                  person_weights):
    """An official name (yolov8n-seg.pt) not yet in the cache is fetched from ultralytics'
    release for the installed version (a local mirror here, serving the test's person model
    under that name): the Models section shows "downloading N%", then the detector finds
    people. A download that is not weights is refused and nothing is left in the cache."""
    import cv2

    from focusr.model_status import LOADED, statuses
    from focusr.pipeline import FocusPipeline

    assert models.detector_url("yolov8n-seg.pt").startswith(models.DETECTOR_RELEASES + "/v")
    assert models.detector_url("my-own.pt") is None
    server = SlowServer(person_weights.read_bytes())
    monkeypatch.setenv("FOCUSR_OFFLINE", "0")
    monkeypatch.setenv("FOCUSR_CACHE", str(tmp_path))
    monkeypatch.setattr(models, "DETECTOR_RELEASES", server.url)
    p = FocusPipeline()
    p.detector.param.update(weights="yolov8n-seg.pt", person_labels=["Normal", "Fall"])
    seen = watch_loading(p, lambda: p.detector.model, 0)
    server.close()
    assert len(seen) >= 3 and seen == sorted(seen) and 0 < seen[len(seen) // 2] < 1, seen
    assert statuses(p)[0].state == LOADED, statuses(p)[0]
    assert (tmp_path / "yolov8n-seg.pt").read_bytes() == person_weights.read_bytes()
    cap = cv2.VideoCapture(str(asset("vtest.avi")))
    ok, frame = cap.read()
    cap.release()
    people = [d for d in p.detector.detect(frame) if d.label == "Normal"]
    assert ok and len(people) >= 3, people
    p.close()

    junk = SlowServer(b"<html>rate limited</html>" * 5000)
    monkeypatch.setattr(models, "DETECTOR_RELEASES", junk.url)
    q = FocusPipeline()
    q.detector.weights = "yolov8s-seg.pt"
    assert q.detector.model is None and "is not detector weights" in q.detector.error
    junk.close()
    assert not (tmp_path / "yolov8s-seg.pt").exists() and not list(tmp_path.glob("*.part"))
    q.close()
