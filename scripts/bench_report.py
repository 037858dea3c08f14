"""Regenerates docs/bench.md and docs/bench.png: per-stage time, naive vs focusr, at 640x480
and 1280x720, from `focusr bench --json` on vtest.avi.

    .venv/bin/python scripts/bench_report.py [--weights yolov8n-seg.yaml] [--frames 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / ".cache" / "test-assets"
SIZES = {"640x480": "402,204", "1280x720": "804,306"}  # the same walker, clicked in both
STAGES = ("decode", "detect", "track", "segment", "render", "encode")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="yolov8n-seg.yaml")
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    rows = []
    for size, click in SIZES.items():
        out = subprocess.run(
            [str(ROOT / ".venv/bin/focusr"), "bench", str(ASSETS / "vtest.avi"), "--size", size, "--click", click,
             "--frames", str(args.frames), "--weights", args.weights,
             "--segmenter", str(ASSETS / "selfie_segmentation.tflite"), "--json"],
            capture_output=True, text=True, check=True).stdout
        rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    lines = [f"# Benchmark: naive design vs focusr\n",
             f"`.venv/bin/python scripts/bench_report.py --weights {args.weights} --frames {args.frames}` "
             f"on {machine}; vtest.avi, detection every 5 frames, one walker clicked.\n",
             "| size | pipeline | fps | frame time mean | p95 | " + " | ".join(STAGES) + " |",
             "|---|---|---|---|---|" + "---|" * len(STAGES)]
    for r in rows:
        lines.append(f"| {r['size']} | {r['name']} | {r['fps']:.1f} | {r['mean_ms']:.1f} ms | {r['p95_ms']:.1f} ms | "
                     + " | ".join(f"{r['stages'][s]['mean_ms']:.1f}" for s in STAGES) + " |")
    for size in SIZES:
        naive, ours = (next(r for r in rows if r["size"] == size and r["name"] == n) for n in ("naive", "focusr"))
        lines.append(f"\n{size}: focusr/naive = {ours['fps'] / naive['fps']:.2f}x")
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "bench.md").write_text("\n".join(lines) + "\n\n![per-stage time](bench.png)\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SIZES), figsize=(11, 4), sharey=False)
    colours = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2"]
    for ax, size in zip(axes, SIZES):
        subset = [r for r in rows if r["size"] == size]
        bottom = [0.0] * len(subset)
        for stage, colour in zip(STAGES, colours):
            values = [r["stages"][stage]["mean_ms"] for r in subset]
            ax.bar([r["name"] for r in subset], values, bottom=bottom, color=colour, label=stage)
            bottom = [b + v for b, v in zip(bottom, values)]
        for i, r in enumerate(subset):
            ax.text(i, bottom[i], f"{r['fps']:.1f} fps", ha="center", va="bottom")
        ax.set_title(f"{size}: mean ms per frame, by stage")
        ax.set_ylabel("ms")
    axes[0].legend(loc="upper right")
    fig.suptitle(f"naive vs focusr ({args.weights}, {machine})")
    fig.tight_layout()
    fig.savefig(ROOT / "docs" / "bench.png", dpi=110)
    print((ROOT / "docs" / "bench.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
