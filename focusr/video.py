"""Reading video files, with errors a user can act on (writing them: focusr/media.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from focusr.native_stderr import native_stderr


class InputError(ValueError):
    """Bad input from the user: one line, no traceback."""


@dataclass
class VideoInfo:
    width: int
    height: int
    fps: float
    frames: int  # as the container says; 0 when unknown

    @property
    def duration(self) -> float:
        return self.frames / self.fps if self.frames > 0 else float("inf")


class VideoReader:
    """Frames of a video file, validated before the first one is handed out."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise InputError(f"{self.path}: not a file")
        with native_stderr(keep=lambda line: False):  # OpenCV's parsers on a damaged file: our own line says it
            self._cap = cv2.VideoCapture(str(self.path))
            ok, first = (self._cap.read() if self._cap.isOpened() else (False, None))
        if not ok or first is None or first.ndim != 3:
            self._cap.release()
            raise InputError(f"{self.path}: not a video OpenCV can decode")
        self._first: np.ndarray | None = first
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        fps = fps if 1.0 <= fps <= 240.0 else 30.0
        frames = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.info = VideoInfo(first.shape[1], first.shape[0], fps, max(frames, 0))

    def __iter__(self):
        if self._first is not None:
            frame, self._first = self._first, None
            yield frame
        while True:
            ok, frame = self._cap.read()
            if not ok:
                break
            yield frame

    def close(self) -> None:
        self._cap.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

