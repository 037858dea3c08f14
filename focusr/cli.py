"""The `focusr` command.

    focusr serve [--port N] [--address A] [panel serve options]   the dashboard
    focusr render INPUT -o OUTPUT.mp4 --focus T:X,Y [--focus T:X,Y ...] [--release T]
                  [--masks MASKS.npz] [--report REPORT.json]     the engine on a video file, offline
    focusr bench VIDEO [--size WxH] ...                          the pipeline against the naive design

Bad input ends with status 2 and one line on stderr, never a traceback. Option defaults
are read from the parameters they set, so the two cannot disagree.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focusr.video import InputError

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        raise InputError(message)


@dataclass(frozen=True)
class FocusEvent:
    t: float
    point: tuple[float, float] | None  # None: release


def parse_focus(text: str) -> FocusEvent:
    try:
        t, xy = text.split(":", 1)
        x, y = xy.split(",", 1)
        event = FocusEvent(float(t), (float(x), float(y)))
    except ValueError:
        raise InputError(f"--focus {text!r}: expected T:X,Y, e.g. 1.5:320,240") from None
    if event.t < 0 or not all(np.isfinite([event.t, *event.point])):
        raise InputError(f"--focus {text!r}: T must be a finite time >= 0 and X,Y finite pixels")
    return event


def parse_time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--release {text!r}: expected seconds, e.g. 4.0") from None
    if not np.isfinite(value) or value < 0:
        raise InputError(f"--release {text!r}: expected seconds >= 0")
    return value


SERVE_DEFAULTS = {  # what `focusr serve` (and so scripts/serve) gives `panel serve` unless told otherwise
    "--address": "127.0.0.1",  # this machine only; serving on a network is a deliberate choice
    "--port": "5006",
    "--websocket-max-message-size": str(8_000_000),  # a frame is ~50 KB; refuse anything absurd
    "--check-unused-sessions": "1000",  # ms: notice a closed tab within a second, so its worker stops
    "--unused-session-lifetime": "1000",
}


def build_parser() -> argparse.ArgumentParser:
    from focusr.pipeline import FocusPipeline

    parser = _Parser(prog="focusr", description="AI smart autofocus: keep a subject sharp, blur the rest.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    serve = sub.add_parser(
        "serve", help="serve the dashboard (http://localhost:5006/dashboard)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the FOCUSR dashboard with Panel, with safe defaults:\n"
                    "  listens on 127.0.0.1 only (this machine), port 5006;\n"
                    "  refuses websocket messages over 8 MB (a frame is ~50 KB);\n"
                    "  notices a closed tab within a second, so its worker stops and its memory is freed.",
        epilog="Any other `panel serve` option is passed on and wins over these defaults, e.g.\n"
               "  focusr serve --address 0.0.0.0 --allow-websocket-origin=myhost:5006   (serve on a network)\n"
               "  focusr serve --show                                                    (open a browser)\n"
               "See `panel serve --help` for them all. Models: FOCUSR_DETECTOR, FOCUSR_SEGMENTER,\n"
               "FOCUSR_PERSON_LABELS, FOCUSR_CACHE, FOCUSR_OFFLINE=1 (never download); see the README.")
    serve.add_argument("--address", default=SERVE_DEFAULTS["--address"],
                       help="address to listen on (default %(default)s: this machine only)")
    serve.add_argument("--port", default=SERVE_DEFAULTS["--port"], help="port (default %(default)s)")
    render = sub.add_parser("render", help="render a video with focus on clicked subjects")
    render.add_argument("input", help="input video file")
    render.add_argument("-o", "--output", required=True, help="output .mp4")
    render.add_argument("--focus", action="append", default=[], metavar="T:X,Y",
                        help="at T seconds, click at pixel X,Y of the source frame (repeatable)")
    render.add_argument("--release", action="append", default=[], metavar="T", help="at T seconds, release focus")
    render.add_argument("--masks", help="write every frame's subject matte to this .npz (array 'masks')")
    render.add_argument("--report", help="write per-frame state, box and timings to this .json")
    add_pipeline_options(render)

    bench = sub.add_parser("bench", help="benchmark the pipeline against the naive design")
    bench.add_argument("video", help="video file to take frames from")
    bench.add_argument("--size", default="640x480", help="frame size WxH (default 640x480)")
    bench.add_argument("--frames", type=int, default=300, help="frames to time (default 300)")
    bench.add_argument("--interval", type=int, default=FocusPipeline.param.detect_interval.default,
                       help="detect every N frames, both pipelines (default %(default)s)")
    bench.add_argument("--weights", default="", help="detector .pt or .yaml (default: the product's default)")
    bench.add_argument("--segmenter", default="", help="person segmenter .tflite")
    bench.add_argument("--person-labels", default="",
                       help="comma-separated classes that are people; default FOCUSR_PERSON_LABELS or person")
    bench.add_argument("--click", default="", help="X,Y to click at (bench-size pixels); default: the largest detection")
    bench.add_argument("--json", action="store_true", help="one JSON object per pipeline")
    return parser


def add_pipeline_options(p: argparse.ArgumentParser) -> None:
    from focusr.pipeline import FocusPipeline
    from focusr.render import Renderer

    interval, blur = FocusPipeline.param.detect_interval, Renderer.param.blur_strength
    p.add_argument("--weights", default="", help="detector weights (.pt or .yaml); default FOCUSR_DETECTOR or yolov8n-seg.pt")
    p.add_argument("--segmenter", default="", help="person segmenter .tflite; default FOCUSR_SEGMENTER or the official one")
    p.add_argument("--person-labels", default="",
                   help="comma-separated detector classes that are people; default FOCUSR_PERSON_LABELS or person")
    p.add_argument("--interval", type=int, default=interval.default,
                   help=f"detect every N frames, {interval.bounds[0]}-{interval.bounds[1]} (default %(default)s)")
    p.add_argument("--blur", type=float, default=blur.default,
                   help=f"blur strength, {blur.bounds[0]:g}-{blur.bounds[1]:g} (default %(default)s)")
    p.add_argument("--no-overlays", action="store_true", help="render without boxes and status line")


def make_pipeline(args):
    from focusr import models
    from focusr.pipeline import FocusPipeline

    labels = models.parse_labels(args.person_labels) or models.person_labels()
    try:
        # offline: detect on the frame itself, so a render is the same every time
        pipeline = FocusPipeline(detect_interval=args.interval, overlays=not args.no_overlays,
                                 background_detection=False)
        pipeline.detector.param.update(weights=args.weights, person_labels=labels)
        pipeline.segmenter.person_model = args.segmenter
        pipeline.renderer.blur_strength = args.blur
    except ValueError as exc:  # a parameter out of its bounds
        raise InputError(str(exc).splitlines()[0]) from None
    return pipeline


def render(args) -> int:
    from tqdm import tqdm

    from focusr.types import Pointer
    from focusr.video import VideoReader, VideoWriter

    events = sorted([parse_focus(f) for f in args.focus] + [FocusEvent(parse_time(r), None) for r in args.release],
                    key=lambda e: e.t)
    reader = VideoReader(args.input)
    info = reader.info
    for e in events:
        if e.point is not None and not (0 <= e.point[0] < info.width and 0 <= e.point[1] < info.height):
            raise InputError(f"--focus {e.t}:{e.point[0]:g},{e.point[1]:g}: outside the {info.width}x{info.height} frame")
        if e.t >= info.duration:
            raise InputError(f"time {e.t:g}s is past the end of {args.input} ({info.duration:.2f}s)")
    for path in (args.masks, args.report):
        if path and not Path(path).resolve().parent.is_dir():
            raise InputError(f"{path}: its folder does not exist")
    writer = VideoWriter(args.output, info.fps, (info.width, info.height))
    pipeline = make_pipeline(args)
    pipeline.detector.model  # load now, so a missing model is reported before the progress bar
    for notice in pipeline.notices:
        print(f"focusr: warning: {notice}", file=sys.stderr)
    masks, frames = [], []
    pending = list(events)
    bar = tqdm(total=info.frames or None, unit="frame", desc="render", file=sys.stderr, dynamic_ncols=True,
               mininterval=0.1 if sys.stderr.isatty() else 5.0)
    try:
        for index, frame in enumerate(reader):
            t = index / info.fps
            click, release = None, False
            while pending and pending[0].t <= t + 1e-9:
                event = pending.pop(0)
                if event.point is None:
                    release, click = True, None
                else:
                    click = event.point
            out, result = pipeline.process(frame, Pointer(click=click, release=release), t=t)
            writer.write(out)
            if args.masks:
                masks.append(result.matte if result.matte is not None else np.zeros(frame.shape[:2], np.uint8))
            frames.append({"index": index, "t": round(t, 4), **result.summary(),
                           "timings_ms": {k: round(v, 2) for k, v in result.timings_ms.items()}})
            bar.update(1)
    finally:
        bar.close()
        writer.close()
        reader.close()
        pipeline.close()
    if not frames:
        raise InputError(f"{args.input}: no frames could be decoded")
    if args.masks:
        np.savez_compressed(args.masks, masks=np.stack(masks))
    if args.report:
        Path(args.report).write_text(json.dumps(report(args.input, info, frames, pipeline.notices), indent=1))
    print(f"focusr: wrote {args.output} ({len(frames)} frames)", file=sys.stderr)
    return 0


def report(source, info, frames: list[dict], notices: list[str]) -> dict:
    stages = sorted({k for f in frames for k in f["timings_ms"]})
    summary = {s: round(float(np.mean([f["timings_ms"].get(s, 0.0) for f in frames])), 2) for s in stages}
    held = [f["state"] in ("locked", "reacquired") for f in frames]
    return {
        "source": str(source), "width": info.width, "height": info.height, "fps": info.fps,
        "frames": frames, "mean_ms": summary, "notices": notices,
        "locked_fraction": round(float(np.mean(held)), 4) if held else 0.0,
    }


def serve_argv(address: str, port, extra: list[str]) -> list[str]:
    """`panel serve` on the page that ships in the package, with SERVE_DEFAULTS; options the
    user gives (ours or any of panel's) win."""
    from importlib import resources

    given = {a.split("=", 1)[0] for a in extra if a.startswith("--")}
    options = {**SERVE_DEFAULTS, "--address": address, "--port": str(port)}
    argv = ["panel", "serve", str(resources.files("focusr") / "dashboard.py")]
    for key, value in options.items():
        if key not in given:
            argv += [key, value]
    return argv + extra


def serve(args, extra: list[str]) -> int:
    import panel.command

    sys.argv = serve_argv(args.address, args.port, extra)
    logging.getLogger().handlers.clear()  # Panel and Bokeh set up their own log format
    return panel.command.main() or 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="focusr: %(levelname)s: %(message)s")
    try:
        args, extra = build_parser().parse_known_args(argv)
        if args.command == "serve":
            return serve(args, extra)
        if extra:
            raise InputError(f"unrecognized arguments: {' '.join(extra)}")
        if args.command == "render":
            return render(args)
        if args.command == "bench":
            from focusr.bench import run

            return run(args)
        build_parser().print_help()
        return EXIT_USAGE
    except InputError as exc:
        print(f"focusr: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("focusr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
