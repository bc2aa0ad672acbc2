"""Frame sources. A source is a context manager you iterate for ``Frame``s (BGR uint8)."""
from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from stylecast.errors import StylecastError


REORDER_WINDOW = 16


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # HxWx3 uint8 BGR
    index: int
    pts: int | None = None  # in the stream's time base
    time_base: Fraction | None = None
    original: np.ndarray | None = None  # the unstylized frame, for sinks that show both
    work: np.ndarray | None = None  # the frame at its working size, while its painting is that size
    person: np.ndarray | None = None  # the person mask at its guide size, while it waits to be applied


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    frames: int  # as the container claims; 0 when unknown
    sample_aspect_ratio: Fraction | None = None
    has_audio: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    rotation: float = 0.0  # display rotation in degrees (phone videos): kept as metadata, pixels untouched
    seconds: float = 0.0  # how long it plays, as the container claims; 0 when unknown


def _open_input(path: Path):
    import av

    if path.is_dir():
        raise StylecastError(f"{path} is a folder, not a video file")
    if not path.is_file():
        raise StylecastError(f"input not found: {path}")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise StylecastError(f"{path} is not a video FFmpeg can read ({e.__class__.__name__})") from e


class VideoFileSource:
    """Decode a video file with PyAV (FFmpeg), which reads what OpenCV's capture often cannot.

    Decoding errors in the middle of a damaged file are counted in ``decode_errors`` and skipped.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.decode_errors = 0
        self._container = None

    def __enter__(self) -> "VideoFileSource":
        self._container = _open_input(self.path)
        if not self._container.streams.video:
            self._container.close()
            raise StylecastError(f"{self.path} has no video stream")
        self.stream = self._container.streams.video[0]
        self.stream.thread_type = "AUTO"  # frame-threaded decoding: the decoder keeps up with inference
        ctx = self.stream.codec_context
        if not ctx.width or not ctx.height:
            self._container.close()
            raise StylecastError(f"{self.path}: the video stream has no frame size; the file is damaged")
        fps = self.stream.average_rate or self.stream.guessed_rate or Fraction(30)
        sar = ctx.sample_aspect_ratio
        self.info = VideoInfo(
            width=ctx.width, height=ctx.height, fps=Fraction(fps), time_base=Fraction(self.stream.time_base or Fraction(1, 90000)),
            frames=int(self.stream.frames or 0), sample_aspect_ratio=Fraction(sar) if sar else None,
            has_audio=bool(self._container.streams.audio), metadata=dict(self.stream.metadata),
            rotation=self._probe_rotation(), seconds=self._claimed_seconds(),
        )
        return self

    def _claimed_seconds(self) -> float:
        if self.stream.duration and self.stream.time_base:
            return float(self.stream.duration * self.stream.time_base)
        return (self._container.duration or 0) / 1e6  # in AV_TIME_BASE, microseconds

    def _probe_rotation(self) -> float:
        """The display matrix rides on decoded frames; peek at the first one in a separate reader."""
        import av

        try:
            with av.open(str(self.path)) as probe:
                for frame in probe.decode(video=0):
                    return float(frame.rotation or 0.0)
        except (av.error.FFmpegError, AttributeError):
            pass
        return 0.0

    def __exit__(self, *exc) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def seek(self, pts: int) -> None:
        """Decode on from the keyframe at or before ``pts`` (in the stream's time base)."""
        self._container.seek(pts, stream=self.stream, backward=True, any_frame=False)

    def rewind(self) -> None:
        """Back to the first frame, without reopening the file (a looping clip restarts at once)."""
        self.seek(self.stream.start_time or 0)

    def decoded(self) -> Iterator:
        """The decoder's frames as they come (display order), damaged packets counted and skipped."""
        import av

        for packet in self._container.demux(self.stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self.decode_errors += 1
                continue
            yield from frames

    def __iter__(self) -> Iterator[Frame]:
        """Frames in display order, with timestamps that increase.

        Containers without presentation timestamps (AVI with B-frames) label decoded frames with
        their decode times, slightly out of order. The decoder already emits frames in display
        order, so within a small window the sorted labels are the true timestamps.
        """
        window: deque = deque()
        labels: list[int] = []
        index = 0
        for frame in self.decoded():
            if frame.pts is not None:
                heapq.heappush(labels, frame.pts)
            window.append(frame)
            if len(window) > REORDER_WINDOW:
                yield self._frame(window.popleft(), labels, index)
                index += 1
        while window:
            yield self._frame(window.popleft(), labels, index)
            index += 1

    @staticmethod
    def _frame(frame, labels: list[int], index: int) -> Frame:
        pts = heapq.heappop(labels) if frame.pts is not None and labels else None
        time_base = Fraction(frame.time_base) if frame.time_base else None
        return Frame(frame.to_ndarray(format="bgr24"), index, pts, time_base)
