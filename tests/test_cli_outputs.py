"""`focusr render` never destroys a file and says what it did (issue 24, slices 1-2): real
subprocesses on a 50-frame cut of real footage and the real offline models.

Refusals exit 2 with one line naming the option as typed, before anything is written; named
models that cannot load are refusals; Ctrl-C (SIGINT to the process) while the command is still
importing its modules, at start-up or mid-render exits 130 with one line; in every case the
targets are byte-identical to before and no temporary file is left beside them. The end
summary says what was locked and written.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import PERSON_LABELS, asset

FOCUSR = [sys.executable, "-m", "focusr.cli"]
ROOT = Path(__file__).resolve().parents[1]
FRAMES = 50  # vtest.avi is 10 fps: 5 s
WALKER = "266,260"  # a pedestrian on vtest's first frame (768x576)


def cut(src: Path, dst: Path, n: int) -> Path:
    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(n):
        ok, frame = cap.read()
        assert ok, src
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
        writer.write(frame)
    writer.release()
    cap.release()
    return dst


@pytest.fixture(scope="module")
def footage(tmp_path_factory) -> Path:
    return cut(asset("vtest.avi"), tmp_path_factory.mktemp("footage") / "walk.avi", FRAMES)


@pytest.fixture
def work(tmp_path, footage):
    """A folder with the input and three precious files where the outputs will go."""
    src = tmp_path / "walk.avi"
    src.write_bytes(footage.read_bytes())
    targets = {name: tmp_path / name for name in ("precious.mp4", "precious.npz", "precious.json")}
    for i, path in enumerate(targets.values()):
        path.write_bytes(os.urandom(5000 + i))
    return tmp_path, src, targets


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}


def assert_untouched(folder: Path, before: dict[str, bytes]):
    assert snapshot(folder) == before  # byte-identical, and nothing new: no temporary file left
    assert not [p for p in folder.iterdir() if ".partial-" in p.name]


def models(person_weights, selfie_model) -> list[str]:
    return ["--weights", str(person_weights), "--person-labels", ",".join(PERSON_LABELS),
            "--segmenter", str(selfie_model)]


def run(*args):
    return subprocess.run([*FOCUSR, *map(str, args)], capture_output=True, text=True, timeout=300)


def one_line(res) -> str:
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
def test_output_that_is_the_input_is_refused(work, how):
    folder, src, _ = work
    if how == "same path":
        out = src
    else:
        out = folder / "other.avi"
        (out.symlink_to if how == "symlink" else out.hardlink_to)(src)
    before = snapshot(folder)
    res = run("render", src, "-o", out, "--focus", "0:" + WALKER)
    assert res.returncode == 2, res.stderr
    assert re.fullmatch(rf"focusr: error: -o {re.escape(str(out))} is the input .*choose another name", one_line(res))
    assert_untouched(folder, before)


@pytest.mark.parametrize("args,message", [
    (["--interval", "0"], "focusr: error: --interval must be between 1 and 60 frames, not 0"),
    (["--blur", "100"], "focusr: error: --blur must be between 0 and 40, not 100"),
    (["--focus", "-1:10,10"], "focusr: error: --focus -1:10,10: T must be a time in seconds >= 0"),
    (["--focus", "99:10,10"], "focusr: error: --focus 99:10,10: 99 s is past the end of"),
    (["--release", "7.5"], "focusr: error: --release 7.5: 7.5 s is past the end of"),
    (["--focus", "0:900,10"], "focusr: error: --focus 0:900,10: pixel 900,10 is outside the 768x576 frame"),
    (["--masks", "{dir}/"], "focusr: error: --masks {dir}/: is a folder"),
    (["--report", "{dir}"], "focusr: error: --report {dir}: is a folder"),
    (["--masks", "{dir}/precious.mp4"], "focusr: error: --masks {dir}/precious.mp4 and -o {dir}/precious.mp4 are the "
                                        "same file"),
    (["--masks", "{dir}/m.npz", "--report", "{dir}/m.npz"], "focusr: error: --report {dir}/m.npz and --masks"),
    (["--report", "{dir}/no/such/r.json"], "focusr: error: --report {dir}/no/such/r.json: the folder"),
    (["-o", "{dir}/out.avi"], "focusr: error: -o {dir}/out.avi: unsupported extension .avi; use one of .mp4, .m4v, "
                                ".mov, .mkv, .webm"),
])
def test_refused_options_leave_an_existing_output_byte_identical(work, args, message):
    folder, src, targets = work
    before = snapshot(folder)
    args = [a.format(dir=folder) for a in args]
    res = run("render", src, "-o", targets["precious.mp4"], "--focus", "0:" + WALKER, *args)
    assert res.returncode == 2, res.stderr
    assert one_line(res).startswith(message.format(dir=folder)), res.stderr
    assert_untouched(folder, before)


@pytest.mark.parametrize("option,name", [("--masks", "m.npz"), ("--report", "r.json")])
def test_unwritable_masks_and_report_fail_before_rendering(work, option, name):
    """/sys takes no new file, whoever asks (root included, whom permission bits do not stop)."""
    folder, src, targets = work
    before = snapshot(folder)
    res = run("render", src, "-o", targets["precious.mp4"], "--focus", "0:" + WALKER, option, f"/sys/{name}")
    assert res.returncode == 2, res.stderr
    assert one_line(res).startswith(f"focusr: error: {option} /sys/{name}: cannot write in /sys"), res.stderr
    assert_untouched(folder, before)


@pytest.mark.parametrize("command", ["render", "bench"])
@pytest.mark.parametrize("option,value,why", [
    ("--weights", "{dir}/no/such.pt", "no such file"),
    ("--weights", "{dir}/notes.pt", "not weights ultralytics can load"),
    ("--weights", "{dir}/notes.json", "not weights ultralytics can load"),  # opened lazily: fails on a frame
    ("--segmenter", "{dir}/no/such.tflite", "no such file"),
    ("--segmenter", "{dir}/notes.tflite", "MediaPipe cannot start it"),
])
def test_named_models_that_cannot_load_exit_2_with_one_line(work, person_weights, selfie_model, command, option,
                                                           value, why):
    folder, src, targets = work
    for name in ("notes.pt", "notes.json", "notes.tflite"):
        (folder / name).write_text("these are not weights\n" * 50)
    before = snapshot(folder)
    value = value.format(dir=folder)
    given = {"--weights": str(person_weights), "--segmenter": str(selfie_model), option: value}
    argv = ["--weights", given["--weights"], "--segmenter", given["--segmenter"],
            "--person-labels", ",".join(PERSON_LABELS)]
    if command == "render":
        res = run("render", src, "-o", targets["precious.mp4"], "--focus", "0:" + WALKER, *argv)
    else:
        res = run("bench", src, "--frames", "10", "--size", "400x300", *argv)
    assert res.returncode == 2, res.stderr
    line = one_line(res)
    assert line.startswith(f"focusr: error: {option} {value}: {why}"), line
    assert f"leave {option} out" in line  # what to do
    assert_untouched(folder, before)


def _wait_for(predicate, proc, timeout=120.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc.poll() is None, f"exited {proc.returncode} before {what}: {proc.communicate()[1]}"
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("when", ["start-up", "mid-render"])
def test_ctrl_c_leaves_the_targets_as_they_were(work, person_weights, selfie_model, when):
    folder, src, targets = work
    before = snapshot(folder)
    proc = subprocess.Popen([*FOCUSR, "render", str(src), "-o", str(targets["precious.mp4"]),
                             "--masks", str(targets["precious.npz"]), "--report", str(targets["precious.json"]),
                             "--focus", "0:" + WALKER, *models(person_weights, selfie_model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        partial = lambda: [p for p in folder.iterdir() if p.name.startswith(".precious.partial-")]  # noqa: E731
        if when == "start-up":
            # the temporary files are made before the models load (seconds: torch, ultralytics, MediaPipe)
            _wait_for(lambda: len(partial()) == 3, proc, what="the temporary files")
        else:  # frames are being written: the partial video has grown past its header
            video = lambda: [p for p in partial() if p.suffix == ".mp4"]  # noqa: E731
            _wait_for(lambda: video() and video()[0].stat().st_size > 64_000, proc, what="frames in the partial video")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert ("render:" in err) == (when == "mid-render"), err  # the progress bar starts with the first frame
    lines = [line for line in err.splitlines() if line.startswith("focusr:")]
    assert lines[-1] == (f"focusr: interrupted: nothing was written; {targets['precious.mp4']}, "
                         f"{targets['precious.npz']}, {targets['precious.json']} are left as they were"), err
    assert_untouched(folder, before)


# Python's own start-up (before a program's first line) ends on SIGINT with the interpreter's
# "Fatal Python error" or a traceback from importlib, whatever the program: no command can take
# Ctrl-C there. So the clock starts when it is all but done: a sitecustomize (run at the end of
# start-up) writes a byte to a pipe. What is left of Python's own work then is under 2 ms here,
# far less than the shortest delay.
READY_HOOK = """import os
fd = os.environ.pop("FOCUSR_TEST_READY_FD", None)
if fd:
    os.write(int(fd), b".")
    os.close(int(fd))
"""


def console_script(folder: Path) -> list[str]:
    """The `focusr` command as pip installs it from pyproject.toml's [project.scripts] entry:
    a script that imports the entry point and calls it (this environment's own script may have
    been installed from another checkout, and names the entry point it was installed with)."""
    module, func = re.search(r'^focusr = "([\w.]+):(\w+)"', (ROOT / "pyproject.toml").read_text(), re.M).groups()
    script = folder / "focusr"
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {func}\n"
                      f"if __name__ == '__main__':\n    sys.exit({func}())\n")
    script.chmod(0o755)
    return [str(script)]


@pytest.mark.parametrize("entry", ["console script", "python -m focusr"])
def test_ctrl_c_while_still_importing_is_one_line_not_a_traceback(work, tmp_path_factory, person_weights,
                                                                    selfie_model, entry):
    """Ctrl-C in the first moments of `focusr render`, while NumPy, OpenCV and the pipeline's
    modules are still being imported (at the longest delay, maybe the models loading): one line,
    status 130, the existing target byte-identical and the new one not made. Whatever moment a
    delay lands on, that is what a user sees (with the models named, nothing else is said before
    the first frame; after it, only the progress bar). Run as the console script pip makes from
    pyproject.toml and as `python -m focusr`."""
    folder, src, targets = work
    hook = tmp_path_factory.mktemp("hook")
    (hook / "sitecustomize.py").write_text(READY_HOOK)
    command = console_script(hook) if entry == "console script" else [sys.executable, "-m", "focusr"]
    new_report = folder / "new.json"
    before = snapshot(folder)
    for delay in (0.05, 0.1, 0.2, 0.4):
        ready, ready_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)]),
               "FOCUSR_TEST_READY_FD": str(ready_w)}
        proc = subprocess.Popen([*command, "render", str(src), "-o", str(targets["precious.mp4"]),
                                 "--report", str(new_report), "--focus", "0:" + WALKER,
                                 *models(person_weights, selfie_model)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                pass_fds=(ready_w,))
        os.close(ready_w)
        try:
            assert select.select([ready], [], [], 60)[0] and os.read(ready, 1) == b".", "Python did not start"
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=120)
        finally:
            os.close(ready)
            if proc.poll() is None:
                proc.kill()
        assert "Traceback" not in err, (delay, err)
        assert proc.returncode == 130, (delay, proc.returncode, err)
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith("render:")]
        assert len(lines) == 1 and re.fullmatch(rf"focusr: interrupted: nothing was written"
                                                rf"(; {re.escape(str(targets['precious.mp4']))} is left as it was)?",
                                                lines[0]), (delay, err)
        assert_untouched(folder, before)


def test_summary_says_what_was_locked_written_and_missed(work, person_weights):
    """A truncated input (half its bytes: the container still claims 50 frames) and a --focus
    the video never reaches; the default segmenter is not cached (reduced mode, said once)."""
    folder, src, targets = work
    data = src.read_bytes()
    cut_in = folder / "cut.avi"
    cut_in.write_bytes(data[: len(data) // 2])
    out, report = folder / "out.mp4", folder / "out.json"
    res = run("render", cut_in, "-o", out, "--report", report, "--weights", person_weights,
              "--person-labels", ",".join(PERSON_LABELS), "--focus", "0:" + WALKER, "--focus", "4.5:100,100")
    assert res.returncode == 0, res.stderr
    err = res.stderr
    assert "Traceback" not in err
    assert err.count("continuing in reduced mode: people are cut out with GrabCut") == 1, err
    assert "reduced mode, as warned above: people are cut out with GrabCut" in err
    assert "selfie_segmenter.tflite" in err and "FOCUSR_SEGMENTER" in err  # which model, and how to fix it
    m = re.search(r"^focusr: rendered (\d+) frames \((\d+\.\d\d) s\) of ", err, re.M)
    assert m and 10 < int(m[1]) < FRAMES, err
    decoded = int(m[1])
    assert re.search(rf"^focusr: warning: .*cut\.avi is truncated or damaged: {decoded} frames decoded of the "
                     rf"{FRAMES} its container claims", err, re.M), err
    assert re.search(r"^focusr: warning: --focus 4\.5:100,100 was never reached: the video ended at", err, re.M), err
    m = re.search(rf"^focusr: --focus 0:{WALKER} \(0\.00-\d+\.\d\d s\): (\w+) locked in (\d+)% of its (\d+) frames",
                  err, re.M)
    assert m and m[1] in PERSON_LABELS and int(m[2]) >= 80 and int(m[3]) == decoded, err
    assert re.search(r"^focusr: (subject never lost|subject lost: )", err, re.M), err
    assert err.rstrip().endswith(f"focusr: wrote {out} (video), {report} (report)"), err
    assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == decoded

    summary = json.loads(report.read_text())["summary"]
    assert summary["truncated"] and summary["frames"] == decoded and summary["container_frames"] == FRAMES
    assert summary["never_reached"] == ["--focus 4.5:100,100"]


def test_no_focus_is_a_hint_and_the_video_is_still_written(work):
    """Default models offline and not cached: the detector's absence is said once, with what it
    means; without a detector the person segmenter is never needed, so it is not mentioned."""
    folder, src, _ = work
    out = folder / "plain.mp4"
    res = run("render", src, "-o", out)
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("detector weights yolov8n-seg.pt") == 1 and "FOCUSR_DETECTOR" in res.stderr, res.stderr
    assert res.stderr.count("continuing in reduced mode: nothing is detected, clicks grow a region") == 1
    assert "selfie" not in res.stderr
    assert "focusr: hint: no --focus given" in res.stderr  # before the frames, and in the summary:
    summary = res.stderr[res.stderr.index("focusr: rendered"):].splitlines()
    assert summary[1] == ("focusr: nothing was in focus: no --focus given, so the frames are the input's, "
                          "unblurred; choose a subject with --focus T:X,Y (seconds:pixels)"), res.stderr
    assert out.stat().st_size > 0 and not [p for p in folder.iterdir() if ".partial-" in p.name]
    assert (out.stat().st_mode & 0o777) == 0o666 & ~_umask()  # as a plain write would have made it


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("command", ["render", "bench"])
@pytest.mark.parametrize("labels", ["persn", "persn,Fall", "normal"])
def test_person_labels_the_detector_does_not_have_are_refused(work, person_weights, command, labels):
    """The offline person model's classes are Normal and Fall: a typo (or the wrong case) is
    refused with one line naming the classes it has, before anything is written."""
    folder, src, targets = work
    before = snapshot(folder)
    if command == "render":
        res = run("render", src, "-o", targets["precious.mp4"], "--weights", person_weights,
                  "--person-labels", labels, "--focus", "0:" + WALKER)
    else:
        res = run("bench", src, "--frames", "10", "--size", "400x300", "--weights", person_weights,
                  "--person-labels", labels)
    assert res.returncode == 2, res.stderr
    unknown = labels.split(",")[0]
    assert one_line(res) == f"focusr: error: --person-labels {labels}: the detector has no class {unknown}; " \
                            f"its classes are Normal, Fall"
    assert_untouched(folder, before)


def test_the_same_input_and_options_give_identical_frames(work, person_weights, selfie_model):
    """No overlays by default (their status line has a live fps figure): a render is a deliverable,
    the same every time, frame for frame."""
    folder, src, _ = work
    outs = [folder / "a.mp4", folder / "b.mp4"]
    for out in outs:
        res = run("render", src, "-o", out, "--focus", "0:" + WALKER, *models(person_weights, selfie_model))
        assert res.returncode == 0, res.stderr
    caps = [cv2.VideoCapture(str(out)) for out in outs]
    n = 0
    while True:
        (ok_a, a), (ok_b, b) = (cap.read() for cap in caps)
        assert ok_a == ok_b
        if not ok_a:
            break
        assert (a == b).all(), n
        n += 1
    assert n == FRAMES


@pytest.fixture(scope="module")
def rendered(footage, person_weights, selfie_model, tmp_path_factory):
    """One render with both real models and a report: what the user saw on stderr, and the report."""
    folder = tmp_path_factory.mktemp("rendered")
    report = folder / "walk.json"
    res = run("render", footage, "-o", folder / "walk.mp4", "--report", report, "--focus", "0:" + WALKER,
              *models(person_weights, selfie_model))
    assert res.returncode == 0, res.stderr
    return res.stderr, json.loads(report.read_text())


def test_mediapipe_log_lines_stay_off_the_terminal(rendered):
    """MediaPipe's native code writes 'WARNING: Logging before InitGoogle() is written to STDERR',
    'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.' and a glog 'W0000 ...' line straight
    to stderr as its model starts, into the progress bar. The user sees FOCUSR's lines and the bar."""
    err, _ = rendered
    pieces = [piece for piece in re.split(r"[\r\n]", err) if piece.strip()]  # the bar redraws after \r
    assert all(piece.startswith(("focusr: ", "render: ")) for piece in pieces), err
    assert "InitGoogle" not in err and "TensorFlow" not in err, err
    assert re.search(r"^focusr: --focus 0:\S+ \(.*\): (Normal|Fall) locked in", err, re.M), err  # it did segment


def test_the_report_leaves_the_warm_up_out_of_the_frames_and_has_no_hover(rendered):
    """The models load and the detector runs once on a blank frame before frame 0: that time is
    `warmup_ms`, not frame 0's, so `mean_ms` is the frames' own. A render has no pointer, so the
    frames carry no hover fields."""
    _, rep = rendered
    frames = rep["frames"]
    assert rep["warmup_ms"] > 0
    assert not [f for f in frames if "hover" in f or "hover_label" in f]
    assert set(frames[0]) == {"index", "t", "state", "label", "box", "detected", "subjects", "timings_ms"}
    detections = [f["timings_ms"]["detect"] for f in frames[1:] if f["detected"]]
    assert len(detections) >= 5
    first, typical = frames[0]["timings_ms"]["detect"], float(np.median(detections))
    assert first < 3 * typical + 100, (first, typical, rep["warmup_ms"])  # a warm-up on frame 0 was ~10x
    mean = np.mean([f["timings_ms"]["detect"] for f in frames])
    assert rep["mean_ms"]["detect"] == pytest.approx(mean, abs=0.01)


def _peak_rss_mb(argv, log: Path) -> float:
    """Run focusr; its peak resident memory (from wait4, this child's alone)."""
    with open(log, "w") as err:
        proc = subprocess.Popen([*FOCUSR, *map(str, argv)], stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, log.read_text()
    return usage.ru_maxrss / 1024  # KiB on Linux


def test_masks_are_streamed_memory_does_not_grow_with_the_clip(tmp_path):
    """150 frames of 768x576 mattes are 66 MB (132 MB once stacked) held in memory; streamed to
    disk, --masks costs a few MB whatever the length. Reduced mode (no detector): fast, and a
    click still grows a subject, so the mattes are real."""
    n = 150
    src = cut(asset("vtest.avi"), tmp_path / "long.avi", n)
    common = ["render", src, "--focus", "0:" + WALKER]
    without = _peak_rss_mb([*common, "-o", tmp_path / "a.mp4"], tmp_path / "a.log")
    masks = tmp_path / "m.npz"
    with_masks = _peak_rss_mb([*common, "-o", tmp_path / "b.mp4", "--masks", masks], tmp_path / "b.log")
    assert with_masks - without < 25, (without, with_masks)
    m = np.load(masks)["masks"]
    assert m.shape == (n, 576, 768) and m.dtype == np.uint8 and m[0].max() == 255 and m[-1].max() == 255
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_version_and_help():
    res = run("--version")
    assert res.returncode == 0 and re.fullmatch(r"focusr \d+\.\d+\.\d+\s*", res.stdout), (res.stdout, res.stderr)
    res = run("render", "--help")
    assert res.returncode == 0
    text = res.stdout
    assert "examples:" in text and "focusr render walk.mp4 -o walk-focus.mp4 --focus 0:448,123" in text
    for unit in ("seconds", "pixel", "frames", "sigma in pixels"):
        assert unit in text, unit
    assert "without any --focus nothing is in focus and the frames are written unblurred" in " ".join(text.split())


def test_a_write_that_fails_at_the_end_leaves_the_targets_and_says_so(work, monkeypatch, capsys):
    """A full disk while the report is written (after the whole render): status 1, one line, the
    video already rendered to its temporary file is not put in place either."""
    import focusr.render_job
    from focusr.cli import main

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    folder, src, targets = work
    before = snapshot(folder)
    monkeypatch.setattr(focusr.render_job, "report", full)
    rc = main(["render", str(src), "-o", str(targets["precious.mp4"]), "--report", str(targets["precious.json"]),
               "--focus", "0:" + WALKER])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("focusr: error")]
    assert rc == 1
    assert err == [f"focusr: error: writing failed (No space left on device); nothing was written; "
                   f"{targets['precious.mp4']}, {targets['precious.json']} are left as they were"]
    assert_untouched(folder, before)
