"""Frames on the wire: binary JPEG with a small JSON header, never base64.

Envelope: 4-byte little-endian header length, the UTF-8 JSON header, then the JPEG.
One message carries both, so a frame and its metadata cannot be split or reordered.
JPEG dimensions are read from the header before decoding, so a decompression bomb
is refused without allocating its pixels.
"""

from __future__ import annotations

import json
import struct

import cv2
import numpy as np

MAX_HEADER = 4096
MAX_PIXELS = 1920 * 1088  # full HD; larger frames are refused, not decoded


class FrameError(ValueError):
    """A frame that cannot be used; the message is one line for the page."""


def pack(header: dict, jpeg: bytes) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<I", len(head)) + head + jpeg


def unpack(payload) -> tuple[dict, memoryview]:
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise FrameError(f"frame payload is {type(payload).__name__}, not bytes")
    data = memoryview(payload)
    if len(data) < 4:
        raise FrameError("empty frame")
    (n,) = struct.unpack_from("<I", data, 0)
    if n > MAX_HEADER or 4 + n > len(data):
        raise FrameError("frame header is damaged")
    try:
        header = json.loads(bytes(data[4 : 4 + n]))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FrameError("frame header is not JSON") from None
    if not isinstance(header, dict):
        raise FrameError("frame header is not an object")
    return header, data[4 + n :]


def jpeg_size(data) -> tuple[int, int]:
    """(width, height) from the JPEG's start-of-frame marker, without decoding pixels."""
    b = bytes(data[: 1 << 16]) if len(data) > (1 << 16) else bytes(data)
    if len(b) < 4 or b[0] != 0xFF or b[1] != 0xD8:
        raise FrameError("frame is not a JPEG")
    i = 2
    while i + 9 < len(b):
        if b[i] != 0xFF:
            i += 1
            continue
        marker = b[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        (length,) = struct.unpack_from(">H", b, i + 2)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            h, w = struct.unpack_from(">HH", b, i + 5)
            return w, h
        i += 2 + length
    raise FrameError("JPEG has no frame header (truncated?)")


def decode_jpeg(data, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    w, h = jpeg_size(data)
    if w == 0 or h == 0:
        raise FrameError("JPEG has zero size")
    if w * h > max_pixels:
        raise FrameError(f"frame is {w}x{h}, larger than the {max_pixels:,}-pixel limit")
    if bytes(data[-2:]) != b"\xff\xd9":
        raise FrameError("JPEG is truncated")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.shape[1] != w or img.shape[0] != h:
        raise FrameError("JPEG could not be decoded (damaged or truncated)")
    return img


def encode_jpeg(img: np.ndarray, quality: int = 80) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise FrameError("could not encode the output frame")
    return buf.tobytes()
