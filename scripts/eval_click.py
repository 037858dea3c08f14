"""Click-anything, measured on the benchmark set (issue 13, item 1): what a click cuts out when
no detector knows the object, and whether it stays cut out.

    .venv/bin/python scripts/eval_click.py [--objects eagle,dog] [--clicks centre,edge] [--frames 40] [--json]

The set is tests/data/clickset.json: objects on real photos from Debian's darknet and
opencv-doc packages (/usr/share/darknet/data, /usr/share/doc/opencv-doc/examples/data), each outlined by hand as a polygon and given five click points
(centre, near an edge, on a textured part, on a plain part, on a small detail). Each photo is
filmed by a synthetic camera, 640x480, framed so the object spans at most half the frame: it
pans and zooms in for the first three quarters of the clip, then holds still; the polygon moves with it, so every frame's mask is exact. Each click
is made on the first frame, in a pipeline without a detector (click-anything: the region grown
from the click, then followed), and every frame's matte (>= 128) is scored against the mask.

Printed per object and click, and over all: mean IoU, the share of frames with IoU >= 0.5,
boundary F-score (boundary pixels within 2 px of the true boundary) and flicker on the still
stretch (pixels that change between consecutive still frames, over the union). Deterministic:
no background thread, each click detects (nothing) on its own frame.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "data" / "clickset.json"
PHOTOS = {"darknet": Path("/usr/share/darknet/data"), "opencv": Path("/usr/share/doc/opencv-doc/examples/data")}
SIZE = (640, 480)
MOVING = 0.75  # share of the clip the camera moves; the rest is still (flicker)
BOUNDARY_PX = 2


def load_set(path: Path = SET) -> dict:
    return json.loads(path.read_text())["objects"]


def photo_path(ref: str) -> Path:
    source, name = ref.split(":", 1)
    return PHOTOS[source] / name


def camera(t: int, n: int, photo_shape, polygon) -> np.ndarray:
    """The affine map from photo to frame at frame `t` of `n`. The camera frames the object so
    that its box spans at most half the frame (a subject among others, as users click them;
    the whole photo is shown if that is smaller: never a frame-filling close-up), then pans
    (1.5, 0.5 px a frame) and zooms in (to 1.12x) while it moves. An object cut by the photo's
    edge is framed with the photo covering the frame, so no copy of it is made up past the edge."""
    h, w = photo_shape[:2]
    x, y, bw, bh = cv2.boundingRect(np.array(polygon, np.int32))
    cover = max(SIZE[0] / w, SIZE[1] / h)
    touches = x <= 2 or y <= 2 or x + bw >= w - 2 or y + bh >= h - 2
    s = cover if touches else min(cover, 0.5 * min(SIZE[0] / bw, SIZE[1] / bh))
    k = min(t, int(n * MOVING))
    z = s * (1.0 + 0.12 * k / max(int(n * MOVING), 1))
    cx, cy = x + bw / 2 + 1.5 * k / z, y + bh / 2 + 0.5 * k / z  # the camera's centre drifts over the photo
    if touches:  # the view stays inside the photo
        cx = float(np.clip(cx, SIZE[0] / (2 * z), w - SIZE[0] / (2 * z)))
        cy = float(np.clip(cy, SIZE[1] / (2 * z), h - SIZE[1] / (2 * z)))
    return np.array([[z, 0, SIZE[0] / 2 - z * cx], [0, z, SIZE[1] / 2 - z * cy]], np.float32)


def clip(obj: dict, n: int):
    """(frames, masks, click points by name at frame 0)."""
    photo = cv2.imread(str(photo_path(obj["photo"])))
    if photo is None:
        raise SystemExit(f"eval_click: {photo_path(obj['photo'])} is missing: install Debian's darknet and opencv-doc")
    truth = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(truth, [np.array(obj["polygon"], np.int32)], 255, cv2.LINE_AA)
    frames, masks = [], []
    for t in range(n):
        m = camera(t, n, photo.shape, obj["polygon"])
        # past the photo's edge its last pixels are repeated (a plain border, no made-up copies)
        frames.append(cv2.warpAffine(photo, m, SIZE, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
        masks.append(cv2.warpAffine(truth, m, SIZE, flags=cv2.INTER_LINEAR) >= 128)
    m0 = camera(0, n, photo.shape, obj["polygon"])
    clicks = {name: tuple(float(v) for v in m0 @ np.array([x, y, 1.0])) for name, (x, y) in obj["clicks"].items()}
    return frames, masks, clicks


def boundary(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    return (m - cv2.erode(m, np.ones((3, 3), np.uint8))).astype(bool)


def boundary_f(pred: np.ndarray, truth: np.ndarray) -> float:
    bp, bt = boundary(pred), boundary(truth)
    if not bp.any() or not bt.any():
        return 0.0
    near = np.ones((2 * BOUNDARY_PX + 1,) * 2, np.uint8)
    precision = (bp & cv2.dilate(bt.astype(np.uint8), near).astype(bool)).sum() / bp.sum()
    recall = (bt & cv2.dilate(bp.astype(np.uint8), near).astype(bool)).sum() / bt.sum()
    return float(2 * precision * recall / max(precision + recall, 1e-9))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 0.0


def follow(frames, click, missing_weights: str, segmenter: str) -> list[np.ndarray]:
    """Every frame's matte (bool) after a click on the first, with no detector."""
    from focusr.pipeline import FocusPipeline
    from focusr.types import Pointer

    p = FocusPipeline(background_detection=False, quick_lock=False, overlays=False)
    p.detector.weights = missing_weights
    p.segmenter.person_model = segmenter
    out = []
    try:
        for i, frame in enumerate(frames):
            _, res = p.process(frame, Pointer(click=click) if i == 0 else Pointer(), t=i / 30)
            out.append(res.matte >= 128 if res.matte is not None else np.zeros(frame.shape[:2], bool))
    finally:
        p.close()
    return out


def score(mattes, masks) -> dict:
    ious = [iou(m, t) for m, t in zip(mattes, masks)]
    still = int(len(masks) * MOVING) + 1
    flicker = [(a ^ b).sum() / max((a | b).sum(), 1) for a, b in zip(mattes[still:], mattes[still + 1:])]
    return {"iou": float(np.mean(ious)), "iou_0.5": float(np.mean([v >= 0.5 for v in ious])),
            "boundary_f": float(np.mean([boundary_f(m, t) for m, t in zip(mattes, masks)])),
            "flicker": float(np.mean(flicker)) if flicker else 0.0, "first_iou": ious[0], "last_iou": ious[-1]}


def picture(frame, mask, matte, point) -> np.ndarray:
    """The frame with the true outline (green), the matte's (red) and the click (magenta)."""
    out = frame.copy()
    for m, colour in ((mask, (0, 200, 0)), (matte, (0, 0, 255))):
        contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, colour, 2)
    cv2.circle(out, (int(point[0]), int(point[1])), 5, (255, 0, 255), -1)
    return out


def evaluate(objects: dict, clicks: list[str] | None, n: int, segmenter: str, shots: str = "") -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        missing = str(Path(tmp) / "no-detector.pt")  # click-anything: the reduced mode
        for name, obj in objects.items():
            frames, masks, points = clip(obj, n)
            for where, point in points.items():
                if clicks and where not in clicks:
                    continue
                mattes = follow(frames, point, missing, segmenter)
                rows.append({"object": name, "kind": obj["kind"], "click": where, **score(mattes, masks)})
                if shots:  # the first and the last frame, side by side
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(Path(shots) / f"{name}_{where}.png"), np.hstack(
                        [picture(frames[i], masks[i], mattes[i], point) for i in (0, -1)]))
    return rows


def mean_line(label: str, what: str, rows: list[dict]) -> str:
    m = {k: np.mean([r[k] for r in rows]) for k in ("iou", "iou_0.5", "boundary_f", "flicker")}
    return f"{label:>8} {what:>9} | {m['iou']:8.2f} {m['iou_0.5']:8.0%} {m['boundary_f']:8.2f} {m['flicker']:7.1%}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", default="", help="comma-separated names (default: all)")
    ap.add_argument("--clicks", default="", help="comma-separated click names (default: all five)")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--segmenter", default=str(ROOT / ".cache" / "test-assets" / "selfie_segmentation.tflite"))
    ap.add_argument("--shots", default="", help="write each click's first and last frame, outlined, here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("FOCUSR_OFFLINE", "1")
    objects = load_set()
    if args.objects:
        objects = {k: objects[k] for k in args.objects.split(",")}
    rows = evaluate(objects, args.clicks.split(",") if args.clicks else None, args.frames, args.segmenter, args.shots)
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'object':>8} {'click':>9} | {'mean IoU':>8} {'IoU>=0.5':>8} {'bound. F':>8} {'flicker':>7} | first  last")
    for r in rows:
        print(f"{r['object']:>8} {r['click']:>9} | {r['iou']:8.2f} {r['iou_0.5']:8.0%} {r['boundary_f']:8.2f} "
              f"{r['flicker']:7.1%} | {r['first_iou']:.2f}  {r['last_iou']:.2f}")
    for name in dict.fromkeys(r["object"] for r in rows):
        print(mean_line(name, "all", [r for r in rows if r["object"] == name]))
    print(mean_line("overall", str(len(rows)), rows) + "   (goals: 0.80, 95%, flicker < 2%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
