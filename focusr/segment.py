"""Segmentation: the subject's matte (how sharp each pixel stays), stable over time.

People go through MediaPipe's selfie segmenter on a crop around them; subjects
with a YOLO instance mask use it; anything else gets GrabCut inside the tracked
box, seeded by the previous matte so that it follows the same object. Between
recomputations the previous matte is moved with the box, and new mattes are
blended with the old one, so a still subject does not flicker.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
import param

from focusr import models
from focusr.native_stderr import native_stderr
from focusr.types import Box, Detection, Point

log = logging.getLogger(__name__)

# Where the matte lives
# mattes live in the box widened by this share on each side: room for limbs and motion between recomputations
REGION_MARGIN = 0.15
SCALE_DEADBAND = 0.06  # box size changes below this share do not rescale the matte: tracker wobble, not motion
SHIFT_DEADBAND = 1.0  # px; box centre shifts below this do not move the matte, so a still subject does not shimmer
EMPTY_CUT = 0.1  # a GrabCut cut-out smaller than this share of the box found nothing
MATTE_CUT = 0.5  # matte value above which a pixel counts as the subject when seeding GrabCut

# Person segmenter (MediaPipe selfie model)
TIMESTAMP_STEP_MS = 33  # ms between frames fed to the VIDEO-mode segmenter: it needs rising stamps, ~30 fps
STILL_SHARE = 0.05  # a box whose edges all moved less than this share of its size: its subject stood still
STILL_FRAMES = 30  # ... its cut-out, moved with the box, is made afresh after this many frames all the same
PERSON_CONFIDENCE = 0.5  # segmenter confidence above which a pixel is the person
MIN_PERSON_COVERAGE = 0.15  # share of the box the person must fill; less means the model saw nothing (far/small)
PERSON_DILATE = 7  # px kernel: the confidence's soft edge just outside the kept component survives

# GrabCut
GRABCUT_ITERATIONS = 4  # from scratch: enough for the colour models to settle
# GrabCut starts its colour models with k-means on OpenCV's RNG, which whatever ran before in the
# process has moved: seeding it each call makes the same click on the same frames give the same matte
GRABCUT_SEED = 0xF0C05
GRABCUT_SEEDED_ITERATIONS = 2  # seeded by the previous matte: it starts close, so fewer will do
SEED_ERODE = 0.08  # erosion, as a share of the crop's short side, of the previous matte taken as sure foreground
SOLIDIFY_GAP = 0.1  # gaps up to this share of the object's short side are closed: objects are solid

# Growing a region from a click
GROW_WORK_SIZE = 320  # px, longest side: runs once per click, so it can afford more detail than per-frame GrabCut
FLOOD_BLUR = 5  # px median blur before flood fill: flattens texture and noise
# Lab L, a, b distance from the click's colour: shading varies lightness more than colour across one surface
FLOOD_TOLERANCE = (12, 8, 8)
SPECK_AREA = 0.002  # share of the frame below which a region is a speck, too small to track
MAX_SEED_AREA = 0.5  # flood fill over this share of the frame has leaked into the background (a wall)
CLICK_PATCH_DIVISOR = 24  # fallback seed radius is the longest side over this: a small patch at the click
CORE_ERODE = 5  # px kernel: only the flood fill's interior is sure foreground
GROW_MARGIN = 0.5  # GrabCut window is the object's box widened by this share each side, per round
GROW_ROUNDS = 4  # windows tried while the object keeps reaching the window's edge


def expand(box: Box, shape, factor: float) -> tuple[int, int, int, int]:
    """The box widened by `factor` of its size on each side, in whole pixels, inside the frame
    and never empty (a box partly or wholly outside the frame gives the nearest pixels in it)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    H, W = shape[:2]
    ax = min(max(int(x1 - factor * w), 0), W - 1)
    ay = min(max(int(y1 - factor * h), 0), H - 1)
    bx = min(max(int(np.ceil(x2 + factor * w)), ax + 1), W)
    by = min(max(int(np.ceil(y2 + factor * h)), ay + 1), H)
    return ax, ay, bx, by


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Solid objects have no holes: a picture printed on a box is still the box."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros(mask.shape, np.uint8)
    cv2.drawContours(out, contours, -1, 1, thickness=cv2.FILLED)
    return out.astype(bool)


def component_at(mask: np.ndarray, point: Point | None) -> np.ndarray:
    """The connected part of the mask under (or nearest to) the point; largest if no point."""
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask.astype(bool)
    if point is not None:
        x = min(max(int(point[0]), 0), mask.shape[1] - 1)
        y = min(max(int(point[1]), 0), mask.shape[0] - 1)
        label = labels[y, x]
        if label == 0:
            d = np.hypot(centroids[1:, 0] - x, centroids[1:, 1] - y) / np.sqrt(stats[1:, cv2.CC_STAT_AREA])
            label = 1 + int(np.argmin(d))
    else:
        label = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == label


def grow_region(frame: np.ndarray, point: Point, work_size: int = GROW_WORK_SIZE,
                max_share: float = 1.0) -> tuple[Box, np.ndarray] | None:
    """A subject the detector does not know, from the click alone.

    Flood fill in Lab from the click finds the patch of like colour. GrabCut,
    seeded with it, takes in the rest of the object (a label on a box, a face
    above a shirt); while the object runs into the edge of GrabCut's window the
    window is widened and GrabCut runs again. Returns the box and a frame-sized
    bool mask; None for a speck, or as soon as the region's box passes `max_share` of the
    frame (the caller would not take it: no time is spent growing it further).
    """
    H, W = frame.shape[:2]
    s = min(1.0, work_size / max(H, W))
    small = cv2.resize(frame, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else frame
    h, w = small.shape[:2]
    px, py = min(int(point[0] * s), w - 1), min(int(point[1] * s), h - 1)
    lab = cv2.cvtColor(cv2.medianBlur(small, FLOOD_BLUR), cv2.COLOR_BGR2LAB)
    flood = np.zeros((h + 2, w + 2), np.uint8)
    cv2.floodFill(lab, flood, (px, py), 0, FLOOD_TOLERANCE, FLOOD_TOLERANCE,
                  4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (1 << 8))
    seed = flood[1:-1, 1:-1].astype(bool)
    area = seed.sum() / (h * w)
    if area < SPECK_AREA or area > MAX_SEED_AREA:  # a speck or the whole wall: start from a patch at the click
        r = max(max(h, w) // CLICK_PATCH_DIVISOR, 2)
        seed = np.zeros((h, w), bool)
        seed[max(py - r, 0) : py + r + 1, max(px - r, 0) : px + r + 1] = True
    seed = component_at(seed, (px, py))
    core = cv2.erode(seed.astype(np.uint8), np.ones((CORE_ERODE, CORE_ERODE), np.uint8)).astype(bool)
    fg, window = seed, _bbox(seed)
    too_big = lambda box: (box[2] - box[0]) * (box[3] - box[1]) > max_share * h * w  # noqa: E731
    for _ in range(GROW_ROUNDS):
        window = expand(window, small.shape, GROW_MARGIN)
        gc = np.full((h, w), cv2.GC_BGD, np.uint8)
        x1, y1, x2, y2 = window
        gc[y1:y2, x1:x2] = cv2.GC_PR_BGD
        gc[fg] = cv2.GC_PR_FGD
        gc[core] = cv2.GC_FGD
        cv2.circle(gc, (px, py), 2, cv2.GC_FGD, -1)
        try:
            cv2.setRNGSeed(GRABCUT_SEED)
            cv2.grabCut(small, gc, None, np.zeros((1, 65)), np.zeros((1, 65)), GRABCUT_ITERATIONS,
                        cv2.GC_INIT_WITH_MASK)
        except cv2.error:
            return None
        fg = component_at((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), (px, py))
        fx1, fy1, fx2, fy2 = window = _bbox(fg)
        if too_big(window):  # it only grows from here: no more rounds for a region nobody takes
            return None
        touches = (fx1 <= x1 and x1 > 0) or (fy1 <= y1 and y1 > 0) or (fx2 >= x2 and x2 < w) or (fy2 >= y2 and y2 < h)
        if not touches:
            break
    fg = solidify(fg)
    if fg.sum() < SPECK_AREA * h * w or too_big(_bbox(fg)):  # a speck cannot be tracked: the caller locks the area around the click
        return None
    mask = cv2.resize(fg.astype(np.uint8), (W, H), interpolation=cv2.INTER_LINEAR).astype(bool) if s < 1 else fg
    return _bbox(mask), mask


def _bbox(mask: np.ndarray):
    ys, xs = np.nonzero(mask)
    return (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1))


def solidify(mask: np.ndarray) -> np.ndarray:
    """Close gaps a tenth of the object wide and fill holes: objects are solid."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return mask
    k = max(3, int(SOLIDIFY_GAP * min(np.ptp(xs) + 1, np.ptp(ys) + 1)) | 1)
    pad = k
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    closed = cv2.morphologyEx(padded, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    opened = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return fill_holes(opened[pad:-pad, pad:-pad])


class Segmenter(param.Parameterized):
    """Produces the subject's matte for each frame."""

    controls = {"Detection and tracking": ["interval"]}

    interval = param.Integer(
        default=3, bounds=(1, 30), label="Segmentation interval (frames)", doc="Recompute the matte every N frames; in between it moves with the box."
    )
    smoothing = param.Number(
        default=0.5, bounds=(0.0, 0.9), doc="Share of the previous matte kept when a new one is computed."
    )
    person_model = param.String(
        default="", doc="Person segmenter .tflite; empty means FOCUSR_SEGMENTER or the official selfie segmenter."
    )
    work_size = param.Integer(default=128, bounds=(64, 512), doc="Longest side GrabCut works at, in pixels.")

    def __init__(self, **params):
        super().__init__(**params)
        self._mp = None
        self.error: str | None = None
        self.failure: models.ModelUnavailable | None = None  # why it is missing, in parts (the Models section)
        self._timestamp_ms = 0
        self._model_owner: Segmenter | None = None  # another subject's segmenter whose model this one uses
        self.reset()

    def share_model(self, owner: Segmenter) -> None:
        """Cut out with `owner`'s person model (one MediaPipe segmenter per session, whatever
        the number of subjects: it is a few hundred ms and tens of MB to start)."""
        self._model_owner = owner

    def reset(self) -> None:
        self._crop: np.ndarray | None = None  # float32 0..1 matte over _region
        self._region: tuple[int, int, int, int] | None = None
        self._ref_box: Box | None = None
        self._shape: tuple[int, int] | None = None  # the frame size the matte is of
        self._last = -(10**9)

    @param.depends("person_model", watch=True)
    def _forget_model(self):
        self.close()
        self.error, self.failure = None, None

    def close(self) -> None:
        if self._mp is not None:
            self._mp.close()
            self._mp = None

    @property
    def loaded(self) -> bool:
        """The person segmenter is running (asking does not start it, unlike `load`)."""
        return self._mp is not None

    def load(self) -> bool:
        """Start the person segmenter now (a few hundred ms), not on the first click on a person;
        False if it cannot be had (`error` says why)."""
        return self._person_segmenter() is not None

    def _person_segmenter(self):
        if self._model_owner is not None:
            return self._model_owner._person_segmenter()
        if self._mp is None and self.error is None:
            try:
                from mediapipe.tasks.python import BaseOptions, vision

                path = models.segmenter_path(models.segmenter_choice(self.person_model))
                options = vision.ImageSegmenterOptions(
                    base_options=BaseOptions(model_asset_path=str(path)),
                    running_mode=vision.RunningMode.VIDEO,
                    output_confidence_masks=True,
                    output_category_mask=False,
                )
                with native_stderr():  # MediaPipe's native log lines stay off the terminal
                    self._mp = vision.ImageSegmenter.create_from_options(options)
            except models.ModelUnavailable as exc:
                self.error, self.failure = str(exc), exc
            except Exception as exc:  # a file that is not a segmenter, or a broken runtime
                self.failure = models.ModelUnavailable(f"person segmenter could not start ({models.reason(exc)})")
                self.error = f"{self.failure}; using GrabCut"
        return self._mp

    def seed(self, frame: np.ndarray, box: Box, mask: np.ndarray, frame_index: int) -> None:
        """Start from a known mask (from the click), so the first matte is right at once."""
        self.reset()
        self._store(box, frame.shape, mask.astype(np.float32), frame_index)

    @property
    def last(self) -> int:
        """The frame its cut-out was last made on (not moved with the box)."""
        return self._last

    def due(self, frame_index: int) -> bool:
        """Whether its cut-out would be made afresh on this frame (every `interval` frames)."""
        return frame_index - self._last >= self.interval

    def still(self, box: Box, frame_index: int) -> bool:
        """Whether its subject has stood still since its cut-out was made, less than STILL_FRAMES
        ago: the box moved and changed size by under STILL_SHARE of its size. Moved with its
        box, that cut-out is as good as a new one."""
        if self._ref_box is None or frame_index - self._last >= STILL_FRAMES:
            return False
        (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = self._ref_box, box
        size = max(ax2 - ax1, ay2 - ay1, 1.0)
        return max(abs(ax1 - bx1), abs(ay1 - by1), abs(ax2 - bx2), abs(ay2 - by2)) < STILL_SHARE * size

    def segment(self, frame: np.ndarray, box: Box, frame_index: int, *, is_person: bool,
                detection: Detection | None = None, refresh: bool = True) -> np.ndarray:
        """The frame-sized uint8 matte for the subject in `box`. `refresh` False: the cut-out
        so far moves with the box even when due (another subject's is made on this frame),
        unless there is none yet.

        When the frame size changes (the camera's capture width), the matte so far is scaled
        to the new size with its box, so the subject's cut-out carries over; the caller gives
        `box` in the new frame's pixels. A detection mask of another frame size is not used."""
        if self._shape is not None and self._shape != frame.shape[:2]:
            self._rescale(frame.shape)
        if detection is not None and detection.mask is not None and detection.mask.shape != frame.shape[:2]:
            detection = None
        warped = self._warped(box, frame.shape)
        due = (refresh and self.due(frame_index)) or warped is None
        if detection is not None and detection.mask is not None:
            fresh = detection.mask.astype(np.float32)
        elif due:
            fresh = self._person(frame, box) if is_person else None
            if fresh is None:
                fresh = self._grabcut(frame, box, warped)
        else:
            fresh = None
        if fresh is not None:
            region = expand(box, frame.shape, REGION_MARGIN)
            x1, y1, x2, y2 = region
            # detection masks are frame-sized; the person and GrabCut mattes are already the region
            new = fresh[y1:y2, x1:x2] if detection is not None and detection.mask is not None else fresh
            if warped is not None and warped.shape == new.shape:
                new = self.smoothing * warped + (1 - self.smoothing) * new
            self._crop, self._region, self._ref_box, self._last = new.astype(np.float32), region, box, frame_index
            self._shape = frame.shape[:2]
            return self._full(frame.shape, self._crop, region)
        # between recomputations: always warp from the last computed matte, never from a warp
        return self._full(frame.shape, warped, expand(box, frame.shape, REGION_MARGIN))

    def _store(self, box, shape, full: np.ndarray, frame_index: int) -> None:
        x1, y1, x2, y2 = region = expand(box, shape, REGION_MARGIN)
        self._crop, self._region, self._ref_box, self._last = full[y1:y2, x1:x2].copy(), region, box, frame_index
        self._shape = shape[:2]

    def _rescale(self, shape) -> None:
        """The matte so far, and its box, scaled from the frame size it is of to `shape`; it is
        recomputed on the next frame, seeded by this one, at the new size's detail."""
        (H, W), (h, w) = self._shape, shape[:2]
        fx, fy = w / W, h / H
        full = np.zeros((H, W), np.float32)
        x1, y1, x2, y2 = self._region
        full[y1:y2, x1:x2] = self._crop
        full = cv2.resize(full, (w, h), interpolation=cv2.INTER_AREA if fx * fy < 1 else cv2.INTER_LINEAR)
        bx1, by1, bx2, by2 = self._ref_box
        self._store((bx1 * fx, by1 * fy, bx2 * fx, by2 * fy), shape, full, -(10**9))

    @staticmethod
    def _full(shape, crop: np.ndarray | None, region) -> np.ndarray:
        out = np.zeros(shape[:2], np.uint8)
        if crop is not None:
            x1, y1, x2, y2 = region
            out[y1:y2, x1:x2] = np.clip(crop * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return out

    def _warped(self, box: Box, shape) -> np.ndarray | None:
        """The previous matte moved (and scaled) from its box onto `box`, over `box`'s region.

        Trackers wobble a pixel or two and a few percent in size even on a still subject;
        below those deadbands the matte is not moved, so a still subject does not shimmer.
        """
        if self._crop is None:
            return None
        rx1, ry1, rx2, ry2 = expand(box, shape, REGION_MARGIN)
        ox1, oy1, ox2, oy2 = self._ref_box
        nx1, ny1, nx2, ny2 = box
        sx = (nx2 - nx1) / max(ox2 - ox1, 1e-3)
        sy = (ny2 - ny1) / max(oy2 - oy1, 1e-3)
        if abs(sx - 1) < SCALE_DEADBAND and abs(sy - 1) < SCALE_DEADBAND:
            sx = sy = 1.0
        # old box centre -> new box centre, scaling about the centre
        ocx, ocy, ncx, ncy = (ox1 + ox2) / 2, (oy1 + oy2) / 2, (nx1 + nx2) / 2, (ny1 + ny2) / 2
        if abs(ncx - ocx) < SHIFT_DEADBAND and abs(ncy - ocy) < SHIFT_DEADBAND:
            ncx, ncy = ocx, ocy
        px1, py1 = self._region[0], self._region[1]
        if sx == sy == 1.0 and (ncx, ncy) == (ocx, ocy) and (rx1, ry1, rx2, ry2) == self._region:
            return self._crop
        # region-relative old coords -> region-relative new coords
        m = np.float32([[sx, 0, ncx - sx * ocx + sx * px1 - rx1], [0, sy, ncy - sy * ocy + sy * py1 - ry1]])
        return cv2.warpAffine(self._crop, m, (rx2 - rx1, ry2 - ry1), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _person(self, frame: np.ndarray, box: Box) -> np.ndarray | None:
        seg = self._person_segmenter()
        if seg is None:
            return None
        import mediapipe as mp

        x1, y1, x2, y2 = expand(box, frame.shape, REGION_MARGIN)
        crop = np.ascontiguousarray(cv2.cvtColor(frame[y1:y2, x1:x2], cv2.COLOR_BGR2RGB))
        clock = self._model_owner or self  # the model's video timestamps only go up, whoever asks
        clock._timestamp_ms += TIMESTAMP_STEP_MS
        result = seg.segment_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=crop), clock._timestamp_ms)
        masks = result.confidence_masks
        conf = masks[0].numpy_view() if len(masks) == 1 else 1.0 - masks[0].numpy_view()
        conf = conf.reshape(crop.shape[:2]).astype(np.float32)
        # the selfie model is made for close-ups: on a small, far person it can see nothing
        bx1, by1, bx2, by2 = (int(box[0]) - x1, int(box[1]) - y1, int(box[2]) - x1, int(box[3]) - y1)
        inside = conf[max(by1, 0) : by2, max(bx1, 0) : bx2]
        if inside.size == 0 or float((inside > PERSON_CONFIDENCE).mean()) < MIN_PERSON_COVERAGE:
            return None
        keep = component_at(conf > PERSON_CONFIDENCE, ((bx1 + bx2) / 2, (by1 + by2) / 2))
        near_keep = cv2.dilate(keep.astype(np.uint8), np.ones((PERSON_DILATE, PERSON_DILATE), np.uint8))
        conf *= near_keep.astype(np.float32)
        return conf  # over expand(box, REGION_MARGIN), the region segment() keeps

    def _grabcut(self, frame: np.ndarray, box: Box, warped: np.ndarray | None) -> np.ndarray:
        x1, y1, x2, y2 = expand(box, frame.shape, REGION_MARGIN)
        crop = frame[y1:y2, x1:x2]
        ch, cw = crop.shape[:2]
        s = min(1.0, self.work_size / max(ch, cw))
        small = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else crop
        h, w = small.shape[:2]
        bx1, by1 = int((box[0] - x1) * s), int((box[1] - y1) * s)
        bx2, by2 = int(np.ceil((box[2] - x1) * s)), int(np.ceil((box[3] - y1) * s))
        gc = np.full((h, w), cv2.GC_BGD, np.uint8)
        gc[max(by1, 0) : by2, max(bx1, 0) : bx2] = cv2.GC_PR_BGD
        iterations = GRABCUT_ITERATIONS
        if warped is not None and warped.shape == (ch, cw):
            prev = cv2.resize(warped, (w, h), interpolation=cv2.INTER_AREA) > MATTE_CUT
            k = max(3, int(SEED_ERODE * min(w, h)) | 1)
            gc[prev] = cv2.GC_PR_FGD
            gc[cv2.erode(prev.astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)] = cv2.GC_FGD
            iterations = GRABCUT_SEEDED_ITERATIONS
        else:
            # no history: the middle of the box is most likely the subject
            mx, my = (bx1 + bx2) // 2, (by1 + by2) // 2
            qx, qy = max((bx2 - bx1) // 4, 1), max((by2 - by1) // 4, 1)
            gc[my - qy : my + qy, mx - qx : mx + qx] = cv2.GC_PR_FGD
        if not (gc == cv2.GC_PR_BGD).any() and not (gc == cv2.GC_BGD).any():
            gc[0, :] = cv2.GC_BGD
        try:
            cv2.setRNGSeed(GRABCUT_SEED)
            cv2.grabCut(small, gc, None, np.zeros((1, 65)), np.zeros((1, 65)), iterations, cv2.GC_INIT_WITH_MASK)
            fg = (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)
        except cv2.error:  # a colour model with nothing in it: keep the previous matte
            if warped is not None:
                fg = cv2.resize(warped, (w, h)) > MATTE_CUT
            else:
                fg = np.zeros((h, w), bool)
                fg[max(by1, 0) : by2, max(bx1, 0) : bx2] = True
        fg = solidify(component_at(fg, ((bx1 + bx2) / 2, (by1 + by2) / 2))) if fg.any() else fg
        if fg.sum() < EMPTY_CUT * max((bx2 - bx1) * (by2 - by1), 1):
            # GrabCut took the subject for background (its colours are the background's): a tracked
            # subject is never cut out to nothing; its last cut-out, moved with it, else its box
            if warped is not None and warped.shape == (ch, cw) and (warped > MATTE_CUT).any():
                return warped
            fg = np.zeros((h, w), bool)
            fg[max(by1, 0) : by2, max(bx1, 0) : bx2] = True
        return cv2.resize(fg.astype(np.float32), (cw, ch), interpolation=cv2.INTER_LINEAR)  # region-sized
