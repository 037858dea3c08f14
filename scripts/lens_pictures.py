"""The lens, pictured: one frame of real footage with the same subject kept sharp, through each
bokeh (Gaussian, disc, blades) at one aperture, side by side, for the README (issue 16).

    .venv/bin/python scripts/lens_pictures.py [--video V] [--frame N] [--click X,Y] [--aperture F]
                                              [--out docs/lens.jpg]

The subject is cut out as the product does it: the click on frame N, the person model's
detection under it and the person segmenter's matte (weights from the test assets). Each panel
is rendered from that frame and matte by the Renderer with only `bokeh` changed; under the
panels, a crop around the brightest out-of-focus spot, enlarged, where the shape shows most.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".cache" / "test-assets"
CROP = 120  # px of the frame around the brightest spot, shown ZOOM times
ZOOM = 2
SIZE = (640, 480)


def read_frame(video: str, index: int) -> np.ndarray:
    cap = cv2.VideoCapture(video)
    frame = None
    for _ in range(index + 1):
        ok, frame = cap.read()
        if not ok:
            sys.exit(f"lens_pictures: {video} has fewer than {index + 1} frames")
    return cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA)  # as the page sends it


def cut_out(frame, click):
    """The product's matte for the subject clicked: detection under the click, then its cut-out."""
    from focusr.cli import build_parser, load_models, make_pipeline
    from focusr.types import Pointer

    weights, segmenter = str(ASSETS / "person_yolov8.pt"), str(ASSETS / "selfie_segmentation.tflite")
    args = build_parser().parse_args(["render", "in.mp4", "-o", "out.mp4", "--weights", weights, "--segmenter",
                                      segmenter, "--person-labels", "Normal,Fall"])
    p = make_pipeline(args)  # as `focusr render` makes it: the click detects on its own frame
    load_models(p, weights, segmenter, frame.shape[:2], args.person_labels)
    _, result = p.process(frame, Pointer(click=click), t=0.0)
    if result.matte is None or result.subject is None:
        sys.exit(f"lens_pictures: nothing to lock at {click}")
    return result.matte, result.subject


def label(image, text):
    out = image.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 30), (0, 0, 0), -1)
    cv2.putText(out, text, (8, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> int:
    from focusr.render import Renderer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", default=str(ASSETS / "vtest.avi"))
    ap.add_argument("--frame", type=int, default=0)
    ap.add_argument("--click", default="222,217", help="X,Y on the frame (default: a walker in vtest.avi)")
    ap.add_argument("--aperture", type=float, default=1.8)
    ap.add_argument("--out", default=str(ROOT / "docs" / "lens.jpg"))
    args = ap.parse_args()
    frame = read_frame(args.video, args.frame)
    click = tuple(float(v) for v in args.click.split(","))
    matte, subject = cut_out(frame, click)

    panels = {shape: Renderer(bokeh=shape, aperture=args.aperture).render(frame, matte)
              for shape in ("gaussian", "disc", "blades")}
    # where the shape shows: the brightest small spot (a white top-hat) well away from the subject
    grey = cv2.morphologyEx(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), cv2.MORPH_TOPHAT,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15)))
    grey = cv2.GaussianBlur(grey, (0, 0), 2).astype(np.float32)
    far = cv2.distanceTransform((matte < 128).astype(np.uint8), cv2.DIST_L2, 3)
    grey[far < 0.25 * np.hypot(*frame.shape[:2])] = 0
    h, w = frame.shape[:2]
    y, x = np.unravel_index(int(np.argmax(grey)), grey.shape)
    x0, y0 = int(np.clip(x - CROP // 2, 0, w - CROP)), int(np.clip(y - CROP // 2, 0, h - CROP))
    tiles = []
    for shape, out in panels.items():
        crop = cv2.resize(out[y0:y0 + CROP, x0:x0 + CROP], (CROP * ZOOM, CROP * ZOOM), interpolation=cv2.INTER_NEAREST)
        top = label(out, f"{shape}, f/{args.aperture:g}")
        cv2.rectangle(top, (x0, y0), (x0 + CROP, y0 + CROP), (255, 255, 255), 1)
        bottom = np.zeros((CROP * ZOOM, w, 3), np.uint8)
        bottom[:, (w - CROP * ZOOM) // 2:(w - CROP * ZOOM) // 2 + CROP * ZOOM] = crop
        tiles.append(np.vstack([top, bottom]))
    sheet = np.hstack([np.pad(t, ((0, 0), (2, 2), (0, 0))) for t in tiles])
    scale = min(1.0, 1600 / sheet.shape[1])
    sheet = cv2.resize(sheet, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, sheet, [cv2.IMWRITE_JPEG_QUALITY, 85] if args.out.endswith(".jpg") else [])
    print(f"{args.out}: frame {args.frame} of {Path(args.video).name}, {subject.label} locked at {args.click}, "
          f"f/{args.aperture:g}; crop at {x0},{y0} ({CROP} px, x{ZOOM})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
