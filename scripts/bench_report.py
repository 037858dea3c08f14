"""Regenerates docs/bench.md and docs/bench.png: the naive design against focusr, per footage and size.

Each measurement is one `focusr bench --json` run; the page and the plot show fps, p95, detections,
segmentations and mean time per stage for both pipelines.

    .venv/bin/python scripts/bench_report.py                      # every footage, 300 frames
    .venv/bin/python scripts/bench_report.py --footage pedestrian --frames 100 --repeat 2
    .venv/bin/python scripts/bench_report.py --footage box --merge   # box again, the rest kept
    .venv/bin/python scripts/bench_report.py --replot             # docs again from the last results

Footage (all from .cache/test-assets, fetched by scripts/test):
  vtest       vtest.avi, yolov8n-seg.yaml (the default detector's network, random weights, so
              it finds nothing above its 0.95 score floor: both lock the region under the click);
              640x480 and 1280x720
  box         box.mp4 (a yellow box), yolov8n-seg.yaml, a click on the box
  pedestrian  vtest.avi on the person path: the offline person detector (classes Normal, Fall),
              MediaPipe's selfie segmenter, a click on the walker on the left, whom the detector
              finds on the first frame (checked: the run fails if the naive pipeline locked
              anything else, or never ran MediaPipe)
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
sys.path.insert(0, str(ROOT))
ASSETS = ROOT / ".cache" / "test-assets"
RESULTS = ROOT / ".cache" / "bench-report.jsonl"  # the last run's raw results, for --replot
PERSON_LABELS = "Normal,Fall"

# clicks are given at 640x480 and scaled to each size
FOOTAGE = {
    "vtest": {"video": "vtest.avi", "weights": "yolov8n-seg.yaml", "labels": "person", "segmenter": None,
              "click": (402, 204), "sizes": ("640x480", "1280x720"), "person": False},
    "box": {"video": "box.mp4", "weights": "yolov8n-seg.yaml", "labels": "person", "segmenter": None,
            "click": (330, 140), "sizes": ("640x480",), "person": False},
    "pedestrian": {"video": "vtest.avi", "weights": "person_yolov8.pt", "labels": PERSON_LABELS,
                   "segmenter": "selfie_segmentation.tflite", "click": (222, 217), "sizes": ("640x480",),
                   "person": True},
}


def command(name: str, size: str, frames: int, interval: int) -> list[str]:
    f = FOOTAGE[name]
    w, h = (int(v) for v in size.split("x"))
    click = f"{round(f['click'][0] * w / 640)},{round(f['click'][1] * h / 480)}"
    weights = f["weights"] if f["weights"].endswith(".yaml") else str(ASSETS / f["weights"])
    cmd = [str(ROOT / ".venv/bin/focusr"), "bench", str(ASSETS / f["video"]), "--size", size, "--frames", str(frames),
           "--interval", str(interval), "--weights", weights, "--person-labels", f["labels"], "--click", click]
    if f["segmenter"]:
        cmd += ["--segmenter", str(ASSETS / f["segmenter"])]
    return cmd + ["--json"]


def shown(cmd: list[str]) -> str:
    """The command as a reader would type it, from the repository root."""
    return " ".join(os.path.relpath(a, ROOT) if a.startswith(str(ROOT)) else a for a in cmd)


def measure(names, sizes, frames: int, interval: int, repeat: int) -> list[dict]:
    rows = []
    for name in names:
        for size in sizes or FOOTAGE[name]["sizes"]:
            for run in range(1, repeat + 1):
                cmd = command(name, size, frames, interval)
                print(f"[{name} {size} run {run}] {shown(cmd)}", file=sys.stderr, flush=True)
                res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
                if res.returncode != 0:
                    sys.exit(f"bench failed ({res.returncode}):\n{res.stderr[-2000:]}")
                got = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
                naive, ours = (next(r for r in got if r["name"] == n) for n in ("naive", "focusr"))
                if FOOTAGE[name]["person"]:
                    lock = naive["lock"] or {}
                    if not lock.get("detection") or lock.get("label") not in PERSON_LABELS.split(","):
                        sys.exit(f"{name} {size}: the click did not land on a detected person ({lock})")
                    if naive["segments"].get("mediapipe", 0) == 0:
                        sys.exit(f"{name} {size}: the naive pipeline never ran MediaPipe")
                for r in (naive, ours):
                    rows.append({**r, "footage": name, "run": run, "command": shown(cmd)})
                print(f"  naive {naive['fps']:.1f} fps, focusr {ours['fps']:.1f} fps, "
                      f"ratio {ours['fps'] / naive['fps']:.2f}x", file=sys.stderr, flush=True)
    return rows


def pairs(rows):
    """(footage, size, run) -> (naive, focusr), in the order measured."""
    out = {}
    for r in rows:
        out.setdefault((r["footage"], r["size"], r["run"]), {})[r["name"]] = r
    return [(k, v["naive"], v["focusr"]) for k, v in out.items()]


def write_markdown(rows, machine: str, reports: list[str]) -> str:
    from focusr.timing import STAGES

    lines = [
        "# Benchmark: the naive design vs focusr\n",
        "Measured on " + machine + " with " + " and ".join(f"`{r}`" for r in reports)
        + ", which regenerate this page; every row's own command is listed at the end."
        + (" The machine was shared with other work, so figures vary from run to run: each measurement was run "
           f"{max(r['run'] for r in rows)} times.\n" if max(r["run"] for r in rows) > 1 else "\n"),
        "Both pipelines run in one process on the same decoded frames, with the same detector settings "
        "(weights, score floor, image size) and the same click on the first frame. **naive** is the original "
        "design written plainly: base64 JPEG data URLs in and out; the detector synchronously every N frames "
        "and whenever CSRT reports failure; CSRT at full resolution between detections; every 3 frames "
        "MediaPipe's selfie segmenter on a crop around a person, or GrabCut in the box plus a margin; one "
        "full-frame Gaussian blur and one alpha blend with the feathered matte. **focusr** is the dashboard's "
        "own per-frame path (`FocusSession.handle`), binary JPEG in and out; its detector runs on a background "
        "thread (the click's detection runs on the frame), so its frames do not wait for it, but it shares the "
        "CPU. fps is frames over wall-clock time after 10 warm-up frames; p95 is the 95th percentile frame "
        "time. Detections are counted over all frames.\n",
        "| footage | size | run | naive fps | focusr fps | ratio | naive p95 | focusr p95 | naive detections "
        "| focusr detections | naive segmentations | focusr segmentations |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    seg = lambda r: ", ".join(f"{k} {v}" for k, v in r["segments"].items() if v) or "none"  # noqa: E731
    for (footage, size, run), naive, ours in pairs(rows):
        lines.append(
            f"| {footage} | {size} | {run} | {naive['fps']:.1f} | {ours['fps']:.1f} | "
            f"**{ours['fps'] / naive['fps']:.2f}x** | {naive['p95_ms']:.0f} ms | {ours['p95_ms']:.0f} ms | "
            f"{naive['detections']} | {ours['detections']} | {seg(naive)} | {seg(ours)} |")
    lines += ["", "Mean milliseconds per frame, by stage (a stage a pipeline does not have is 0):", "",
              "| footage | size | run | pipeline | " + " | ".join(STAGES) + " | total |",
              "|---|---|---|---|" + "---|" * (len(STAGES) + 1)]
    for (footage, size, run), naive, ours in pairs(rows):
        for r in (naive, ours):
            lines.append(f"| {footage} | {size} | {run} | {r['name']} | "
                         + " | ".join(f"{r['stages'][s]['mean_ms']:.1f}" for s in STAGES) + f" | {r['mean_ms']:.1f} |")
    lines += ["", "What each locked on the first frame and on how many frames it was tracking (not lost). With "
              "`yolov8n-seg.yaml` (random weights) nothing scores above the 0.95 floor, so both lock what is under "
              "the click without a detection: naive a square a sixth of the frame wide, focusr the region it grows "
              "from the click, which can be much larger (on vtest the click is on the road) and costs more to "
              "segment and render.", ""]
    for (footage, size, run), naive, ours in pairs(rows):
        if run != 1:
            continue
        for r in (naive, ours):
            lk = r.get("lock") or {}
            box = ",".join(f"{v:.0f}" for v in lk.get("box") or [])
            lines.append(f"- {footage} {size}, {r['name']}: {lk.get('label')} at ({box}), "
                         f"tracked {r['tracked_frames']}/{r['frames_total']} frames")
    lines += ["", "Commands:", ""]
    seen = set()
    for r in rows:
        if r["command"] not in seen:
            seen.add(r["command"])
            lines.append(f"    {r['command']}")
    lines += ["", "![per-stage time](bench.png)", ""]
    return "\n".join(lines)


def plot(rows, machine: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from focusr.timing import STAGES

    groups = {}
    for (footage, size, _run), naive, ours in pairs(rows):
        groups.setdefault((footage, size), []).append((naive, ours))
    n = len(groups)
    cols = min(n, 2)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(7.2 * cols, 4.4 * nrows), squeeze=False)
    y = np.arange(len(STAGES))
    colours = {"naive": "#e45756", "focusr": "#4c78a8"}
    for ax, ((footage, size), runs) in zip(axes.flat, groups.items()):
        fps = {}
        for i, name in enumerate(("naive", "focusr")):
            picked = [pair[i] for pair in runs]
            means = [float(np.mean([r["stages"][s]["mean_ms"] for r in picked])) for s in STAGES]
            fps[name] = float(np.mean([r["fps"] for r in picked]))
            offset = -0.2 if name == "naive" else 0.2
            bars = ax.barh(y + offset, means, height=0.4, color=colours[name],
                           label=f"{name}: {fps[name]:.1f} fps, {np.mean([r['detections'] for r in picked]):.0f} "
                                 "detections")
            for bar, v in zip(bars, means):  # every value, 0 included: a stage the pipeline does not have
                ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {v:.1f}" if v >= 0.05 else " 0",
                        va="center", fontsize=8, color="#333333")
        ax.set_yticks(y, STAGES, fontsize=10)
        ax.invert_yaxis()
        ax.set_xlabel("mean ms per frame")
        ax.set_xlim(0, ax.get_xlim()[1] * 1.15)
        runs_note = f", mean of {len(runs)} runs" if len(runs) > 1 else ""
        ax.set_title(f"{footage} {size}: focusr/naive {fps['focusr'] / fps['naive']:.2f}x{runs_note}", fontsize=11)
        ax.legend(loc="lower right", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(f"Per-stage time, naive design vs focusr ({machine})", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[9:]))
    ap.add_argument("--footage", action="append", choices=sorted(FOOTAGE),
                    help="footage to run, repeatable (default: vtest, box, pedestrian)")
    ap.add_argument("--size", action="append", help="frame size WxH, repeatable (default: each footage's own)")
    ap.add_argument("--frames", type=int, default=300, help="frames per run (default 300)")
    ap.add_argument("--interval", type=int, default=5, help="detect every N frames (default 5)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement (default 1)")
    ap.add_argument("--replot", action="store_true", help=f"no runs: rewrite the docs from {RESULTS.name}")
    ap.add_argument("--merge", action="store_true", help=f"keep the other footage's results from {RESULTS.name}")
    args = ap.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, CPU only"
    stored = []
    if (args.replot or args.merge) and RESULTS.exists():
        stored = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    if args.replot:
        if not stored:
            sys.exit(f"{RESULTS} has no results: run without --replot first")
        rows = stored
    else:
        names = args.footage or ["vtest", "box", "pedestrian"]
        args_line = ".venv/bin/python scripts/bench_report.py " + " ".join(
            [f"--footage {n}" for n in names] + [f"--size {s}" for s in args.size or []]
            + [f"--frames {args.frames}", f"--interval {args.interval}", f"--repeat {args.repeat}"])
        rows = [{**r, "report": args_line} for r in measure(names, args.size, args.frames, args.interval, args.repeat)]
        order = list(FOOTAGE)
        rows = sorted([r for r in stored if r["footage"] not in names] + rows,
                      key=lambda r: (order.index(r["footage"]), int(r["size"].split("x")[0]), r["run"]))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (ROOT / "docs").mkdir(exist_ok=True)
    md = write_markdown(rows, machine, list(dict.fromkeys(r["report"] for r in rows)))
    (ROOT / "docs" / "bench.md").write_text(md)
    plot(rows, machine, ROOT / "docs" / "bench.png")
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
