"""Native libraries that write straight to the process's stderr (file descriptor 2), past
Python: OpenCV's container parsers about a damaged file, MediaPipe's glog/absl/TFLite lines
while a model starts. Their lines break into a progress bar or a server's log and say nothing
a user can act on (FOCUSR says it in one line of its own). One mechanism for both: fd 2 goes
to a temporary file for the moment, and the lines worth keeping are written back after."""

from __future__ import annotations

import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import contextmanager

# MediaPipe's: "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", "WARNING: Logging before
# InitGoogle() is written to STDERR", "W0000 00:00:1795958092.457740 12232 file.cc:121] ...", and
# "ERROR: ..." for a file that is not a model (the Python exception that follows says the same).
NATIVE_LOG = re.compile(r"(?:(?:INFO|WARNING|ERROR): |[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] )")
_lock = threading.Lock()  # one redirection of fd 2 at a time, or a second would restore the first's file


def not_native_log(line: str) -> bool:
    return not NATIVE_LOG.match(line)


@contextmanager
def native_stderr(keep: Callable[[str], bool] = not_native_log):
    """While inside, what is written to fd 2 (by native code, or FOCUSR's own messages from any
    thread) is held; afterwards the lines `keep` accepts are written to stderr. Default: all but
    MediaPipe's native log lines. Environment variables (GLOG_minloglevel,
    TF_CPP_MIN_LOG_LEVEL) do not silence those."""
    with _lock:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (AttributeError, OSError, ValueError):  # no stderr to keep clean
            yield
            return
        try:
            with tempfile.TemporaryFile() as capture:
                os.dup2(capture.fileno(), 2)
                try:
                    yield
                finally:
                    try:
                        sys.stderr.flush()
                    except (AttributeError, OSError, ValueError):
                        pass
                    os.dup2(saved, 2)
                    capture.seek(0)
                    kept = [line for line in capture.read().splitlines(keepends=True)
                            if keep(line.decode("utf-8", "replace"))]
                    if kept:
                        os.write(2, b"".join(kept))
        finally:
            os.close(saved)
