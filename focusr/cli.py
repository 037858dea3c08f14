"""The `focusr` command.

    focusr serve [--port N] [--address A] [panel serve options]   the dashboard
    focusr render INPUT -o OUTPUT.mp4 --focus T:X,Y [--add T:X,Y] [--remove T:X,Y] [--include T:X,Y]
        [--exclude T:X,Y] [--release T]
                  [--masks MASKS.npz] [--report REPORT.json]     the engine on a video file, offline
    focusr bench VIDEO [--size WxH] ...                          the pipeline against the naive design
    focusr --version

Bad input ends with status 2 and one line on stderr naming the option as typed, never a
traceback; Ctrl-C with 130 and one line. Option defaults and bounds are read from the parameters
they set, so the two cannot disagree. `render` itself (checks, atomic outputs, summary) is in
focusr/render_job.py. The command's entry point is focusr/__main__.py, which takes Ctrl-C
before this module's imports.
"""

from __future__ import annotations

import argparse
import logging
import re
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focusr.__main__ import check_ctrl_c
from focusr.video import InputError

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        raise InputError(message)


@dataclass(frozen=True)
class FocusEvent:
    t: float
    point: tuple[float, float] | None  # None: release
    mode: str = "lock"  # what the click does (types.CLICK_MODES): --focus locks, --add adds, --remove removes


# The options that click, and what their click does (the page's plain, Ctrl- and Ctrl-click on a kept
# subject, Shift- and Alt-click).
CLICK_OPTIONS = {"--focus": "lock", "--add": "add", "--remove": "remove",
                 "--include": "include", "--exclude": "exclude"}


def parse_focus(text: str, option: str = "--focus") -> FocusEvent:
    try:
        t, xy = text.split(":", 1)
        x, y = xy.split(",", 1)
        event = FocusEvent(float(t), (float(x), float(y)), CLICK_OPTIONS[option])
    except ValueError:
        raise InputError(f"{option} {text}: expected T:X,Y (seconds:pixels), e.g. {option} 1.5:320,240") from None
    if event.t < 0 or not all(np.isfinite([event.t, *event.point])):
        raise InputError(f"{option} {text}: T must be a time in seconds >= 0 and X,Y finite pixels, "
                         f"e.g. 1.5:320,240")
    return event


def parse_time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--release {text}: expected seconds, e.g. --release 4.0") from None
    if not np.isfinite(value) or value < 0:
        raise InputError(f"--release {text}: expected seconds >= 0, e.g. --release 4.0")
    return value


def check_bounds(option: str, value, parameter, unit: str = "") -> None:
    """Refuse a value outside its parameter's bounds, naming the option as the user typed it
    (never the parameter inside)."""
    lo, hi = parameter.bounds
    if not (lo <= value <= hi):  # NaN fails too
        raise InputError(f"{option} must be between {lo:g} and {hi:g}{unit}, not {value:g}")


# A value that starts with '-' after these is the option's value (argparse would take
# `--focus -1:10,10` for an unknown option and say "expected one argument").
VALUE_OPTIONS = (*CLICK_OPTIONS, "--release")


def join_dash_values(argv: list[str]) -> list[str]:
    out: list[str] = []
    for arg in argv:
        if out and out[-1] in VALUE_OPTIONS and re.match(r"-[\d.]", arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


SERVE_DEFAULTS = {  # what `focusr serve` (and so scripts/serve) gives `panel serve` unless told otherwise
    "--address": "127.0.0.1",  # this machine only; serving on a network is a deliberate choice
    "--port": "5006",
    "--websocket-max-message-size": str(8_000_000),  # a frame is ~50 KB; refuse anything absurd
    "--check-unused-sessions": "1000",  # ms: notice a closed tab within a second, so its worker stops
    "--unused-session-lifetime": "1000",
}


def build_parser() -> argparse.ArgumentParser:
    from focusr.pipeline import FocusPipeline
    from focusr.render import Renderer

    from focusr import __version__

    parser = _Parser(prog="focusr", description="AI smart autofocus: keep a subject sharp, blur the rest.")
    parser.add_argument("--version", action="version", version=f"focusr {__version__}")
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
    serve.add_argument("--port", default=SERVE_DEFAULTS["--port"], help="port, 1-65535 (default %(default)s)")
    render = sub.add_parser(
        "render", help="render a video with focus on clicked subjects",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Render a video file offline: at each --focus time, click a subject as on the dashboard; it is\n"
                    "kept sharp and the rest blurred until the next --focus or --release. Everything is checked\n"
                    "before anything is written; OUTPUT, --masks and --report are written to hidden temporary files\n"
                    "beside them and renamed into place only when complete, so an error or Ctrl-C leaves them as\n"
                    "they were. The end summary says what was locked, when it was lost and what was written.",
        epilog="examples:\n"
               "  focusr render walk.mp4 -o walk-focus.mp4 --focus 0:448,123\n"
               "      from the start, keep the subject at pixel 448,123 of the first frame sharp\n"
               "  focusr render walk.mp4 -o out.mp4 --focus 0:448,123 --focus 5.2:100,200 --release 9.5\n"
               "      switch subject at 5.2 s (a rack focus), let go at 9.5 s\n"
               "  focusr render walk.mp4 -o out.mp4 --focus 0:448,123 --add 0:100,200 --remove 4:448,123\n"
               "      keep two subjects sharp from the start; let the first go at 4 s\n"
               "  focusr render walk.mp4 -o out.mp4 --focus=0.5:300,200 --masks mattes.npz --report report.json\n"
               "      also save each frame's matte and a per-frame JSON report\n"
               "exit status: 0 written, 1 writing failed, 2 refused (one line naming the option), 130 interrupted.\n"
               "Models: FOCUSR_DETECTOR, FOCUSR_SEGMENTER, FOCUSR_PERSON_LABELS, FOCUSR_CACHE, FOCUSR_OFFLINE=1\n"
               "(never download; a missing default model means reduced mode, said on stderr); see the README.")
    render.add_argument("input", help="input video file (anything OpenCV decodes); never written to")
    render.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                        help="output video file: .mp4 (default choice; also .m4v), .mov or .mkv are H.264 yuv420p, "
                             ".webm is VP9; the input's sound is kept (copied, or re-encoded to AAC, or Opus in .webm); "
                             "replaced only when complete")
    render.add_argument("--focus", action="append", default=[], metavar="T:X,Y",
                        help="at T seconds, click at pixel X,Y of the source frame (repeatable); without any "
                             "--focus nothing is in focus and the frames are written unblurred (the summary says so)")
    render.add_argument("--add", action="append", default=[], metavar="T:X,Y",
                        help="at T seconds, keep the subject at pixel X,Y sharp too, beside those kept "
                             "(repeatable; the page's Ctrl-click)")
    render.add_argument("--remove", action="append", default=[], metavar="T:X,Y",
                        help="at T seconds, let the kept subject at pixel X,Y go; the others stay (repeatable)")
    render.add_argument("--include", action="append", default=[], metavar="T:X,Y",
                        help="at T seconds, add the region at pixel X,Y to the nearest subject's cut-out; it moves "
                             "with the subject until it is let go or clicked afresh (repeatable; the page's "
                             "Shift-click)")
    render.add_argument("--exclude", action="append", default=[], metavar="T:X,Y",
                        help="at T seconds, take the region at pixel X,Y out of the nearest subject's cut-out "
                             "(repeatable; the page's Alt-click)")
    render.add_argument("--release", action="append", default=[], metavar="T",
                        help="at T seconds, release every subject (repeatable)")
    render.add_argument("--masks", metavar="MASKS.npz",
                        help="also write every frame's subject matte to this file: NumPy .npz, array 'masks', "
                             "frames x height x width, uint8 0-255 (255: sharp); streamed, so memory does not "
                             "grow with the clip")
    render.add_argument("--report", metavar="REPORT.json",
                        help="also write per-frame state, subject box (pixels) and stage timings (ms) "
                             "to this JSON file; the models' load and warm-up before frame 0 are warmup_ms, "
                             "outside every frame's timings and mean_ms")
    add_pipeline_options(render)

    bench = sub.add_parser("bench", help="benchmark the pipeline against the naive design")
    bench.add_argument("video", help="video file to take frames from (a short one is looped)")
    bench.add_argument("--size", default="640x480", help="frame size WxH in pixels (default 640x480)")
    bench.add_argument("--frames", type=int, default=300, help="frames to time, 10-100000 (default 300)")
    bench.add_argument("--interval", type=int, default=FocusPipeline.param.detect_interval.default,
                       help="detect every N frames, both pipelines (default %(default)s)")
    bench.add_argument("--weights", default="",
                       help="detector file, .pt or .yaml (default: FOCUSR_DETECTOR or yolov8n-seg.pt)")
    bench.add_argument("--segmenter", default="",
                       help="person segmenter file, .tflite (default: FOCUSR_SEGMENTER or the official one)")
    bench.add_argument("--person-labels", default="",
                       help="comma-separated classes that are people; default FOCUSR_PERSON_LABELS or person")
    bench.add_argument("--click", default="",
                       help="X,Y to click at, in pixels of the --size frame; default: the largest detection")
    bench.add_argument("--subjects", type=int, default=1,
                       help="also time focusr with this many subjects kept (1-8; the first is --click, the others "
                            "the next largest people, Ctrl-clicked one a frame) and compare with one (default 1)")
    bench.add_argument("--preview", default="", metavar="X,Y",
                       help="also time focusr with the pointer resting on undetected things around X,Y, a new spot "
                            "every half second: the hover preview's cost")
    lenses = [shape for shape in Renderer.param.bokeh.objects if shape != Renderer.param.bokeh.default]
    bench.add_argument("--bokeh", default="", choices=["", *lenses], metavar="|".join(lenses),
                       help="also time focusr with this lens (disc or blades bokeh, at the default aperture): its "
                            "cost beside the Gaussian blur's")
    bench.add_argument("--json", action="store_true", help="one JSON object per pipeline")
    return parser


# The lens's options, each its renderer parameter's name, bounds and doc (issue 16).
LENS_OPTIONS = {"--aperture": "aperture", "--bokeh": "bokeh", "--blades": "blades", "--bloom": "bloom"}


def add_pipeline_options(p: argparse.ArgumentParser) -> None:
    import param

    from focusr.pipeline import FocusPipeline
    from focusr.render import REFERENCE_APERTURE, Renderer

    interval, blur = FocusPipeline.param.detect_interval, Renderer.param.blur_strength
    p.add_argument("--weights", default="", metavar="FILE",
                   help="detector weights file (.pt or .yaml; or an SSD .pb, its .pbtxt beside it); default "
                        "FOCUSR_DETECTOR or yolov8n-seg.pt. Named here, it must load")
    p.add_argument("--segmenter", default="", metavar="FILE",
                   help="person segmenter file (.tflite); default FOCUSR_SEGMENTER or the official one. "
                        "Named here, it must load")
    p.add_argument("--person-labels", default="", metavar="LABELS",
                   help="comma-separated detector classes that are people; default FOCUSR_PERSON_LABELS or person")
    p.add_argument("--interval", type=int, default=interval.default, metavar="N",
                   help=f"detect every N frames, {interval.bounds[0]}-{interval.bounds[1]} (default %(default)s)")
    p.add_argument("--blur", type=float, default=blur.default, metavar="SIGMA",
                   help=f"blur strength at f/{REFERENCE_APERTURE:g}: Gaussian sigma in pixels at 640 px wide, "
                        f"scaled with the frame, "
                        f"{blur.bounds[0]:g}-{blur.bounds[1]:g} (default %(default)s)")
    for option, name in LENS_OPTIONS.items():
        par = Renderer.param[name]
        doc = par.doc[0].lower() + par.doc[1:].rstrip(".")
        if isinstance(par, param.Selector):
            p.add_argument(option, choices=par.objects, default=par.default, help=f"{doc} (default %(default)s)")
        else:
            p.add_argument(option, type=type(par.default), default=par.default, metavar=name.upper(),
                           help=f"{par.bounds[0]:g}-{par.bounds[1]:g}: {doc} (default %(default)s)")
    p.add_argument("--depth", action="store_true",
                   help="blur by depth in front of and behind the subject (the Depth cue): a monocular depth model, "
                        "FOCUSR_DEPTH or MiDaS v2.1 small downloaded on first use; without it, a notice and the blur "
                        "by distance in the picture")
    p.add_argument("--overlays", action="store_true",
                   help="draw the lock box and the status line (with a live fps figure, so two renders then "
                        "differ); off by default: the output is a deliverable, the same for the same input and options")
    p.add_argument("--no-overlays", dest="overlays", action="store_false", help=argparse.SUPPRESS)  # the old default


def make_pipeline(args):
    from focusr import models
    from focusr.pipeline import FocusPipeline
    from focusr.render import Renderer

    check_bounds("--interval", args.interval, FocusPipeline.param.detect_interval, " frames")
    check_bounds("--blur", args.blur, Renderer.param.blur_strength)
    for option, name in LENS_OPTIONS.items():
        if name != "bokeh":  # argparse holds it to its choices
            check_bounds(option, getattr(args, name), Renderer.param[name])
    labels = models.parse_labels(args.person_labels) or models.person_labels()
    try:
        # offline: detect on the frame itself, so a render is the same every time
        pipeline = FocusPipeline(detect_interval=args.interval, overlays=args.overlays,
                                 background_detection=False, quick_lock=False)
        pipeline.detector.param.update(weights=args.weights, person_labels=labels)
        pipeline.segmenter.person_model = args.segmenter
        pipeline.renderer.blur_strength = args.blur
        pipeline.renderer.param.update({name: getattr(args, name) for name in LENS_OPTIONS.values()})
        pipeline.depth.use_depth = args.depth
    except ValueError as exc:  # a parameter out of its bounds: the checks above should have said which option
        raise InputError(str(exc).splitlines()[0]) from None
    return pipeline


# What a default model's absence means, said once with the model's own notice.
REDUCED_DETECTOR = "continuing in reduced mode: nothing is detected, clicks grow a region from the click"
REDUCED_SEGMENTER = "continuing in reduced mode: people are cut out with GrabCut"


def _why(exc: BaseException) -> str:
    """models.reason, without a library's ERROR prefix and after its first sentence."""
    from focusr import models

    text = re.sub(r"^(?:ERROR|WARNING)?\s*[^\w\s/'\"(]*\s*", "", models.reason(exc))
    return re.split(r"\. | — ", text, maxsplit=1)[0]


def _named_refusal(option: str, value: str, kind: str, why: str) -> InputError:
    return InputError(f"{option} {value}: {why}; give {kind}, or leave {option} out to use the default")


def load_models(pipeline, weights: str = "", segmenter: str = "", frame_shape=(480, 640),
                person_labels: str = "") -> list[str]:
    """Load the detector and the person segmenter now, before the first frame, and run the
    detector once on a blank frame of `frame_shape` (its warm-up, and the proof it runs). A model
    the user named (--weights, --segmenter) that cannot be loaded is refused with one line; a
    default one that cannot be had is a notice: which model, what that means, how to fix it.
    --person-labels naming a class the detector does not have is refused, with its classes."""
    from focusr import models

    kind = "a YOLOv8 .pt file (or a .yaml), or an SSD .pb graph with its .pbtxt beside it"
    if weights:
        path = Path(weights).expanduser()
        bare_official = path.parent == Path(".") and path.name.lower().startswith("yolo")
        if not path.exists() and not models.untrained(weights) and not bare_official:
            raise _named_refusal("--weights", weights, kind, "no such file")
        quiet, hush = logging.getLogger("ultralytics"), lambda record: record.levelno >= logging.ERROR
        quiet.addFilter(hush)  # its guesses about a file that is no model of its (a filter outlives its import)
        try:
            models.load_detector(weights)  # cached for the process: the pipeline's detector gets this one
        except models.ModelUnavailable as exc:
            what = "an SSD graph OpenCV can load" if models.is_ssd(weights) else "weights ultralytics can load"
            why = f"not {what} ({_why(exc.__cause__)})" if exc.__cause__ else _why(exc)
            raise _named_refusal("--weights", weights, kind, why) from None
        except Exception as exc:  # a broken install: the detector would say the same
            raise _named_refusal("--weights", weights, kind,
                                 f"cannot be loaded ({type(exc).__name__}: {_why(exc)})") from None
        finally:
            quiet.removeFilter(hush)
    if pipeline.detector.available:  # loads it now; a missing default is a notice below
        runs = pipeline.detector.runs
        try:
            pipeline.detector.detect(np.zeros((*frame_shape[:2], 3), np.uint8))
            pipeline.detector.runs = runs  # a warm-up, not one of the detections a benchmark counts
        except Exception as exc:  # ultralytics opens some non-models lazily, and fails on the first frame
            why = f"not weights ultralytics can load ({_why(exc)})"  # some fail on the first frame only
            if weights:
                raise _named_refusal("--weights", weights, kind, why) from None
            raise InputError(f"detector {models.detector_choice()}: {why}; set FOCUSR_DETECTOR or --weights "
                             f"to a YOLOv8 .pt file") from None
    notices = []
    if pipeline.detector.available:
        classes = [str(c) for c in getattr(pipeline.detector.model, "names", {}).values()]
        unknown = [c for c in pipeline.detector.person_labels if c not in classes]
        if classes and person_labels and unknown:
            raise InputError(f"--person-labels {person_labels}: the detector has no class {', '.join(unknown)}; "
                             f"its classes are {', '.join(classes[:12])}{' ...' if len(classes) > 12 else ''}")
        if classes and len(unknown) == len(pipeline.detector.person_labels):
            notices.append(f"no person label ({', '.join(unknown)}) is a class of the detector "
                           f"({', '.join(classes[:12])}); people will be cut out as objects, set --person-labels "
                           f"or FOCUSR_PERSON_LABELS to the classes that are people")
    tflite = "a MediaPipe image segmenter .tflite"
    if segmenter and not Path(segmenter).expanduser().exists():
        raise _named_refusal("--segmenter", segmenter, tflite, "no such file")
    if segmenter or pipeline.detector.available:  # without a detector, no subject is a person: never needed
        pipeline.segmenter.load()  # now, not on the first person; its native log lines kept off the terminal
        error = pipeline.segmenter.error
        if segmenter and error:
            m = re.search(r"could not start \((.*)\)", error)
            raise _named_refusal("--segmenter", segmenter, tflite,
                                 f"MediaPipe cannot start it ({m[1]})" if m else error) from None
    if pipeline.detector.error:
        notices.append(f"{pipeline.detector.error}; {REDUCED_DETECTOR}")
    if pipeline.segmenter.error:
        notices.append(f"{pipeline.segmenter.error.removesuffix('; using GrabCut')}; {REDUCED_SEGMENTER}")
    if pipeline.depth.use_depth and not pipeline.depth.load():  # --depth: its model now, or a notice
        notices.append(pipeline.depth.error)
    return notices


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


def check_serve_options(argv: list[str]) -> None:
    """Refuse what `panel serve` would refuse with its 54-line usage: one line instead. `argv`
    is serve_argv's, the port already checked."""
    from panel.command.serve import Serve

    parser = _Parser(prog="focusr serve", add_help=False)
    Serve(parser=parser)  # Panel's own options, as `panel serve` reads them
    try:
        parser.parse_args(argv[2:])
    except InputError as exc:
        raise InputError(f"serve: {exc} (options are those of `panel serve --help`)") from None


def check_port(port: str) -> None:
    if not (re.fullmatch(r"\d{1,5}", str(port)) and 1 <= int(port) <= 65535):
        raise InputError(f"--port {port}: expected a port number, 1-65535 (default {SERVE_DEFAULTS['--port']})")


def _ctrl_c_stops_the_server(signum, frame) -> None:
    """Ctrl-C stops `focusr serve` as SIGTERM does: the server's loop is asked to stop, so the
    shutdown runs in full and says `server stopped: N sessions closed`. (A KeyboardInterrupt
    would land in whatever the loop was running; one in a finalizer is dropped, and the server
    went on.) A second Ctrl-C is ignored while the sessions close: a few seconds at most."""
    import asyncio

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # still starting: nothing is served yet
        raise KeyboardInterrupt from None
    print("\nInterrupted, shutting down", file=sys.stderr, flush=True)
    loop.call_soon_threadsafe(loop.stop)


def serve(args, extra: list[str]) -> int:
    check_port(args.port)
    argv = serve_argv(args.address, args.port, extra)
    check_serve_options(argv)
    import panel.command

    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # not where Ctrl-C is ignored (`&` in a script)
        signal.signal(signal.SIGINT, _ctrl_c_stops_the_server)
    sys.argv = argv
    logging.getLogger().handlers.clear()  # Panel and Bokeh set up their own log format
    return panel.command.main() or 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        logging.basicConfig(level=logging.WARNING, format="focusr: %(levelname)s: %(message)s")
        argv = join_dash_values(argv)
        args, extra = build_parser().parse_known_args(argv)
        check_ctrl_c()  # one that an import dropped
        if args.command == "serve":
            return serve(args, extra)
        if extra:
            raise InputError(f"unrecognized arguments: {' '.join(extra)}")
        if args.command == "render":
            from focusr.render_job import render

            return render(args)
        if args.command == "bench":
            from focusr.bench import run

            return run(args)
        build_parser().print_help()
        return EXIT_USAGE
    except InputError as exc:
        print(f"focusr: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # writing failed (a full disk, a folder gone); render_job says what is left
        print(f"focusr: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as exc:  # render_job's Interrupted says what was (not) written
        note = str(exc) or ("nothing was written" if command == "render" else "")  # still importing
        print(f"focusr: interrupted{': ' + note if note else ''}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # `python -m focusr.cli`: through the entry point, as `focusr` is
    from focusr.__main__ import main as entry

    sys.exit(entry())
