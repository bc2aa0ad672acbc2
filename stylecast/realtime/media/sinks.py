"""Frame sinks. A sink is a context manager with one method, ``write(frame)``."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from stylecast.errors import StylecastError
from stylecast.realtime.media.sources import Frame, VideoInfo

CONTAINERS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
ENCODERS = {"h264": "libx264", "vp9": "libvpx-vp9"}
# Audio codecs each container takes as they are (copied bit for bit); None means any.
REMUXABLE_AUDIO: dict[str, set[str] | None] = {
    "mp4": {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac", "pcm_s16le"},
    "matroska": None,
    "webm": {"opus", "vorbis"},
}
# Subtitle codecs each container takes as they are; others are left out (with a note).
REMUXABLE_SUBTITLES: dict[str, set[str] | None] = {
    "mp4": {"mov_text"},
    "mov": {"mov_text"},
    "matroska": None,
    "webm": {"webvtt"},
}
DEFAULT_CRF = {"h264": 18, "vp9": 31}
CRF_RANGE = {"h264": (0, 51), "vp9": (0, 63)}  # the encoders' own limits (x264's 8-bit scale, libvpx)


def _codec_name(stream) -> str:
    """The format's name (``mp3``), not the decoder's (``mp3float``), which is what containers list."""
    codec = stream.codec_context.codec
    return getattr(codec, "canonical_name", None) or codec.name


def container_for(path: Path) -> str:
    fmt = CONTAINERS.get(Path(path).suffix.lower())
    if fmt is None:
        raise StylecastError(f"cannot write video type '{Path(path).suffix or '(none)'}': use {', '.join(CONTAINERS)}")
    return fmt


def default_codec(path: Path) -> str:
    return "vp9" if container_for(path) == "webm" else "h264"


def check_encoding(path: Path, codec: str | None = None, crf: int | None = None) -> tuple[str, int]:
    """The codec and crf that ``path`` will be written with (None: the container's defaults), or a
    one-line error: called when outputs are planned, so a bad choice fails before any frame is painted."""
    fmt = container_for(path)
    codec = codec or default_codec(path)
    if codec not in ENCODERS:
        raise StylecastError(f"unknown codec {codec!r}: use {', '.join(ENCODERS)}")
    if fmt == "webm" and codec != "vp9":
        raise StylecastError("WebM holds VP9, not H.264: use --codec vp9 or an .mp4/.mkv output")
    crf = DEFAULT_CRF[codec] if crf is None else crf
    low, high = CRF_RANGE[codec]
    if not low <= crf <= high:
        raise StylecastError(f"--crf {crf} is outside {codec}'s range {low}-{high} (lower is better; "
                             f"default {DEFAULT_CRF[codec]})")
    return codec, crf


class _SideStreams:
    """Carries the input's audio (and subtitles) into the output: remuxed untouched where the
    container allows; audio is re-encoded where it does not, subtitles are left out."""

    def __init__(self, source: Path, output, container_format: str) -> None:
        import av

        self._input = av.open(str(source))
        self._output = output
        self.pairs = []
        self.dropped_subtitles: list[str] = []
        allowed_subs = REMUXABLE_SUBTITLES[container_format]
        for stream in self._input.streams.subtitles:
            name = stream.codec_context.name  # "srt", as users call it (its format name is "subrip")
            if allowed_subs is None or name in allowed_subs:
                self.pairs.append((stream, output.add_stream_from_template(stream), False))
            else:
                self.dropped_subtitles.append(name)
        allowed = REMUXABLE_AUDIO[container_format]
        for stream in self._input.streams.audio:
            name = _codec_name(stream)
            if allowed is None or name in allowed:
                out = output.add_stream_from_template(stream)
                self.pairs.append((stream, out, False))
            else:
                encoder = "libopus" if container_format == "webm" else "aac"
                out = output.add_stream(encoder, rate=48000 if encoder == "libopus" else stream.rate)
                self.pairs.append((stream, out, True))
        self.transcoded = [_codec_name(p[0]) for p in self.pairs if p[2]]
        self._packets: Iterator | None = None
        self._pending = None

    def _iter(self):
        import av

        by_index = {s.index: (o, t) for s, o, t in self.pairs}
        for packet in self._input.demux([s for s, _, _ in self.pairs]):  # interleaved by the demuxer
            if packet.stream.index not in by_index:
                continue
            out, transcode = by_index[packet.stream.index]
            seconds = float(packet.pts * packet.time_base) if packet.pts is not None else None
            if not transcode:
                if packet.size == 0:
                    continue  # the demuxer's flush packet
                packet.stream = out
                yield seconds, [packet]
                continue
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue
            for frame in frames:
                frame.pts = None
                yield seconds, list(out.encode(frame))
        for _, out, transcode in self.pairs:
            if transcode:
                yield None, list(out.encode(None))

    def mux_until(self, seconds: float | None) -> None:
        """Mux audio up to ``seconds`` of media time (all of it when None), keeping streams interleaved."""
        if not self.pairs:
            return
        if self._packets is None:
            self._packets = self._iter()
        while True:
            if self._pending is None:
                self._pending = next(self._packets, None)
                if self._pending is None:
                    return
            t, packets = self._pending
            if seconds is not None and t is not None and t > seconds:
                return
            self._output.mux(packets)
            self._pending = None

    def close(self) -> None:
        self._input.close()


class VideoFileSink:
    """Encode frames with PyAV (x264 or VP9), keeping timestamps, and copy the source's audio."""

    def __init__(self, path: Path, *, info: VideoInfo, codec: str = "h264", crf: int | None = None,
                 audio_from: Path | None = None, size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self.format = container_for(self.path)
        self.info = info
        self.codec, self.crf = check_encoding(self.path, codec, crf)
        self.audio_from = audio_from
        self.width, self.height = size or (info.width, info.height)
        self.frames_written = 0
        self._last_pts: int | None = None

    def __enter__(self) -> "VideoFileSink":
        import av

        self._out = av.open(str(self.path), "w", format=self.format)
        self._out.metadata.update({"comment": "stylized with stylecast"})
        stream = self._out.add_stream(ENCODERS[self.codec], rate=self.info.fps)
        stream.width, stream.height = self.width, self.height
        # x264 cannot do 4:2:0 at odd sizes; 4:4:4 keeps the exact size instead of cropping a pixel.
        # crf 0 asks for lossless, which 4:2:0 is not: it halves the colour resolution.
        odd = self.width % 2 or self.height % 2
        lossless = self.crf == 0
        stream.pix_fmt = "yuv444p" if (odd or lossless) and self.codec == "h264" else "yuv420p"
        stream.time_base = self.info.time_base
        stream.codec_context.time_base = self.info.time_base
        if self.info.sample_aspect_ratio:
            stream.codec_context.sample_aspect_ratio = self.info.sample_aspect_ratio
        stream.metadata.update(self.info.metadata)
        if self.info.rotation:
            stream.set_display_rotation(self.info.rotation)
        if self.codec == "h264":
            stream.options = {"crf": str(self.crf), "preset": "veryfast"}
        else:
            stream.options = {"crf": str(self.crf), "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
        self._video = stream
        self._side = _SideStreams(self.audio_from, self._out, self.format) if self.audio_from else None
        return self

    @property
    def audio_transcoded(self) -> tuple[str, ...]:
        """Input audio codecs that had to be re-encoded because the container refuses them."""
        return tuple(self._side.transcoded) if self._side is not None else ()

    @property
    def subtitles_dropped(self) -> tuple[str, ...]:
        return tuple(self._side.dropped_subtitles) if self._side is not None else ()

    def write(self, frame: Frame) -> None:
        import av

        image = frame.image
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(f"unexpected frame size: {image.shape[1]}x{image.shape[0]} != {self.width}x{self.height}")
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        vf.pts = self._next_pts(frame)
        vf.time_base = self.info.time_base
        # Without a duration the muxer gives the last frame none, and the clip looks shorter.
        vf.duration = max(1, round(1 / (self.info.fps * self.info.time_base)))
        packets = self._video.encode(vf)
        if self._side is not None:
            self._side.mux_until(float(vf.pts * self.info.time_base))
        self._out.mux(packets)
        self.frames_written += 1

    def _next_pts(self, frame: Frame) -> int:
        """The source's timestamp (variable frame rate survives), forced to increase strictly."""
        if frame.pts is not None and frame.time_base == self.info.time_base:
            pts = frame.pts
        else:
            pts = round(frame.index / self.info.fps / self.info.time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        return pts

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is None:
                self._out.mux(self._video.encode(None))
                if self._side is not None:
                    self._side.mux_until(None)
        finally:
            if self._side is not None:
                self._side.close()
            self._out.close()

