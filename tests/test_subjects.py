"""Several subjects: Ctrl-click (or `--add`) keeps another subject sharp, each tracked on its own;
a click on a kept one with Ctrl (or `--remove`) lets it go; a plain click starts over with one.

Deterministic: synthetic footage with exact masks (four textured subjects of one class that
move 2-6 px a frame and cross) and a scripted detector that returns their true boxes three
frames late with jitter. Every check is of WHO is kept: each subject's box against the true
box of the one clicked, and the picture's matte against their true masks.
"""

from __future__ import annotations

import numpy as np

from focusr.geometry import center, iou
from focusr.pipeline import FocusPipeline
from focusr.types import Pointer, TrackState
from scripted import ScriptedBackground, ScriptedDetector, crossing_scene


def pipeline(scene) -> FocusPipeline:
    return FocusPipeline(background=ScriptedBackground(scene, lag=3), detector=ScriptedDetector(), rack_focus=0.0)


def who(scene, box, i: int) -> tuple[int, float]:
    scores = [iou(box, thing.box_at(i)) for thing in scene.things]
    return int(np.argmax(scores)), max(scores)


def kept(result, scene) -> dict[int, float]:
    """Which things the kept subjects are on (thing -> IoU), by their boxes on this frame."""
    out = {}
    for subject, state in result.subjects:
        k, score = who(scene, subject.box, result.index)
        out[k] = max(out.get(k, 0.0), score)
    return out


def run(scene, p: FocusPipeline, clicks: dict[int, tuple[int, str]], frames: range, each=None):
    """Frames `frames` through `p`; at frame i in `clicks`, a click with mode on thing k's centre
    (as the detector last drew it), `each(result)` after every frame."""
    results = []
    for i in frames:
        pointer = Pointer()
        if i in clicks:
            k, mode = clicks[i]
            pointer = Pointer(click=center(scene.things[k].box_at(i)), mode=mode) if mode != "release" \
                else Pointer(release=True)
        _, result = p.process(scene.frames[i], pointer, t=i / 30)
        results.append(result)
        if each is not None:
            each(result)
    return results


def test_added_subjects_are_each_kept_and_tracked_on_their_own_as_they_cross():
    """Subjects 1 and 2 cross (frames 34-45, boxes overlapping up to 0.63), then 0 and 2 walk
    side by side, half over each other (frames 65-110); all three are kept, each box stays on
    its own subject, and the picture's matte is their three masks: sharp on each, not on the
    fourth. (From frame 111, 0 passes wholly behind 2, 0.84 of their boxes overlapping: who is
    who is then a guess for one tracker alone as well.)"""
    scene = crossing_scene(111)
    p = pipeline(scene)
    try:
        results = run(scene, p, {10: (0, "lock"), 12: (1, "add"), 14: (2, "toggle")}, range(111))
    finally:
        p.close()
    on, matte_ious, gaps = 0, [], []
    for r in results[16:]:
        where = kept(r, scene)
        assert len(r.subjects) == 3, (r.index, r.subjects)
        assert [s.key for s, _ in r.subjects] == [s.key for s, _ in results[16].subjects]  # the same three
        on += all(where.get(k, 0.0) >= 0.4 for k in (0, 1, 2))
        truth = np.zeros(r.matte.shape, bool)
        for k in (0, 1, 2):
            truth |= scene.things[k].mask_at(r.index, r.matte.shape)
        sharp = r.matte > 127
        matte_ious.append((sharp & truth).sum() / (sharp | truth).sum())
        other = scene.things[3].mask_at(r.index, r.matte.shape) & ~truth  # the one not kept
        gaps.append(sharp[other].mean() if other.any() else 0.0)
    n = len(results) - 16
    print(f"three kept: all on their own subject {on}/{n} frames, matte IoU mean {np.mean(matte_ious):.2f} "
          f"(min {min(matte_ious):.2f}), the fourth sharp {np.mean(gaps):.1%}")
    assert on >= 0.95 * n
    assert np.mean(matte_ious) >= 0.6
    assert np.mean(gaps) <= 0.1


def test_remove_toggle_plain_click_and_release_change_who_is_kept():
    scene = crossing_scene(110)
    p = pipeline(scene)
    seen = {}

    def after(r):
        seen[r.index] = (sorted(kept(r, scene)), [s.key for s, _ in r.subjects], r.state)

    try:
        run(scene, p, {10: (0, "lock"), 12: (2, "add"), 14: (3, "add"),  # three kept
                       30: (2, "remove"),  # 2 goes, 0 and 3 stay
                       40: (1, "remove"),  # not kept: nothing changes
                       50: (0, "toggle"),  # the first goes: 3 alone, still tracked
                       60: (0, "toggle"),  # and comes back
                       75: (1, "lock"),  # a plain click: 1 alone
                       90: (0, "release")}, range(110), after)
    finally:
        p.close()
    assert seen[20][0] == [0, 2, 3]
    assert seen[35][0] == [0, 3] and seen[45][0] == [0, 3]
    key3 = seen[35][1][1]
    assert seen[55][0] == [3] and seen[55][1] == [key3] and seen[55][2] == TrackState.LOCKED
    assert seen[70][0] == [0, 3] and key3 in seen[70][1]
    assert seen[85][0] == [1] and len(seen[85][1]) == 1
    assert seen[95] == ([], [], TrackState.IDLE)


def test_the_session_passes_the_click_mode_and_the_reply_names_every_subject():
    """As the page drives it: Ctrl-click (mode "toggle") on the reply on screen adds a subject,
    the reply lists both (key, label, state, box) and the first stays first; a mode the server
    does not know is a plain click."""
    from test_click import Page

    scene = crossing_scene(60)
    page = Page(scene)
    try:
        for _ in range(10):
            reply = page.step()
        page.session.click(center(page.truth(0)), seq=reply["seq"])
        reply = page.step()
        page.session.click(center(page.truth(2)), seq=reply["seq"], mode="toggle")
        page.step()
        for _ in range(5):
            reply = page.step()
        assert [page.who(s["box"])[0] for s in reply["subjects"]] == [0, 2], reply["subjects"]
        assert [s["state"] for s in reply["subjects"]] == ["locked", "locked"]
        assert reply["label"] == reply["subjects"][0]["label"]
        page.session.click(center(page.truth(3)), seq=reply["seq"], mode="<script>")
        page.step()
        reply = page.step()
        assert [page.who(s["box"])[0] for s in reply["subjects"]] == [3], reply["subjects"]
    finally:
        page.close()


def test_a_control_changed_after_a_subject_is_added_reaches_every_subject():
    """The sidebar's controls are the first subject's stages; those kept besides it follow them
    (Segmentation interval here), also ones added before the change; the person model stays one."""
    scene = crossing_scene(20)
    p = pipeline(scene)
    try:
        run(scene, p, {10: (0, "lock"), 12: (1, "add"), 14: (2, "add")}, range(16))
        assert len(p.subjects) == 3
        p.segmenter.interval = 7
        p.tracker.patience = 9
        assert [k.segmenter.interval for k in p._kept] == [7, 7]
        assert [k.tracker.patience for k in p._kept] == [9, 9]
        assert all(k.segmenter._person_segmenter() is p.segmenter._person_segmenter() for k in p._kept)
    finally:
        p.close()


def test_ctrl_click_on_the_amber_box_beside_a_kept_subject_adds_it_and_does_not_let_the_kept_one_go():
    """Two people side by side, 8 px apart: one is kept; the pointer rests on the other until his
    amber box shows, and the Ctrl-click inside it lands within the 12 px tolerance of the kept
    one's box. The box drawn under the pointer wins, as for a plain click: both are kept."""
    from synthetic import Thing, make_scene, still

    n = 30
    things = [Thing((60, 130), (40, 160, 230), 1, still((280, 240), n)),
              Thing((60, 130), (200, 90, 60), 2, still((348, 240), n), shape="rect")]
    scene = make_scene(n, size=(640, 480), things=things, seed=7)
    p = pipeline(scene)
    try:
        run(scene, p, {8: (0, "lock")}, range(9))
        beside = (320.0, 240.0)  # inside the second's box, 10 px from the first's
        for i in range(9, 20):
            _, r = p.process(scene.frames[i], Pointer(hover=beside), t=i / 30)
        assert r.hover is not None and who(scene, r.hover.box, r.index)[0] == 1, r.hover
        ctrl_click = Pointer(hover=beside, click=beside, shown=r.index, mode="toggle")
        _, r = p.process(scene.frames[20], ctrl_click, t=20 / 30)
        _, r = p.process(scene.frames[21], Pointer(hover=beside), t=21 / 30)
        assert sorted(kept(r, scene)) == [0, 1], r.subjects
        _, r = p.process(scene.frames[22], Pointer(click=(265.0, 240.0), mode="toggle"), t=22 / 30)  # on the first
        assert sorted(kept(r, scene)) == [1], r.subjects
    finally:
        p.close()


def test_a_subject_beyond_the_most_kept_is_refused_in_one_line_and_the_others_stay(monkeypatch):
    """Each subject costs a tracker and a cut-out on every frame: past MOST_SUBJECTS (3 here,
    to need only the four things of the scene) a Ctrl-click keeps nobody more and says why, once
    for that click; those kept stay kept, and letting one go makes room again."""
    import focusr.pipeline

    monkeypatch.setattr(focusr.pipeline, "MOST_SUBJECTS", 3)
    scene = crossing_scene(40)
    p = pipeline(scene)
    seen, told = {}, {}

    def after(r):
        seen[r.index] = sorted(kept(r, scene))
        told[r.index] = [w for w in r.warnings if w.startswith("At most")]

    try:
        run(scene, p, {5: (0, "lock"), 7: (1, "add"), 9: (2, "add"), 11: (3, "add"),  # the fourth: refused
                       20: (1, "remove"), 22: (3, "add")}, range(40), after)
    finally:
        p.close()
    assert seen[15] == [0, 1, 2]
    assert [i for i, lines in told.items() if lines] == [11]  # said for that click, once
    assert seen[30] == [0, 2, 3]
