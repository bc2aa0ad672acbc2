"""Where to cut a video into segments: at keyframes, about every ``segment_seconds``, found by
reading the container's packets (no decoding)."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from stylecast.errors import StylecastError


# Frames painted before a segment's start to prime --smooth (and the person mask's smoothing):
# the flow smoother keeps at most 0.8 of its history a frame, so 30 frames leave 0.8^30 = 0.1% of
# a segment's cold start.
PREROLL_FRAMES = 30


def preroll_frames(smooth: str, paint: str) -> int:
    """Frames painted before each segment's start: only smoothing over time needs them."""
    return PREROLL_FRAMES if smooth != "off" or paint != "all" else 0


class CannotSplit(StylecastError):
    """A file that cannot be painted in segments: one process paints it whole."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}; stylize it without --ray")
        self.reason = reason

    def __reduce__(self):  # as a Ray worker sends it back: made again from its reason, not its message
        return CannotSplit, (self.reason,)


@dataclass(frozen=True)
class Timeline:
    """A file's video frames in display order: their timestamps, and which start at a keyframe."""

    pts: tuple[int, ...]
    keyframes: tuple[int, ...]  # display indices of keyframes, increasing
    time_base: Fraction

    @property
    def frames(self) -> int:
        return len(self.pts)

    def keyframe_at_or_before(self, index: int) -> int:
        return self.keyframes[max(0, bisect_right(self.keyframes, index) - 1)]


@dataclass(frozen=True)
class Segment:
    source: Path
    number: int  # its place in the file
    start: int  # first frame written (display index)
    end: int  # one past the last frame written
    preroll: int  # first frame painted: frames from here to ``start`` prime the smoothing, unwritten

    @property
    def frames(self) -> int:
        return self.end - self.start


def read_timeline(path: Path) -> Timeline:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise StylecastError(f"{path} has no video stream")
            stream = container.streams.video[0]
            packets = [(p.pts, p.is_keyframe) for p in container.demux(stream) if p.size]
            time_base = Fraction(stream.time_base)
    except av.error.FFmpegError as e:
        raise StylecastError(f"{path} is not a video FFmpeg can read ({e.__class__.__name__})") from e
    if any(pts is None for pts, _ in packets):
        raise CannotSplit(f"{path}: some frames carry no timestamp, so it cannot be split at its keyframes")
    order = sorted(pts for pts, _ in packets)
    if len(set(order)) != len(order):
        raise CannotSplit(f"{path}: two frames share a timestamp, so it cannot be split")
    position = {pts: i for i, pts in enumerate(order)}
    keyframes = sorted(position[pts] for pts, key in packets if key)
    if not keyframes or keyframes[0] != 0:
        keyframes = [0] + keyframes
    return Timeline(tuple(order), tuple(keyframes), time_base)


def plan_segments(path: Path, timeline: Timeline, fps: float, segment_seconds: float, preroll_frames: int) -> list[Segment]:
    """Segments starting at keyframes, each about ``segment_seconds`` long (longer where keyframes
    are sparse); each but the first painted from ``preroll_frames`` before its start."""
    step = max(1, round(segment_seconds * fps))
    starts = [0]
    for key in timeline.keyframes[1:]:
        if key - starts[-1] >= step:
            starts.append(key)
    ends = starts[1:] + [timeline.frames]
    return [Segment(path, n, start, end, max(0, start - preroll_frames)) for n, (start, end) in enumerate(zip(starts, ends))]
