"""FOCUSR: click a subject, keep it sharp, blur the rest like a fast lens would."""

from focusr.types import Detection, FrameResult, Pointer, Subject, TrackState

__all__ = ["Detection", "FrameResult", "Pointer", "Subject", "TrackState"]
__version__ = "0.1.0"
