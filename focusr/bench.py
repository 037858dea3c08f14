"""`focusr bench`: the product's pipeline against the original design written plainly,
in one process, on the same decoded frames, detector and click.

naive:  base64 JPEG in; YOLO every N frames on the full frame; CSRT (stock settings) every
        frame at full resolution; segmentation every 3 frames (MediaPipe for people, GrabCut
        in the box otherwise); two full-frame Gaussian blurs blended by a distance map;
        JPEG + base64 out.
focusr: binary JPEG in and out through the dashboard's own session path (FocusSession).
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from focusr.types import Pointer

STAGES = ("decode", "detect", "track", "segment", "render", "encode")


class NaivePipeline:
    """The original design, plainly: every stage at full resolution, on the frame's own time."""

    def __init__(self, model, person_labels, interval: int, selfie_path: str | None, confidence: float,
                 blur: float = 14.0):
        self.model, self.person_labels, self.interval = model, set(person_labels), interval
        self.confidence = confidence
        self.blur = blur
        self.index = -1
        self.tracker = None
        self.box = None
        self.is_person = False
        self.mask = None
        self.segmenter = None
        if selfie_path:
            from mediapipe.tasks.python import BaseOptions, vision

            self.segmenter = vision.ImageSegmenter.create_from_options(vision.ImageSegmenterOptions(
                base_options=BaseOptions(model_asset_path=selfie_path), running_mode=vision.RunningMode.IMAGE,
                output_confidence_masks=True))

    def close(self) -> None:
        if self.segmenter is not None:
            self.segmenter.close()
            self.segmenter = None

    def process(self, payload: str, click) -> tuple[str, dict[str, float]]:
        ms: dict[str, float] = {}

        def timed(stage, fn):
            t = time.perf_counter()
            out = fn()
            ms[stage] = (time.perf_counter() - t) * 1000.0
            return out

        self.index += 1
        frame = timed("decode", lambda: cv2.imdecode(np.frombuffer(base64.b64decode(payload), np.uint8),
                                                      cv2.IMREAD_COLOR))
        dets = []
        if self.index % self.interval == 0 or click is not None:
            dets = timed("detect", lambda: self._detect(frame))
        else:
            ms["detect"] = 0.0
        t = time.perf_counter()
        if click is not None:
            hits = [d for d in dets if d[0] <= click[0] <= d[2] and d[1] <= click[1] <= d[3]]
            x, y = click
            box = min(hits, key=lambda d: (d[2] - d[0]) * (d[3] - d[1])) if hits else (x - 60, y - 60, x + 60, y + 60, "")
            self.is_person = box[4] in self.person_labels
            self.box = tuple(int(v) for v in box[:4])
            self.tracker = cv2.TrackerCSRT_create()
            self.tracker.init(frame, (self.box[0], self.box[1], self.box[2] - self.box[0], self.box[3] - self.box[1]))
        elif self.tracker is not None:
            ok, (x, y, w, h) = self.tracker.update(frame)
            if ok:
                self.box = (int(x), int(y), int(x + w), int(y + h))
        ms["track"] = (time.perf_counter() - t) * 1000.0
        if self.box is not None and (self.index % 3 == 0 or self.mask is None):
            self.mask = timed("segment", lambda: self._segment(frame))
        else:
            ms["segment"] = 0.0
        out = timed("render", lambda: self._render(frame))
        reply = timed("encode", lambda: base64.b64encode(cv2.imencode(".jpg", out,
                                                                      [cv2.IMWRITE_JPEG_QUALITY, 80])[1]).decode())
        return reply, ms

    def _detect(self, frame):
        r = self.model.predict(frame, conf=self.confidence, imgsz=640, verbose=False)[0]
        if r.boxes is None:
            return []
        return [(*b, r.names[int(c)]) for b, c in zip(r.boxes.xyxy.cpu().numpy(), r.boxes.cls.cpu().numpy())]

    def _segment(self, frame):
        x1, y1, x2, y2 = self.box
        h, w = frame.shape[:2]
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, w - 1), min(y2, h - 1)
        if self.is_person and self.segmenter is not None:
            import mediapipe as mp

            rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            conf = self.segmenter.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)).confidence_masks
            person = conf[0].numpy_view().reshape(h, w)
            mask = np.zeros((h, w), np.float32)
            mask[y1:y2, x1:x2] = person[y1:y2, x1:x2]
            return mask
        gc = np.zeros((h, w), np.uint8)
        try:
            cv2.grabCut(frame, gc, (x1, y1, max(x2 - x1, 2), max(y2 - y1, 2)), np.zeros((1, 65)), np.zeros((1, 65)),
                        3, cv2.GC_INIT_WITH_RECT)
        except cv2.error:
            gc[y1:y2, x1:x2] = cv2.GC_FGD
        return ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.float32)

    def _render(self, frame):
        if self.mask is None:
            return frame
        f = frame.astype(np.float32)
        sigma = self.blur * frame.shape[1] / 640.0
        near = cv2.GaussianBlur(f, (0, 0), sigma * 0.4)
        far = cv2.GaussianBlur(f, (0, 0), sigma)
        dist = cv2.distanceTransform((self.mask < 0.5).astype(np.uint8), cv2.DIST_L2, 5)
        w = np.clip(dist / (0.35 * np.hypot(*frame.shape[:2])), 0, 1)[..., None]
        back = (1 - w) * near + w * far
        m = self.mask[..., None]
        return np.clip(m * f + (1 - m) * back, 0, 255).astype(np.uint8)


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
            "mean_ms": round(float(np.mean(totals)), 2), "frames": len(body), "stages": stages}


def run(args) -> int:
    from focusr import frames as wire
    from focusr.models import load_yolo
    from focusr.pipeline import FocusPipeline
    from focusr.session import FocusSession
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
    frames = read_frames(args.video, (w, h), args.frames)
    labels = [s.strip() for s in args.person_labels.split(",") if s.strip()]
    from focusr.models import UNTRAINED_CONFIDENCE, ModelUnavailable, detector_choice, untrained

    try:
        model = load_yolo(detector_choice(args.weights))
    except ModelUnavailable as exc:
        raise InputError(f"{exc}. Or pass --weights yolov8n-seg.yaml to time the default model's size") from None
    from focusr.detect import Detector

    default = Detector.param.confidence.default
    confidence = UNTRAINED_CONFIDENCE if untrained(detector_choice(args.weights)) else default  # both pipelines
    if args.click:
        try:
            click = tuple(float(v) for v in args.click.split(","))
            assert len(click) == 2 and 0 <= click[0] < w and 0 <= click[1] < h
        except (ValueError, AssertionError):
            raise InputError(f"--click {args.click!r}: expected X,Y inside the {w}x{h} frame") from None
    else:
        click = choose_click(model, frames[0], labels, confidence)
    warm = min(10, len(frames) // 5)
    results = []

    naive = NaivePipeline(model, labels, args.interval, args.segmenter or None, confidence=confidence)
    payloads = [base64.b64encode(wire.encode_jpeg(f)).decode() for f in frames]
    timings = []
    start = None
    for i, p in enumerate(payloads):
        if i == warm:
            start = time.perf_counter()
        timings.append(naive.process(p, click if i == 0 else None)[1])
    results.append(summarise("naive", timings, time.perf_counter() - start, warm))
    naive.close()

    pipeline = FocusPipeline(detect_interval=args.interval, overlays=False)
    pipeline.detector.param.update(weights=args.weights, person_labels=labels)
    pipeline.segmenter.person_model = args.segmenter
    session = FocusSession(on_output=lambda payload: None, pipeline=pipeline)
    payloads = [wire.pack({"seq": i}, wire.encode_jpeg(f)) for i, f in enumerate(frames)]
    timings = []
    for i, p in enumerate(payloads):
        if i == warm:
            start = time.perf_counter()
        session.handle(p, Pointer(click=click) if i == 0 else Pointer())
        t = session.records[-1].timings_ms
        timings.append({"decode": t.get("decode", 0.0), "detect": t.get("detect", 0.0), "track": t.get("track", 0.0),
                        "segment": t.get("segment", 0.0),
                        "render": t.get("render", 0.0) + t.get("enhance", 0.0) + t.get("overlay", 0.0),
                        "encode": t.get("encode", 0.0)})
    results.append(summarise("focusr", timings, time.perf_counter() - start, warm))
    session.close()

    ratio = results[1]["fps"] / max(results[0]["fps"], 1e-9)
    if args.json:
        for r in results:
            print(json.dumps({**r, "size": f"{w}x{h}", "weights": Path(args.weights or "").name or "default"}))
    else:
        print(f"{len(frames)} frames of {args.video} at {w}x{h}, detect every {args.interval}, "
              f"weights {args.weights or 'default'}, click at {click[0]:.0f},{click[1]:.0f}")
        print(f"{'stage':>8} | {'naive mean':>10} {'p95':>7} | {'focusr mean':>11} {'p95':>7}   (ms)")
        for s in STAGES:
            a, b = results[0]["stages"][s], results[1]["stages"][s]
            print(f"{s:>8} | {a['mean_ms']:>10.1f} {a['p95_ms']:>7.1f} | {b['mean_ms']:>11.1f} {b['p95_ms']:>7.1f}")
        for r in results:
            print(f"{r['name']:>8}: {r['fps']:6.1f} fps, frame time mean {r['mean_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms")
    print(f"ratio focusr/naive: {ratio:.2f}x")
    return 0


def choose_click(model, frame, labels, confidence: float) -> tuple[float, float]:
    """The same click for both pipelines: the middle of the largest detection, else the frame's."""
    r = model.predict(frame, conf=confidence, verbose=False)[0]
    if r.boxes is not None and len(r.boxes):
        b = max(r.boxes.xyxy.cpu().numpy(), key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
        return float((b[0] + b[2]) / 2), float((b[1] + b[3]) / 2)
    return frame.shape[1] / 2, frame.shape[0] / 2


if __name__ == "__main__":
    sys.exit(run(None))
