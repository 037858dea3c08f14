"""Tracking the locked subject between detections, and finding it again when lost.

CSRT follows the subject frame to frame on a downscaled copy of the frame. Every
frame its box is checked against the subject's appearance (colour histogram and
a grey template) so an occluder that steals the tracker is noticed; detections,
when fresh, confirm or correct it. Once lost, candidates (detections, or the
best template match for subjects the detector does not know) are scored by
appearance and by distance from where constant motion would have carried the
subject, so it is the same subject that comes back, not any of its class.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
import param

from focusr.appearance import CONFIDENT, TEMPLATE, TRACK_LEARN_RATE, Appearance
from focusr.carry import velocity
from focusr.chain import Chain, about_size
from focusr.csrt import create_csrt, fast_rect
from focusr.flowtrack import FlowTracker
from focusr.geometry import MIN_BOX_PX, center, clip_box, gap, iou, scaled
from focusr.smooth import OneEuro
from focusr.types import HELD, Box, Detection, Subject, TrackState

# Motion
DEFAULT_DT = 1 / 30  # seconds per frame assumed when the clock gives none: 30 fps
VELOCITY_KEEP = 0.7  # share of the previous velocity kept each frame: damps CSRT jitter ...
VELOCITY_NEW = 0.3  # ... against this share of the newest step
HISTORY_FRAMES = 90  # tracked boxes kept: 3 s at 30 fps, longer than a background detection takes

# Confirming the tracked box with detections (IoU in the small frame)
NEAR_IOU = 0.1  # a detection overlapping less is someone else; more counts as a rival for "clear"
MATCH_IOU = 0.3  # the best detection must overlap this much to confirm the subject (and snap the box, if clear)
RESEED_IOU = 0.8  # below this the snap re-seeds CSRT; above it just moves the box (re-seeding costs)
SNAP_WIDTH_RATIO = (0.75, 1.33)  # detection/box width range taken as "about our size": not a merged pair
SNAP_SIMILARITY_SLACK = 0.05  # a detection may look this much less like the subject than the box does
UNCONFIRMED_ROUNDS = 3  # detection rounds in a row with its kind seen nearby but never on the box ...
GIVE_UP_ROUNDS = 8  # ... and this many with nobody walking out of it: lost
FRESH_FRAMES = 30  # a new lock is in doubt until a detection confirms it, for at most this many frames
STUCK_SHARE = 0.25  # ... while the box moved less than this share of its width: it is on the background
NEARBY_SIZES = 1.5  # "nearby": a detection's centre within this many subject sizes of the box's
NEW_SIZES = 0.5  # a detection farther than this (subject sizes) from every one of the rounds before is new
NEW_ROUNDS = 3  # the rounds before: the model misses someone standing there now and then
LEAVING_STEP = 0.75  # subject sizes the one who walked out may move between two rounds and still be him
AGREE_IOU = 0.5  # the chain's detection overlapping the box this much: the tracker is on him
VOUCHED_FRAMES = 15  # frames after a detection was found on the box in which its looks alone never lose him
ASTRAY_ROUNDS = 2  # rounds in a row it overlaps less (or once, under NEAR_IOU): the tracker has left him
LEAVING_MISSES = 2  # rounds in a row the model may miss him before the thread is lost (each widens the step)

# Finding a lost subject again
MOTION_TRUST_FRAMES = 30  # lost frames the last velocity is extrapolated (and the gate grows): about a second
GATE_BASE = 1.5  # search radius, in subject sizes, right after losing it
GATE_GROWTH = 0.1  # search radius growth per lost frame, in subject sizes: it may have moved on
DISTANCE_PENALTY = 0.3  # score lost at the gate's edge: nearer the prediction wins among look-alikes
STOOD_FRAMES = 90  # lost frames in which the one detection where it was lost is taken on a looser look ...
STOOD_SIMILARITY = 0.25  # ... this much like it (half behind a post or others, vtest's walkers look 0.22-0.47 himself)
STOOD_LEARN_RATE = 0.5  # ... and his look is learnt half afresh from there (he turned, or stands half hidden)
TEMPLATE_PEAKS = 5  # template-match peaks tried as candidates: the best one may be a look-alike
MIN_TEMPLATE_PEAK = 0.2  # normalised correlation below which a peak is noise, not the subject


def nearby(box: Box, ref: Box) -> bool:
    """Whether `box`'s centre is within NEARBY_SIZES times `ref`'s longest side of `ref`'s
    centre: someone who could have walked out of `ref` (the tracker's doubt, and which
    detections the pipeline carries to now for it)."""
    return gap(box, ref) <= NEARBY_SIZES * max(ref[2] - ref[0], ref[3] - ref[1])


@dataclass
class TrackUpdate:
    state: TrackState
    box: Box | None  # full-resolution box
    detection: Detection | None  # the detection that confirmed the subject this frame


class Tracker(param.Parameterized):
    """Keeps one subject's box from frame to frame, with explicit states."""

    min_similarity = param.Number(
        default=0.45, bounds=(0.1, 0.95), doc="Appearance score below which the tracked box is doubted."
    )
    reacquire_similarity = param.Number(
        default=0.55, bounds=(0.1, 0.95), doc="Appearance score a candidate needs to be taken as the lost subject."
    )
    patience = param.Integer(
        default=3, bounds=(1, 30), doc="Consecutive doubtful frames before the subject is declared lost."
    )
    engine = param.Selector(
        default="csrt", objects=["csrt", "flow"],
        doc="How the subject is followed from frame to frame: 'csrt', OpenCV's correlation filter (~10 ms a "
            "frame), or 'flow', the median motion of corners on it (~1 ms, focusr.flowtrack; the subjects kept "
            "besides the first). Detections, the appearance check and the search when lost are the same for both.",
    )
    template_size = param.Integer(
        default=144, bounds=(32, 256),
        doc="CSRT working size in pixels: cost grows with its square. 144 (a 36x36 feature grid, FFT-friendly) "
            "passes the quality tests at 60% of the cost of 200; sizes whose feature grid has a large prime "
            "factor (e.g. 148 or 150) are slower than bigger ones.",
    )
    reacquired_hold = param.Number(
        default=0.5, bounds=(0.0, 5.0), doc="Seconds the 'reacquired' state is shown before 'locked'."
    )

    def __init__(self, **params):
        super().__init__(**params)
        self.reset()

    def reset(self) -> None:
        self.state = TrackState.IDLE
        self.subject: Subject | None = None
        self._follower = None  # follows the box frame to frame: CSRT or a FlowTracker (engine)
        self._unnudge = (1.0, 1.0)  # CSRT's box size over the subject's (fast_rect)
        self._box_small: Box | None = None
        self._scale = 1.0
        self._velocity = (0.0, 0.0)  # small-frame px per frame
        self._doubt = 0
        self._unconfirmed = 0  # detection rounds in a row that saw its kind near the box, never on it
        self._fresh = 0  # frames left in which a new lock, not yet confirmed by a detection, is in doubt
        self._unconfirmed_from: Box | None = None  # small frame: the box when they began
        self._leaving: Box | None = None  # small frame: who walked out of the box during them, followed
        self._leaving_missed = 0  # rounds since he was last seen: he is taken only on a round that sees him
        self._around: deque[list[Box]] | None = None  # small frame: its kind's detections of the rounds before
        self._lost_frames = 0
        self._since_reacquired = 0.0
        self._appearance: Appearance | None = None
        self._class_group: frozenset[str] = frozenset()
        self._filter = OneEuro()
        self._history: deque[tuple[int, Box]] = deque(maxlen=HISTORY_FRAMES)  # (frame index, small box)
        self._index = 0
        self._chain: Chain | None = None  # small frame: where the detector saw the subject, round after round
        self._astray = 0  # rounds in a row the chain went on away from the box
        self._agreed: Box | None = None  # small frame: the box when the chain last agreed with it
        self._chained: Detection | None = None  # the detection the chain went on to this round
        self._vouched = -(10**9)  # the frame a detection was last found on the box (chain or confirmation)

    @property
    def doubting(self) -> bool:
        """The last detections saw the subject's kind beside the box and never on it, or a new
        lock has not been confirmed yet: the next ones should come at once (the pipeline's
        schedule), to settle it within a second."""
        return self._unconfirmed > 0 or self._fresh > 0

    @property
    def raw_box(self) -> Box | None:
        if self._box_small is None:
            return None
        s = self._scale
        return tuple(v / s for v in self._box_small)

    @property
    def box(self) -> Box | None:
        """The subject's box, full resolution, smoothed against tracker jitter."""
        if self._filter.value is None:
            return self.raw_box
        return tuple(float(v) for v in self._filter.value)

    def lock(self, small: np.ndarray, hsv: np.ndarray, scale: float, subject: Subject,
             class_group: frozenset[str] = frozenset(), index: int | None = None,
             carried: list[Box] = (), seen: tuple[int, Box, tuple[float, float]] | None = None) -> None:
        """Start following `subject` (its box is on this frame, `index`). `carried`: where it was
        on the frames before, up to this one, oldest first (it was clicked on a frame shown a
        moment ago and carried here, `focusr.carry`): detections of those frames are compared
        with those boxes, and its motion over them is its velocity. `seen`: where and how fast
        the detector saw it, when known (frame, box, px a frame; full resolution): its chain of
        detections starts there rather than from the carry."""
        self.reset()
        self.subject = subject
        self._scale = scale
        self._class_group = class_group or frozenset({subject.label})
        self._start(small, hsv, scaled(subject.box, scale))
        self._appearance = Appearance(small, self._box_small, hsv)
        self._filter.reset(self.raw_box)
        self.state = TrackState.LOCKED
        self._fresh = FRESH_FRAMES if subject.kind == "detection" else 0
        self._index = index if index is not None else 0
        first = self._index - len(carried) + 1
        for i, box in enumerate(carried[:-1]):
            self._history.append((first + i, scaled(box, scale)))
        self._history.append((self._index, self._box_small))
        vx, vy = velocity(carried)
        self._velocity = (vx * scale, vy * scale)
        if subject.kind == "detection":
            path = [scaled(b, scale) for b in carried] if len(carried) else [self._box_small]
            self._chain = Chain.from_path(self._index, path) if seen is None else \
                Chain(seen[0], scaled(seen[1], scale), (seen[2][0] * scale, seen[2][1] * scale))
            self._agreed = self._box_small

    def release(self) -> None:
        self.reset()

    def rescale(self, small: np.ndarray, hsv: np.ndarray, scale: float, fx: float, fy: float) -> None:
        """Carry the subject over a change of frame size (the camera's capture width): every
        box, the motion and the history are scaled by (fx, fy), full resolution, and from now
        on the tracking copy is at `scale` of the new frame size. `small` is such a copy of a
        frame where the subject's box is (the last frame, scaled): a tracked subject is
        re-seeded on it (CSRT's model and the appearance are of the old resolution); a lost
        one keeps its appearance (a normalised histogram and a fixed-size template) and goes
        on being searched for where it was last seen."""
        if self.state == TrackState.IDLE or self._box_small is None:
            return
        kx, ky = fx * scale / self._scale, fy * scale / self._scale
        k = (kx, ky, kx, ky)
        self._scale = scale
        self._box_small = clip_box(tuple(v * f for v, f in zip(self._box_small, k)), small.shape)
        self._velocity = (self._velocity[0] * kx, self._velocity[1] * ky)
        if self._chain is not None:
            self._chain.scale(kx, ky)
        self._history = deque(((i, tuple(v * f for v, f in zip(b, k))) for i, b in self._history),
                              maxlen=HISTORY_FRAMES)
        if self._filter.value is not None:
            self._filter.value = self._filter.value * np.array([fx, fy, fx, fy])
            self._filter.speed = self._filter.speed * np.array([fx, fy, fx, fy])
        s = self.subject
        self.subject = Subject((s.box[0] * fx, s.box[1] * fy, s.box[2] * fx, s.box[3] * fy), s.label, s.kind, s.key)
        if self.state in HELD:
            self._start(small, hsv, self._box_small)
            self._appearance = Appearance(small, self._box_small, hsv)
            self._doubt = 0

    def _start(self, small, hsv, box_small: Box) -> None:
        box_small = clip_box(box_small, small.shape)
        x1, y1, x2, y2 = box_small
        w, h = max(int(x2 - x1), MIN_BOX_PX), max(int(y2 - y1), MIN_BOX_PX)
        if self.engine == "flow":
            self._follower, rect = FlowTracker(), (x1, y1, w, h)
        else:
            self._follower = create_csrt(self.template_size)
            rect = fast_rect(int(x1), int(y1), w, h, self.template_size)
        self._follower.init(small, rect)
        self._unnudge = (w / rect[2], h / rect[3])  # CSRT's boxes, back to the subject's own size
        self._box_small = box_small

    def update(self, small: np.ndarray, hsv: np.ndarray, dt: float,
               detections: list[Detection] | None, index: int | None = None,
               detected_at: int | None = None, origin: tuple[int, list[Box]] | None = None) -> TrackUpdate:
        """One frame. `detections` is None when no new detections arrived; they may be of an
        earlier frame (`detected_at`) when the detector runs in the background. `origin`: the
        frame they are of and their boxes there, one per detection, when the caller carried
        them to this frame (`detected_at` None): the chain of detections is kept on those."""
        self._index = index if index is not None else self._index + 1
        if self.state == TrackState.IDLE:
            return TrackUpdate(self.state, None, None)
        if self.state == TrackState.LOST:
            return self._search(small, hsv, detections)

        self._fresh = max(self._fresh - 1, 0)
        prev = self._box_small
        ok, rect = self._follower.update(small)
        if ok:
            x, y, w, h = rect
            kw, kh = self._unnudge
            x, y, w, h = x + w * (1 - kw) / 2, y + h * (1 - kh) / 2, w * kw, h * kh
            box = clip_box((x, y, x + w, y + h), small.shape)
            (px, py), (cx, cy) = center(prev), center(box)
            self._velocity = (VELOCITY_KEEP * self._velocity[0] + VELOCITY_NEW * (cx - px),
                              VELOCITY_KEEP * self._velocity[1] + VELOCITY_NEW * (cy - py))
            self._box_small = box
        confirmed = None
        if detections is not None and self.subject.kind == "detection":
            if origin is None:  # not carried: their boxes are of their own frame
                origin = (detected_at if detected_at is not None else self._index, [d.box for d in detections])
            confirmed = self._follow_chain(small, hsv, detections, origin)
        sim = self._appearance.similarity(small, hsv, self._box_small) if ok else 0.0
        if detections is not None and self.subject.kind == "detection" and confirmed is None:
            kind = self._kind_boxes(detections, self._box_at(detected_at))
            confirmed = self._confirm(small, hsv, kind)
            if confirmed is None and self._beside_not_on([box for _, box in kind]):
                if self._unconfirmed == 0:
                    self._unconfirmed_from = self._box_small
                self._unconfirmed += 1
                self._leaving = self._follow_leaving([box for _, box in kind])
            else:
                self._clear_doubt(fresh=confirmed is None)
        if self._unconfirmed >= UNCONFIRMED_ROUNDS and not self._stuck(self._unconfirmed_from):
            self._unconfirmed = 0  # it moves: a person, likely ours, hidden by the one beside him
        seen = self._leaving is not None and self._leaving_missed == 0
        if self._unconfirmed >= UNCONFIRMED_ROUNDS and (seen
                                                         or self._unconfirmed >= GIVE_UP_ROUNDS):
            # The detector keeps finding people beside the box and never on it, and the box
            # stands still: the tracker has stayed on the background (a walker passing a sign
            # post leaves CSRT on the post, which still looks like him). He is the one who
            # walked out of the box; nobody did for long: find him as when lost, or say lost.
            leaving = self._leaving if seen else None
            self._clear_doubt()
            if leaving is not None:
                confirmed = self._take(small, hsv, leaving, detections)
            else:
                state = self.state
                found = self._search(small, hsv, detections, recover=True)
                if found.state != TrackState.REACQUIRED:
                    return self._lose()
                self.state, confirmed = state, found.detection
        elif confirmed is not None or (ok and sim >= self.min_similarity):
            self._doubt = 0
            if sim >= CONFIDENT and confirmed is None:  # never learn from a half-hidden view
                self._appearance.update(small, hsv, self._box_small, rate=TRACK_LEARN_RATE)
        elif ok and self._index - self._vouched <= VOUCHED_FRAMES:
            pass  # the detector found him on this box just now: half behind a post he looks unlike himself
        else:
            self._doubt += 1
            if self._doubt >= self.patience or not ok:
                # before calling it lost, look for it right here: CSRT may just have slipped off
                state = self.state
                found = self._search(small, hsv, detections, recover=True)
                if found.state != TrackState.REACQUIRED:
                    return self._lose()
                self.state, self._doubt = state, 0
                confirmed = found.detection

        if confirmed is not None:
            self._vouched = self._index
        if confirmed is not None and confirmed is not self._chained and origin is not None:
            # box and detector agree on him, where the chain did not go: the thread goes on from him
            at, boxes = origin
            k = next((i for i, d in enumerate(detections) if d is confirmed), None)
            if k is not None:
                self._chain, self._astray = Chain(at, scaled(boxes[k], self._scale), self._velocity), 0
                self._agreed = self._box_small
        if self.state == TrackState.REACQUIRED:
            self._since_reacquired += dt
            if self._since_reacquired >= self.reacquired_hold:
                self.state = TrackState.LOCKED
        self._filter(self.raw_box, dt if dt > 0 else DEFAULT_DT)
        self._history.append((self._index, self._box_small))
        return TrackUpdate(self.state, self.box, confirmed)

    def box_at(self, index: int | None) -> Box | None:
        """Where the subject was on frame `index`, full resolution (None: not in the history).
        Detections of an earlier frame are compared with this, not with where it is now."""
        then = self._box_at(index)
        return None if then is None else tuple(v / self._scale for v in then)

    def _box_at(self, index: int | None) -> Box | None:
        """Where the tracker had the subject on frame `index` (None: now)."""
        if index is None or index >= self._index:
            return None
        for i, box in reversed(self._history):
            if i <= index:
                return box
        return None

    def expected(self, at: int) -> Box | None:
        """Where the chain of detections says the subject's detection will be on frame `at`
        (full resolution; None: no chain). The pipeline carries a detection there to now."""
        if self._chain is None or self.state not in HELD:
            return None
        return tuple(v / self._scale for v in self._chain.predict(at))

    def _follow_chain(self, small, hsv, detections: list[Detection], origin) -> Detection | None:
        """A round of detections: the chain goes on to the one where the subject's last was
        heading. When that is away from the box ASTRAY_ROUNDS rounds in a row, the tracker has
        left him (stayed on the background he passed): it follows him from here, and that
        detection is returned. None otherwise (the tracker's own checks go on)."""
        self._chained = None
        if self._chain is None or origin is None:
            return None
        at, boxes = origin
        mine = [i for i, d in enumerate(detections) if d.label in self._class_group]
        k = self._chain.step(at, [scaled(boxes[i], self._scale) for i in mine])
        if self._chain.lost:
            self._chain, self._astray = None, 0
            return None
        if k is None:
            return None
        self._chained = detections[mine[k]]
        overlap = iou(self._chain.box, self._box_at(at) or self._box_small)
        if overlap >= AGREE_IOU:
            self._astray, self._agreed, self._vouched = 0, self._box_small, self._index
            return None
        # away from the box: believed only when the box has stayed put meanwhile (on the
        # background); a box that moves follows someone, and the chain may have jumped to
        # another walker crossing him
        stuck = self._agreed is not None and self._stuck(self._agreed)
        self._astray = self._astray + 1 if stuck else 0
        if not stuck or (self._astray < ASTRAY_ROUNDS and overlap >= NEAR_IOU):  # off the box altogether: at once
            return None
        self._astray = 0
        self._clear_doubt()
        det = detections[mine[k]]
        taken = self._take(small, hsv, scaled(det.box, self._scale), [det])
        self._agreed = self._box_small
        return taken

    def _kind_boxes(self, detections: list[Detection], then: Box | None) -> list[tuple[Detection, Box]]:
        """The detections of the subject's kind with their boxes in the small frame, each
        carried forward by the tracker's own motion since `then` (where it had the subject on
        the earlier frame the detections are of; None: they are of this frame)."""
        s, ours, out = self._scale, self._box_small, []
        for det in detections:
            if det.label in self._class_group:
                box = scaled(det.box, s)
                if then is not None:
                    box = tuple(b + (c - t) for b, c, t in zip(box, ours, then))
                out.append((det, box))
        return out

    def _confirm(self, small, hsv, kind: list[tuple[Detection, Box]]) -> Detection | None:
        """Snap to the detection that is clearly our subject; re-seed CSRT if it drifted.
        `kind`: the detections of its kind, carried to this frame (`_kind_boxes`)."""
        ours = self._box_small
        near = []
        for det, box_small in kind:
            overlap = iou(box_small, ours)
            if overlap >= NEAR_IOU:
                near.append((overlap, det, box_small))
        if not near:
            return None
        overlap, best, box_small = max(near, key=lambda n: n[0])
        if overlap < MATCH_IOU:
            return None
        sim = self._appearance.similarity(small, hsv, box_small)
        if sim < self.min_similarity:
            return None
        # Snap only when it is clearly ours: one overlapping detection, about our size, looking
        # at least as much like the subject as the tracked box does. Two people side by side
        # often come back as one merged box; snapping to it would drag the tracker across.
        width_ratio = (box_small[2] - box_small[0]) / max(ours[2] - ours[0], 1e-3)
        lo, hi = SNAP_WIDTH_RATIO
        clear = (len(near) == 1 and lo <= width_ratio <= hi
                 and sim >= self._appearance.similarity(small, hsv, ours) - SNAP_SIMILARITY_SLACK)
        if clear:
            if overlap < RESEED_IOU:
                self._start(small, hsv, box_small)
            else:
                self._box_small = box_small
            self._appearance.update(small, hsv, box_small)
        return best

    def _follow_leaving(self, boxes: list[Box]) -> Box | None:
        """Who walked out of the box while the tracker stayed, among `boxes` (of the subject's
        kind, small frame, carried): one overlapping the box (IoU >= NEAR_IOU), or, near it, one
        that was nowhere in the rounds before (he came out from behind what the tracker is
        stuck on; someone standing beside was there all along). Then, round after round, the
        one nearest him (within LEAVING_STEP of the box's size). None: nobody, or the thread
        was lost."""
        ours = self._box_small
        size = max(ours[2] - ours[0], ours[3] - ours[1])
        before = [b for seen in self._around for b in seen] if self._around else None
        self._around = (self._around or deque(maxlen=NEW_ROUNDS)) + deque([boxes])
        if self._leaving is not None:  # the model misses a walker now and then: the thread holds a round or two
            best = min(boxes, key=lambda b: gap(b, self._leaving), default=None)
            if best is not None and gap(best, self._leaving) <= LEAVING_STEP * size * (1 + self._leaving_missed):
                self._leaving_missed = 0
                return best
            self._leaving_missed += 1
            return self._leaving if self._leaving_missed <= LEAVING_MISSES else None
        on = [b for b in boxes if iou(b, ours) >= NEAR_IOU]
        if on:
            return max(on, key=lambda b: iou(b, ours))
        if before is None:
            return None
        new = [b for b in boxes if nearby(b, ours) and all(gap(b, p) > NEW_SIZES * size for p in before)]
        return min(new, key=lambda b: gap(b, ours), default=None)

    def _stuck(self, since: Box) -> bool:
        """Whether the box has stayed put since it was at `since` (under STUCK_SHARE of its
        width): what the background does behind a static camera, not a walker."""
        return gap(self._box_small, since) < STUCK_SHARE * (self._box_small[2] - self._box_small[0])

    def _beside_not_on(self, boxes: list[Box]) -> bool:
        """Whether any of `boxes` (the subject's kind, small frame, carried) is near the box and
        none is on it (IoU >= MATCH_IOU, whatever it looks like: a subject turning round is
        still on his box)."""
        ours = self._box_small
        return not any(iou(b, ours) >= MATCH_IOU for b in boxes) and any(nearby(b, ours) for b in boxes)

    def _clear_doubt(self, fresh: bool = False) -> None:
        """No more doubt about the box (`fresh`: a new lock's own doubt stays)."""
        self._unconfirmed, self._leaving, self._around, self._leaving_missed = 0, None, None, 0
        if not fresh:
            self._fresh = 0

    def _take(self, small, hsv, leaving: Box, detections: list[Detection]) -> Detection:
        """Follow the one who walked out of the box from here (CSRT re-seeded on him, his look
        learnt afresh: the old one was mostly of what the tracker stayed on); his detection."""
        self._start(small, hsv, leaving)
        self._appearance = Appearance(small, self._box_small, hsv)
        self._filter.reset(self.raw_box)
        self._velocity = (0.0, 0.0)
        return max(detections, key=lambda d: iou(scaled(d.box, self._scale), leaving))

    def lost_sight(self) -> None:
        """The picture was cut (focusr.cuts): the subject is not where its box was, and what
        fills the box now is of another shot. Lost at once, its motion of the shot before
        forgotten; it is looked for as any lost subject (the shot may come back)."""
        if self.state in HELD:
            self._lose()
        if self.state == TrackState.LOST:
            self._velocity = (0.0, 0.0)

    def _lose(self) -> TrackUpdate:
        self.state = TrackState.LOST
        self._chain, self._astray = None, 0
        self._lost_frames = 0
        self._doubt = 0
        self._clear_doubt()
        return TrackUpdate(self.state, self.box, None)

    def _predicted(self) -> Box:
        vx, vy = self._velocity
        k = min(self._lost_frames, MOTION_TRUST_FRAMES)
        x1, y1, x2, y2 = self._box_small
        return (x1 + vx * k, y1 + vy * k, x2 + vx * k, y2 + vy * k)

    def _gate(self) -> float:
        """How far (small-frame px) from the prediction a candidate may be; grows while lost."""
        x1, y1, x2, y2 = self._box_small
        size = max(x2 - x1, y2 - y1)
        return size * (GATE_BASE + GATE_GROWTH * min(self._lost_frames, MOTION_TRUST_FRAMES))

    def _search(self, small, hsv, detections: list[Detection] | None, recover: bool = False) -> TrackUpdate:
        if not recover:
            self._lost_frames += 1
        pred = self._predicted()
        candidates: list[Box] = []
        if self.subject.kind == "detection":
            if detections:
                s = self._scale
                candidates = [tuple(v * s for v in d.box) for d in detections if d.label in self._class_group]
        else:
            candidates = self._template_candidates(small, pred)
        best, best_score, best_i = None, 0.0, -1
        gate = self._gate()
        pc = center(pred)
        for i, box in enumerate(candidates):
            c = center(box)
            dist = math.hypot(c[0] - pc[0], c[1] - pc[1])
            if dist > gate:
                continue
            sim = self._appearance.similarity(small, hsv, box)
            score = sim * (1.0 - DISTANCE_PENALTY * dist / gate)
            if sim >= self.reacquire_similarity and score > best_score:
                best, best_score, best_i = box, score, i
        if best is None and not recover and self.subject.kind == "detection":
            best_i = self._stood(small, hsv, candidates, pred)
            best = candidates[best_i] if best_i >= 0 else None
            if best is not None:  # he is what the detector found where he stood: his look now, half
                self._appearance.update(small, hsv, best, rate=STOOD_LEARN_RATE)
        if best is None:
            return TrackUpdate(self.state, None, None)
        self._start(small, hsv, best)
        self._filter.reset(self.raw_box)
        self._velocity = (0.0, 0.0)
        if not recover:
            self._since_reacquired = 0.0
        self.state = TrackState.REACQUIRED
        confirmed = detections[best_i] if self.subject.kind == "detection" else None
        return TrackUpdate(self.state, self.box, confirmed)

    def _stood(self, small, hsv, candidates: list[Box], pred: Box) -> int:
        """Motion first, early in a loss: the one detection of its kind on the box where the
        subject was lost or on the predicted one, about its size, with no other of its kind
        overlapping either, is the subject on a looser look (STOOD_SIMILARITY). A walker lost half
        hidden by a post or the people around him stands there, found by the detector round after
        round, but looks unlike himself (0.22-0.47 on vtest where 0.55 is asked): the look alone
        would leave him lost for good. Someone else who walks into his place is rarely alone
        there and his size, and this holds for STOOD_FRAMES only. The candidate's index, or -1."""
        if self._lost_frames > STOOD_FRAMES or not candidates:
            return -1
        places = (self._box_small, pred)
        on = [max(iou(box, p) for p in places) for box in candidates]
        k = int(np.argmax(on))
        box = candidates[k]
        if on[k] < MATCH_IOU or any(o >= NEAR_IOU for i, o in enumerate(on) if i != k) or not about_size(box, pred):
            return -1
        return k if self._appearance.similarity(small, hsv, box) >= STOOD_SIMILARITY else -1

    def _template_candidates(self, small, pred: Box) -> list[Box]:
        """The best match of the subject's template near the prediction, at the subject's last size."""
        x1, y1, x2, y2 = self._box_small
        w, h = max(int(x2 - x1), MIN_BOX_PX), max(int(y2 - y1), MIN_BOX_PX)
        H, W = small.shape[:2]
        if w >= W or h >= H:
            return []
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        sx, sy = TEMPLATE[0] / w, TEMPLATE[1] / h
        template = self._appearance.template
        if sx > 1 or sy > 1:  # a subject smaller than the template: shrink the template, never grow the frame
            template = cv2.resize(template, (min(w, TEMPLATE[0]), min(h, TEMPLATE[1])), interpolation=cv2.INTER_AREA)
            sx, sy = min(sx, 1.0), min(sy, 1.0)
        scaled = cv2.resize(grey, None, fx=sx, fy=sy, interpolation=cv2.INTER_AREA).astype(np.float32) \
            if (sx, sy) != (1.0, 1.0) else grey.astype(np.float32)
        th, tw = template.shape[:2]
        if scaled.shape[0] < th or scaled.shape[1] < tw:
            return []
        response = cv2.matchTemplate(scaled, template, cv2.TM_CCOEFF_NORMED)
        out = []
        for _ in range(TEMPLATE_PEAKS):  # the best few peaks, each suppressed before finding the next
            _, peak, _, (mx, my) = cv2.minMaxLoc(response)
            if peak < MIN_TEMPLATE_PEAK:
                break
            bx, by = mx / sx, my / sy
            out.append((bx, by, bx + w, by + h))
            response[max(my - th // 2, 0) : my + th // 2 + 1, max(mx - tw // 2, 0) : mx + tw // 2 + 1] = -1.0
        return out
