"""`focusr bench`: the product's pipeline against the original design written plainly,
in one process, on the same decoded frames, with the same detector settings and the same click.

naive:  the original design as a competent engineer would write it in an afternoon. Frames
        arrive as base64 JPEG data URLs. The product's own Detector (same weights, score
        floor and image size) runs synchronously every N frames, and again on the frame CSRT
        reports failure; CSRT (stock settings, full resolution) follows the subject between
        detections and is re-seeded by each detection that matches it. Every 3 frames the
        subject is segmented: MediaPipe's selfie segmenter on a crop around a person with a
        margin; the detector's instance mask for other detected objects when it has one;
        otherwise GrabCut in the box plus a margin (INIT_WITH_RECT, 3 iterations). In between,
        the matte moves with the box. One full-frame Gaussian blur (uint8) and one alpha blend
        with the feathered matte; JPEG, base64 and a data URL out.
focusr: binary JPEG in and out through the dashboard's own per-frame path (FocusSession.handle);
        its detector runs on a background thread; the pointer rests on the click point and
        clicks once a hover box shows there, as a user does, and the click takes what was shown.

Both report every stage of focusr.timing.STAGES (a stage the naive design does not have is 0),
how many detections each ran and how many times each segmentation branch ran.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from focusr.geometry import iou
from focusr.timing import STAGES
from focusr.types import HELD, REGION_LABEL, Pointer

SEGMENT_EVERY = 3  # frames between segmentations, as in the design
MARGIN = 0.2  # share of the box's size added on each side of the crop that is segmented
GRABCUT_ITERATIONS = 3
JPEG_QUALITY = 80  # the product's session default
PREVIEW_STEP = 15  # frames the bench's pointer rests on each spot with --preview: half a second at 30 fps
HOVER_WAIT_S = 30.0  # how long the bench's pointer waits for a hover box before it clicks regardless


class NaivePipeline:
    """The original design, written plainly: synchronous, one thing after another, full resolution."""

    def __init__(self, detector, interval: int, selfie_path: str | None, blur: float | None = None,
                 feather: float | None = None):
        from focusr.render import Renderer

        self.detector = detector  # a focusr.detect.Detector: the product's detector, settings and all
        self.interval = interval
        self.blur = Renderer.param.blur_strength.default if blur is None else blur
        self.feather = Renderer.param.feather.default if feather is None else feather
        self.index = -1
        self.tracker = None  # cv2 CSRT while the subject is followed; None before the click and while lost
        self.box: tuple[int, int, int, int] | None = None  # x1, y1, x2, y2, integer pixels
        self.label: str | None = None
        self.is_person = False
        self.lost = False
        self.has_mask = False  # the subject's detections carry instance masks
        self.since_segment = 0
        self.matte_crop: np.ndarray | None = None  # uint8, feathered, over the box plus margin
        self.matte_offset = (0, 0)  # where matte_crop's corner sits relative to the box's corner
        self.detections = 0  # detector runs
        self.segments = {"mediapipe": 0, "mask": 0, "grabcut": 0}  # segmentations run, per branch
        self.tracked_frames = 0  # frames on which CSRT (or a detection) placed the box
        self.lock: dict | None = None  # what the click locked: label and box
        self.segmenter = None
        if selfie_path:
            from mediapipe.tasks.python import BaseOptions, vision

            self.segmenter = vision.ImageSegmenter.create_from_options(vision.ImageSegmenterOptions(
                base_options=BaseOptions(model_asset_path=str(selfie_path)), running_mode=vision.RunningMode.IMAGE,
                output_confidence_masks=True, output_category_mask=False))

    def close(self) -> None:
        if self.segmenter is not None:
            self.segmenter.close()
            self.segmenter = None

    # -- one frame --------------------------------------------------------------------------
    def process(self, data_url: str, click=None) -> tuple[str, dict[str, float]]:
        ms = dict.fromkeys(STAGES, 0.0)
        clock = time.perf_counter
        self.index += 1

        t = clock()
        frame = cv2.imdecode(np.frombuffer(base64.b64decode(data_url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
        ms["decode"] = (clock() - t) * 1000.0

        # detection every N frames (and on the click); CSRT between detections; when CSRT
        # reports failure, detection runs on that frame to find the subject again
        found, scheduled = None, click is not None or self.index % self.interval == 0
        if scheduled:
            found = self._detect(frame, click, ms)
        if self.tracker is not None and click is None and found is None:
            t = clock()
            ok, (x, y, w, h) = self.tracker.update(frame)
            if ok:
                self.box = self._clip((x, y, x + w, y + h), frame.shape)
            else:
                self.tracker, self.lost = None, True
            ms["track"] += (clock() - t) * 1000.0
            if not ok and not scheduled:
                found = self._detect(frame, None, ms)
        if self.tracker is not None:
            self.tracked_frames += 1

        t = clock()
        matte = None
        if self.box is not None:
            if not self.lost:
                if found is not None and found.mask is not None and not self.is_person:
                    self._segment(frame, found)  # the detector's own mask, fresh
                elif self.matte_crop is None or self.since_segment >= SEGMENT_EVERY - 1:
                    if self.is_person or not self.has_mask:  # a masked subject keeps its last mask
                        self._segment(frame, None)
                else:
                    self.since_segment += 1
            matte = self._matte(frame.shape)
        ms["segment"] = (clock() - t) * 1000.0

        t = clock()
        out = frame
        if matte is not None:
            sigma = self.blur * frame.shape[1] / 640.0
            blurred = cv2.GaussianBlur(frame, (0, 0), sigma)
            alpha = cv2.cvtColor(matte, cv2.COLOR_GRAY2BGR)
            out = cv2.add(cv2.multiply(frame, alpha, scale=1 / 255.0),
                          cv2.multiply(blurred, cv2.bitwise_not(alpha), scale=1 / 255.0))
        ms["render"] = (clock() - t) * 1000.0

        t = clock()
        jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1]
        reply = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        ms["encode"] = (clock() - t) * 1000.0
        return reply, ms

    # -- detection and tracking -------------------------------------------------------------
    def _detect(self, frame, click, ms):
        """Detect on this frame; lock on the click, else the detection that is the subject (which
        re-seeds CSRT: the detector corrects its drift, or finds a lost subject again)."""
        t = time.perf_counter()
        dets = self.detector.detect(frame)
        self.detections += 1
        ms["detect"] += (time.perf_counter() - t) * 1000.0
        t = time.perf_counter()
        found = None
        if click is not None:
            found = self._under(dets, click)
            self._lock(frame, found, click)
        elif self.box is not None:
            found = self._match(dets)
            if found is not None:
                self.box, self.label, self.lost = self._clip(found.box, frame.shape), found.label, False
                self.has_mask = found.mask is not None
                self._start_tracker(frame)
        ms["track"] += (time.perf_counter() - t) * 1000.0
        return found

    @staticmethod
    def _clip(box, shape) -> tuple[int, int, int, int]:
        h, w = shape[:2]
        x1, y1 = min(max(int(box[0]), 0), w - 2), min(max(int(box[1]), 0), h - 2)
        return x1, y1, min(max(int(round(box[2])), x1 + 2), w), min(max(int(round(box[3])), y1 + 2), h)

    @staticmethod
    def _under(dets, point):
        hits = [d for d in dets if d.box[0] <= point[0] <= d.box[2] and d.box[1] <= point[1] <= d.box[3]]
        return min(hits, key=lambda d: d.area) if hits else None

    def _same_kind(self, det) -> bool:
        return self.detector.is_person(det.label) if self.is_person else det.label == self.label

    def _match(self, dets):
        """The detection that is the subject: the best overlap while tracked; when lost, the
        nearest of its kind within one box diagonal of where it was last seen."""
        dets = [d for d in dets if self._same_kind(d)]
        if not dets:
            return None
        if not self.lost:
            best = max(dets, key=lambda d: iou(d.box, self.box))
            return best if iou(best.box, self.box) >= 0.3 else None
        x1, y1, x2, y2 = self.box
        cx, cy, diag = (x1 + x2) / 2, (y1 + y2) / 2, float(np.hypot(x2 - x1, y2 - y1))
        dist = lambda d: float(np.hypot((d.box[0] + d.box[2]) / 2 - cx, (d.box[1] + d.box[3]) / 2 - cy))  # noqa: E731
        best = min(dets, key=dist)
        return best if dist(best) <= diag else None

    def _lock(self, frame, det, click) -> None:
        """The detection under the click; with none, a square around it (a sixth of the frame)."""
        h, w = frame.shape[:2]
        if det is not None:
            self.box, self.label = self._clip(det.box, frame.shape), det.label
        else:
            r = max(h, w) / 12
            self.box = self._clip((click[0] - r, click[1] - r, click[0] + r, click[1] + r), frame.shape)
            self.label = REGION_LABEL
        self.is_person = self.detector.is_person(self.label)
        self.has_mask = det is not None and det.mask is not None
        self.lost, self.matte_crop = False, None
        self.lock = {"label": self.label, "box": list(self.box), "detection": det is not None}
        self._start_tracker(frame)

    def _start_tracker(self, frame) -> None:
        x1, y1, x2, y2 = self.box
        self.tracker = cv2.TrackerCSRT_create()
        self.tracker.init(frame, (x1, y1, x2 - x1, y2 - y1))

    # -- segmentation -----------------------------------------------------------------------
    def _segment(self, frame, det) -> None:
        """The subject's matte over its box plus a margin, feathered, kept relative to the box."""
        h, w = frame.shape[:2]
        x1, y1, x2, y2 = self.box
        mx, my = int(MARGIN * (x2 - x1)), int(MARGIN * (y2 - y1))
        cx1, cy1, cx2, cy2 = max(x1 - mx, 0), max(y1 - my, 0), min(x2 + mx, w), min(y2 + my, h)
        crop = frame[cy1:cy2, cx1:cx2]
        if self.is_person and self.segmenter is not None:
            import mediapipe as mp

            rgb = np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
            masks = self.segmenter.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)).confidence_masks
            # one mask: the person's confidence; two: background first, then the person
            conf = masks[-1].numpy_view().reshape(crop.shape[:2])
            matte = cv2.convertScaleAbs(conf, alpha=255.0)
            self.segments["mediapipe"] += 1
        elif det is not None and det.mask is not None:
            matte = det.mask[cy1:cy2, cx1:cx2].astype(np.uint8) * 255
            self.segments["mask"] += 1
        else:
            gc = np.zeros(crop.shape[:2], np.uint8)
            rect = (x1 - cx1, y1 - cy1, x2 - x1, y2 - y1)
            try:
                cv2.grabCut(crop, gc, rect, np.zeros((1, 65)), np.zeros((1, 65)), GRABCUT_ITERATIONS,
                            cv2.GC_INIT_WITH_RECT)
                matte = np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
            except cv2.error:  # the box fills the crop (at the frame's edge): nothing to learn background from
                matte = np.zeros(crop.shape[:2], np.uint8)
                matte[rect[1] : rect[1] + rect[3], rect[0] : rect[0] + rect[2]] = 255
            self.segments["grabcut"] += 1
        f = self.feather * w / 640.0
        self.matte_crop = cv2.GaussianBlur(matte, (0, 0), f) if f > 0 else matte
        self.matte_offset = (cx1 - x1, cy1 - y1)
        self.since_segment = 0

    def _matte(self, shape) -> np.ndarray:
        """The last matte, placed where the box is now: a frame-sized uint8 alpha."""
        h, w = shape[:2]
        matte = np.zeros((h, w), np.uint8)
        ch, cw = self.matte_crop.shape
        x, y = self.box[0] + self.matte_offset[0], self.box[1] + self.matte_offset[1]
        fx1, fy1, fx2, fy2 = max(x, 0), max(y, 0), min(x + cw, w), min(y + ch, h)
        if fx2 > fx1 and fy2 > fy1:
            matte[fy1:fy2, fx1:fx2] = self.matte_crop[fy1 - y : fy2 - y, fx1 - x : fx2 - x]
        return matte


def read_frames(path: str, size: tuple[int, int], count: int) -> list[np.ndarray]:
    from focusr.video import VideoReader

    frames = []
    with VideoReader(path) as reader:
        while len(frames) < count:
            for frame in reader:
                frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
                if len(frames) >= count:
                    break
            else:
                if not frames:
                    break
                frames += frames[: count - len(frames)]  # short clip: loop it
    return frames


def summarise(name: str, timings: list[dict[str, float]], elapsed: float, warm: int) -> dict:
    body = timings[warm:]
    totals = [sum(t.values()) for t in body]
    stages = {}
    for s in STAGES:
        values = [t.get(s, 0.0) for t in body]
        stages[s] = {"mean_ms": round(float(np.mean(values)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2)}
    return {"name": name, "fps": round(len(body) / elapsed, 2), "p95_ms": round(float(np.percentile(totals, 95)), 2),
            "mean_ms": round(float(np.mean(totals)), 2), "frames": len(body), "stages": stages,
            "seconds": round(elapsed, 3)}


def _counting(fn, counts: dict, key: str):
    def wrapper(*args, **kwargs):
        out = fn(*args, **kwargs)
        counts[key] += 1
        if out is None:
            counts[key + " (nothing found)"] += 1
        return out

    return wrapper


def run(args) -> int:
    from focusr import frames as wire
    from focusr import models
    from focusr.cli import load_models
    from focusr.detect import Detector
    from focusr.pipeline import FocusPipeline
    from focusr.subjects import settings as stage_settings
    from focusr.video import InputError

    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise InputError(f"--size {args.size!r}: expected WxH, e.g. 640x480") from None
    if not (64 <= w <= 3840 and 64 <= h <= 2160):
        raise InputError(f"--size {args.size}: width and height must be 64..3840 x 64..2160")
    if not (10 <= args.frames <= 100_000):
        raise InputError("--frames must be between 10 and 100000")
    if not (1 <= args.interval <= 60):
        raise InputError("--interval must be between 1 and 60")
    if not (1 <= args.subjects <= 8):
        raise InputError("--subjects must be between 1 and 8")
    frames = read_frames(args.video, (w, h), args.frames)
    labels = models.parse_labels(args.person_labels) or models.person_labels()
    segmenter = getattr(args, "segmenter", "") or ""

    # the product's pipeline as the dashboard builds it; the naive design gets a Detector with
    # exactly its detector's settings (weights, score and its floor for .yaml models, image size)
    pipeline = FocusPipeline(detect_interval=args.interval, overlays=False)
    try:
        pipeline.detector.param.update(weights=args.weights, person_labels=labels)
    except ValueError as exc:
        raise InputError(str(exc).splitlines()[0]) from None
    pipeline.segmenter.person_model = segmenter
    notices = load_models(pipeline, args.weights, segmenter, (h, w), args.person_labels)  # named: must load
    settings = stage_settings(pipeline.detector)
    naive_detector = Detector(**settings)
    if not naive_detector.available:
        raise InputError(f"{naive_detector.error}. Or pass --weights yolov8n-seg.yaml to time the default model's size")
    for notice in notices:  # the detector is there: what is left is the segmenter's
        print(f"focusr: warning: {notice}", file=sys.stderr)
    if args.click:
        try:
            click = tuple(float(v) for v in args.click.split(","))
            assert len(click) == 2 and 0 <= click[0] < w and 0 <= click[1] < h
        except (ValueError, AssertionError):
            raise InputError(f"--click {args.click!r}: expected X,Y inside the {w}x{h} frame") from None
    else:
        click = choose_click(Detector(**settings), frames[0])
    warm = min(10, len(frames) // 5)

    try:  # the product's background detector lowers torch's thread count for the process: restore it after
        import torch

        threads = torch.get_num_threads()
    except ImportError:  # pragma: no cover - ultralytics needs torch
        torch, threads = None, 0

    # naive
    naive = NaivePipeline(naive_detector, args.interval, segmenter or None)
    payloads = ["data:image/jpeg;base64," + base64.b64encode(wire.encode_jpeg(f, JPEG_QUALITY)).decode("ascii")
                for f in frames]
    timings, start = [], time.perf_counter()
    for i, p in enumerate(payloads):
        if i == warm:
            start = time.perf_counter()
        timings.append(naive.process(p, click if i == 0 else None)[1])
    naive_result = summarise("naive", timings, time.perf_counter() - start, warm)
    naive_result.update(detections=naive.detections, segments=dict(naive.segments), lock=naive.lock,
                        tracked_frames=naive.tracked_frames, final_box=list(naive.box) if naive.box else None)
    naive.close()
    del payloads

    # focusr, through the dashboard's own per-frame path
    payloads = [wire.pack({"seq": i}, wire.encode_jpeg(f, JPEG_QUALITY)) for i, f in enumerate(frames)]
    focusr_result = focusr_pass("focusr", pipeline, payloads, [click], warm)
    results = [naive_result, focusr_result]
    def another(**params):  # a pipeline like the first, its models loaded (shared: cached per process)
        more = FocusPipeline(detect_interval=args.interval, overlays=False, **params)
        more.detector.param.update(weights=args.weights, person_labels=labels)
        more.segmenter.person_model = segmenter
        load_models(more, args.weights, segmenter, (h, w), args.person_labels)
        return more

    if args.subjects > 1:  # the same with several subjects kept: Ctrl-clicks on the next largest
        more = another()
        clicks = [click, *choose_clicks(Detector(**settings), frames[0], args.subjects - 1, besides=click)]
        results.append(focusr_pass(f"focusr-{args.subjects}", more, payloads, clicks, warm))
    if getattr(args, "bokeh", ""):  # the same, through a lens
        more = another()
        more.renderer.bokeh = args.bokeh
        results.append(focusr_pass(f"lens-{args.bokeh}", more, payloads, [click], warm))
    if getattr(args, "preview", ""):  # the pointer resting on undetected things, a new spot every PREVIEW_STEP frames
        try:
            spot = tuple(float(v) for v in args.preview.split(","))
            assert len(spot) == 2 and 0 <= spot[0] < w and 0 <= spot[1] < h
        except (ValueError, AssertionError):
            raise InputError(f"--preview {args.preview!r}: expected X,Y inside the {w}x{h} frame") from None
        path = preview_path(spot, len(payloads), (w, h))
        for name, on in (("hover", False), ("preview", True)):  # the same pointer, without and with the outline
            more = another(hover_preview=on)
            results.append(focusr_pass(name, more, payloads, [click], warm, hover=path))
    if torch is not None:
        torch.set_num_threads(threads)

    ratio = focusr_result["fps"] / max(naive_result["fps"], 1e-9)
    if args.json:
        for r in results:
            print(json.dumps({**r, "size": f"{w}x{h}", "weights": Path(args.weights or "").name or "default",
                              "click": list(click), "interval": args.interval, "frames_total": len(frames)}))
    else:
        print(f"{len(frames)} frames of {args.video} at {w}x{h}, detect every {args.interval}, "
              f"weights {args.weights or 'default'}, click at {click[0]:.0f},{click[1]:.0f}; "
              f"the first {warm} frames are not timed")
        more = results[2:]  # focusr with several subjects, when timed
        print(f"{'stage':>8} | {'naive mean':>10} {'p95':>7} | {'focusr mean':>11} {'p95':>7}"
              + "".join(f" | {r['name'] + ' mean':>13} {'p95':>7}" for r in more) + "   (ms)")
        for s in STAGES:
            a, b = naive_result["stages"][s], focusr_result["stages"][s]
            print(f"{s:>8} | {a['mean_ms']:>10.1f} {a['p95_ms']:>7.1f} | {b['mean_ms']:>11.1f} {b['p95_ms']:>7.1f}"
                  + "".join(f" | {r['stages'][s]['mean_ms']:>13.1f} {r['stages'][s]['p95_ms']:>7.1f}" for r in more))
        for r in results:
            print(f"{r['name']:>8}: {r['fps']:6.1f} fps, frame time mean {r['mean_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms")
    n = len(frames)
    print(f"detections: naive {naive_result['detections']} (on the frame, synchronous), focusr "
          f"{focusr_result['detections']} (on a background thread; the click takes what was shown), in {n} frames")
    print("segmentations: naive " + ", ".join(f"{k} {v}" for k, v in naive_result["segments"].items())
          + "; focusr " + ", ".join(f"{k} {v}" for k, v in focusr_result["segments"].items()))
    for r in results:
        lk = r["lock"] or {}
        print(f"{r['name']:>8} locked {lk.get('label')} at {lk.get('box')}, tracked {r['tracked_frames']}/{n} frames, "
              f"last box {r['final_box']}")
    print(f"ratio focusr/naive: {ratio:.2f}x")
    named = {r["name"]: r for r in results}
    if "preview" in named:
        on, off = named["preview"], named["hover"]
        print(f"hover preview (the pointer resting on a new spot around {args.preview} every {PREVIEW_STEP} "
              f"frames, {on['previews_grown']} regions grown in {on['previews_s']:.2f} s of its thread, "
              f"{on['previews_s'] / max(on['seconds'], 1e-9):.1%} of the pass): {on['fps']:.1f} fps, "
              f"{on['fps'] / max(off['fps'], 1e-9):.0%} of the same pointer without it ({off['fps']:.1f} fps); "
              f"the subject held {on['tracked_frames']} and {off['tracked_frames']} of {n} frames")
    lensed = named.get(f"lens-{getattr(args, 'bokeh', '')}")
    if lensed is not None:
        a, b = focusr_result["stages"]["render"], lensed["stages"]["render"]
        print(f"{args.bokeh} bokeh: render mean {b['mean_ms']:.1f} ms, p95 {b['p95_ms']:.1f} ms; Gaussian "
              f"{a['mean_ms']:.1f} ms, p95 {a['p95_ms']:.1f} ms: {b['mean_ms'] - a['mean_ms']:+.1f} ms a frame; "
              f"{lensed['fps']:.1f} fps against {focusr_result['fps']:.1f}")
    many = next((r for r in results[2:] if r["name"].startswith("focusr-")), None)
    if many is not None:
        print(f"{many['subjects_kept']} subjects kept (of {args.subjects} clicked, on the last frame): "
              f"{many['fps']:.1f} fps, {many['fps'] / max(focusr_result['fps'], 1e-9):.0%} of one subject's "
              f"{focusr_result['fps']:.1f} fps; each held " + ", ".join(f"{a}/{b}" for a, b in many["subjects_held"])
              + " frames from its click")
        mine, one = many["all_held"], focusr_result["all_held"]
        if mine["fps"] and one["fps"]:  # like for like: the frames on which each pass kept every subject it clicked
            print(f"on the frames where every subject clicked was held ({mine['frames']} and {one['frames']}): "
                  f"{mine['fps']:.1f} fps, {mine['fps'] / one['fps']:.0%} of one subject's {one['fps']:.1f} fps")
    return 0


def focusr_pass(name: str, pipeline, payloads: list[bytes], clicks: list, warm: int,
                hover: list | None = None) -> dict:
    """The product's pipeline through the dashboard's own per-frame path (FocusSession.handle),
    timed from frame `warm` on. As on the page: before the timed frames, the pointer rests on
    the first click point over the first frame until a hover box shows what can be focused
    there (the background detector's first result, model warm-up included), or HOVER_WAIT_S
    has passed; that click is on that frame; each further click keeps one more subject (a
    Ctrl-click, mode "add"), one a frame."""
    from focusr import frames as wire
    from focusr.session import FocusSession

    seg = pipeline.segmenter
    counts = {"mediapipe": 0, "mediapipe (nothing found)": 0, "grabcut": 0, "grabcut (nothing found)": 0}
    for method, key in (("_person", "mediapipe"), ("_grabcut", "grabcut")):  # count its branches as it runs
        if callable(getattr(seg, method, None)):
            setattr(seg, method, _counting(getattr(seg, method), counts, key))
    session = FocusSession(on_output=lambda payload: None, pipeline=pipeline)
    session.jpeg_quality = JPEG_QUALITY
    click = clicks[0]
    shown, deadline = None, time.perf_counter() + HOVER_WAIT_S
    while shown is None and time.perf_counter() < deadline:
        header = wire.unpack(session.handle(payloads[0], Pointer(hover=click)))[0]
        shown = pipeline.frame_index if header["hover"] is not None else None
        time.sleep(0.01)
    pointers = [Pointer(hover=click, click=click, shown=shown), *(Pointer(click=c, mode="add") for c in clicks[1:])]
    timings, lock, locked, header, held = [], None, 0, {}, {}
    holding = []  # (seconds, every subject clicked held) of each timed frame
    holds = {state.value for state in HELD}
    start = time.perf_counter()
    for i, p in enumerate(payloads):
        if i == warm:
            start = time.perf_counter()
        rest = Pointer(hover=hover[i]) if hover else Pointer()  # after the clicks, where the pointer rests
        began = time.perf_counter()
        reply = session.handle(p, pointers[i] if i < len(pointers) else rest)
        took = time.perf_counter() - began
        t = session.records[-1].timings_ms
        timings.append({s: t.get(s, 0.0) for s in STAGES})
        header = wire.unpack(reply)[0]
        locked += header["state"] in holds
        for subject in header.get("subjects", []):  # frames each subject was held, by its key, from its click
            held.setdefault(subject["key"], [0, 0])
            held[subject["key"]][0] += subject["state"] in holds
            held[subject["key"]][1] += 1
        if i >= max(warm, len(clicks)):
            subjects = header.get("subjects", [])
            holding.append((took, len(subjects) == len(clicks) and all(x["state"] in holds for x in subjects)))
        if i == 0:
            lock = {"label": header["label"], "box": header["box"]}
    result = summarise(name, timings, time.perf_counter() - start, warm)
    like = [took for took, all_held in holding if all_held]  # a lost subject costs less (or more) than one kept
    result["all_held"] = {"frames": len(like), "fps": round(len(like) / sum(like), 2) if like else None}
    session.close(wait=60.0)  # its worker closes the pipeline, which waits for a detection under way
    result.update(detections=pipeline.detector.runs, segments={k: v for k, v in counts.items() if v or "(" not in k},
                  lock=lock, tracked_frames=locked, final_box=header.get("box"),
                  subjects_kept=len(header.get("subjects", [])), subjects_held=list(held.values()),
                  previews_grown=pipeline.preview.grown, previews_s=pipeline.preview.seconds)
    return result


def preview_path(spot, n: int, size) -> list[tuple[float, float]]:
    """Where the pointer rests on each of n frames: around `spot`, moving to the next of eight
    points on a 30 px circle every PREVIEW_STEP frames (a user looking for what can be focused)."""
    w, h = size
    out = []
    for i in range(n):
        a = 2 * np.pi * ((i // PREVIEW_STEP) % 8) / 8
        out.append((float(np.clip(spot[0] + 30 * np.cos(a), 0, w - 1)),
                    float(np.clip(spot[1] + 30 * np.sin(a), 0, h - 1))))
    return out


def choose_click(detector, frame) -> tuple[float, float]:
    """The same click for both pipelines: the middle of the largest person, else of the largest
    detection, else of the frame."""
    return choose_clicks(detector, frame, 1)[0]


def choose_clicks(detector, frame, n: int, besides=None) -> list[tuple[float, float]]:
    """The middles of the n largest people (else detections), largest first, leaving out any
    under the point `besides` (clicked already); the frame's middle if there are none."""
    dets = [d for d in detector.detect(frame) if besides is None or not d.contains(besides)]
    people = [d for d in dets if detector.is_person(d.label)] or dets
    boxes: list = []
    for d in sorted(people, key=lambda d: d.area, reverse=True):  # one each: a person can be "Normal" and "Fall"
        if len(boxes) < n and all(iou(d.box, b) < 0.3 for b in boxes):
            boxes.append(d.box)
    return [(float((b[0] + b[2]) / 2), float((b[1] + b[3]) / 2)) for b in boxes] or \
        [(frame.shape[1] / 2, frame.shape[0] / 2)]


if __name__ == "__main__":
    from focusr.cli import main

    sys.exit(main(["bench", *sys.argv[1:]]))
