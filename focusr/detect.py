"""Detection: YOLOv8 boxes (and instance masks when the model segments)."""

from __future__ import annotations

import atexit

import logging
import threading
import time
import weakref

import cv2
import numpy as np
import param

from focusr import models
from focusr.ssd import SsdModel
from focusr.types import Detection

log = logging.getLogger(__name__)

# A box over this share of the frame is not a subject: nothing is left around it to blur, and on
# footage with no person in it the person model's one false box is the whole frame ("Fall" over
# all of box.mp4 from its third second), which a click on the real subject then locked.
FRAME_FILLING = 0.9

# Classes a detector calls one object by from frame to frame (COCO names): SSD MobileNet scores
# darknet's dog as a cat and its horses as cows once the picture is framed 60 px narrower, at
# 0.97. A subject is tracked, confirmed and found again by any class of its group.
LOOK_ALIKES = (
    frozenset({"cat", "dog"}),
    frozenset({"horse", "cow", "sheep"}),
    frozenset({"car", "truck", "bus"}),
    frozenset({"bicycle", "motorcycle"}),
    frozenset({"chair", "couch", "bench"}),
    frozenset({"cup", "bowl", "vase"}),
)


class DutyCycle:
    """How busy a shared model has been kept, across every session that uses it.

    A background detection that took d seconds leaves d / share before the next may start,
    so detection takes at most `share` of one core however many sessions ask: on a slow or
    busy machine it runs less often, and the frames, which cannot wait, keep the CPU.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.started = -1e9  # time.perf_counter() of the last start (or claim)
        self.last_s = 0.0  # how long the last inference took, the model's lock not included

    def claim(self, share: float) -> bool:
        """Reserve the next start if the share allows it now."""
        with self._lock:
            now = time.perf_counter()
            if now - self.started < self.last_s / max(share, 1e-3):
                return False
            self.started = now
            return True

    def record(self, started: float, seconds: float) -> None:
        with self._lock:
            self.started, self.last_s = max(self.started, started), seconds


_attach = threading.Lock()  # the shared model's lock and duty cycle are made exactly once


class Detector(param.Parameterized):
    """Finds candidate subjects. Shared weights, so calls are serialised per model."""

    controls = {"Detection and tracking": ["confidence", "image_size"]}

    weights = param.String(
        default="",
        doc="YOLOv8 weights: a .pt path, an official name fetched on first use, or a .yaml; or an SSD "
        "frozen graph (.pb, its .pbtxt beside it: focusr.ssd). Empty means FOCUSR_DETECTOR or yolov8n-seg.pt.",
    )
    confidence = param.Number(
        label="Confidence (0-1)", default=0.35, bounds=(0.05, 0.95), step=0.05, doc="Minimum detector score."
    )
    image_size = param.Integer(
        label="Image size (px)", default=640, bounds=(160, 1280), step=32,
        doc="Inference size: smaller is faster, larger finds small subjects."
    )
    person_labels = param.List(
        default=["person"],
        item_type=str,
        doc="Class names that are people, segmented by the person segmenter; the server's "
            "FOCUSR_PERSON_LABELS unless given.",
    )
    device = param.Selector(default="cpu", objects=["cpu", "cuda"], doc="Where the detector runs.")

    def __init__(self, **params):
        params.setdefault("person_labels", models.person_labels())
        super().__init__(**params)
        self._model = None
        self.error: str | None = None
        self.failure: models.ModelUnavailable | None = None  # why it is missing, in parts (the Models section)
        self.runs = 0  # detections run by this stage (benchmarks print it)

    @param.depends("weights", watch=True)
    def _forget_model(self):
        self._model = None
        self.error, self.failure = None, None

    @property
    def model(self):
        if self._model is None and self.error is None:
            try:
                model = models.load_detector(models.detector_choice(self.weights))
                with _attach:
                    if not hasattr(model, "focusr_lock"):
                        model.focusr_duty = DutyCycle()
                        model.focusr_lock = threading.Lock()
                self._model = model
            except models.ModelUnavailable as exc:
                self.error, self.failure = str(exc), exc
            except Exception as exc:  # a broken install, or a server stopping mid-import: reduced mode
                self.failure = models.ModelUnavailable(
                    f"detector could not be loaded ({type(exc).__name__}: {models.reason(exc)})")
                self.error = str(self.failure)
                log.warning("%s", self.error)
        return self._model

    @property
    def available(self) -> bool:
        return self.model is not None

    @property
    def loaded(self) -> bool:
        """Loaded already (asking does not load it, unlike `available`)."""
        return self._model is not None

    @property
    def duty(self) -> DutyCycle | None:
        """The shared model's duty cycle (None without a model)."""
        model = self.model
        return model.focusr_duty if model is not None else None

    def is_person(self, label: str) -> bool:
        return label in self.person_labels

    def kind_of(self, label: str) -> frozenset[str]:
        """The classes a subject of this class may be detected as later: the person labels for a
        person (Normal and Fall are one walker), its LOOK_ALIKES for an object, else itself."""
        if self.is_person(label):
            return frozenset(self.person_labels)
        return next((group for group in LOOK_ALIKES if label in group), frozenset({label}))

    def detect(self, frame: np.ndarray) -> list[Detection]:
        model = self.model
        if model is None:
            return []
        conf = self.confidence
        if models.untrained(models.detector_choice(self.weights)):
            conf = max(conf, models.UNTRAINED_CONFIDENCE)
        self.runs += 1
        with model.focusr_lock:
            start = time.perf_counter()
            try:
                if isinstance(model, SsdModel):  # its own input size, on the CPU
                    return [d for d in model.boxes(frame, conf) if not frame_filling(d.box, frame.shape[:2])]
                result = model.predict(frame, conf=conf, imgsz=self.image_size, device=self.device, verbose=False)[0]
            finally:
                model.focusr_duty.record(start, time.perf_counter() - start)
        return to_detections(result, frame.shape[:2])


def frame_filling(box, shape: tuple[int, int]) -> bool:
    """Whether a box covers over FRAME_FILLING of the frame (no subject: see FRAME_FILLING)."""
    return (box[2] - box[0]) * (box[3] - box[1]) > FRAME_FILLING * shape[0] * shape[1]


def to_detections(result, shape: tuple[int, int]) -> list[Detection]:
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return []
    xyxy = boxes.xyxy.cpu().numpy()
    classes = boxes.cls.cpu().numpy().astype(int)
    scores = boxes.conf.cpu().numpy()
    polygons = result.masks.xy if result.masks is not None else None
    out = []
    for i, (box, cls, score) in enumerate(zip(xyxy, classes, scores)):
        if frame_filling(box, shape):
            continue
        mask = None
        if polygons is not None and len(polygons[i]) >= 3:
            mask = np.zeros(shape, np.uint8)
            cv2.fillPoly(mask, [np.round(polygons[i]).astype(np.int32)], 1)
            mask = mask.astype(bool)
        out.append(Detection(tuple(float(v) for v in box), result.names[int(cls)], float(score), mask))
    return out


def under_point(detections: list[Detection], point) -> Detection | None:
    """The tightest detection containing the point: a bottle in a hand is the bottle."""
    hits = [d for d in detections if d.contains(point)]
    if not hits:
        return None
    return min(hits, key=lambda d: float(d.mask.sum()) if d.mask is not None else d.area)


_running: weakref.WeakSet = weakref.WeakSet()  # every BackgroundDetector not yet closed


@atexit.register
def _finish_detections() -> None:
    """A detection still running on its (daemon) thread while Python exits aborts the process
    ("terminate called without an active exception", status 134): whatever left one running (a
    session not closed, a script that ends), each is stopped and its detection finished first."""
    for background in list(_running):
        background.close()


class BackgroundDetector:
    """Runs a Detector on its own thread so that no frame waits for it.

    One job at a time: `submit` is refused while the detector is busy, so detections
    are always of a recent frame and never queue up. Results carry the index of the
    frame they were computed on; the tracker compares them with where the subject
    was on that frame.
    """

    def __init__(self, detector: Detector, threads: int = 1):
        self.detector = detector
        self.threads = threads
        self.error: str | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._job: tuple[int, np.ndarray] | None = None
        self._result: tuple[int, list[Detection]] | None = None
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="focusr-detect", daemon=True)
        self._thread.start()
        _running.add(self)

    @property
    def idle(self) -> bool:
        return not self._busy

    def submit(self, frame: np.ndarray, index: int, share: float | None = None) -> bool:
        """Detect on `frame` (which the caller must not modify afterwards) unless busy, or,
        given a `share` of one core, unless the shared model has had its share lately."""
        with self._lock:
            if self._busy or self._closed:
                return False
            duty = self.detector.duty if share is not None else None
            if duty is not None and not duty.claim(share):
                return False
            self._busy = True
            self._job = (index, frame)
        self._wake.set()
        return True

    def poll(self) -> tuple[int, list[Detection]] | None:
        with self._lock:
            result, self._result = self._result, None
        return result

    def close(self, wait: float = 10.0) -> None:
        """Stop, and wait for a detection under way to finish (its result is dropped): an
        inference still running while Python exits aborts the process. The session's worker
        calls this, never the event loop."""
        self._closed = True
        self._wake.set()
        _running.discard(self)
        if wait and threading.current_thread() is not self._thread:
            self._thread.join(wait)

    def _run(self) -> None:
        try:  # leave the other cores to the per-frame path, which cannot wait
            import torch

            torch.set_num_threads(max(1, min(self.threads, torch.get_num_threads())))
        except Exception:
            pass
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            with self._lock:
                job, self._job = self._job, None
            if job is None:
                continue
            index, frame = job
            try:
                found = self.detector.detect(frame)
                self.error = None
            except Exception as exc:  # one bad frame must not stop detection for good
                found = []
                self.error = f"detector failed: {type(exc).__name__}: {str(exc)[:120]}"
            with self._lock:
                self._result = (index, found)
                self._busy = False
