"""Video people can play, with its sound (issue 24, item 3): focusr.media.MediaWriter in
process, and `focusr render` as a real subprocess on real footage (vtest.avi's frames) with a
generated sound track, probed and decoded back with PyAV.

The assets have no clip with sound, so each source is made here: frames of vtest.avi in H.264
(or lossless FFV1 for odd sizes) with a 440 Hz sine in AAC, as a camera or phone would give.
Renders run in reduced mode (no models: the default detector is not cached offline), which
is fast and still blurs around a clicked region.
"""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conftest import asset

FOCUSR = [sys.executable, "-m", "focusr.cli"]
FPS = 10  # vtest.avi's rate
AUDIO_RATE = 44100


def make_clip(dst: Path, frames: int = 30, size: tuple[int, int] | None = None, audio: str | None = "aac",
              video: str = "libx264", sound_s: float | None = None, picture_from: int = 0) -> Path:
    """`frames` frames of vtest.avi (cropped to `size`) at 10 fps, the first at frame time
    `picture_from`, and, unless audio is None, a stereo sine in `audio` from time 0, as long as
    the picture or `sound_s` seconds."""
    cap = cv2.VideoCapture(str(asset("vtest.avi")))
    with av.open(str(dst), "w") as out:
        v = out.add_stream(video, rate=FPS)
        ok, frame = cap.read()
        assert ok
        w, h = size or (frame.shape[1], frame.shape[0])
        v.width, v.height, v.pix_fmt = w, h, "yuv420p" if video == "libx264" else "yuv444p"
        a = out.add_stream(audio, rate=AUDIO_RATE if audio != "libopus" else 48000, layout="stereo") if audio else None
        for i in range(frames):
            if i:
                ok, frame = cap.read()
                assert ok
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[:h, :w]), format="bgr24")
            picture.pts, picture.time_base = picture_from + i, Fraction(1, FPS)
            out.mux(v.encode(picture))
        out.mux(v.encode(None))
        if a is not None:
            rate = a.rate
            n = frames * rate // FPS if sound_s is None else int(sound_s * rate)
            tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype(np.float32)
            for i in range(0, n, 960):
                chunk = np.ascontiguousarray(np.stack([tone[i:i + 960]] * 2))
                sound = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                sound.sample_rate, sound.pts, sound.time_base = rate, i, Fraction(1, rate)
                out.mux(a.encode(sound))
            out.mux(a.encode(None))
    cap.release()
    return dst


def media(path: Path) -> dict:
    """Probe and decode a file with PyAV: what a player would get."""
    res = {}
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        res.update(video=v.codec_context.name, pix_fmt=v.codec_context.pix_fmt, size=(v.width, v.height),
                   rate=v.average_rate, audio=[])
        res["frames"] = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    with av.open(str(path)) as c:
        for a in c.streams.audio:
            samples = sum(f.samples for f in c.decode(a))
            res["audio"].append((a.codec_context.name, samples / a.rate))
    return res


def timeline(path: Path) -> dict:
    """When a player shows the picture and plays the sound: the end of the last frame, and the
    first and last sample of each audio stream (s), from the decoded frames' time stamps."""
    with av.open(str(path)) as c:
        pictures = list(c.decode(video=0))
        last = pictures[-1]
        rate = c.streams.video[0].average_rate
        res = {"frames": len(pictures), "video_start": float(pictures[0].pts * pictures[0].time_base),
               "video_end": float(last.pts * last.time_base + 1 / rate), "audio": []}
    with av.open(str(path)) as c:
        for stream in c.streams.audio:
            sound = list(c.decode(stream))
            first, last = sound[0], sound[-1]
            res["audio"].append({"start": float(first.pts * first.time_base),
                                 "end": float(last.pts * last.time_base) + last.samples / last.sample_rate,
                                 "frame": max(f.samples for f in sound) / stream.rate})  # one audio frame, s
    return res


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "walk.mp4")


def write(path: Path, source: Path, suffix: str | None = None, n: int | None = None):
    from focusr.media import MediaWriter

    cap = cv2.VideoCapture(str(source))
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = MediaWriter(path, Fraction(FPS), (w, h), audio_from=source, suffix=suffix)
    while n is None or writer.frames < n:
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(frame)
    writer.close()
    cap.release()
    return writer


# --- the writer, in process -------------------------------------------------------------------

@pytest.mark.parametrize("suffix,codecs", [
    (".mp4", ("h264", "aac")), (".m4v", ("h264", "aac")), (".mov", ("h264", "aac")), (".mkv", ("h264", "aac")),
    (".webm", ("vp9", "opus")),
])
def test_every_format_plays_back_with_its_sound(clip, tmp_path, suffix, codecs):
    """Written to a temporary name whose extension is not the target's: the container follows
    `suffix`, as the render's atomic write needs."""
    out = tmp_path / f"x{suffix}.partial"
    writer = write(out, clip, suffix=suffix)
    got, source = media(out), media(clip)
    assert (got["video"], got["pix_fmt"], got["size"], got["rate"]) == (codecs[0], "yuv420p", (768, 576), FPS)
    assert len(got["frames"]) == len(source["frames"]) == 30
    assert [a[0] for a in got["audio"]] == [codecs[1]]
    assert abs(got["audio"][0][1] - source["audio"][0][1]) < 0.1, (got["audio"], source["audio"])
    assert writer.changes == []
    assert ("copied" in writer.description) == (codecs[1] == "aac"), writer.description


def test_audio_the_container_cannot_take_is_re_encoded(tmp_path):
    """Opus in .webm -> AAC in .mp4 (and AAC -> Opus is the .webm case above)."""
    src = make_clip(tmp_path / "opus.webm", frames=20, audio="libopus", video="libvpx-vp9")
    writer = write(tmp_path / "out.mp4", src)
    got, source = media(tmp_path / "out.mp4"), media(src)
    assert got["audio"][0][0] == "aac" and "AAC (from opus)" in writer.description
    assert abs(got["audio"][0][1] - source["audio"][0][1]) < 0.1, (got["audio"], source["audio"])
    assert len(got["frames"]) == 20


def test_a_source_without_sound_gives_a_video_without_sound(tmp_path):
    src = make_clip(tmp_path / "mute.mp4", frames=10, audio=None)
    writer = write(tmp_path / "out.mp4", src)
    assert media(tmp_path / "out.mp4")["audio"] == [] and writer.description.endswith("; no audio")


def test_odd_sizes_are_padded_for_h264_and_kept_for_vp9(tmp_path):
    src = make_clip(tmp_path / "odd.mkv", frames=10, size=(321, 241), video="ffv1")
    mp4 = write(tmp_path / "out.mp4", src)
    assert media(tmp_path / "out.mp4")["size"] == (322, 242) and mp4.size == (322, 242)
    assert mp4.changes == ["321x241 is odd-sized and H.264 (yuv420p) needs even sizes: padded to 322x242, "
                           "the last column and row repeated"]
    webm = write(tmp_path / "out.webm", src)
    assert media(tmp_path / "out.webm")["size"] == (321, 241) and webm.changes == []


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm"])
def test_the_sound_ends_with_the_last_frame_written(clip, tmp_path, suffix):
    """12 frames of a 3 s clip (copied AAC; Opus re-encoded in .webm): 1.2 s of picture, and the
    sound stops with it (within one audio frame), not 1.8 s of sound after the picture ends."""
    out = tmp_path / f"out{suffix}"
    write(out, clip, n=12)
    got = timeline(out)
    assert got["frames"] == 12 and abs(got["video_end"] - 1.2) < 0.03, got
    (sound,) = got["audio"]
    assert abs(sound["end"] - got["video_end"]) <= sound["frame"] + 1e-3, got


def test_sound_before_the_first_frame_is_not_written_either(tmp_path):
    """A source whose sound starts 0.5 s before its picture, copied (Opus into WebM): the
    output starts with the first frame, picture and sound at 0, and ends with the last."""
    src = make_clip(tmp_path / "late.webm", frames=20, audio="libopus", video="libvpx-vp9", sound_s=3.5,
                    picture_from=5)
    assert timeline(src)["video_start"] == pytest.approx(0.5)
    writer = write(tmp_path / "out.webm", src)
    got = timeline(tmp_path / "out.webm")
    assert "opus (copied)" in writer.description
    (sound,) = got["audio"]
    assert got["frames"] == 20 and abs(got["video_start"]) <= sound["frame"], got
    assert abs(sound["start"]) <= sound["frame"] and abs(sound["end"] - got["video_end"]) <= sound["frame"] + 1e-3, got


def test_other_extensions_are_refused():
    from focusr.media import format_for
    from focusr.video import InputError

    with pytest.raises(InputError, match=r"unsupported extension \.avi; use one of \.mp4, \.m4v, \.mov, \.mkv, "
                                         r"\.webm"):
        format_for(".avi")


# --- focusr render, as a user runs it ----------------------------------------------------------

def render(src: Path, out: Path, *args):
    res = subprocess.run([*FOCUSR, "render", str(src), "-o", str(out), *map(str, args)], capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return res.stderr


def test_render_writes_h264_mp4_with_the_source_sound(clip, tmp_path):
    out = tmp_path / "out.mp4"
    err = render(clip, out, "--focus", "0:266,260")
    got, source = media(out), media(clip)
    assert (got["video"], got["pix_fmt"]) == ("h264", "yuv420p")
    assert (len(got["frames"]), got["rate"], got["size"]) == (len(source["frames"]), source["rate"], source["size"])
    assert [a[0] for a in got["audio"]] == ["aac"]
    assert abs(got["audio"][0][1] - source["audio"][0][1]) < 0.1, (got["audio"], source["audio"])
    assert "focusr: video: H.264 yuv420p 768x576, 10 fps, MP4; audio: aac (copied)" in err, err
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_render_writes_webm_that_plays_back(clip, tmp_path):
    out = tmp_path / "out.webm"
    err = render(clip, out, "--focus", "0:266,260")
    got, source = media(out), media(clip)  # decoding every frame and sample is the playback
    assert (got["video"], [a[0] for a in got["audio"]]) == ("vp9", ["opus"])
    assert (len(got["frames"]), got["rate"], got["size"]) == (30, FPS, (768, 576))
    assert abs(got["audio"][0][1] - source["audio"][0][1]) < 0.1, (got["audio"], source["audio"])
    assert "focusr: video: VP9 yuv420p 768x576, 10 fps, WebM; audio: Opus (from aac)" in err, err


@pytest.mark.parametrize("suffix,audio", [(".mp4", "aac (copied)"), (".webm", "Opus (from aac)")])
def test_render_of_a_source_whose_picture_stops_early_ends_its_sound_there(tmp_path, suffix, audio):
    """A truncated video stream (a camera that stopped recording the picture, a damaged clip):
    2 s of picture, 3 s of sound. The output's sound ends with its last frame, within one audio
    frame, instead of going on for a second over no picture."""
    src = make_clip(tmp_path / "cut-short.mp4", frames=20, sound_s=3.0)
    source = timeline(src)
    assert source["video_end"] == pytest.approx(2.0) and source["audio"][0]["end"] > 2.9, source  # as made
    out = tmp_path / f"out{suffix}"
    err = render(src, out, "--focus", "0:266,260")
    assert f"; audio: {audio}" in err, err
    got = timeline(out)
    assert got["frames"] == 20 and got["video_end"] == pytest.approx(2.0, abs=0.03), got
    (sound,) = got["audio"]
    assert abs(sound["start"] - (got["video_end"] - 2.0)) <= sound["frame"], got  # still in step at the start
    assert abs(sound["end"] - got["video_end"]) <= sound["frame"] + 1e-3, got


def test_render_of_an_odd_sized_source_says_what_it_did(tmp_path):
    src = make_clip(tmp_path / "odd.mkv", frames=20, size=(321, 241), video="ffv1")
    out = tmp_path / "odd.mp4"
    err = render(src, out, "--focus", "0:160,120")
    got = media(out)
    assert got["size"] == (322, 242) and len(got["frames"]) == 20 and got["audio"][0][0] == "aac"
    assert ("focusr: note: 321x241 is odd-sized and H.264 (yuv420p) needs even sizes: padded to 322x242, "
            "the last column and row repeated") in err, err
    # the picture itself is the source's, the padding a copy of its last column and row
    frame = got["frames"][0]
    assert np.abs(frame[:, 321].astype(int) - frame[:, 320]).mean() < 3
    assert np.abs(frame[241].astype(int) - frame[240]).mean() < 3


def test_the_same_frames_give_the_same_mp4(clip, tmp_path):
    """x264 is deterministic for a given thread count and the MP4 muxer writes no date or
    random id: two renders with the same options are the same file, not only the same frames."""
    write(tmp_path / "a.mp4", clip)
    write(tmp_path / "b.mp4", clip)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
