"""`focusr render`: every option and path checked before anything is written, the frame loop
writing to temporary files beside the targets, the renames, and a summary of what was done.

Order: the --focus/--release values and option bounds, the input, the times and points
against it, the output paths (outputs.Outputs); then the temporary files are created (the
proof each folder takes a file) and the models loaded (a named one that fails is refused);
only then the frames (the video and the source's sound through media.MediaWriter, the mattes
streamed through mattes.MattesWriter). A refusal exits 2 with one line; Ctrl-C exits 130 (cli.main); either
way the temporary files are removed and the targets are as they were. Ctrl-C at any point ends
in Interrupted, whose line says what was (not) written.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focusr.__main__ import check_ctrl_c, ctrl_c
from focusr.cli import CLICK_OPTIONS, FocusEvent, load_models, make_pipeline, parse_focus, parse_time
from focusr.media import SUFFIXES as OUTPUT_SUFFIXES
from focusr.outputs import Outputs, nothing_written
from focusr.types import HELD
from focusr.video import InputError
LOCKED = tuple(state.value for state in HELD)  # as the report's frames write a state
OFFLINE_MEANINGLESS = ("hover", "hover_label", "preview")  # a frame's reply fields about a pointer: a render has none
TRUNCATION_TOLERANCE = 1  # frames: some containers estimate their count from the duration


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what was (not) written: cli.main prints it and exits 130."""


@dataclass(frozen=True)
class Event:
    option: str  # one of cli.CLICK_OPTIONS, or "--release"
    text: str  # as the user typed it
    at: FocusEvent

    @property
    def t(self) -> float:
        return self.at.t

    def __str__(self) -> str:
        return f"{self.option} {self.text}"


def parse_events(args) -> list[Event]:
    """Every click and release, in time order; at one time: --focus, --add, --remove, --include,
    --exclude, --release.
    One click a frame, as on the page: clicks at one time go on consecutive frames."""
    events = [Event(option, text, parse_focus(text, option)) for option in CLICK_OPTIONS
              for text in getattr(args, option.lstrip("-"), [])]
    events += [Event("--release", text, FocusEvent(parse_time(text), None)) for text in args.release]
    return sorted(events, key=lambda e: e.t)


def check_events(events: list[Event], info, source) -> None:
    for e in events:
        point = e.at.point
        if point is not None and not (0 <= point[0] < info.width and 0 <= point[1] < info.height):
            raise InputError(f"{e}: pixel {point[0]:g},{point[1]:g} is outside the {info.width}x{info.height} frame")
        if e.t >= info.duration:
            raise InputError(f"{e}: {e.t:g} s is past the end of {source} ({info.duration:.2f} s)")


def render(args) -> int:
    try:
        check_ctrl_c()
        return _checked(args)
    except Interrupted:
        raise
    except BaseException as exc:
        if not (isinstance(exc, KeyboardInterrupt) or ctrl_c()):  # an error after Ctrl-C is its doing
            raise
        # before the temporary files: nothing was opened for writing
        kept = [p for p in (args.output, args.masks, args.report) if p and Path(p).expanduser().exists()]
        raise Interrupted(nothing_written(kept)) from None


def _checked(args) -> int:
    from focusr.video import VideoReader

    events = parse_events(args)
    pipeline = make_pipeline(args)  # checks --interval, --blur
    try:
        reader = VideoReader(args.input)
        try:
            check_events(events, reader.info, args.input)
            outputs = Outputs({"INPUT": args.input},
                              {"-o": args.output, "--masks": args.masks, "--report": args.report},
                              {"-o": OUTPUT_SUFFIXES})
            return _render(args, events, pipeline, reader, outputs)
        finally:
            reader.close()
    finally:
        pipeline.close()


def _render(args, events, pipeline, reader, outputs: Outputs) -> int:
    from focusr.mattes import MattesWriter
    from focusr.media import MediaWriter, probe, rate_of

    info, started, mattes, writer = reader.info, False, None, None

    def discard() -> str:
        if mattes is not None:
            mattes.abort()
        if writer is not None:
            writer.abort()
        return outputs.discard()

    try:
        outputs.create()
        loading = time.perf_counter()
        notices = load_models(pipeline, args.weights, args.segmenter, (info.height, info.width),
                              args.person_labels)
        warmup_ms = round((time.perf_counter() - loading) * 1000.0, 1)  # in no frame's timings
        for notice in notices:
            print(f"focusr: warning: {notice}", file=sys.stderr)
        if not any(e.at.point is not None and e.at.mode in ("lock", "add") for e in events):  # said now and at the end
            print("focusr: hint: no --focus given, so no subject will be in focus and the frames are written "
                  "unblurred; add --focus T:X,Y (seconds:pixels) to pick one", file=sys.stderr)
        source = probe(args.input)  # the exact frame rate (30000/1001, not 29.97002997) and the sound
        try:  # the container from the target's extension: the temporary file's is not the user's
            writer = MediaWriter(outputs.temp("-o"), source.rate or rate_of(info.fps), (info.width, info.height),
                                 audio_from=args.input, suffix=outputs.target("-o").path.suffix)
        except InputError as exc:
            raise InputError(f"-o {args.output}: {str(exc).split(': ', 1)[-1]}") from None
        started = True
        if args.masks:  # streamed: one frame in memory, whatever the clip's length
            mattes = MattesWriter(outputs.temp("--masks"), (info.width, info.height))
        frames, pending, applied = _frames(events, pipeline, reader, writer, mattes)
        if not frames:
            raise InputError(f"{args.input}: no frames could be decoded")
        writer.close()
        written_as, changes, writer = writer.description, writer.changes, None
        late = [n for n in pipeline.notices if not any(n in m for m in notices)]
        if mattes is not None:
            mattes.close()
        facts = summary(frames, applied, pending, info)
        facts["output"] = {"video": written_as, "changes": changes}
        if args.report:
            doc = report(args.input, info, frames, pipeline.notices, facts, warmup_ms)
            outputs.temp("--report").write_text(json.dumps(doc, indent=1))
        check_ctrl_c()  # once Ctrl-C came, nothing is put in place
        written = outputs.commit()
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) or ctrl_c():  # an error after Ctrl-C is its doing
            raise Interrupted(discard()) from None
        note = discard()
        if isinstance(exc, InputError):
            raise (InputError(f"{exc}; {note}") if started else exc) from None
        if isinstance(exc, OSError):
            raise OSError(f"writing failed ({exc.strerror or exc}); {note}") from None
        raise
    try:
        for line in summary_lines(facts, args.input, notices, late, written):
            print(f"focusr: {line}", file=sys.stderr)
    except KeyboardInterrupt:  # the files are in place: say so, if not the rest
        raise Interrupted(wrote(written)) from None
    return 0


def _frames(events, pipeline, reader, writer, mattes):
    from tqdm import tqdm

    from focusr.types import Pointer

    info = reader.info
    frames, pending, applied = [], list(events), []
    bar = tqdm(total=info.frames or None, unit="frame", desc="render", file=sys.stderr, dynamic_ncols=True,
               mininterval=0.1 if sys.stderr.isatty() else 5.0)
    try:
        for index, frame in enumerate(reader):
            check_ctrl_c()  # one a library dropped on its way
            t = index / info.fps
            click, release = None, False
            while pending and pending[0].t <= t + 1e-9:
                if click is not None and pending[0].at.point is not None:
                    break  # one click a frame, as on the page: the next goes on the next frame
                e = pending.pop(0)
                release, click = (True, None) if e.at.point is None else (release, e)
            pointer = Pointer(click=click.at.point, mode=click.at.mode, release=release) if click is not None \
                else Pointer(release=release)
            if click is not None:
                applied.append((click, index))
            out, result = pipeline.process(frame, pointer, t=t)
            writer.write(out)
            if mattes is not None:
                mattes.write(result.matte)
            state = {k: v for k, v in result.summary().items() if k not in OFFLINE_MEANINGLESS}
            frames.append({"index": index, "t": round(t, 4), **state,
                           "timings_ms": {k: round(v, 2) for k, v in result.timings_ms.items()}})
            bar.update(1)
    finally:
        bar.close()
    return frames, pending, applied


def summary(frames: list[dict], applied: list[tuple[Event, int]], pending: list[Event], info) -> dict:
    """What happened, in JSON types: the end summary and the report's "summary" both say this.
    `applied`: each click and the frame it was made on. A subject's span is from its click while
    it is kept (until a plain click, a release or its --remove)."""
    n, fps = len(frames), info.fps
    subjects = []
    for e, at in applied:
        if e.at.mode in ("remove", "include", "exclude"):  # keeps nobody new
            continue
        before = {s["key"] for s in frames[at - 1]["subjects"]} if at > 0 else set()
        now = {s["key"] for s in frames[at]["subjects"]}
        new = now - before
        key = max(new) if new else (frames[at]["subjects"][0]["key"] if e.at.mode == "lock" and now else None)
        end = at
        while end < n and any(s["key"] == key for s in frames[end]["subjects"]):
            end += 1
        mine = [next(s for s in f["subjects"] if s["key"] == key) for f in frames[at:end]]
        held = [s for s in mine if s["state"] in LOCKED]
        labels = Counter(s["label"] for s in held if s["label"])
        span = max(end - at, 1)  # a click that kept nothing: its own frame
        subjects.append({
            "event": str(e), "from_s": round(at / fps, 3), "to_s": round((at + span) / fps, 3), "frames": span,
            "locked_frames": len(held), "locked_share": round(len(held) / span, 4),
            "label": labels.most_common(1)[0][0] if labels else None,
        })
    lost, start = [], None
    for f in [*frames, {"state": None, "index": n}]:
        if f["state"] == "lost" and start is None:
            start = f["index"]
        elif f["state"] != "lost" and start is not None:
            lost.append([round(start / fps, 3), round(f["index"] / fps, 3)])
            start = None
    truncated = info.frames > 0 and n < info.frames - TRUNCATION_TOLERANCE
    return {"frames": n, "duration_s": round(n / fps, 3), "container_frames": info.frames, "truncated": truncated,
            "subjects": subjects, "lost_s": lost, "never_reached": [str(e) for e in pending],
            "locked_fraction": round(float(np.mean([f["state"] in LOCKED for f in frames])), 4) if frames else 0.0}


def summary_lines(facts: dict, source, notices: list[str], late: list[str], written) -> list[str]:
    n, duration = facts["frames"], facts["duration_s"]
    lines = [f"rendered {n} frames ({duration:.2f} s) of {source}"]
    if not facts["subjects"]:
        lines.append("nothing was in focus: no --focus given, so the frames are the input's, unblurred; "
                     "choose a subject with --focus T:X,Y (seconds:pixels)")
    if facts["truncated"]:
        claimed = facts["container_frames"]
        lines.append(f"warning: {source} is truncated or damaged: {n} frames decoded of the {claimed} its container "
                     f"claims; the output ends at {duration:.2f} s")
    for e in facts["never_reached"]:
        lines.append(f"warning: {e} was never reached: the video ended at {duration:.2f} s")
    for s in facts["subjects"]:
        when = f"{s['from_s']:.2f}-{s['to_s']:.2f} s"
        if s["locked_frames"]:
            lines.append(f"{s['event']} ({when}): {s['label'] or 'subject'} locked in "
                         f"{100 * s['locked_share']:.0f}% of its {s['frames']} frames")
        elif s["frames"]:
            lines.append(f"{s['event']} ({when}): nothing was locked")
    if facts["lost_s"]:
        shown = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in facts["lost_s"][:6])
        more = f" and {len(facts['lost_s']) - 6} more" if len(facts["lost_s"]) > 6 else ""
        lines.append(f"subject lost: {shown}{more}")
    elif facts["subjects"]:
        lines.append("subject never lost")
    reduced = [n.rsplit("reduced mode: ", 1)[-1] for n in notices if "reduced mode: " in n]
    if reduced:  # said in full before the first frame; a reminder here
        lines.append("reduced mode, as warned above: " + "; ".join(reduced))
    lines += [f"warning: {notice}" for notice in late]
    if "output" in facts:
        lines.append(f"video: {facts['output']['video']}")
        lines += [f"note: {change}" for change in facts["output"]["changes"]]
    lines.append(wrote(written))
    return lines


def wrote(written) -> str:
    kinds = {"-o": "video", "--masks": "masks", "--report": "report"}
    return "wrote " + ", ".join(f"{t.given} ({kinds.get(t.option, t.option)})" for t in written)


def report(source, info, frames: list[dict], notices: list[str], facts: dict, warmup_ms: float = 0.0) -> dict:
    """The --report document. `mean_ms` is over the rendered frames only: the models are loaded
    and the detector run once on a blank frame before frame 0, and that time is `warmup_ms`."""
    stages = sorted({k for f in frames for k in f["timings_ms"]})
    mean = {s: round(float(np.mean([f["timings_ms"].get(s, 0.0) for f in frames])), 2) for s in stages}
    return {
        "source": str(source), "width": info.width, "height": info.height, "fps": info.fps,
        "frames": frames, "mean_ms": mean, "warmup_ms": warmup_ms, "notices": notices,
        "locked_fraction": facts["locked_fraction"], "summary": facts,
    }
