"""The cheap tracker of the subjects kept besides the first (`focusr.flowtrack`): on synthetic
footage with exact boxes it stays on its own subject while another crosses in front of it,
and keeps the subject's size. (Through the pipeline, with detections and the appearance
check around it: tests/test_subjects.py; its speed: `focusr bench --subjects 4`.)"""

from __future__ import annotations

import numpy as np

from focusr.flowtrack import FlowTracker
from focusr.geometry import iou
from scripted import crossing_scene


def follow(scene, k: int, frames: range) -> list[tuple[bool, tuple]]:
    tracker = FlowTracker()
    x1, y1, x2, y2 = scene.things[k].box_at(frames[0])
    tracker.init(scene.frames[frames[0]], (x1, y1, x2 - x1, y2 - y1))
    out = []
    for i in frames[1:]:
        ok, (x, y, w, h) = tracker.update(scene.frames[i])
        out.append((ok, (x, y, x + w, y + h)))
    return out


def test_it_stays_on_its_subject_while_another_crosses_in_front():
    """Things 1 and 2 cross on frames 34-45, 2 drawn over 1 (their boxes overlap up to 0.63):
    the points on 1 that 2 covers move 2's way, and a plain median of all of them could go
    with 2. It follows the way nearer its last step: on 1 throughout, never on 2."""
    scene = crossing_scene(70)
    frames = range(20, 70)
    track = follow(scene, 1, frames)
    scores = [iou(box, scene.things[1].box_at(i)) for i, (_, box) in zip(frames[1:], track)]
    rivals = [iou(box, scene.things[2].box_at(i)) for i, (_, box) in zip(frames[1:], track)]
    print(f"on its subject: IoU min {min(scores):.2f}, mean {np.mean(scores):.2f}; "
          f"with the one crossing: max {max(rivals):.2f}; ok {sum(ok for ok, _ in track)}/{len(track)}")
    assert all(ok for ok, _ in track)
    assert min(scores) >= 0.6
    assert all(s > r for s, r in zip(scores, rivals))


def test_it_keeps_the_subjects_size():
    scene = crossing_scene(60)
    track = follow(scene, 0, range(0, 60))
    w, h = scene.things[0].size
    sizes = [((b[2] - b[0]) / w, (b[3] - b[1]) / h) for _, b in track]
    print(f"width share {min(s[0] for s in sizes):.2f}-{max(s[0] for s in sizes):.2f}, "
          f"height {min(s[1] for s in sizes):.2f}-{max(s[1] for s in sizes):.2f}")
    assert all(0.85 <= s <= 1.15 for pair in sizes for s in pair)


def test_a_still_frame_shown_again_changes_nothing_and_it_follows_on_after():
    """Paused, the same frame is processed again and again: no motion is learnt from it (its
    way stays the subject's), and when the video plays on it follows the subject at once."""
    scene = crossing_scene(60)
    tracker = FlowTracker()
    x1, y1, x2, y2 = scene.things[0].box_at(10)
    tracker.init(scene.frames[10], (x1, y1, x2 - x1, y2 - y1))
    frames = [*range(11, 20), *[20] * 12, *range(21, 50)]
    scores = []
    for i in frames:
        ok, (x, y, w, h) = tracker.update(scene.frames[i])
        scores.append(iou((x, y, x + w, y + h), scene.things[0].box_at(i)))
        assert ok
    print(f"IoU with its subject: min {min(scores):.2f}")
    assert min(scores) >= 0.8
