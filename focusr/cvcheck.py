"""The tracker needs OpenCV's contrib build; ultralytics pulls the plain one.

Both wheels install into the same `cv2` folder, so whichever was installed last
wins. The lock leaves `opencv-python` out; this check makes a wrong setup fail
loudly at start-up instead of on the first click.
"""

from __future__ import annotations

import cv2


def has_csrt() -> bool:
    return hasattr(cv2, "TrackerCSRT") or hasattr(cv2, "TrackerCSRT_create")


def require_contrib() -> None:
    if not has_csrt():
        raise SystemExit(
            f"cv2 {getattr(cv2, '__version__', '?')} at {getattr(cv2, '__file__', '?')} has no TrackerCSRT: it is not the contrib build. "
            "Fix: pip uninstall -y opencv-python opencv-python-headless && "
            "pip install --force-reinstall --no-deps opencv-contrib-python"
        )
