"""Frames on the wire: exact round trips, and bad payloads refused with one line, never a crash."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from focusr import frames


def jpeg(w=64, h=48):
    rng = np.random.default_rng(0)
    return frames.encode_jpeg(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def test_round_trip():
    header, data = frames.unpack(frames.pack({"seq": 7, "t": 1.5}, jpeg()))
    assert header == {"seq": 7, "t": 1.5}
    assert frames.decode_jpeg(data).shape == (48, 64, 3)


def test_size_is_read_without_decoding_and_bombs_are_refused():
    assert frames.jpeg_size(jpeg(64, 48)) == (64, 48)
    big = bytearray(jpeg(64, 48))
    i = big.index(b"\xff\xc0") + 5  # rewrite the start-of-frame to claim 10000 x 10000
    big[i : i + 4] = struct.pack(">HH", 10000, 10000)
    with pytest.raises(frames.FrameError, match="10000x10000"):
        frames.decode_jpeg(bytes(big))


@pytest.mark.parametrize("payload,needle", [
    (b"", "empty"), (b"\x01\x00", "empty"), (struct.pack("<I", 10**9) + b"{}", "damaged"),
    (struct.pack("<I", 2) + b"[]", "not an object"), (struct.pack("<I", 3) + b"{{{", "not JSON"),
    ("text", "not bytes"), (None, "not bytes"),
])
def test_bad_envelopes(payload, needle):
    with pytest.raises(frames.FrameError, match=needle):
        frames.unpack(payload)


def test_truncated_jpeg_is_refused():
    data = jpeg()
    with pytest.raises(frames.FrameError):
        frames.decode_jpeg(data[: len(data) // 2])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_garbage_never_raises_anything_but_frame_error(blob):
    try:
        header, data = frames.unpack(blob)
        frames.decode_jpeg(data)
    except frames.FrameError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2000), st.binary(max_size=64))
def test_mangled_jpegs_are_refused_or_decoded_never_crash(cut, noise):
    data = bytearray(jpeg())
    data[cut % len(data) : cut % len(data) + len(noise)] = noise
    try:
        img = frames.decode_jpeg(bytes(data))
        assert img.ndim == 3
    except frames.FrameError:
        pass
