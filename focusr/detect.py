"""Detection: YOLOv8 boxes (and instance masks when the model segments)."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import param

from focusr import models
from focusr.types import Detection


class Detector(param.Parameterized):
    """Finds candidate subjects. Shared weights, so calls are serialised per model."""

    weights = param.String(
        default="",
        doc="YOLOv8 weights: a .pt path, an official name fetched on first use, or a .yaml. "
        "Empty means FOCUSR_DETECTOR or yolov8n-seg.pt.",
    )
    confidence = param.Number(default=0.35, bounds=(0.05, 0.95), step=0.05, doc="Minimum detector score.")
    image_size = param.Integer(
        default=640, bounds=(160, 1280), step=32, doc="Inference size: smaller is faster, larger finds small subjects."
    )
    person_labels = param.List(
        default=["person"],
        item_type=str,
        doc="Class names that are people, segmented by the person segmenter.",
    )
    device = param.Selector(default="cpu", objects=["cpu", "cuda"], doc="Where the detector runs.")

    def __init__(self, **params):
        super().__init__(**params)
        self._model = None
        self.error: str | None = None

    @param.depends("weights", watch=True)
    def _forget_model(self):
        self._model = None
        self.error = None

    @property
    def model(self):
        if self._model is None and self.error is None:
            try:
                self._model = models.load_yolo(models.detector_choice(self.weights))
                if not hasattr(self._model, "focusr_lock"):
                    self._model.focusr_lock = threading.Lock()
            except models.ModelUnavailable as exc:
                self.error = str(exc)
        return self._model

    @property
    def available(self) -> bool:
        return self.model is not None

    def is_person(self, label: str) -> bool:
        return label in self.person_labels

    def detect(self, frame: np.ndarray) -> list[Detection]:
        model = self.model
        if model is None:
            return []
        with model.focusr_lock:
            result = model.predict(
                frame, conf=self.confidence, imgsz=self.image_size, device=self.device, verbose=False
            )[0]
        return to_detections(result, frame.shape[:2])


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
