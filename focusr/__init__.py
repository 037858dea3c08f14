"""FOCUSR: click a subject, keep it sharp, blur the rest like a fast lens would."""

import os

# Native libraries log to stderr on their own (FFmpeg about damaged files, MediaPipe about its
# runtime). Users get our one-line messages instead; set these variables to see theirs.
for _name, _value in (("OPENCV_FFMPEG_LOGLEVEL", "-8"), ("OPENCV_LOG_LEVEL", "OFF"),
                      ("GLOG_minloglevel", "2"), ("TF_CPP_MIN_LOG_LEVEL", "2")):
    os.environ.setdefault(_name, _value)

__all__ = ["Detection", "FrameResult", "Pointer", "Subject", "TrackState"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """The types, imported when first asked for: importing the package imports nothing heavy
    (NumPy), so the `focusr` command (focusr/__main__.py) takes Ctrl-C from its first moment."""
    if name in __all__:
        from focusr import types

        return getattr(types, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
