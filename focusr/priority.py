"""Background threads give way to the per-frame path.

A session's frames and its click answers cannot wait: the user is looking at them. Background
detection (and the hover preview's region growing) only refresh what the tracker already
follows. On a busy machine every one of these threads wants a core at once, and the kernel
shares the CPU between them evenly: a click answer that needs 90 ms of CPU then takes 300-400
ms. A background thread therefore runs at a lower scheduling priority (a higher nice value):
it gets every idle cycle, and the frame path gets the CPU first when there is none to spare.

Linux sets a nice value per thread; elsewhere (macOS, Windows) this does nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

# added to the process's nice value: a tenth of a frame thread's weight when both want a core.
# FOCUSR_BACKGROUND_NICE=0 turns it off (a server whose background work must keep pace).
BACKGROUND_NICE = int(os.environ.get("FOCUSR_BACKGROUND_NICE", "10") or 0)


def background(nice: int = BACKGROUND_NICE) -> bool:
    """Lower the calling thread's priority by `nice` (never raises it; a thread cannot undo
    this without privileges, so call it only on a thread that stays in the background).
    Returns whether it took effect."""
    if not sys.platform.startswith("linux") or not hasattr(os, "setpriority") or nice <= 0:
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + int(nice)))
        return True
    except OSError as exc:  # a sandbox may refuse it: the thread runs as before
        log.debug("background priority refused: %s", exc)
        return False
