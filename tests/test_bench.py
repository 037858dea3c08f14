"""`focusr bench` on the person path, on real footage and the real offline models: both
pipelines are timed on every stage, the naive design runs its MediaPipe branch and both
detect, lock the clicked walker and say so."""

from __future__ import annotations

import json
import re

from conftest import PERSON_LABELS, asset

SIZE = (400, 300)  # at 320x240 the offline person detector finds none of vtest's small walkers
CLICK = (139.0, 136.0)  # the walker on the left, on the first frame at 400x300 (bench_report's pedestrian)
FRAMES = 40


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_bench_person_path_times_every_stage_and_runs_mediapipe(person_weights, selfie_model, capsys):
    from focusr.bench import read_frames
    from focusr.cli import main
    from focusr.detect import Detector, under_point
    from focusr.timing import STAGES

    video = asset("vtest.avi")
    rc = main(["bench", str(video), "--size", f"{SIZE[0]}x{SIZE[1]}", "--frames", str(FRAMES),
               "--weights", str(person_weights), "--person-labels", ",".join(PERSON_LABELS),
               "--segmenter", str(selfie_model), "--click", f"{CLICK[0]:.0f},{CLICK[1]:.0f}", "--subjects", "2",
               "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    results = {r["name"]: r for r in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}
    assert set(results) == {"naive", "focusr", "focusr-2"}, out
    naive, ours, two = results["naive"], results["focusr"], results["focusr-2"]
    # with --subjects 2 the clicked walker and the next largest person are both kept to the end
    assert two["subjects_kept"] == 2 and two["fps"] > 0 and two["lock"] == ours["lock"], two
    assert re.search(r"^2 subjects kept \(of 2 clicked, on the last frame\): [\d.]+ fps, \d+% of one", out, re.M), out
    # and like for like: the frame rate on the frames where each pass held every subject it clicked
    timed = FRAMES - min(10, FRAMES // 5)  # the first frames warm the models up
    for r in (ours, two):
        assert 0 < r["all_held"]["frames"] <= timed and r["all_held"]["fps"] > 0, r["all_held"]

    for r in (naive, ours):
        assert set(r["stages"]) == set(STAGES), r["stages"]
        assert r["fps"] > 0 and r["p95_ms"] > 0
        assert r["frames_total"] == FRAMES
    # the stages the naive design does not have are there, at 0; the ones it has took time
    assert naive["stages"]["enhance"]["mean_ms"] == 0 and naive["stages"]["overlay"]["mean_ms"] == 0
    for s in ("decode", "detect", "track", "segment", "render", "encode"):
        assert naive["stages"][s]["mean_ms"] > 0, s

    # the naive person path ran MediaPipe, every 3 frames while it had the walker
    assert naive["segments"]["mediapipe"] >= FRAMES // 3 - 1, naive["segments"]
    # both detected, and said how often: naive on its schedule, synchronously
    assert naive["detections"] >= FRAMES // 5 and ours["detections"] > 0
    m = re.search(r"^detections: naive (\d+) .*focusr (\d+) ", out, re.M)
    assert m and (int(m[1]), int(m[2])) == (naive["detections"], ours["detections"]), out
    assert re.search(r"^segmentations: naive mediapipe \d+", out, re.M), out

    # both locked the clicked walker: the person detection under the click on the first frame
    first = read_frames(str(video), SIZE, 1)[0]
    clicked = under_point(Detector(weights=str(person_weights), person_labels=PERSON_LABELS).detect(first), CLICK)
    assert clicked is not None and clicked.label in PERSON_LABELS
    for r in (naive, ours):
        assert r["lock"]["label"] in PERSON_LABELS, r["lock"]
        assert _iou(r["lock"]["box"], clicked.box) > 0.7, (r["name"], r["lock"], clicked.box)
    assert naive["lock"]["detection"] is True
    assert naive["tracked_frames"] >= FRAMES // 2

    m = re.search(r"^ratio focusr/naive: (\d+\.\d+)x$", out, re.M)
    assert m and float(m[1]) > 0, out
