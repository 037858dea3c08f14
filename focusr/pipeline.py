"""The focus pipeline: one call per frame, from pixels and pointer to output and result.

The stages (enhance, detect, track, segment, render, overlay) are Parameterized
objects whose parameters are the user's controls; the pipeline decides when each
runs and times them all here, in one place. Each stage names its user controls in
`controls` (section -> parameter names) and the dashboard's sidebar is built from those.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import param

from focusr import overlay
from focusr.detect import BackgroundDetector, Detector, under_point
from focusr.enhance import Enhancer
from focusr.render import RackFocus, Renderer
from focusr.schedule import DetectionSchedule
from focusr.segment import Segmenter, grow_region
from focusr.timing import FpsMeter, StageClock
from focusr.track import Tracker, iou
from focusr.types import Detection, FrameResult, Pointer, Subject, TrackState

SPECK_AREA_RADIUS = 1 / 12  # nothing grows from the click: lock a square this share of the frame around it
MIN_TRACK_SCALE = 0.15  # below this, a huge subject's tracking copy loses the detail CSRT needs


class FocusPipeline(param.Parameterized):
    """Keeps a clicked subject sharp and blurs the rest, frame by frame."""

    controls = {
        "Focus": ["rack_focus"],
        "Detection and tracking": ["detect_interval", "track_scale"],
        "Display": ["overlays", "show_status"],
    }

    detect_interval = param.Integer(
        default=5, bounds=(1, 60), label="Detect every N frames",
        doc="Run the detector every N frames; the tracker fills the gaps. While a subject is tracked and "
            "nobody is choosing another, detection also keeps to detect_share of a core, so on a busy machine "
            "it may then run less often: the status line shows how often it really runs.",
    )
    track_scale = param.Number(
        default=0.5, bounds=(0.2, 1.0), step=0.05,
        doc="Largest scale the tracker works at; a large subject is tracked on a smaller copy of the frame.",
    )
    track_size = param.Integer(
        default=80, bounds=(32, 256), doc="Subjects are tracked at a scale that makes them about this many pixels long."
    )
    rack_focus = param.Number(
        default=0.3, bounds=(0.0, 2.0), step=0.05, doc="Seconds a change of subject takes to pull focus."
    )
    detect_share = param.Number(
        default=0.3, bounds=(0.05, 1.0), step=0.05,
        doc="A server setting, not a user control: the share of one core background detection may take "
            "(all sessions together) when it only confirms the tracker. Idle, lost, or while the pointer "
            "moves over the video, the interval alone rules.",
    )
    background_detection = param.Boolean(
        default=True, doc="Run the detector on its own thread so frames never wait for it (a click still waits). "
                          "Off for offline renders, which are then the same every time."
    )
    overlays = param.Boolean(default=True, doc="Draw the hover box, lock box and status line.")
    show_status = param.Boolean(default=True, doc="Draw the status and FPS line.")

    detector = param.ClassSelector(class_=Detector, doc="Finds subjects.")
    tracker = param.ClassSelector(class_=Tracker, doc="Follows the subject between detections.")
    segmenter = param.ClassSelector(class_=Segmenter, doc="Cuts the subject out.")
    renderer = param.ClassSelector(class_=Renderer, doc="Blurs everything else.")
    enhancer = param.ClassSelector(class_=Enhancer, doc="Low-light enhancement.")

    # The stages by attribute name, in the order their controls appear in the sidebar.
    STAGE_CLASSES = {"renderer": Renderer, "detector": Detector, "segmenter": Segmenter, "tracker": Tracker,
                     "enhancer": Enhancer}

    def __init__(self, **params):
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
        self._background: BackgroundDetector | None = None
        self._schedule = DetectionSchedule()
        self._subject_det: Detection | None = None  # the subject among self._detections
        self._detections_at = -1  # the frame they are of
        self._scale = self.track_scale  # the tracking scale of the current subject

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
        order = list(dict.fromkeys(section for section, _, _ in groups))
        return sorted(groups, key=lambda g: order.index(g[0]))

    # -- public -----------------------------------------------------------------------------
    @property
    def notices(self) -> list[str]:
        """What is missing and how to fix it (reduced mode), for the page and the CLI."""
        background = self._background.error if self._background is not None else None
        return [e for e in (self.detector.error, self.segmenter.error, background) if e]

    @property
    def state(self) -> TrackState:
        return self.tracker.state

    @property
    def detect_cadence(self) -> float | None:
        """Frames between detections lately, as they really ran (None: not yet known)."""
        return self._schedule.cadence

    def release(self) -> None:
        self._subject_det = None
        self.tracker.release()
        self.segmenter.reset()
        self._matte = None
        self._rack.clear()

    def close(self) -> None:
        self.release()
        self.segmenter.close()
        if self._background is not None:
            self._background.close()
            self._background = None

    def process(self, frame: np.ndarray, pointer: Pointer = Pointer(), t: float | None = None,
                clock: StageClock | None = None) -> tuple[np.ndarray, FrameResult]:
        """One BGR frame in, the focused frame and what happened out: enhance, detect, track,
        segment, render, overlay. A caller that times more stages around this one (decode,
        encode) passes its clock in."""
        t = time.perf_counter() if t is None else t
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        self._last_t = t
        self._index += 1
        index = self._index
        clock = clock if clock is not None else StageClock()

        with clock("enhance"):
            frame = self.enhancer.enhance(frame)
        if pointer.release:
            self.release()
        with clock("detect"):
            fresh, fresh_at = self._detect(frame, pointer, index, t)
        with clock("track"):
            update = self._track(frame, pointer, index, t, dt, fresh, fresh_at)
        with clock("segment"):
            matte = self._segment(frame, update, index)
        with clock("render"):
            previous, mix = self._rack.step(t, self.rack_focus)
            out = self.renderer.render(frame, matte, previous, mix)
        hover = under_point(self._detections, pointer.hover) if pointer.hover is not None else None
        with clock("overlay"):
            self._fps.tick()
            if self.overlays:
                out = out.copy() if out is frame else out
                self._draw(out, hover, t)

        result = FrameResult(
            index=index, t=t, state=self.tracker.state, subject=self._current_subject(), matte=matte,
            hover=hover, detections=list(self._detections), timings_ms=clock.ms, detected=fresh is not None,
            warnings=self.notices,
        )
        return out, result

    # -- the stages --------------------------------------------------------------------------
    def _detect(self, frame, pointer: Pointer, index: int, t: float):
        """New detections and the frame they are of, or (None, None). A click detects on its
        own frame and waits for it; otherwise the schedule says when the background detector
        may start (it never modifies the frame it is given)."""
        fresh, fresh_at = None, None
        lost = self.tracker.state == TrackState.LOST
        if not self.detector.available:
            pass
        elif pointer.click is not None:  # the click must land on what is under it now
            fresh, fresh_at = self.detector.detect(frame), index
            self._schedule.started(index)
        elif self.background_detection:
            if self._background is None:
                self._background = BackgroundDetector(self.detector)
            got = self._background.poll()
            if got is not None:
                fresh_at, fresh = got
            tracking = self.tracker.state in (TrackState.LOCKED, TrackState.REACQUIRED)
            share = self._schedule.share(pointer.hover, t, tracking, self.detect_share)  # every frame: follows the pointer
            if self._schedule.due(index, self.detect_interval, lost) and self._background.submit(frame, index, share):
                self._schedule.started(index)
        elif self._schedule.due(index, self.detect_interval, lost):
            fresh, fresh_at = self.detector.detect(frame), index
            self._schedule.started(index)
        if fresh is not None:
            self._detections, self._detections_at = fresh, fresh_at
        return fresh, fresh_at

    def _track(self, frame, pointer: Pointer, index: int, t: float, dt: float, fresh, fresh_at):
        if pointer.click is not None:
            self._pick(frame, pointer.click, index, t)
            return None
        if self.tracker.state == TrackState.IDLE:
            return None
        small = self._tracking_copy(frame)
        update = self.tracker.update(small, cv2.cvtColor(small, cv2.COLOR_BGR2HSV), dt, fresh, index=index,
                                     detected_at=fresh_at)
        if fresh is not None:  # which of the new detections is the subject (for the hover box)
            self._subject_det = update.detection
        return update

    def _segment(self, frame, update, index: int) -> np.ndarray | None:
        """The subject's matte; while lost, focus stays where the subject was last seen."""
        box = self.tracker.box
        if self.tracker.state in (TrackState.LOCKED, TrackState.REACQUIRED) and box is not None:
            det = update.detection if update is not None else None
            self._matte = self.segmenter.segment(
                frame, box, index, is_person=self.detector.is_person(self.tracker.subject.label), detection=det)
        elif self.tracker.state == TrackState.IDLE:
            self._matte = None
        return self._matte

    def _tracking_copy(self, frame):
        return cv2.resize(frame, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA) \
            if self._scale < 1 else frame

    def _current_subject(self) -> Subject | None:
        subject, box = self.tracker.subject, self.tracker.box
        if subject is None or box is None:
            return subject
        return Subject(box=box, label=subject.label, kind=subject.kind, key=subject.key)

    def _pick(self, frame, point, index: int, t: float) -> None:
        """Lock onto whatever is under the click: a detection, else a region grown from it."""
        h, w = frame.shape[:2]
        x, y = point
        if not (0 <= x < w and 0 <= y < h):
            return
        previous = self._matte
        self._subject_key += 1
        det = under_point(self._detections, point)
        self._subject_det = det
        if det is not None:
            subject = Subject(det.box, det.label, "detection", self._subject_key)
            person = self.detector.is_person(det.label)
            group = frozenset(self.detector.person_labels) if person else frozenset({det.label})
            self.segmenter.reset()
            if det.mask is not None:
                self.segmenter.seed(frame, det.box, det.mask, index)
        else:
            grown = grow_region(frame, point)
            if grown is None:  # nothing to grow from: a click still locks, on the area around it
                r = max(h, w) * SPECK_AREA_RADIUS
                box = (max(x - r, 0.0), max(y - r, 0.0), min(x + r, w - 1.0), min(y + r, h - 1.0))
                mask = np.zeros((h, w), bool)
                mask[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])] = True
            else:
                box, mask = grown
            subject, group = Subject(box, "object", "region", self._subject_key), frozenset({"object"})
            self.segmenter.seed(frame, box, mask, index)
        # CSRT's cost grows with the subject's size in pixels: track big subjects on a smaller copy
        x1, y1, x2, y2 = subject.box
        self._scale = float(np.clip(self.track_size / max(x2 - x1, y2 - y1, 1.0), MIN_TRACK_SCALE, self.track_scale))
        small = self._tracking_copy(frame)
        self.tracker.lock(small, cv2.cvtColor(small, cv2.COLOR_BGR2HSV), self._scale, subject, group)
        box = self.tracker.box
        self._matte = self.segmenter.segment(frame, box, index, is_person=self.detector.is_person(subject.label),
                                             detection=det)
        self._rack.begin(previous, self._matte, t)  # from the old subject, or from all-sharp

    def _draw(self, out: np.ndarray, hover: Detection | None, t: float) -> None:
        box = self.tracker.box
        subject = self.tracker.subject
        # hovering the locked subject: its lock box says it all. Its detection is of an earlier
        # frame, so it is compared with where the subject was then, not with the tracked box now
        ours = hover is not None and box is not None and (
            hover is self._subject_det or iou(hover.box, self.tracker.box_at(self._detections_at) or box) >= 0.5)
        if hover is not None and not ours:
            overlay.dashed_box(out, hover.box, overlay.AMBER)
        if box is not None and self.tracker.state != TrackState.IDLE:
            colour = overlay.GREEN if self.tracker.state != TrackState.LOST else overlay.RED
            overlay.lock_box(out, box, t, colour)
        if self.show_status:
            note = "reduced mode" if self.notices else ""
            overlay.status(out, self.tracker.state, subject.label if subject else None, self._fps.fps, note)
