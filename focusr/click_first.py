"""A click goes first: while one is on its way through a session, the others wait.

On a busy machine (four tabs on two cores) every frame shares the CPU with every other, so a
click's frame took as long as any other, three or four times its time alone. A click is what a
user waits for; a frame of another tab can be a moment late without anyone noticing. So, from
the moment a click reaches the server until its reply is sent (at most HOLD_S):

- the other sessions' workers start no new frame (`wait_turn`), and
- the shared detector starts no new detection (`busy`); the click's own frame needs none (its
  subject is what the user saw, carried forward).

A frame or a detection already running finishes: nothing is interrupted. Two tabs clicking at
once both go ahead. One process-wide gate, `CLICKS`.
"""

from __future__ import annotations

import threading
import time

HOLD_S = 1.0  # the longest the others wait for one click (a lost reply must not stall them)


class ClickFirst:
    """The sessions (any hashable key) with a click on its way, and until when each holds."""

    def __init__(self):
        self._cond = threading.Condition()
        self._until: dict[object, float] = {}

    def claim(self, key, seconds: float = HOLD_S) -> None:
        """`key` has a click on its way: the others wait, for `seconds` at most."""
        with self._cond:
            self._until[key] = time.monotonic() + seconds

    def release(self, key) -> None:
        """`key`'s click was answered (or will not be): the others go on."""
        with self._cond:
            if self._until.pop(key, None) is not None:
                self._cond.notify_all()

    def _holders(self, now: float) -> set:
        for key in [k for k, until in self._until.items() if until <= now]:
            del self._until[key]
        return set(self._until)

    def busy(self) -> bool:
        """Whether any click is on its way (the shared detector starts nothing meanwhile)."""
        with self._cond:
            return bool(self._holders(time.monotonic()))

    def wait_turn(self, key, most: float = HOLD_S) -> float:
        """Wait while another session's click is on its way and `key` has none (at most
        `most` seconds); returns the seconds waited (0 when it did not wait)."""
        start = time.monotonic()
        with self._cond:
            waited = False
            while True:
                now = time.monotonic()
                holders = self._holders(now)
                if not holders or key in holders or now - start >= most:
                    return now - start if waited else 0.0
                waited = True
                nearest = min(self._until[k] for k in holders)
                self._cond.wait(max(min(nearest, start + most) - now, 0.001))


CLICKS = ClickFirst()
