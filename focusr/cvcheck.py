"""The tracker needs OpenCV's contrib build; ultralytics pulls the plain one.

Both wheels install into the same `cv2` folder, so whichever was installed last
wins. The lock leaves `opencv-python` out; this check makes a wrong setup fail
loudly at start-up instead of on the first click.
"""

from __future__ import annotations


def has_csrt() -> bool:
    try:
        import cv2
    except ImportError:  # a half-removed cv2 folder does not even import
        return False
    return hasattr(cv2, "TrackerCSRT") or hasattr(cv2, "TrackerCSRT_create")


def require_contrib() -> None:
    import cv2

    if not has_csrt():
        raise SystemExit(
            f"cv2 {getattr(cv2, '__version__', '?')} at {getattr(cv2, '__file__', '?')} has no TrackerCSRT: it is not the contrib build. "
            "Fix: pip uninstall -y opencv-python opencv-python-headless && "
            "pip install --force-reinstall --no-deps opencv-contrib-python"
        )


def repair() -> None:
    """Remove the plain OpenCV builds and reinstall the contrib one, at the installed version."""
    import subprocess
    import sys
    from importlib import metadata

    version = metadata.version("opencv-contrib-python")
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "uninstall", "-y", "opencv-python", "opencv-python-headless"], check=False)
    subprocess.run([*pip, "install", "--no-deps", "--force-reinstall", f"opencv-contrib-python=={version}"],
                   check=True)


if __name__ == "__main__":
    import sys

    if "--repair" in sys.argv:
        repair()
    else:
        require_contrib()
        print("cv2 is the contrib build: TrackerCSRT is available")
