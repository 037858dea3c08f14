"""Soak: many frames through the dashboard's own session path; resident memory after warm-up.

    .venv/bin/python scripts/soak.py [--frames 10000] [--weights PATH] [--json]

vtest.avi at 640x480, looped, through a `FocusSession` exactly as a browser session drives it
(submit, worker thread, background detector, reply), one frame in flight. Like a user it hovers every frame, clicks a new subject
every 250 frames, releases every 1000, and like a bad network it sends a damaged frame every
100. Prints resident memory (RSS) after a 1000-frame warm-up (models are loaded first) and every 1000 frames, then the
growth. Goal: under 50 MB of growth over the 10,000 frames after warm-up.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".cache" / "test-assets"
WARM_UP = 1000  # one full cycle of the clicks below
CLICKS = [(402, 204), (553, 232), (222, 216), (320, 300)]  # walkers and road in vtest at 640x480


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=11_000, help="in all, warm-up included (default 11000)")
    ap.add_argument("--weights", default=str(ASSETS / "person_yolov8.pt"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from focusr import frames as wire
    from focusr.bench import read_frames
    from focusr.pipeline import FocusPipeline
    from focusr.session import FocusSession

    clip = [wire.pack({"seq": i}, wire.encode_jpeg(f))
            for i, f in enumerate(read_frames(str(ASSETS / "vtest.avi"), (640, 480), 300))]
    damaged = clip[0][: len(clip[0]) // 2]
    pipeline = FocusPipeline()
    pipeline.detector.param.update(weights=args.weights, person_labels=["Normal", "Fall", "person"])
    pipeline.segmenter.person_model = str(ASSETS / "selfie_segmentation.tflite")
    pipeline.detector.model  # models load once per process, as on a server: before the count starts
    pipeline.segmenter._person_segmenter()
    replied = threading.Event()
    session = FocusSession(on_output=lambda payload: replied.set(), pipeline=pipeline)
    samples, start, base = [], time.perf_counter(), None
    for i in range(args.frames):
        payload = damaged if i % 100 == 99 else clip[i % len(clip)]
        x, y = CLICKS[(i // 250) % len(CLICKS)]
        if i % 1000 == 999:
            session.release()
        elif i % 250 == 0:
            session.click((x, y))
        else:
            session.hover((x + (i % 40) - 20, y))
        replied.clear()
        session.submit(payload)
        if not replied.wait(10.0):
            raise SystemExit(f"no reply to frame {i} within 10 s: the worker is stuck")
        if i + 1 == WARM_UP:
            base = rss_mb()
        if (i + 1) % 1000 == 0:
            samples.append((i + 1, round(rss_mb(), 1)))
            if not args.json:
                print(f"{i + 1:>6} frames: RSS {samples[-1][1]:.1f} MB, dropped {session.dropped}", flush=True)
    elapsed = time.perf_counter() - start
    session.close(wait=5)
    result = {
        "frames": args.frames, "seconds": round(elapsed, 1), "fps": round(args.frames / elapsed, 1),
        "rss_after_warm_up_mb": round(base, 1) if base else None, "rss_end_mb": samples[-1][1] if samples else None,
        "growth_mb": round(samples[-1][1] - base, 1) if samples and base else None,
        "peak_mb": max(s[1] for s in samples) if samples else None, "dropped": session.dropped,
        "machine": f"{platform.machine()} ({__import__('os').cpu_count()} cores)",
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k:>20}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
