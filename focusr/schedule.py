"""When the detector runs. One user knob, the detection interval; the rest follows from
what the user is doing and from how busy the machine is.

- Every `interval` frames the detector is due. It runs on its own thread, so a detection
  still running when the next is due delays that one: the cadence is then the detector's
  own speed.
- Lost: due at once, every frame, until the subject is found again, within a larger share
  of a core (`LOST_SHARE`): several sessions whose subjects walked out of the picture would
  otherwise keep the detector busy for good, and every other session's frames wait for the
  CPU. In doubt (a new lock not yet confirmed, or the last detections found people beside the
  tracked box and none on it, `Tracker.doubting`): due at once too, within the share below.
- While a subject is tracked and nobody is choosing another, detection only confirms what
  the tracker already knows, so it also keeps to a share of one core (`DutyCycle`, all
  sessions together): on a slow or busy machine it runs less often rather than slowing every
  frame. Idle (nothing locked: the user is about to choose), or a pointer moving over the
  video (choosing the next subject), hover boxes must be fresh, and the interval alone rules.
"""

from __future__ import annotations

from focusr.types import Point

CHOOSING_S = 1.0  # a pointer that moved within this long is still choosing
CADENCE_SMOOTHING = 0.3  # weight of the newest gap in the measured cadence
LOST_SHARE = 0.5  # of one core, all sessions together, while a subject is searched for


class DetectionSchedule:
    """Decides, frame by frame, whether a background detection may start, and measures
    how often one actually did (the `cadence` the status line shows)."""

    def __init__(self):
        self.last_index = -(10**9)  # frame of the last detection started
        self.cadence: float | None = None  # frames between detections, smoothed
        self._hover: Point | None = None
        self._hover_moved_t = -1e9

    def share(self, hover: Point | None, t: float, tracking: bool, share: float, lost: bool = False) -> float | None:
        """The share of a core detection may take now; None: the interval alone rules.
        `tracking`: every subject kept is where its box says; `lost`: one is searched for.
        Called every frame: it follows the pointer."""
        if hover != self._hover:
            self._hover, self._hover_moved_t = hover, t
        if hover is not None and t - self._hover_moved_t < CHOOSING_S:
            return None  # choosing: hover boxes must be fresh
        if lost:
            return max(share, LOST_SHARE)
        return share if tracking else None

    def due(self, index: int, interval: int, urgent: bool) -> bool:
        """`urgent`: lost, or in doubt (see the module's docstring)."""
        return urgent or index - self.last_index >= interval

    def soon(self) -> None:
        """Due on the next frame (a paused frame wants its own detections, not older ones)."""
        self.last_index = -(10**9)

    def started(self, index: int) -> None:
        if self.last_index >= 0:
            gap = index - self.last_index
            self.cadence = gap if self.cadence is None else (
                (1 - CADENCE_SMOOTHING) * self.cadence + CADENCE_SMOOTHING * gap)
        self.last_index = index
