"""The focus pipeline: one call per frame, from pixels and pointer to output and result.

The stages (enhance, detect, track, segment, render, overlay) are Parameterized
objects whose parameters are the user's controls; the pipeline decides when each
runs and times them all here, in one place.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import cv2
import numpy as np
import param

from focusr import overlay
from focusr.detect import BackgroundDetector, Detector, under_point
from focusr.enhance import Enhancer
from focusr.render import Renderer
from focusr.segment import Segmenter, grow_region
from focusr.track import Tracker, iou
from focusr.types import Detection, FrameResult, Pointer, Subject, TrackState

STAGES = ("enhance", "detect", "track", "segment", "render", "overlay")


class StageClock:
    """Milliseconds per stage for one frame."""

    def __init__(self):
        self.ms: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[stage] = self.ms.get(stage, 0.0) + (time.perf_counter() - start) * 1000.0


class FocusPipeline(param.Parameterized):
    """Keeps a clicked subject sharp and blurs the rest, frame by frame."""

    detect_interval = param.Integer(
        default=5, bounds=(1, 60), doc="Run the detector every N frames; the tracker fills the gaps."
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
    detect_rate = param.Number(
        default=2.0, bounds=(0.2, 30.0), step=0.5,
        doc="At most this many background detections a second: the tracker fills the gaps, and the CPU "
            "it saves goes to every frame.",
    )
    detect_share = param.Number(
        default=0.3, bounds=(0.05, 1.0), step=0.05,
        doc="While a subject is tracked, background detection takes at most this share of one core, all "
            "sessions together: on a slow or busy machine it runs less often rather than slowing every frame. "
            "Lost, idle, or while the pointer moves over the video, it runs at detect_rate.",
    )
    background_detection = param.Boolean(
        default=True, doc="Run the detector on its own thread so frames never wait for it (a click still waits)."
    )
    overlays = param.Boolean(default=True, doc="Draw the hover box, lock box and status line.")
    show_status = param.Boolean(default=True, doc="Draw the status and FPS line.")

    detector = param.ClassSelector(class_=Detector, doc="Finds subjects.")
    tracker = param.ClassSelector(class_=Tracker, doc="Follows the subject between detections.")
    segmenter = param.ClassSelector(class_=Segmenter, doc="Cuts the subject out.")
    renderer = param.ClassSelector(class_=Renderer, doc="Blurs everything else.")
    enhancer = param.ClassSelector(class_=Enhancer, doc="Low-light enhancement.")

    def __init__(self, **params):
        for name, cls in (("detector", Detector), ("tracker", Tracker), ("segmenter", Segmenter),
                          ("renderer", Renderer), ("enhancer", Enhancer)):
            params.setdefault(name, cls())
        super().__init__(**params)
        self._index = -1
        self._subject_key = 0
        self._detections: list[Detection] = []
        self._detected_at = -(10**9)
        self._last_t: float | None = None
        self._fps: float | None = None
        self._wall: float | None = None
        self._matte: np.ndarray | None = None
        self._rack_from: np.ndarray | None = None
        self._rack_start = 0.0
        self._background: BackgroundDetector | None = None
        self._submitted_t = -1e9
        self._hover: tuple[float, float] | None = None
        self._hover_moved_t = -1e9
        self._subject_det: Detection | None = None  # the subject among self._detections
        self._detections_at = -1  # the frame they are of
        self._scale = self.track_scale  # the tracking scale of the current subject

    # -- public -----------------------------------------------------------------------------
    @property
    def notices(self) -> list[str]:
        """What is missing and how to fix it (reduced mode), for the page and the CLI."""
        background = self._background.error if self._background is not None else None
        return [e for e in (self.detector.error, self.segmenter.error, background) if e]

    @property
    def state(self) -> TrackState:
        return self.tracker.state

    def release(self) -> None:
        self._subject_det = None
        self.tracker.release()
        self.segmenter.reset()
        self._matte = None
        self._rack_from = None

    def close(self) -> None:
        self.release()
        self.segmenter.close()
        if self._background is not None:
            self._background.close()
            self._background = None

    def process(self, frame: np.ndarray, pointer: Pointer = Pointer(), t: float | None = None,
                clock: StageClock | None = None) -> tuple[np.ndarray, FrameResult]:
        """One BGR frame in, the focused frame and what happened out. A caller that times
        more stages around this one (decode, encode) passes its clock in."""
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

        fresh, fresh_at = None, None  # detections that arrived on this frame, and their frame
        with clock("detect"):
            due = index - self._detected_at >= self.detect_interval or self.tracker.state == TrackState.LOST
            if not self.detector.available:
                pass
            elif pointer.click is not None:  # the click must land on what is under it now
                fresh, fresh_at = self.detector.detect(frame), index
            elif self.background_detection:
                if self._background is None:
                    self._background = BackgroundDetector(self.detector)
                got = self._background.poll()
                if got is not None:
                    fresh_at, fresh = got
                lost = self.tracker.state == TrackState.LOST
                share = self._detect_share_now(pointer, t)  # every frame: it follows the pointer
                if due and (lost or t - self._submitted_t >= 1.0 / self.detect_rate) \
                        and self._background.submit(frame, index, share):  # the frame is never modified
                    self._detected_at, self._submitted_t = index, t
            elif due:
                fresh, fresh_at = self.detector.detect(frame), index
            if fresh is not None:
                self._detections, self._detections_at = fresh, fresh_at
                if fresh_at == index:
                    self._detected_at = index
        detected = fresh is not None

        with clock("track"):
            if pointer.click is not None:
                self._pick(frame, pointer.click, index, t)
                update = None
            elif self.tracker.state != TrackState.IDLE:
                small = cv2.resize(frame, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA) \
                    if self._scale < 1 else frame
                hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
                update = self.tracker.update(small, hsv, dt, fresh, index=index, detected_at=fresh_at)
                if fresh is not None:  # which of the new detections is the subject (for the hover box)
                    self._subject_det = update.detection
            else:
                update = None

        matte = self._matte
        with clock("segment"):
            box = self.tracker.box
            if self.tracker.state in (TrackState.LOCKED, TrackState.REACQUIRED) and box is not None:
                det = update.detection if update is not None else None
                matte = self.segmenter.segment(
                    frame, box, index, is_person=self.detector.is_person(self.tracker.subject.label), detection=det
                )
            elif self.tracker.state == TrackState.IDLE:
                matte = None
            self._matte = matte  # while lost, focus stays where the subject was last seen

        with clock("render"):
            mix = 1.0
            if self._rack_from is not None and self.rack_focus > 0:
                mix = min((t - self._rack_start) / self.rack_focus, 1.0)
                if mix >= 1.0:
                    self._rack_from = None
            out = self.renderer.render(frame, matte, self._rack_from, mix)

        hover = under_point(self._detections, pointer.hover) if pointer.hover is not None else None
        with clock("overlay"):
            now = time.perf_counter()
            if self._wall is not None and now > self._wall:
                inst = 1.0 / (now - self._wall)
                self._fps = inst if self._fps is None else 0.9 * self._fps + 0.1 * inst
            self._wall = now
            if self.overlays:
                out = out.copy() if out is frame else out
                self._draw(out, hover, t)

        result = FrameResult(
            index=index, t=t, state=self.tracker.state, subject=self._current_subject(), matte=matte,
            hover=hover, detections=list(self._detections), timings_ms=clock.ms, detected=detected,
            warnings=self.notices,
        )
        return out, result

    # -- internals --------------------------------------------------------------------------
    def _detect_share_now(self, pointer: Pointer, t: float) -> float | None:
        """How much of a core background detection may take now; None: detect_rate alone.
        The share holds while a subject is tracked and the pointer is still: a pointer moving
        over the video is a user choosing the next subject, and hover boxes must be fresh."""
        if pointer.hover != self._hover:
            self._hover, self._hover_moved_t = pointer.hover, t
        choosing = pointer.hover is not None and t - self._hover_moved_t < 1.0
        tracking = self.tracker.state in (TrackState.LOCKED, TrackState.REACQUIRED)
        return self.detect_share if tracking and not choosing else None

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
                r = max(h, w) / 12
                box = (max(x - r, 0.0), max(y - r, 0.0), min(x + r, w - 1.0), min(y + r, h - 1.0))
                mask = np.zeros((h, w), bool)
                mask[int(box[1]) : int(box[3]), int(box[0]) : int(box[2])] = True
            else:
                box, mask = grown
            subject, group = Subject(box, "object", "region", self._subject_key), frozenset({"object"})
            self.segmenter.seed(frame, box, mask, index)
        # CSRT's cost grows with the subject's size in pixels: track big subjects on a smaller copy
        x1, y1, x2, y2 = subject.box
        self._scale = float(np.clip(self.track_size / max(x2 - x1, y2 - y1, 1.0), 0.15, self.track_scale))
        small = cv2.resize(frame, None, fx=self._scale, fy=self._scale, interpolation=cv2.INTER_AREA) \
            if self._scale < 1 else frame
        self.tracker.lock(small, cv2.cvtColor(small, cv2.COLOR_BGR2HSV), self._scale, subject, group)
        box = self.tracker.box
        self._matte = self.segmenter.segment(frame, box, index, is_person=self.detector.is_person(subject.label),
                                             detection=det)
        if previous is not None:
            self._rack_from, self._rack_start = previous, t
        else:
            self._rack_from = np.full_like(self._matte, 255)  # from all-sharp to focused
            self._rack_start = t

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
            overlay.status(out, self.tracker.state, subject.label if subject else None, self._fps, note)
