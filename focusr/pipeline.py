"""The focus pipeline: one call per frame, from pixels and pointer to output and result.

The stages (enhance, detect, track, segment, render, overlay) are Parameterized
objects whose parameters are the user's controls; the pipeline decides when each
runs and times them all here, in one place. Each stage names its user controls in
`controls` (section -> parameter names) and the dashboard's sidebar is built from those.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import replace
from functools import partial

import cv2
import numpy as np
import param

from focusr import models, overlay
from focusr.carry import Follow, carry, carry_all
from focusr.corrections import Correction, corrected
from focusr.chain import about_size
from focusr.cuts import CutDetector
from focusr.detect import BackgroundDetector, Detector, under_point
from focusr.enhance import Enhancer
from focusr.flowtrack import Carried
from focusr.geometry import area, center, distance, gap, iou, square_around
from focusr.depth import DepthEstimator
from focusr.render import RackFocus, Renderer, fit
from focusr.schedule import DetectionSchedule
from focusr.preview import RegionPreview, shifted
from focusr.segment import GROW_WORK_SIZE, Segmenter, grow_region
from focusr.shown import Choice, RecentFrames, Shown, ShownFrames, resolve, tolerance
from focusr.subjects import MOST_SUBJECTS, TOO_MANY, Kept, combined, current, settings, shares, under
from focusr.timing import FpsMeter, StageClock
from focusr.track import NEAR_IOU, Tracker, nearby
from focusr.types import HELD, REGION_LABEL, Box, Detection, FrameResult, Pointer, Subject, TrackState

log = logging.getLogger(__name__)

CLICK_SQUARE_RADIUS = 1 / 12  # nothing (sensible) grows from the click: lock a square this share of the frame around it
NOTHING_TO_CORRECT = "Shift-click and Alt-click correct a subject's cut-out: click a subject first."
REGION_MAX_SHARE = 0.3  # a region grown from a click larger than this share of the frame is not what the user meant
MIN_TRACK_SCALE = 0.15  # below this, a huge subject's tracking copy loses the detail CSRT needs
MIN_TRACK_WIDTH = 320  # px: track_scale never shrinks a narrow frame's tracking copy below this (or 1:1)
ROUNDS_KEPT = 6  # detection rounds remembered: how fast a clicked subject moved is read from the one before
HOVER_HOLD_FRAMES = 30  # frames the followed box stays under a resting pointer while detections miss its subject
HOVER_REACH = 40 / 640  # share of the frame's width: a detection's old box this near the pointer may have moved under it
HOVER_SPEED = 4 / 640  # ... or this share for each frame the box is old (a walker; 10-20 frames on a busy CPU)
HOVER_REACH_MOST = 120 / 640  # but never further than this
HOVER_CARRIED = 3  # of those, the nearest this many are carried to now by flow (a few ms each, only then)
STALE_FRAMES = 1  # detections older than this many frames are carried to now before they are looked under the pointer

# What a stage's failure on a frame means to the user, said once per stage and reason; the frame
# goes on without that stage. The server log has the exception.
STAGE_FAILURES = {
    "enhance": "Low-light enhancement failed on a frame, which was shown without it",
    "resize": "The subject could not be carried over to the new frame size, so it was let go; click it again",
    "detect": "Detection failed on a frame; tracking went on without it",
    "track": "Tracking failed on a frame, so the subject was let go; click it again",
    "segment": "Cutting out the subject failed on a frame; the last cut-out was used",
    "render": "The blur failed on a frame, which was shown unblurred",
    "overlay": "Drawing the boxes and status failed on a frame, which was shown without them",
}


class Superseded(Exception):
    """The caller dropped this frame's work between two stages (a click came in meanwhile: the
    session answers it on this same frame at once rather than finishing a reply without it)."""


class FocusPipeline(param.Parameterized):
    """Keeps a clicked subject sharp and blurs the rest, frame by frame."""

    controls = {
        "Focus": ["rack_focus"],
        "Detection and tracking": ["detect_interval", "track_scale"],
        "Display": ["overlays", "show_status", "hover_preview"],
    }

    detect_interval = param.Integer(
        default=5, bounds=(1, 60), label="Detect every N frames",
        doc="Run the detector every N frames; the tracker fills the gaps. While a subject is tracked and "
            "nobody is choosing another, detection also keeps to detect_share of a core, so on a busy machine "
            "it may then run less often: the status line shows how often it really runs.",
    )
    track_scale = param.Number(
        label="Track scale (×)", default=0.5, bounds=(0.2, 1.0), step=0.05,
        doc="Largest scale the tracker works at; a large subject is tracked on a smaller copy of the frame.",
    )
    track_size = param.Integer(
        default=80, bounds=(32, 256), doc="Subjects are tracked at a scale that makes them about this many pixels long."
    )
    rack_focus = param.Number(
        label="Rack focus (s)", default=0.3, bounds=(0.0, 2.0), step=0.05, doc="Seconds a change of subject takes to pull focus."
    )
    detect_share = param.Number(
        default=0.3, bounds=(0.05, 1.0), step=0.05,
        doc="A server setting, not a user control: the share of one core background detection may take "
            "(all sessions together) when it only confirms the tracker (schedule.LOST_SHARE, or more, while a "
            "subject is searched for). Idle, or while the pointer moves over the video, the interval alone rules.",
    )
    background_detection = param.Boolean(
        default=True, doc="Run the detector on its own thread so frames never wait for it (a click still waits). "
                          "Off for offline renders, which are then the same every time."
    )
    quick_lock = param.Boolean(
        default=True, doc="A first lock's own frame goes out all sharp (focus pulls from all-sharp anyway) and its "
                          "matte and blur start on the next frame: the lock shows ~40 ms sooner. Off for offline "
                          "renders, which write every frame's matte."
    )
    overlays = param.Boolean(default=True, doc="Draw the hover box, lock box and status line.")
    show_status = param.Boolean(default=True, doc="Draw the status and FPS line.")
    hover_preview = param.Boolean(
        default=True, label="Outline what a click takes",
        doc="Over something the detector did not see, outline the region a click there would keep sharp, once the "
            "pointer rests (grown on its own thread, at most 5% of one core).")

    detector = param.ClassSelector(class_=Detector, doc="Finds subjects.")
    tracker = param.ClassSelector(class_=Tracker, doc="Follows the subject between detections.")
    segmenter = param.ClassSelector(class_=Segmenter, doc="Cuts the subject out.")
    renderer = param.ClassSelector(class_=Renderer, doc="Blurs everything else.")
    enhancer = param.ClassSelector(class_=Enhancer, doc="Low-light enhancement.")
    depth = param.ClassSelector(class_=DepthEstimator, doc="How near each pixel is (the Depth cue's focus plane).")

    # The stages by attribute name, in the order their controls appear in the sidebar.
    STAGE_CLASSES = {"renderer": Renderer, "depth": DepthEstimator, "detector": Detector, "segmenter": Segmenter,
                     "tracker": Tracker, "enhancer": Enhancer}

    # The sidebar's first sections, in this order (others follow as the stages declare them):
    # what is in focus and how it looks first, the lens beside it.
    SECTIONS = ("Focus", "Lens", "Depth")

    def __init__(self, background=None, **params):
        """`background`: a stand-in for the background detector (tests script its timing)."""
        for name, cls in self.STAGE_CLASSES.items():
            params.setdefault(name, cls())
        super().__init__(**params)
        self._index = -1
        self._subject_key = 0
        self._detections: list[Detection] = []
        self._last_t: float | None = None
        self._fps = FpsMeter()
        self._matte: np.ndarray | None = None
        self._rack = RackFocus()
        self._background: BackgroundDetector | None = background
        self._shown = ShownFrames()  # what each recent output frame showed: clicks are resolved against it
        self._cuts = CutDetector()
        self._recent = RecentFrames()  # the frames themselves: a clicked subject is carried from there to now
        self._hover = Follow()  # the hover box, carried to where its subject is on each frame
        self._carried = Carried()  # the detections near the pointer, carried to now (the hover looks under it)
        self._preview = RegionPreview(self._grown)  # over what the detector did not see: the region a click takes
        self._outline: tuple[Box, list] | None = None  # this frame's preview: its box and outline, now
        self._origin: tuple[int, Box] | None = None  # the frame the lock was made on and its box there
        self._fresh_from = -1  # detections of frames before this one are of another picture (resize, cut)
        self._said: set[tuple[str, str]] = set()  # (stage, reason) failures said already
        self._schedule = DetectionSchedule()
        self._subject_det: Detection | None = None  # the subject among self._detections
        self._detections_at = -1  # the frame they are of
        self._rounds: deque[tuple[int, list[Detection]]] = deque(maxlen=ROUNDS_KEPT)  # (frame, detections)
        self._scale = self.track_scale  # the tracking scale of the current subject
        self._kept: list[Kept] = []  # subjects kept sharp besides the first (focusr.subjects)
        self._picture: np.ndarray | None = None  # the matte the last frame was blurred with (all subjects)
        self._told: list[str] = []  # what this frame's click could not do, in a line each (its warnings)
        self._corrections: list[Correction] = []  # the first subject's correction clicks, oldest first
        for stage in (self.tracker, self.segmenter):  # the subjects kept besides the first follow its controls
            followed = [n for n in settings(stage) if n not in ("person_model", "engine")]  # engine: Kept.like's
            stage.param.watch(self._follow_settings, followed)

    def _follow_settings(self, *events) -> None:
        for k in self._kept:
            k.follow(events)

    def stage(self, name: str) -> param.Parameterized:
        """A stage by its attribute name ("renderer", ...); "" is the pipeline itself."""
        return getattr(self, name) if name else self

    def control_groups(self) -> list[tuple[str, str, list[str]]]:
        """(section, stage name, parameter names) for every user control, the pipeline's own
        and each stage's, in sidebar order: each class declares its own in `controls`."""
        groups = []
        for name in ("", *self.STAGE_CLASSES):
            for section, names in getattr(self.stage(name), "controls", {}).items():
                groups.append((section, name, list(names)))
        order = list(dict.fromkeys([*self.SECTIONS, *(section for section, _, _ in groups)]))
        return sorted(groups, key=lambda g: order.index(g[0]))

    # -- public -----------------------------------------------------------------------------
    @property
    def notices(self) -> list[str]:
        """What is missing and how to fix it (reduced mode), for the page and the CLI."""
        background = self._background.error if self._background is not None else None
        depth = self.depth.error if self.depth.use_depth else None
        return [e for e in (self.detector.error, self.segmenter.error, background, depth) if e]

    @property
    def frame_index(self) -> int:
        """The index of the last frame processed (-1: none yet); `Pointer.shown` names one."""
        return self._index

    @property
    def state(self) -> TrackState:
        """The first kept subject's state (IDLE: none kept)."""
        subjects = self.subjects
        return subjects[0][1] if subjects else TrackState.IDLE

    @property
    def detections_at(self) -> int:
        """The frame the detections shown are of (-1: none yet)."""
        return self._detections_at

    def detect_soon(self) -> None:
        """Detect on the next frame processed, whatever the schedule says (a paused frame)."""
        self._schedule.soon()

    @property
    def detect_cadence(self) -> float | None:
        """Frames between detections lately, as they really ran (None: not yet known)."""
        return self._schedule.cadence

    def cut(self) -> None:
        """The next frame does not follow from the last one (the user seeked): what was detected
        and hovered, and the frames kept to carry boxes by flow, belong to the old picture and
        are dropped, with any detection still on its way; detection runs on the next frame.
        The subjects stay kept: each is looked for on the new picture, as after any jump."""
        self._fresh_from = self._index + 1
        self._detections, self._detections_at, self._subject_det = [], -1, None
        self._rounds.clear()
        self._recent = RecentFrames()
        self._hover = Follow()
        self._carried = Carried()
        self._preview.clear()
        self.detect_soon()

    def release(self) -> None:
        """Let every subject go (Escape)."""
        self._release_first()
        self._kept.clear()
        self._picture = None
        self._rack.clear()

    def _release_first(self) -> None:
        self._subject_det = None
        self._corrections = []
        self._origin = None
        self.tracker.release()
        self.segmenter.reset()
        self._matte = None

    @property
    def subjects(self) -> list[tuple[Subject, TrackState]]:
        """Every subject kept, the first first, with its state."""
        trackers = [self.tracker, *(k.tracker for k in self._kept)]
        return [(s, t.state) for t in trackers if (s := current(t)) is not None]

    @property
    def preview(self) -> RegionPreview:
        """The hover's outline over undetected things: what it has grown and in how long."""
        return self._preview

    @property
    def growing(self) -> bool:
        """Whether the region under a resting pointer is being grown (`focusr.preview`): a still
        frame is processed again until it shows."""
        return self._preview.growing

    def _render(self, frame, matte, previous, mix, index) -> np.ndarray:
        """The renderer's blur, by depth when the Depth cue is on and its model can be had
        (timed with the render: the model runs every few frames)."""
        depth = self.depth.estimate(frame, index) if matte is not None else None
        return self.renderer.render(frame, matte, previous, mix, depth=depth)

    def close(self) -> None:
        self.release()
        self._preview.close()
        self.segmenter.close()
        if self._background is not None:
            self._background.close()
            self._background = None

    def process(self, frame: np.ndarray, pointer: Pointer = Pointer(), t: float | None = None,
                clock: StageClock | None = None, dropped=None) -> tuple[np.ndarray, FrameResult]:
        """One BGR frame in, the focused frame and what happened out: enhance, detect, track,
        segment, render, overlay. A caller that times more stages around this one (decode,
        encode) passes its clock in.

        Frames may change size (the camera's capture width): the subject is carried over,
        its box, matte and motion scaled to the new size, locked or lost alike (`_resize`);
        detections still on their way from a frame of the old size are dropped.

        A stage that fails on a frame never stops the picture: that frame goes on without it
        (unenhanced, no new detections, the last matte, unblurred, no overlay; a failed tracker
        lets the subject go, so it cannot fail on every frame), and what failed is said in plain
        words once per stage and reason, in that frame's `FrameResult.warnings` after the
        reduced-mode notices (which are there on every frame); the exception goes to the log.

        `dropped()`, when given, is asked between the stages from detect to render; once it says
        True, process raises Superseded (the state is as after any frame's stages, so the same
        frame can be processed again at once)."""
        t = time.perf_counter() if t is None else t
        drop = dropped or (lambda: False)
        self._told = []  # what this frame's click could not do, in a line each
        self._outline = None
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        self._index += 1
        index = self._index
        clock = clock if clock is not None else StageClock()
        failed: list[str] = []
        guard = partial(self._guarded, failed)  # guard(stage, fallback, run, *args)

        with clock("enhance"):
            frame = guard("enhance", frame, self.enhancer.enhance, frame)
        last = self._recent.newest()
        if last is not None and frame.shape[:2] != last.shape[:2]:
            guard("resize", None, self._resize, last, frame, index)
        if self._cuts.seen(frame):  # another shot: nobody is where their box was (focusr.cuts)
            self.cut()
            for tracker in (self.tracker, *(k.tracker for k in self._kept)):
                tracker.lost_sight()
        self._recent.add(index, frame)
        if pointer.release:
            self.release()
        with clock("detect"):  # what can be focused: detections, and the one under the pointer where it is now
            before = self._detections, self._detections_at
            fresh, fresh_at = guard("detect", (None, None), self._detect, frame, pointer, index, t)
            if fresh_at is not None and fresh_at < self._fresh_from:  # of the old size, or before a cut
                (self._detections, self._detections_at), fresh, fresh_at = before, None, None
            source, hover = (None, None) if pointer.click is not None else \
                guard("detect", (None, None), self._hovered, frame, pointer, index)  # a click: the lock, not a hover
        if drop():
            raise Superseded
        with clock("track"):
            update = guard("track", None, self._track, frame, pointer, index, t, dt, fresh, fresh_at)
        if drop():
            raise Superseded
        sharp = self._first_sharp(t)  # a first lock's own frame: matte and blur from the next
        with clock("segment"):
            last = self._matte if self._matte is not None and self._matte.shape == frame.shape[:2] else None
            matte = last if sharp else guard("segment", last, self._segment, frame, update, index)
            matte = corrected(matte, self._corrections, self.tracker.box, frame)
            if self._kept:  # the blur grows with the distance from the nearest subject
                matte = combined([matte, *guard("segment", [k.matte for k in self._kept], self._segment_kept,
                                                frame, index)], frame.shape)
            self._picture = matte
        if drop():
            raise Superseded
        with clock("render"):
            previous, mix = self._rack.step(t, self.rack_focus)
            out = frame if sharp else guard("render", frame, self._render, frame, matte, previous, mix, index)
        subjects = self.subjects
        with clock("overlay"):
            self._fps.tick()
            if self.overlays:
                out = out.copy() if out is frame else out
                guard("overlay", None, self._draw, out, hover, subjects, t)
        subject = self.tracker.subject
        self._shown.add(Shown(index, tuple(self._detections), self._detections_at, hover, source,
                              self.tracker.box if subject is not None else None, subject.key if subject else None))

        result = FrameResult(
            index=index, t=t, state=subjects[0][1] if subjects else TrackState.IDLE,
            subject=subjects[0][0] if subjects else None, matte=matte,
            hover=hover, preview=self._outline[0] if self._outline is not None else None,
            detections=list(self._detections), timings_ms=clock.ms, detected=fresh is not None,
            warnings=self.notices + failed + self._told, subjects=subjects,
        )
        return out, result

    def _guarded(self, failed: list[str], stage: str, fallback, run, *args):
        """`run(*args)`, or, if it raises, `fallback` after the stage's own recovery; a failure
        is added to `failed` the first time this stage fails for this reason."""
        try:
            return run(*args)
        except Exception as exc:
            if stage in ("resize", "track"):  # a tracker in an unknown state: let the subject go
                self.release()
            elif stage == "segment":  # start the matte afresh on the next frame
                self.segmenter.reset()
            elif stage == "render":
                self._rack.clear()
            key = (stage, models.reason(exc))
            if key not in self._said:
                self._said.add(key)
                log.warning("%s failed on frame %d; going on without it", stage, self._index, exc_info=exc)
                failed.append(STAGE_FAILURES[stage])
            return fallback

    def _resize(self, last: np.ndarray, frame: np.ndarray, index: int) -> None:
        """The frame size changed: carry the subject over. Its box (with its motion and
        history), its matte and the matte a rack focus comes from are scaled to the new size,
        and a tracked subject is re-seeded on the last frame scaled to the new size, where its
        box is, so the motion to this frame is tracked as on any other; known detections are
        scaled too. Should this fail, process() lets the subject go and says so."""
        (H, W), (h, w) = last.shape[:2], frame.shape[:2]
        fx, fy = w / W, h / H
        self._fresh_from = index
        self._preview.clear()  # a hover's region of the old size: grown again when the pointer rests
        self._detections = [
            Detection((d.box[0] * fx, d.box[1] * fy, d.box[2] * fx, d.box[3] * fy), d.label, d.score,
                      None if d.mask is None else fit(d.mask.astype(np.uint8), (h, w)) > 0)
            for d in self._detections]
        self._subject_det = None
        self._rounds.clear()
        self._shown.clear()  # boxes drawn at the old size: a click on one of those frames is taken as on this one
        self._origin = None
        self._matte = fit(self._matte, (h, w)) if self._matte is not None else None
        self._picture = fit(self._picture, (h, w)) if self._picture is not None else None
        self._rack.rescale((h, w))
        scaled_last = cv2.resize(last, (w, h), interpolation=cv2.INTER_AREA if fx < 1 else cv2.INTER_LINEAR)
        box = self.tracker.box
        if self.tracker.state != TrackState.IDLE and box is not None:
            self._scale = self._tracking_scale((box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy), w)
            small = self._tracking_copy(scaled_last)
            self.tracker.rescale(small, cv2.cvtColor(small, cv2.COLOR_BGR2HSV), self._scale, fx, fy)
        for k in self._kept:
            k.matte, k.detection = (fit(k.matte, (h, w)) if k.matte is not None else None), None
            if k.tracker.box is not None:
                bx = k.tracker.box
                k.scale = self._tracking_scale((bx[0] * fx, bx[1] * fy, bx[2] * fx, bx[3] * fy), w)
                small = self._tracking_copy(scaled_last, k.scale)
                k.tracker.rescale(small, cv2.cvtColor(small, cv2.COLOR_BGR2HSV), k.scale, fx, fy)

    def _tracking_scale(self, box, width: int) -> float:
        """The scale to track a subject of this box at: about track_size pixels long, at most
        track_scale, except that a narrow frame (a small capture width) is not shrunk below
        MIN_TRACK_WIDTH: a person a few pixels tall cannot be tracked."""
        x1, y1, x2, y2 = box
        cap = max(self.track_scale, min(1.0, MIN_TRACK_WIDTH / max(width, 1)))
        return float(np.clip(self.track_size / max(x2 - x1, y2 - y1, 1.0), MIN_TRACK_SCALE, cap))

    # -- the stages --------------------------------------------------------------------------
    def _detect(self, frame, pointer: Pointer, index: int, t: float):
        """New detections and the frame they are of, or (None, None). A click detects on its
        own frame and waits for it; otherwise the schedule says when the background detector
        may start (it never modifies the frame it is given)."""
        fresh, fresh_at = None, None
        trackers = [self.tracker, *(k.tracker for k in self._kept)]
        lost = any(k.state == TrackState.LOST for k in trackers)
        urgent = lost or any(k.doubting for k in trackers)  # at once: the detector decides
        if not self.detector.available:
            pass
        elif pointer.click is not None and not self.background_detection and pointer.shown is None:
            # offline: the click is on this very frame, and nothing is in a hurry
            fresh, fresh_at = self.detector.detect(frame), index
            self._schedule.started(index)
        elif self.background_detection:
            if self._background is None:
                self._background = BackgroundDetector(self.detector)
            got = self._background.poll()
            if got is not None:
                fresh_at, fresh = got
            # tracked, in doubt or not: within a share of a core
            held = [k.state for k in trackers if k.state != TrackState.IDLE]
            tracking = bool(held) and all(state in HELD for state in held)
            share = self._schedule.share(pointer.hover, t, tracking, self.detect_share, lost)  # follows the pointer
            if self._schedule.due(index, self.detect_interval, urgent) and self._background.submit(frame, index, share):
                self._schedule.started(index)
        elif self._schedule.due(index, self.detect_interval, urgent):
            fresh, fresh_at = self.detector.detect(frame), index
            self._schedule.started(index)
        if fresh is not None:
            self._detections, self._detections_at = fresh, fresh_at
            self._rounds.append((fresh_at, fresh))
        return fresh, fresh_at

    def _hovered(self, frame, pointer: Pointer, index: int):
        """The detection under the pointer, and its box carried to where its subject is now; none
        over the locked subject, whose green box says it all (and a click there keeps it)."""
        source, now = self._under_pointer(frame, pointer.hover, index) if pointer.hover is not None else (None, None)
        locked = self.tracker.box if self.tracker.state != TrackState.IDLE else None
        if source is not None and locked is not None and (  # its detection, compared where it was then
                source is self._subject_det or iou(source.box, self.tracker.box_at(self._detections_at) or locked) >= 0.5):
            source = None
        kept = [k for k in self._kept if k.tracker.box is not None]
        if source is not None and any(source is k.detection or
                                      iou(source.box, k.tracker.box_at(self._detections_at) or k.tracker.box) >= 0.5
                                      for k in kept):
            source = None  # a subject kept besides the first: its own box says so
        since = lambda at: self._recent.since(at, frame.shape)  # noqa: E731
        box = self._hover.follow(source, self._detections_at, frame, index, since, now=now)
        boxes = [b for b in (locked, *(k.tracker.box for k in kept)) if b is not None]
        # over nothing detected nor kept: the region a click there takes (focusr.preview)
        outlined = pointer.hover if source is None and self.hover_preview and pointer.hover is not None \
            and not any(distance(b, pointer.hover) == 0 for b in boxes) else None
        if source is not None and any(iou(box, b) >= 0.5 for b in boxes):  # or carried to now
            source = None
        shown = self._preview.at(frame, outlined, index, since)
        self._outline = None if shown is None else (shown[1], shifted(*shown))
        return (None, None) if source is None else (source, replace(source, box=box, mask=None))

    def _under_pointer(self, frame, point, index: int):
        """The detection whose subject is under the pointer now, and its box now if that had to
        be worked out (else None). Boxes are of a frame a few frames back and a walker moves
        10-40 px meanwhile: the box drawn (followed) holds while the pointer is in it; then
        the few detections near the pointer, carried by flow to now (their own boxes when
        they are of this frame or the last, or their frames are gone)."""
        followed = self._hover.source
        held = followed is not None and self._hover.box is not None and distance(self._hover.box, point) == 0
        if held and any(d is followed for d in self._detections):
            return followed, None
        # where their subjects are now: a walker's old box may hold the pointer while he has
        # moved on and the one beside him has come under it
        moved = self._moved_under(self._detections, self._detections_at, None, point, frame.shape) \
            if index - self._detections_at > STALE_FRAMES else None
        source, now = moved if moved is not None else (under_point(self._detections, point), None)
        if source is None and held and index - self._hover.detected_at <= HOVER_HOLD_FRAMES \
                and not self._seen_elsewhere(followed):
            return followed, None  # the model missed him this time: his box, carried, stays under the pointer
        return source, now

    def _seen_elsewhere(self, followed) -> bool:
        """Whether the newest detections saw the followed subject away from the pointer: one of
        its label overlapping his followed box on their frame. He walked out from under it; his
        box, carried by flow, may have stayed on what he passed (a lamp post) and must go."""
        then = self._hover.box_at(self._detections_at)
        return then is not None and any(d.label == followed.label and iou(d.box, then) >= NEAR_IOU
                                        for d in self._detections)

    def _moved_under(self, detections, at: int, until: int | None, point, shape, tol: float = 0.0):
        """The detection (of frame `at`) whose subject has moved under `point` by frame `until`
        (None: now), and its box there; (None, None) if none; None if the frames between are
        gone (their own boxes are all there is). Only the HOVER_CARRIED nearest
        within reach (HOVER_REACH, more the older the boxes) are carried by flow; for the hover,
        each once from its frame, then a step a frame (`Carried`).
        Of those that moved under it, the nearest, then the tightest: a walker's old box may
        hold the pointer while he has moved on and the one beside him has come under it."""
        age = (until if until is not None else self._index) - at
        reach = min(max(HOVER_REACH, HOVER_SPEED * age), HOVER_REACH_MOST) * shape[1]
        near = sorted((d for d in detections if distance(d.box, point) <= reach),
                      key=lambda d: distance(d.box, point))[:HOVER_CARRIED]
        if not near:
            return None, None
        if until is None:  # the hover: carried on from the last frame's
            ends = self._carried.to_now(near, at, self._index, lambda i: self._recent.since(i, shape))
        else:
            past = self._recent.since(at, shape, until)
            ends = None if past is None or len(past) < 2 else \
                [path[-1] for path in carry_all(past, [(d.box, d.mask) for d in near])]
        if ends is None:
            return None
        moved = [(det, end) for det, end in zip(near, ends) if distance(end, point) <= tol]
        return min(moved, key=lambda m: (distance(m[1], point), area(m[1])), default=(None, None))

    def _track(self, frame, pointer: Pointer, index: int, t: float, dt: float, fresh, fresh_at):
        """A click's change of subjects, then each subject kept, followed to this frame (the
        first's update is returned, for its matte)."""
        if pointer.click is not None and self._click(frame, pointer, index, t):
            return None  # the first subject was locked on this frame
        copies: dict[float, tuple[np.ndarray, np.ndarray]] = {}  # scale -> tracking copy and its HSV
        if self._kept:  # a walker is one subject's only
            fresh, *theirs = shares(fresh, fresh_at, [self.tracker, *(k.tracker for k in self._kept)])
            self._track_kept(frame, dt, theirs, fresh_at, index, copies)
        if self.tracker.state == TrackState.IDLE:
            return None
        small, hsv = self._tracking_pair(frame, self._scale, copies)
        now, now_at, originals, origin = self._to_now(fresh, fresh_at, frame, index)
        update = self.tracker.update(small, hsv, dt, now, index=index, detected_at=now_at, origin=origin)
        if update.detection is not None:  # the detection as it came (the hover box compares by identity)
            update = replace(update, detection=originals.get(id(update.detection), update.detection))
        if fresh is not None:  # which of the new detections is the subject (for the hover box)
            self._subject_det = update.detection
        return update

    def _click(self, frame, pointer: Pointer, index: int, t: float) -> bool:
        """What a click does to the subjects kept (`Pointer.mode`, `types.CLICK_MODES`); True
        if it locked the first subject on this frame. A plain click starts over with one
        subject; one on the subject already first keeps it (and lets the others go)."""
        if pointer.mode in ("include", "exclude"):
            self._correct(frame, pointer, index)
            return False
        if pointer.mode == "lock":
            choice = self._resolve(frame, pointer, index)
            if self._kept:
                self._kept.clear()
                self._rack.begin(self._picture, frame.shape[:2], t)
            if choice.kind != "keep":
                self._lock(frame, pointer, choice, index, t)
                return True
            return False
        # the amber box drawn under the pointer wins, as for a plain click (`shown.resolve`): it is
        # never drawn over a kept subject, and the walker beside a kept one is the one meant
        choice = self._resolve(frame, pointer, index)
        record = self._shown.get(pointer.shown) if pointer.shown is not None else None
        hovered = record is not None and record.hover is not None and choice.detection is record.hover
        shown = pointer.shown if pointer.shown is not None else index  # where each was on the frame clicked
        owners = [(self, self.tracker), *((k, k.tracker) for k in self._kept)]
        hit = None if hovered else under([(owner, t.box_at(shown) or t.box) for owner, t in owners
                                          if t.state != TrackState.IDLE], pointer.click, tolerance(frame.shape))
        if hit is not None:  # on a kept subject: "toggle" and "remove" let it go, "add" keeps it
            if pointer.mode in ("toggle", "remove"):
                previous = self._picture
                if hit is self:
                    self._release_first()
                else:
                    self._kept.remove(hit)
                self._rack.begin(previous, frame.shape[:2], t)
            return False
        if pointer.mode == "remove" or choice.kind == "keep":
            return False
        if self.tracker.state == TrackState.IDLE:
            self._lock(frame, pointer, choice, index, t)
            return True
        if 1 + len(self._kept) >= MOST_SUBJECTS:
            self._told.append(TOO_MANY)
            return False
        kept = Kept.like(self.tracker, self.segmenter)
        self._lock(frame, pointer, choice, index, t, kept)
        self._kept.append(kept)
        return False

    def _correct(self, frame, pointer: Pointer, index: int) -> None:
        """A correction click (`focusr.corrections`): the region under it, on the frame it was made
        on, joins ("include") or leaves ("exclude") the cut-out of the subject nearest the click
        there (the tightest box holding it). It shows from this frame on, at once."""
        shown = pointer.shown if pointer.shown is not None else index
        owners = [(self._corrections, self.tracker), *((k.corrections, k.tracker) for k in self._kept)]
        boxes = [(mine, b) for mine, t in owners if t.state != TrackState.IDLE and (b := t.box_at(shown) or t.box)]
        if not boxes:
            self._told.append(NOTHING_TO_CORRECT)
            return
        mine, box = min(boxes, key=lambda mb: (distance(mb[1], pointer.click), area(mb[1])))
        past = self._recent.since(shown, frame.shape)
        mine.append(Correction.grown(past[0] if past else frame, pointer.click, box, pointer.mode == "include"))

    def _track_kept(self, frame, dt: float, theirs: list, fresh_at, index: int, copies: dict) -> None:
        """Each subject kept besides the first, on its own, with its share of the detections
        (`subjects.shares`; None: none new)."""
        for k, mine in zip(self._kept, theirs):
            small, hsv = self._tracking_pair(frame, k.scale, copies)
            update = k.tracker.update(small, hsv, dt, mine, index=index, detected_at=fresh_at)
            k.fresh = update.detection
            if mine is not None:
                k.detection = update.detection

    def _segment_kept(self, frame, index: int) -> list[np.ndarray | None]:
        """The mattes of the subjects kept besides the first; a lost one's stays where it was.
        At most one cut-out is made afresh on a frame, the first subject's or else the one due
        the longest (the others move with their boxes): four subjects' cut-outs all due on one
        frame cost four MediaPipe runs there, so each is made a little less often instead; and
        one whose subject stood still since its cut-out is not due (`Segmenter.still`)."""
        held = [k for k in self._kept if k.tracker.state in HELD and k.tracker.box is not None]
        due = [k for k in held if k.segmenter.due(index) and not k.segmenter.still(k.tracker.box, index)] \
            if self.segmenter.last != index else []
        turn = min(due, key=lambda k: k.segmenter.last, default=None)
        for k in held:
            k.matte = k.segmenter.segment(frame, k.tracker.box, index, detection=k.fresh, refresh=k is turn,
                                          is_person=self.detector.is_person(k.tracker.subject.label))
        return [corrected(k.matte, k.corrections, k.tracker.box, frame) for k in self._kept]

    def _to_now(self, fresh, fresh_at, frame, index: int):
        """New detections of an earlier frame, with those that could be the locked subject
        carried by flow to this frame: (detections, the frame they are of, carried -> original
        by id, (the frame they were of, their boxes there) when carried, else None). Those near
        where the subject's chain of detections is heading are carried too. Otherwise the
        tracker moves a detection on by its own motion since that frame, and a tracker stuck
        on the background (a walker crossing another) sees none: it snapped back to where the
        subject had been and lost him. A few ms, when detections arrive."""
        if (fresh is None or fresh_at is None or fresh_at >= index or self.tracker.subject is None
                or self.tracker.subject.kind != "detection"
                or self.tracker.state not in HELD):
            return fresh, fresh_at, {}, None
        then, now = self.tracker.box_at(fresh_at), self.tracker.box
        past = self._recent.since(fresh_at, frame.shape)
        if then is None or now is None or past is None:
            return fresh, fresh_at, {}, None
        shift = np.subtract(now, then)
        # could be the subject: where flow says it is now (in doubt, anyone near the box may be
        # the one who walked out of it: Tracker.doubting)
        doubting, expected = self.tracker.doubting, self.tracker.expected(fresh_at)
        near = [d for d in fresh if iou(d.box, then) >= NEAR_IOU or (doubting and nearby(d.box, then))
                or (expected is not None and iou(d.box, expected) >= NEAR_IOU)]
        flowed = {id(d): path[-1] for d, path in zip(near, carry_all(past, [(d.box, d.mask) for d in near]))}
        out, originals = [], {}
        for det in fresh:  # anyone else is only a candidate if the subject is lost: moved as before
            box = flowed.get(id(det)) or tuple(float(v) for v in np.add(det.box, shift))
            moved = replace(det, box=box, mask=None)
            originals[id(moved)] = det
            out.append(moved)
        return out, None, originals, (fresh_at, [d.box for d in fresh])

    def _segment(self, frame, update, index: int) -> np.ndarray | None:
        """The subject's matte; while lost, focus stays where the subject was last seen."""
        box = self.tracker.box
        if self.tracker.state in HELD and box is not None:
            det = update.detection if update is not None else None
            self._matte = self.segmenter.segment(
                frame, box, index, is_person=self.detector.is_person(self.tracker.subject.label), detection=det)
        elif self.tracker.state == TrackState.IDLE:
            self._matte = None
        return self._matte

    def _tracking_copy(self, frame, scale: float | None = None):
        scale = self._scale if scale is None else scale
        return cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else frame

    def _tracking_pair(self, frame, scale: float, copies: dict) -> tuple[np.ndarray, np.ndarray]:
        """The tracking copy at `scale` and its HSV, made once a frame for every subject at that
        scale (`copies`, this frame's)."""
        if scale not in copies:
            small = self._tracking_copy(frame, scale)
            copies[scale] = small, cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        return copies[scale]

    def _resolve(self, frame, pointer: Pointer, index: int) -> Choice:
        """What the click meant, on the frame it was made on (`shown.resolve`). A click on the
        subject already locked keeps it, also one made before its lock could be seen (a
        double click, or clicks queued behind a slow frame)."""
        x, y = pointer.click
        h, w = frame.shape[:2]
        if not (0 <= x < w and 0 <= y < h):
            return Choice("keep")
        tol = tolerance(frame.shape)
        if pointer.shown is not None:
            shown = self._shown.get(pointer.shown)
        else:  # this frame: what is known of it now
            subject = self.tracker.subject
            shown = Shown(index, tuple(self._detections), self._detections_at, None, None,
                          self.tracker.box if subject is not None else None, subject.key if subject else None)
        choice = resolve(shown, pointer.click, tol)
        boxed = choice.kind == "region" or choice.kind == "detection" and choice.detection is choice.source
        # no box drawn there (a tap), or a box of an earlier frame: the detection whose subject
        # had moved under the click on the frame clicked (the one whose old box holds it may be
        # the walker beside him); none: a region
        moved = self._moved_under(shown.detections, shown.detections_at, shown.index, pointer.click, frame.shape,
                                  tol) if boxed and shown is not None and shown.detections_at < shown.index else None
        if moved is not None:
            source, box = moved
            choice = Choice("region") if source is None else \
                Choice("detection", replace(source, box=box, mask=None), shown.index, source)
        if choice.kind == "region":  # says why, in the server's log: a click on a shown box never should
            near = min((distance(d.box, pointer.click) for d in shown.detections), default=None) if shown else None
            log.info("click at (%.0f, %.0f) on frame %s (record %s, detections of %s): no box within %.0f px "
                     "(hover %s, nearest detection %s px): grows a region", x, y, pointer.shown,
                     shown.index if shown else None, shown.detections_at if shown else None, tol,
                     [round(v) for v in shown.hover.box] if shown and shown.hover else None,
                     round(near) if near is not None else None)
        subject = self.tracker.subject
        if (choice.kind != "keep" and subject is not None and self._origin is not None and shown is not None
                and shown.subject_key != subject.key and shown.index <= self._origin[0]
                and distance(self._origin[1], pointer.click) <= tol):
            return Choice("keep")
        return choice

    def _lock(self, frame, pointer: Pointer, choice: Choice, index: int, t: float, kept: Kept | None = None) -> None:
        """Lock at once onto the chosen detection, or a region grown from the click, as it was on
        the frame it was shown on, carried from there to this frame (`focusr.carry`): as the
        first subject, or as one `kept` besides it."""
        previous = self._picture
        self._subject_key += 1
        det = choice.detection
        at = choice.at if det is not None else (pointer.shown if pointer.shown is not None else index)
        past = self._recent.since(at, frame.shape)
        if past is None:  # that frame is gone (or of another size): this one is the nearest
            past = [frame]
        seed = None  # a mask the detector gave, and its box: the first matte, moved with the box
        if det is not None:
            label, kind, box, mask = det.label, "detection", det.box, None
            group = self.detector.kind_of(det.label)
            if choice.source is not None and choice.source.mask is not None:
                seed = (choice.source.box, choice.source.mask)
                mask = choice.source.mask if choice.source is det else None
        else:
            shown = self._preview.taken(pointer.click)
            from_shown = self._recent.since(shown.index, frame.shape) if shown is not None else None
            if from_shown:  # the region outlined under the pointer: exactly that, from its own frame
                past, box, mask = from_shown, shown.box, shown.mask
            else:
                box, mask = self._grown(past[0], pointer.click)
            label, kind, group = REGION_LABEL, "region", frozenset({REGION_LABEL})
            seed = (box, mask)
        carried = self._followed(choice, at, frame, index) if det is not None else None
        carried = carried or carry(past, box, mask)
        now = carried[-1]
        tracker, segmenter = (self.tracker, self.segmenter) if kept is None else (kept.tracker, kept.segmenter)
        if kept is None:  # clicked afresh: its corrections were of the one before
            self._corrections = []
        segmenter.reset()
        if seed is not None:
            segmenter.seed(frame, *seed, index)  # of an earlier frame: it moves with the box
        # CSRT's cost grows with the subject's size in pixels: track big subjects on a smaller copy
        scale = self._tracking_scale(now, frame.shape[1])
        small = self._tracking_copy(frame, scale)
        tracker.lock(small, cv2.cvtColor(small, cv2.COLOR_BGR2HSV), scale,
                     Subject(now, label, kind, self._subject_key), group, index=index, carried=carried,
                     seen=self._seen(choice.source))
        self._rack.begin(previous, frame.shape[:2], t)  # from the subjects before, or from all-sharp
        if kept is not None:
            kept.scale, kept.detection = scale, choice.source
            kept.matte = segmenter.segment(frame, tracker.box, index, is_person=self.detector.is_person(label))
            return
        self._subject_det = choice.source
        self._scale = scale
        self._origin = (index, self.tracker.box)
        if self._first_sharp(t):  # the first matte is made on the next frame, when it is seen
            self._matte = None
        else:
            self._matte = self.segmenter.segment(frame, self.tracker.box, index,
                                                 is_person=self.detector.is_person(label))

    def _seen(self, source: Detection | None):
        """Where and how fast the detector saw `source`'s subject: (its frame, its box, px a
        frame), the speed from the last round before its own that has a detection of its label
        and about its size near it (within its width a round: the model misses a walker behind
        a post now and then), the nearest, if he is the nearest to it there too. None: not
        known. Flow on a walker passing a post says he stands still."""
        k = next((k for k, (_, dets) in enumerate(self._rounds) if any(d is source for d in dets)), 0)
        if source is None or k == 0:
            return None
        at, w = self._rounds[k][0], source.box[2] - source.box[0]
        now = [d for d in self._rounds[k][1] if d.label == source.label]
        for j in range(k - 1, -1, -1):
            before_at, before = self._rounds[j]
            same = [d for d in before if d.label == source.label and gap(d.box, source.box) <= w * (k - j)
                    and about_size(d.box, source.box)]
            if not same or at <= before_at:
                continue
            him = min(same, key=lambda d: gap(d.box, source.box))
            if min(now, key=lambda d: gap(d.box, him.box)) is not source:
                return None  # the nearest is someone still there beside him (standing by the post)
            (px, py), (cx, cy) = center(him.box), center(source.box)
            return at, source.box, ((cx - px) / (at - before_at), (cy - py) / (at - before_at))
        return None

    def _first_sharp(self, t: float) -> bool:
        """Whether this is a quick first lock's own frame, all sharp (`quick_lock`)."""
        return self.quick_lock and self._rack.all_sharp(t, self.rack_focus)

    def _followed(self, choice: Choice, at: int, frame, index: int) -> list[Box] | None:
        """The hover box clicked, from its frame to now: the path the hover already followed
        to the last frame, and one flow step to this one (else None: carry it afresh). Half a
        click's cost was carrying it again over frames already followed."""
        if choice.source is None or self._hover.last != index - 1:
            return None
        path = self._hover.path(choice.source, at)
        step = self._recent.since(index - 1, frame.shape) if path else None
        if not path or step is None or len(step) != 2:
            return None
        return path + [carry(step, path[-1])[-1]]

    @staticmethod
    def _grown(frame, point, work_size: int = GROW_WORK_SIZE) -> tuple[Box, np.ndarray]:
        """A subject the detector did not show, grown from the click (at `work_size` px); never
        more of the frame than a user could mean by one click (REGION_MAX_SHARE), nor a speck:
        else the square around it."""
        h, w = frame.shape[:2]
        grown = grow_region(frame, point, work_size, max_share=REGION_MAX_SHARE)
        if grown is not None:
            return grown
        box = square_around(point, max(h, w) * CLICK_SQUARE_RADIUS, frame.shape)
        mask = np.zeros((h, w), bool)
        mask[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])] = True
        return box, mask

    def _draw(self, out: np.ndarray, hover: Detection | None, subjects: list[tuple[Subject, TrackState]],
              t: float) -> None:
        if hover is not None:
            overlay.dashed_box(out, hover.box, overlay.AMBER)
        if self._outline is not None:
            overlay.outline(out, self._outline[1], overlay.AMBER)
        for i, (subject, state) in enumerate(subjects):  # the first green, the others each in its own colour
            overlay.lock_box(out, subject.box, t, overlay.lock_colour(i, state))
        if self.show_status:
            note = "reduced mode" if self.notices else ""
            label = " + ".join(s.label for s, _ in subjects) if subjects else None
            overlay.status(out, subjects[0][1] if subjects else TrackState.IDLE, label, self._fps.fps, note)
