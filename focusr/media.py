"""Writing video people can play, with the source's sound, through PyAV (FFmpeg in its wheel).

    writer = MediaWriter("out.mp4", rate=Fraction(30000, 1001), size=(1280, 720), audio_from="in.mp4")
    for frame in frames:           # BGR uint8, height x width x 3, the size given
        writer.write(frame)
    writer.close()                 # the rest of the audio, the encoders flushed, the trailer; or
    writer.abort()                 # stop: the file is left incomplete (the caller removes it)

The container and codecs follow the extension (FORMATS), given separately when the file
written is a temporary one: `MediaWriter(".out.partial-x.mp4", ..., suffix=".mp4")`.
H.264 (yuv420p) in .mp4/.m4v/.mov/.mkv, VP9 in .webm. H.264 in 4:2:0 needs even sizes: an
odd-sized picture is padded by one pixel (the last column or row repeated) and `changes` says
so; VP9 keeps any size. Every audio stream of `audio_from` is kept: copied when the container
takes its codec, otherwise re-encoded (AAC, or Opus in .webm), shifted so that it stays in
step with the video (the source's video start is time 0), and interleaved with the frames as
they come, so nothing grows with the clip's length. The sound ends with the last frame written
(within one audio frame): a source whose picture stops before its sound (a truncated or
damaged video stream, or a writer given fewer frames) gives no sound over a missing picture.
Audio is muxed only as far as the frames written so far reach, so what lies past the last frame
is never written: copied packets that start after it are dropped; re-encoded audio is cut at
it, to the sample. The render and the timeline's export both write through this class.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from focusr.video import InputError


@dataclass(frozen=True)
class Format:
    container: str  # FFmpeg's muxer
    video: str  # encoder
    pix_fmt: str
    audio: str  # encoder for audio that cannot be copied
    copies: frozenset[str]  # audio codecs the container takes as they are
    name: str  # for people
    even: bool  # the encoder needs even sizes


_H264 = dict(video="libx264", pix_fmt="yuv420p", even=True)
FORMATS = {
    ".mp4": Format("mp4", audio="aac", copies=frozenset({"aac", "mp3", "alac"}), name="MP4", **_H264),
    ".m4v": Format("mp4", audio="aac", copies=frozenset({"aac", "mp3", "alac"}), name="MP4", **_H264),
    ".mov": Format("mov", audio="aac", copies=frozenset({"aac", "mp3", "alac", "pcm_s16le", "pcm_s24le"}),
                   name="QuickTime", **_H264),
    ".mkv": Format("matroska", audio="aac", copies=frozenset({"aac", "mp3", "opus", "vorbis", "flac", "ac3"}),
                   name="Matroska", **_H264),
    ".webm": Format("webm", video="libvpx-vp9", pix_fmt="yuv420p", audio="libopus",
                    copies=frozenset({"opus", "vorbis"}), name="WebM", even=False),
}
SUFFIXES = tuple(FORMATS)
CODEC_NAMES = {"libx264": "H.264", "libvpx-vp9": "VP9", "aac": "AAC", "libopus": "Opus"}

# H.264: constant quality, visually clean (CRF 18-23 is x264's "good" range); preset "fast"
# keeps encoding to a few ms a frame next to the pipeline's tens; a short lookahead keeps the
# file growing as frames come. x264 is deterministic for a given thread count, so the same
# frames give the same file on one machine.
VIDEO_OPTIONS = {
    "libx264": {"crf": "20", "preset": "fast", "rc-lookahead": "10"},
    "libvpx-vp9": {"crf": "32", "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"},
}
CONTAINER_OPTIONS = {"mp4": {"movflags": "+faststart"}, "mov": {"movflags": "+faststart"}}  # plays while loading
AUDIO_BIT_RATE = {"aac": 160_000, "libopus": 128_000}
OPUS_RATES = (48000, 24000, 16000, 12000, 8000)
AUDIO_LEAD = 0.5  # s: audio demuxed ahead of the frames written (held, not muxed, until they reach it)


def format_for(suffix: str) -> Format:
    try:
        return FORMATS[suffix.lower()]
    except KeyError:
        raise InputError(f"unsupported extension {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}") from None


def rate_of(fps: float) -> Fraction:
    """A frame rate as the exact fraction it stands for (29.97002997 -> 30000/1001)."""
    return Fraction(fps).limit_denominator(1001)


@dataclass
class SourceMedia:
    """What PyAV says about a source: its exact frame rate, when its video starts, its audio."""
    rate: Fraction | None = None
    video_start: float = 0.0  # s
    audio: list[str] = field(default_factory=list)  # "aac 48000 Hz stereo, 3.00 s" per stream
    error: str | None = None  # why PyAV could not read it (the video is still written, without sound)


def probe(path: str | os.PathLike) -> SourceMedia:
    import av

    try:
        with av.open(str(path)) as src:
            info = SourceMedia()
            if src.streams.video:
                v = src.streams.video[0]
                rate = v.average_rate or v.guessed_rate
                info.rate = Fraction(rate) if rate and 1 <= rate <= 240 else None
                if v.start_time is not None and v.time_base:
                    info.video_start = float(v.start_time * v.time_base)
            for a in src.streams.audio:
                seconds = float(a.duration * a.time_base) if a.duration and a.time_base else \
                    (src.duration / 1e6 if src.duration else 0.0)
                info.audio.append(f"{a.codec_context.name} {a.rate} Hz {a.layout.name}, {seconds:.2f} s")
            return info
    except (av.FFmpegError, OSError, ValueError) as exc:
        return SourceMedia(error=str(exc))


class _Audio:
    """One source audio stream into the output: copied, or decoded and re-encoded. What is
    demuxed is held (as packets, or as decoded frames) until the picture written reaches it,
    so that nothing past the last frame is ever muxed."""

    def __init__(self, out, stream, fmt: Format, offset: float):
        self.src, self.offset = stream, offset
        self.held: deque[tuple[float, float, object]] = deque()  # (start s, end s, packet or frame), output time
        self.decoded_to = 0.0  # s: the end of the last decoded frame
        self.copy = stream.codec_context.name in fmt.copies
        if self.copy:
            self.out = out.add_stream_from_template(stream)
            self.what = f"{stream.codec_context.name} (copied)"
            return
        layout = stream.layout.name if stream.channels <= 8 else "stereo"
        rate = stream.rate or 48000
        if fmt.audio == "libopus":
            layout = "mono" if stream.channels == 1 else "stereo"
            rate = min((r for r in OPUS_RATES if r >= rate), default=48000)
        self.out = out.add_stream(fmt.audio, rate=rate, layout=layout)
        self.out.bit_rate = AUDIO_BIT_RATE.get(fmt.audio, 128_000)
        self.what = f"{CODEC_NAMES.get(fmt.audio, fmt.audio)} (from {stream.codec_context.name})"

    def feed(self, packet) -> None:
        """Hold one source packet, time-shifted by the video's start: as it is (copied) or as
        its decoded frames."""
        if self.copy:
            if packet.dts is None or packet.size == 0:
                return
            shift = int(round(self.offset / packet.time_base))
            packet.pts = None if packet.pts is None else packet.pts - shift
            packet.dts -= shift
            packet.stream = self.out
            start = float((packet.dts if packet.pts is None else packet.pts) * packet.time_base)
            end = start + float((packet.duration or 0) * packet.time_base)
            if end < -1e-3:  # over before the first video frame (as a decoded frame would be)
                return
            self.held.append((start, end, packet))
            return
        for frame in packet.decode():  # demux's last, empty packet flushes the decoder
            start = self.decoded_to  # without a time stamp: after the one before
            if frame.pts is not None and frame.time_base:
                pts = frame.pts - int(round(self.offset / frame.time_base))
                if pts < 0:  # before the first video frame: nothing to show it with
                    continue
                frame.pts, start = pts, float(pts * frame.time_base)
            self.decoded_to = start + frame.samples / frame.sample_rate
            self.held.append((start, self.decoded_to, frame))

    def release(self, until: float, final: bool = False) -> list:
        """The output packets for what is held, as far as `until` s of picture: a copied packet
        once it starts before `until`, a decoded frame once it ends by it. `final`: `until` is
        the last frame's end; a frame across it is cut at it, all past it is dropped, and the
        encoder is flushed."""
        out = []
        while self.held:
            start, end, item = self.held[0]
            if start >= until or not (self.copy or final or end <= until + 1e-6):
                break
            self.held.popleft()
            if self.copy:
                out.append(item)
                continue
            if end > until + 1e-6:
                item = _cut(item, until - start)
            if item is not None:
                out += self.out.encode(item)
        if final:
            self.held.clear()
            if not self.copy:
                out += self.out.encode(None)
        return out


def _cut(frame, seconds: float):
    """The first `seconds` of an audio frame (None: not a sample)."""
    import av

    n = min(frame.samples, int(round(seconds * frame.sample_rate)))
    if n <= 0:
        return None
    data = frame.to_ndarray()  # planar: channels x samples; packed: 1 x samples*channels
    data = data[:, :n] if frame.format.is_planar else data[:, :n * len(frame.layout.channels)]
    cut = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format=frame.format.name, layout=frame.layout.name)
    cut.sample_rate, cut.pts, cut.time_base = frame.sample_rate, frame.pts, frame.time_base
    return cut


class MediaWriter:
    def __init__(self, path: str | os.PathLike, rate: Fraction | float, size: tuple[int, int],
                 audio_from: str | os.PathLike | None = None, suffix: str | None = None):
        import av

        self.path = Path(path)
        self.format = fmt = format_for(suffix if suffix is not None else self.path.suffix)
        self.rate = rate if isinstance(rate, Fraction) else rate_of(rate)
        self.source_size = width, height = size
        pad_w, pad_h = (width % 2, height % 2) if fmt.even else (0, 0)
        self.size = (width + pad_w, height + pad_h)
        self.changes: list[str] = []
        if pad_w or pad_h:
            what = " and ".join(w for w, p in (("column", pad_w), ("row", pad_h)) if p)
            self.changes.append(f"{width}x{height} is odd-sized and H.264 (yuv420p) needs even sizes: padded to "
                                f"{self.size[0]}x{self.size[1]}, the last {what} repeated")
        self.frames = 0
        self.audio: list[_Audio] = []
        self._src = self._demux = None
        self._demuxed_t = 0.0  # s, output time: how far the source's audio has been demuxed
        self._offset = 0.0  # s: the source's video start, time 0 of the output
        try:
            self._out = av.open(str(self.path), "w", format=fmt.container,
                                container_options=CONTAINER_OPTIONS.get(fmt.container, {}))
        except (av.FFmpegError, OSError) as exc:
            raise InputError(f"{self.path}: cannot write a {fmt.name} file here ({exc})") from None
        try:
            self.video = self._out.add_stream(fmt.video, rate=self.rate, options=dict(VIDEO_OPTIONS[fmt.video]))
            self.video.width, self.video.height = self.size
            self.video.pix_fmt = fmt.pix_fmt
            if audio_from is not None:
                self._open_audio(audio_from)
        except BaseException:
            self.abort()
            raise

    def _open_audio(self, source) -> None:
        import av

        try:
            self._src = av.open(str(source))
        except (av.FFmpegError, OSError, ValueError) as exc:
            self.changes.append(f"the source's sound could not be read ({exc}): written without sound")
            return
        streams = list(self._src.streams.audio)
        if not streams:
            self._src.close()
            self._src = None
            return
        video = self._src.streams.video[0] if self._src.streams.video else None
        start = float(video.start_time * video.time_base) if video is not None and video.start_time is not None \
            else 0.0
        self._offset = start
        by_index = {}
        for stream in streams:
            try:
                by_index[stream.index] = _Audio(self._out, stream, self.format, start)
            except (av.FFmpegError, ValueError) as exc:
                self.changes.append(f"audio stream {stream.index} ({stream.codec_context.name}) cannot be written "
                                    f"to {self.format.name} ({exc}): left out")
        self.audio = list(by_index.values())
        self._by_index = by_index
        self._demux = self._src.demux(*[a.src for a in self.audio]) if self.audio else None

    @property
    def description(self) -> str:
        """What was written, for the summary: "H.264 yuv420p 768x576, 10 fps, MP4; audio: aac (copied)"."""
        fps = f"{float(self.rate):.3f}".rstrip("0").rstrip(".")
        text = (f"{CODEC_NAMES.get(self.format.video, self.format.video)} {self.format.pix_fmt} "
                f"{self.size[0]}x{self.size[1]}, {fps} fps, {self.format.name}")
        return text + ("; audio: " + ", ".join(a.what for a in self.audio) if self.audio else "; no audio")

    def write(self, frame: np.ndarray) -> None:
        """One BGR frame of the size given."""
        import av

        if frame.shape[:2] != self.source_size[::-1]:
            raise ValueError(f"frame {frame.shape[1]}x{frame.shape[0]}, expected "
                             f"{self.source_size[0]}x{self.source_size[1]}")
        if self.size != self.source_size:
            import cv2

            frame = cv2.copyMakeBorder(frame, 0, self.size[1] - frame.shape[0], 0, self.size[0] - frame.shape[1],
                                       cv2.BORDER_REPLICATE)
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        picture.pts = self.frames
        picture.time_base = 1 / self.rate
        self._mux(self.video.encode(picture))
        self.frames += 1
        self._pump(float(self.frames / self.rate))

    def _mux(self, packets) -> None:
        import av

        try:
            self._out.mux(packets)
        except av.FFmpegError as exc:
            raise OSError(f"{self.path}: {exc}") from None

    def _pump(self, until: float, final: bool = False) -> None:
        """Mux the source's audio as far as `until` seconds of picture (the frames written so
        far); `final`: `until` is the end of the last frame, and nothing past it is written."""
        import av

        while self._demux is not None and self._demuxed_t < until + AUDIO_LEAD:
            try:
                packet = next(self._demux, None)
                if packet is not None and packet.pts is not None and packet.time_base:
                    self._demuxed_t = float(packet.pts * packet.time_base) - self._offset
                audio = self._by_index.get(packet.stream.index) if packet is not None else None
                if audio is not None:
                    audio.feed(packet)  # a copied packet is shifted in place
            except av.FFmpegError as exc:  # a damaged source: the picture matters more
                self.changes.append(f"the source's sound could not be read after {self._demuxed_t:.2f} s "
                                    f"({exc}): the rest is left out")
                packet = None
            if packet is None:
                self._demux = None
        for audio in self.audio:
            self._mux(audio.release(until, final))

    def close(self) -> None:
        """The rest of the audio, the encoders flushed, the trailer written."""
        try:
            self._mux(self.video.encode(None))
            self._pump(float(self.frames / self.rate), final=True)
            self._out.close()
        finally:
            self._close_source()

    def abort(self) -> None:
        """Stop without finishing the file (the caller removes it)."""
        try:
            self._out.close()
        except Exception:  # noqa: BLE001 - a file being thrown away
            pass
        self._close_source()

    def _close_source(self) -> None:
        if self._src is not None:
            self._src.close()
            self._src = None
