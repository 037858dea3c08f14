"""The --masks file: every frame's matte, streamed to disk as it is made.

The file is what `np.savez_compressed(path, masks=...)` would write, a zip with one
`masks.npy` of frames x height x width uint8, so `np.load(path)["masks"]` reads it; but only
one frame is ever in memory. Each matte is deflated into a spool file beside the target as it
comes (an unnamed temporary file: it leaves nothing behind, whatever happens); `close()` then
writes the .npy header, which needs the frame count known only at the end, and inflates the
frames one at a time into the zip entry.
"""

from __future__ import annotations

import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy

SPOOL_LEVEL = 1  # fast: the spool is re-read once; the .npz itself gets zipfile's default level


class MattesWriter:
    def __init__(self, path: str | os.PathLike, size: tuple[int, int]):
        self.path, (self.width, self.height) = path, size
        self.frames = 0
        self._spool = tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(path)))

    def write(self, matte: np.ndarray | None) -> None:
        """One frame's matte, uint8 H x W (None: nothing in focus, all 0)."""
        if matte is None:
            matte = np.zeros((self.height, self.width), np.uint8)
        if matte.shape != (self.height, self.width) or matte.dtype != np.uint8:
            raise ValueError(f"matte {matte.shape} {matte.dtype}, expected ({self.height}, {self.width}) uint8")
        data = zlib.compress(np.ascontiguousarray(matte).tobytes(), SPOOL_LEVEL)
        self._spool.write(struct.pack("<Q", len(data)) + data)
        self.frames += 1

    def close(self) -> None:
        """Write the .npz at `path` from the spool, then drop the spool."""
        try:
            self._spool.seek(0)
            header = {"descr": npy.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
                      "shape": (self.frames, self.height, self.width)}
            with zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf, \
                    zf.open("masks.npy", "w", force_zip64=True) as entry:
                npy.write_array_header_1_0(entry, header)
                for _ in range(self.frames):
                    (length,) = struct.unpack("<Q", self._spool.read(8))
                    entry.write(zlib.decompress(self._spool.read(length)))
        finally:
            self.abort()

    def abort(self) -> None:
        """Drop the spool without writing anything (an error, Ctrl-C)."""
        self._spool.close()
