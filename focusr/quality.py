"""Adaptive quality: hold a target frame rate when the machine is busy (issue 15), as a video
call does when the CPU is tight: send smaller frames, compress them more, detect on smaller
images; and give the quality back when the load drops.

`QualityController.observe` is called twice a second with what the page shows (displayed and
captured frames per second). It steps down one level when the page shows less than
`LOW_SHARE` of what it could (the target, or what the source gives, whichever is less) for
`DOWN_AFTER_S`, and up one when it has shown at least `HIGH_SHARE` of it for the wait up; the
wait up doubles each time a step up had to be taken back soon after (no see-saw), and is reset
after a long steady stretch. Paused, without a source, or while the user aims (the pointer
moved over the picture, or clicked, in the last AIM_HOLD_S) nothing moves: the picture does not
change under a hover or a click.

Off by default (FOCUSR_ADAPTIVE=1 or the sidebar turns it on): on the 2-core machine these
figures come from, four tabs and the server sharing it, smaller frames did not help
(scripts/load_browser.py --sessions 4 --adaptive on: 4.3-6.4 displayed fps a tab against
4.5-6.9 off, click to lock 498 ms median against 287-406 ms, and a 2.8 s stall at each change of
frame size; with the detector's input stepped down too, it missed vtest's walkers and 10 of 12
clicks found nothing to lock). So the levels leave the detector's input alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import param


@dataclass(frozen=True)
class Level:
    """One step of quality: what the page sends (the detector's input stays as the user set it:
    at 320 px it misses small people)."""

    name: str
    capture_width: int  # px, the page scales frames down to this
    jpeg_quality: float  # 0-1, of the frames sent up


LEVELS = (  # the first is the user's own settings (the camera's defaults: 640 px, 0.8)
    Level("full", 640, 0.8),
    Level("high", 512, 0.7),
    Level("medium", 416, 0.6),
    Level("low", 320, 0.5),
)
LOW_SHARE = 0.8  # below this share of the fps it could show, for DOWN_AFTER_S: a step down
HIGH_SHARE = 0.95  # at or above it for the wait up: a step up
DOWN_AFTER_S = 2.0
UP_AFTER_S = 5.0  # the first wait up; doubled after each step up taken back within TAKEN_BACK_S
UP_AFTER_MAX_S = 60.0
TAKEN_BACK_S = 10.0
STEADY_S = 60.0  # this long without a change and the wait up is back to UP_AFTER_S
AIM_HOLD_S = 3.0  # no step this soon after the pointer moved over the picture or clicked


@dataclass(frozen=True)
class Change:
    """A step: the level now, and why, in the status line's words."""

    level: int
    why: str


class QualityController(param.Parameterized):
    """Steps the quality level to hold `target_fps` (module doc)."""

    controls = {"Camera": ["adaptive", "target_fps"]}

    adaptive = param.Boolean(
        default=os.environ.get("FOCUSR_ADAPTIVE", "0") == "1", label="Adaptive quality",
        doc="When the picture falls behind the target, send smaller, more compressed frames; take the "
            "quality back when it keeps up.",
    )
    target_fps = param.Number(
        default=24.0, bounds=(5.0, 60.0), step=1.0, label="Target fps",
        doc="Frames a second to hold (or what the source gives, if less).",
    )

    def __init__(self, **params):
        super().__init__(**params)
        self.level = 0
        self._low_since: float | None = None
        self._high_since: float | None = None
        self._up_wait = UP_AFTER_S
        self._changed_at: float | None = None
        self._stepped_up_at: float | None = None
        self._aimed_at: float | None = None

    def aimed(self, now: float) -> None:
        """The user moved the pointer over the picture or clicked: hold the level for a moment."""
        self._aimed_at = now

    @property
    def current(self) -> Level:
        return LEVELS[self.level]

    @param.depends("adaptive", watch=True)
    def _off(self) -> None:
        if not self.adaptive:
            self.level = 0

    def observe(self, now: float, displayed_fps: float, captured_fps: float, running: bool = True) -> Change | None:
        """What the page showed over the last moment; a Change when the level moves."""
        aiming = self._aimed_at is not None and now - self._aimed_at < AIM_HOLD_S
        if not self.adaptive or not running or captured_fps <= 0 or aiming:
            self._low_since = self._high_since = None
            return None
        goal = min(self.target_fps, captured_fps)
        if self._changed_at is not None and now - self._changed_at > STEADY_S:
            self._up_wait = UP_AFTER_S
        if displayed_fps < LOW_SHARE * goal:
            self._high_since = None
            self._low_since = now if self._low_since is None else self._low_since
            if now - self._low_since >= DOWN_AFTER_S and self.level < len(LEVELS) - 1:
                if self._stepped_up_at is not None and now - self._stepped_up_at <= TAKEN_BACK_S:
                    self._up_wait = min(2 * self._up_wait, UP_AFTER_MAX_S)  # that step up did not hold
                return self._step(now, +1, f"{displayed_fps:.0f} fps < {self.target_fps:.0f}: lowered")
            return None
        self._low_since = None
        if displayed_fps >= HIGH_SHARE * goal and self.level > 0:
            self._high_since = now if self._high_since is None else self._high_since
            if now - self._high_since >= self._up_wait:
                self._stepped_up_at = now
                return self._step(now, -1, f"keeping up at {displayed_fps:.0f} fps: raised")
        else:
            self._high_since = None
        return None

    def _step(self, now: float, by: int, why: str) -> Change:
        self.level += by
        self._low_since = self._high_since = None
        self._changed_at = now
        return Change(self.level, why)
