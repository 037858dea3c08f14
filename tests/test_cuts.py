"""Hard cuts (focusr.cuts) on real footage: no frame of vtest.avi or box.mp4 is taken for a cut,
their splice is, and a lock is lost at the splice and stays lost through the other shot."""

from __future__ import annotations

import cv2

from conftest import ASSETS, PERSON_LABELS
from focusr.cuts import CutDetector
from focusr.geometry import iou
from focusr.types import HELD, Pointer, TrackState

SIZE = (768, 576)  # vtest's own; box.mp4 is scaled to it, as an editor would
WALKER = (245, 214, 289, 307)  # on vtest's first frame, found there by the person model


def clip(name: str, n: int | None = None) -> list:
    cap = cv2.VideoCapture(str(ASSETS / name))
    out = []
    while n is None or len(out) < n:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(frame if frame.shape[1::-1] == SIZE else cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA))
    return out


def test_no_frame_of_either_clip_is_a_cut_and_their_splice_is_both_ways():
    vtest, box = clip("vtest.avi"), clip("box.mp4")
    assert len(vtest) > 700 and len(box) > 400
    for frames in (vtest, box):
        cuts = CutDetector()
        assert [i for i, frame in enumerate(frames) if cuts.seen(frame)] == []
    cuts = CutDetector()
    assert [cuts.seen(f) for f in (vtest[0], vtest[1], box[0], box[1], vtest[2])] == [False, False, True, False, True]


def test_a_lock_is_lost_at_a_cut_and_nothing_in_the_other_shot_is_taken_for_it(make_pipeline, person_weights):
    """A walker locked on vtest, then two seconds of box.mp4 spliced in (a person model finds a
    'person' there too), then vtest again: the lock is lost on the first frame of the other
    shot, not carried onto its pictures, and nothing there is taken for him (was: 'locked' on
    box.mp4's pictures for 14 frames after the splice)."""
    vtest, box = clip("vtest.avi", 90), clip("box.mp4", 60)
    p = make_pipeline(background_detection=False)
    p.detector.person_labels = PERSON_LABELS
    states = []
    for i, frame in enumerate(vtest[:60] + box + vtest[60:]):
        _, res = p.process(frame, Pointer(click=(267, 260)) if i == 0 else Pointer(), t=i / 30)
        if i == 0:
            assert res.subject.label in PERSON_LABELS and iou(res.subject.box, WALKER) >= 0.5, res.summary()
        states.append(res.state)
    assert all(s in HELD for s in states[:60]), states[:60]
    assert all(s == TrackState.LOST for s in states[60:120]), [s.value for s in states[60:120]]
