"""`focusr render` end to end, and its answers to bad input: status 2, one line, no traceback."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import cv2
import numpy as np
import pytest

from synthetic import Thing, linear, make_scene

FOCUSR = [sys.executable, "-m", "focusr.cli"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    n = 45
    thing = Thing((110, 80), (40, 160, 230), 1, linear((120, 160), (340, 200), n))
    scene = make_scene(n, things=[thing])
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (480, 360))
    for f in scene.frames:
        writer.write(f)
    writer.release()
    return path, scene


def run(*args, env=None):
    return subprocess.run([*FOCUSR, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)


def test_render_writes_video_masks_and_report(clip, tmp_path):
    path, scene = clip
    out, masks, report = tmp_path / "out.mp4", tmp_path / "m.npz", tmp_path / "r.json"
    res = run("render", path, "-o", out, "--focus", "0:120,160", "--release", "2.5",
              "--masks", masks, "--report", report)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    # the default detector is not cached and downloads are off: said once, and rendering goes on
    assert res.stderr.count("detector weights yolov8n-seg.pt") == 1 and "reduced mode" in res.stderr, res.stderr
    assert f"focusr: wrote {out} (video), {masks} (masks), {report} (report)" in res.stderr
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(scene)
    m = np.load(masks)["masks"]
    assert m.shape == (len(scene), 360, 480) and m.dtype == np.uint8
    ious = [((m[i] > 127) & scene.masks[i]).sum() / ((m[i] > 127) | scene.masks[i]).sum() for i in range(30)]
    assert np.mean(ious) >= 0.9
    assert m[40].max() == 0  # released at 2.5 s
    rep = json.loads(report.read_text())
    states = [f["state"] for f in rep["frames"]]
    assert states[0] == "locked" and states[-1] == "idle"
    assert rep["frames"][10]["box"] is not None and "render" in rep["frames"][10]["timings_ms"]


def test_render_keeps_two_subjects_with_add_and_lets_one_go_with_remove(tmp_path):
    """--focus and --add at 0 s keep two objects sharp (no detector here: each a region grown from
    its click); --remove at 2 s lets the first go and the second stays. Checked on the masks
    against each object's true mask, and in the report and the summary."""
    n = 45
    a = Thing((100, 80), (40, 160, 230), 1, linear((110, 120), (200, 130), n))
    b = Thing((90, 90), (60, 200, 90), 3, linear((370, 250), (300, 240), n), shape="rect")
    scene = make_scene(n, things=[a, b])
    path = tmp_path / "two.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (480, 360))
    for f in scene.frames:
        writer.write(f)
    writer.release()
    out, masks, report = tmp_path / "out.mp4", tmp_path / "m.npz", tmp_path / "r.json"
    res = run("render", path, "-o", out, "--focus", "0:110,120", "--add", "0:370,250", "--remove", "2:175,127",
              "--masks", masks, "--report", report)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    m = np.load(masks)["masks"] > 127
    iou = lambda i, truth: (m[i] & truth).sum() / (m[i] | truth).sum()  # noqa: E731
    both = [iou(i, a.mask_at(i, m.shape[1:]) | b.mask_at(i, m.shape[1:])) for i in range(2, 29)]
    # after: how much of the second is sharp (GrabCut's cut-out of it wavers between 0.5 and 1 whoever
    # keeps it), how much of the first, and of the rest of the frame
    after = [(m[i][b.mask_at(i, m.shape[1:])].mean(), m[i][a.mask_at(i, m.shape[1:])].mean(),
              m[i][~b.mask_at(i, m.shape[1:])].sum() / b.mask_at(i, m.shape[1:]).sum()) for i in range(32, n)]
    on_b, on_a, elsewhere = (np.array(v) for v in zip(*after))
    print(f"both kept: mask IoU {np.mean(both):.2f}; after --remove, sharp: the second {on_b.mean():.2f} "
          f"(min {on_b.min():.2f}), the first {on_a.max():.2f}, elsewhere {elsewhere.max():.2f} of its area")
    assert np.mean(both) >= 0.7
    assert on_b.min() >= 0.4 and on_a.max() < 0.05 and elsewhere.max() < 0.2
    rep = json.loads(report.read_text())
    assert [len(f["subjects"]) for f in rep["frames"][2:29]] == [2] * 27
    assert [len(f["subjects"]) for f in rep["frames"][32:]] == [1] * (n - 32)
    events = {s["event"]: s for s in rep["summary"]["subjects"]}
    assert set(events) == {"--focus 0:110,120", "--add 0:370,250"}
    assert events["--focus 0:110,120"]["to_s"] == pytest.approx(2.0, abs=0.1)
    assert events["--add 0:370,250"]["to_s"] == pytest.approx(n / 15, abs=0.1)
    assert all(s["locked_share"] >= 0.9 for s in events.values())
    assert "--add 0:370,250 (0.07-3.00 s): object locked in" in res.stderr, res.stderr


def test_render_include_adds_the_bag_to_the_subject_and_it_moves_with_him(tmp_path):
    """--include at 1 s adds the bag he carries (which his cut-out leaves off) to his matte, and
    it stays sharp as he walks on: checked on the masks against the bag's true mask."""
    from test_corrections import N, carrying_scene

    from focusr.geometry import center

    scene = carrying_scene()
    subject, bag = scene.things
    path = tmp_path / "carry.avi"
    h, w = scene.frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (w, h))
    for f in scene.frames:
        writer.write(f)
    writer.release()
    bx, by = (round(v) for v in center(bag.box_at(15)))
    out, masks = tmp_path / "out.mp4", tmp_path / "m.npz"
    res = run("render", path, "-o", out, "--focus", "0:200,240", "--include", f"1:{bx},{by}", "--masks", masks)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    m = np.load(masks)["masks"] > 127
    on_bag = [m[i][bag.mask_at(i, m.shape[1:])].mean() for i in range(N)]
    print(f"bag sharp: before --include {max(on_bag[2:15]):.2f}, after {min(on_bag[16:]):.2f}-{max(on_bag[16:]):.2f}")
    assert max(on_bag[2:15]) < 0.5 < np.median(on_bag[16:]), on_bag


@pytest.mark.parametrize("args,needle", [
    (["render", "/no/such.mp4", "-o", "{tmp}/o.mp4"], "no such file"),
    (["render", "{notvideo}", "-o", "{tmp}/o.mp4"], "not a video"),
    (["render", "{truncated}", "-o", "{tmp}/o.mp4"], "not a video"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--focus", "0:900,100"], "outside"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--focus", "99:10,10"], "past the end"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--focus", "banana"], "expected T:X,Y"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--release", "-1"], "seconds"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--add", "banana"], "--add banana: expected T:X,Y"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--remove", "0:900,100"], "outside"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--add", "-2:10,10"], "--add -2:10,10: T must be"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--include", "1:x,2"], "--include 1:x,2: expected T:X,Y"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--exclude", "0:900,100"], "outside"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--interval", "0"], "--interval must be between 1 and 60"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--blur", "100"], "--blur must be between 0 and 40"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--aperture", "0.9"], "--aperture must be between 1.4 and 16"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--blades", "3"], "--blades must be between 5 and 9"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--bloom", "nan"], "--bloom must be between 0 and 1"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--bokeh", "cat-eye"], "--bokeh: invalid choice"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--focus", "-1:10,10"], "--focus -1:10,10: T must be"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--focus=-1:10,10"], "--focus -1:10,10: T must be"),
    (["render", "{clip}", "-o", "{clip}"], "is the input"),
    (["render", "{clip}"], "required"),
    (["render", "{clip}", "-o", "/no/such/dir/o.mp4"], "the folder /no/such/dir does not exist"),
    (["bench", "{clip}", "--segmenter", "/no/seg.tflite"], "--segmenter /no/seg.tflite: no such file"),
    (["explode"], "invalid choice"),
    (["bench", "/no/such.mp4"], "no such file"),
    (["bench", "{notvideo}"], "not a video"),
    (["bench", "{clip}", "--size", "big"], "expected WxH"),
    (["bench", "{clip}", "--size", "99999x10"], "must be"),
    (["bench", "{clip}", "--frames", "3"], "--frames"),
    (["bench", "{clip}", "--subjects", "9"], "--subjects must be between 1 and 8"),
    (["bench", "{clip}", "--weights", "/no/weights.pt"], "weights.pt"),
    (["render", "{clip}", "-o", "{tmp}/o.mp4", "--weights", "{graph}"], "graph.pb has no .pbtxt text graph beside it"),
])
def test_bad_input_exits_2_with_one_line(clip, tmp_path, args, needle):
    notvideo = tmp_path / "notes.mp4"
    notvideo.write_text("these are not frames")
    truncated = tmp_path / "cut.avi"
    truncated.write_bytes(clip[0].read_bytes()[:3000])
    graph = tmp_path / "graph.pb"  # an SSD graph without the text graph it needs
    graph.write_bytes(b"not a graph")
    subs = {"tmp": tmp_path, "notvideo": notvideo, "truncated": truncated, "clip": clip[0], "graph": graph}
    res = run(*[a.format(**subs) for a in args])
    assert res.returncode == 2, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("focusr: error:"), res.stderr
    assert needle in lines[0]


def test_option_defaults_are_the_parameters_defaults():
    """Written once: change a parameter's default and the CLI follows."""
    from focusr.cli import build_parser
    from focusr.pipeline import FocusPipeline
    from focusr.render import Renderer

    for command in (["render", "in.mp4", "-o", "out.mp4"], ["bench", "in.mp4"]):
        args = build_parser().parse_args(command)
        assert args.interval == FocusPipeline.param.detect_interval.default
    args = build_parser().parse_args(["render", "in.mp4", "-o", "o.mp4"])
    assert args.blur == Renderer.param.blur_strength.default
    for name in ("aperture", "bokeh", "blades", "bloom"):  # the lens: the renderer's parameters' names too
        assert getattr(args, name) == Renderer.param[name].default


def test_the_lens_options_reach_the_renderer():
    from focusr.cli import build_parser, make_pipeline

    args = build_parser().parse_args(["render", "in.mp4", "-o", "o.mp4", "--aperture", "2", "--bokeh", "blades",
                                      "--blades", "7", "--bloom", "0.8"])
    r = make_pipeline(args).renderer
    assert (r.aperture, r.bokeh, r.blades, r.bloom) == (2.0, "blades", 7, 0.8)


@pytest.mark.parametrize("args,line", [
    (["--port", "abc"], "focusr: error: --port abc: expected a port number, 1-65535 (default 5006)"),
    (["--port=70000"], "focusr: error: --port 70000: expected a port number, 1-65535 (default 5006)"),
    (["--bogus"], "focusr: error: serve: unrecognized arguments: --bogus (options are those of `panel serve --help`)"),
    (["--num-procs", "x"], "focusr: error: serve: argument --num-procs: invalid int value: 'x' (options are those "
                           "of `panel serve --help`)"),
])
def test_serve_refuses_bad_options_in_one_line(args, line):
    """Not Panel's 54-line usage: one line naming the option, status 2, and nothing served."""
    res = run("serve", *args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.splitlines() == [line] and res.stdout == ""


def test_ctrl_c_stops_the_server_and_says_how_many_sessions_it_closed(tmp_path):
    """Ctrl-C (SIGINT, twice: an impatient user) stops `focusr serve` the way SIGTERM does: one
    line says the server stopped and how many sessions it closed, status 0, no traceback."""
    from browser import free_port

    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "focusr", "serve", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline, page = time.monotonic() + 120, ""
        while not page:  # the page made a session
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard", timeout=30).read().decode()
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "Traceback" not in text
    assert len(re.findall(r"INFO focusr\.app: server stopped: \d+ sessions? closed$", text, re.M)) == 1, text


def test_native_log_lines_are_kept_off_stderr_and_focusrs_own_are_not(capfd):
    """While MediaPipe starts a model, fd 2 is held aside: its native log lines are dropped,
    anything else written meanwhile (FOCUSR's own, from any thread) still reaches stderr."""
    from focusr.native_stderr import native_stderr

    with native_stderr():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"WARNING: Logging before InitGoogle() is written to STDERR\n")
        os.write(2, b"W0000 00:00:1795958092.457740   12232 inference_feedback_manager.cc:121] Feedback manager "
                    b"requires a model with a single signature inference.\n")
        os.write(2, b"ERROR: The model is not a valid Flatbuffer buffer\n")
        worker = threading.Thread(target=os.write, args=(2, b"focusr: WARNING: from a worker\n"))
        worker.start()
        worker.join()
        os.write(2, b"focusr: error: the user's own\n")
    assert capfd.readouterr().err == "focusr: WARNING: from a worker\nfocusr: error: the user's own\n"


def test_the_person_segmenter_starts_without_a_word_on_stderr(capfd, selfie_model):
    """Wherever it starts (a render, bench, a served session's first person), not only in `render`."""
    from focusr.segment import Segmenter

    segmenter = Segmenter(person_model=str(selfie_model))
    try:
        assert segmenter.load(), segmenter.error
    finally:
        segmenter.close()
    assert capfd.readouterr().err == ""


def test_render_with_depth_and_no_depth_model_says_so_once_and_renders_by_distance(clip, tmp_path):
    path, scene = clip
    out = tmp_path / "out.mp4"
    res = run("render", path, "-o", out, "--focus", "0:120,160", "--depth", "--bokeh", "disc", "--aperture", "2")
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    lines = [line for line in res.stderr.splitlines() if "depth model" in line]
    assert len(lines) == 1, res.stderr  # once, before the first frame
    assert "midas_v21_small_256.onnx is not downloaded, and downloads are off (FOCUSR_OFFLINE)" in lines[0]
    assert "FOCUSR_DEPTH" in lines[0] and "blur by distance in the picture instead" in lines[0]
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == len(scene)
