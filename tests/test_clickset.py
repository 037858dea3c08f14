"""The click-anything benchmark set (issue 13, item 1): the set is what it says, and today's
figures are floors no change may go below (scripts/eval_click.py prints them)."""

import importlib.util

import cv2
import numpy as np
import pytest

from conftest import ROOT

spec = importlib.util.spec_from_file_location("eval_click", ROOT / "scripts" / "eval_click.py")
eval_click = importlib.util.module_from_spec(spec)
spec.loader.exec_module(eval_click)

# Measured when the set was made (2026-12-07): click-anything without a detector, every object and
# click point. Far from the goals (0.80 and 95%): these only stop it getting worse.
FLOORS = {"iou": 0.49, "iou_0.5": 0.64, "flicker": 0.025}
OBJECT_FLOORS = {"eagle": 0.48, "dog": 0.6, "truck": 0.44, "giraffe": 0.43, "apple": 0.38, "butterfly": 0.86,
                 "orange": 0.42, "lemon": 0.28}


def test_every_object_has_an_outline_and_five_click_points_where_their_names_say():
    objects = eval_click.load_set()
    assert len(objects) >= 8
    for name, obj in objects.items():
        polygon = np.array(obj["polygon"], np.float32)
        assert len(polygon) >= 10 and cv2.contourArea(polygon) > 2000, name
        assert set(obj["clicks"]) == {"centre", "edge", "textured", "plain", "detail"}, name
        for where, point in obj["clicks"].items():
            inside = cv2.pointPolygonTest(polygon, tuple(map(float, point)), True)  # + inside, px from the outline
            assert inside > 0, (name, where, inside)
            if where == "edge":
                assert inside <= 20, (name, inside)
        photo = cv2.imread(str(eval_click.photo_path(obj["photo"])))
        assert photo is not None and (polygon.max(axis=0) < photo.shape[1::-1]).all(), name


def test_the_synthetic_camera_moves_the_mask_with_the_photo():
    obj = eval_click.load_set()["dog"]
    frames, masks, clicks = eval_click.clip(obj, 40)
    assert len(frames) == len(masks) == 40 and frames[0].shape == (480, 640, 3)
    areas = [m.sum() for m in masks]
    assert areas[30] > 1.2 * areas[0] and areas[-1] == areas[30]  # zoomed in, then still
    assert 0.05 < areas[0] / (640 * 480) < 0.3  # framed as one subject among others
    assert masks[0][int(clicks["centre"][1]), int(clicks["centre"][0])]  # the click is on the object
    # the mask is where the photo's object is: the dog is darker than the porch around it
    grey = cv2.cvtColor(frames[20], cv2.COLOR_BGR2GRAY)
    ring = cv2.dilate(masks[20].astype(np.uint8), np.ones((25, 25), np.uint8)).astype(bool) & ~masks[20]
    assert grey[masks[20]].mean() < grey[ring].mean() - 25


@pytest.mark.timeout(600)
def test_click_anything_does_no_worse_than_its_floors(selfie_model):
    rows = eval_click.evaluate(eval_click.load_set(), None, 40, str(selfie_model))
    overall = {k: float(np.mean([r[k] for r in rows])) for k in ("iou", "iou_0.5", "flicker")}
    print("click-anything on the benchmark set:", {k: round(v, 3) for k, v in overall.items()})
    assert overall["iou"] >= FLOORS["iou"] and overall["iou_0.5"] >= FLOORS["iou_0.5"], overall
    assert overall["flicker"] <= FLOORS["flicker"], overall
    for name, floor in OBJECT_FLOORS.items():
        mine = float(np.mean([r["iou"] for r in rows if r["object"] == name]))
        assert mine >= floor, (name, mine)
