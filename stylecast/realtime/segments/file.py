"""One input painted in segments: where it is cut, the folder its parts are kept in, what this run
painted, and the join that makes its output. Painted here one segment after another
(``local.py``) or by a Ray cluster's workers (``stylecast.cluster``)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.realtime.media.pipeline import StageTimes
from stylecast.realtime.media.sources import VideoFileSource, VideoInfo
from stylecast.realtime.segments.join import join_parts
from stylecast.realtime.segments.parts import PartsFolder, painting_settings
from stylecast.realtime.segments.plan import Segment, Timeline, plan_segments, preroll_frames, read_timeline
from stylecast.realtime.video import VideoConfig, VideoResult


@dataclass(frozen=True)
class Cut:
    """A file's header, its frames in display order, and its segments."""

    info: VideoInfo
    timeline: Timeline
    segments: list[Segment]


def cut(source: Path, config: VideoConfig, segment_seconds: float) -> Cut:
    """``source`` cut at its keyframes into segments of about ``segment_seconds``, each with the
    pre-roll ``config``'s smoothing needs; read from its packets, nothing decoded but the header."""
    with VideoFileSource(source) as src:
        info = src.info
    timeline = read_timeline(source)
    return Cut(info, timeline, plan_segments(source, timeline, float(info.fps), segment_seconds,
                                             preroll_frames(config.smooth, config.run.paint)))


@dataclass
class SegmentedFile:
    source: Path
    info: VideoInfo
    timeline: Timeline
    segments: list[Segment]
    parts: PartsFolder
    seconds: dict[int, float] = field(default_factory=dict)  # segment painted by this run -> the time it took
    joined: bool = False

    @classmethod
    def open(cls, source: Path, target: Path, pieces: Cut, config: VideoConfig,
             tell: Callable[[str], None]) -> SegmentedFile:
        """``source`` as ``pieces`` cuts it, with the parts an earlier run of the same settings left
        for ``target`` (``tell`` hears of them); the folder ``target`` goes in must be writable."""
        parts = PartsFolder.open(target, painting_settings(source, config, pieces.segments), tell)
        return cls(source, pieces.info, pieces.timeline, pieces.segments, parts)

    @property
    def target(self) -> Path:
        return self.parts.target

    def part(self, segment: Segment) -> Path:
        return self.parts.part(segment.number)

    @property
    def complete(self) -> bool:
        return len(self.parts.done) == len(self.segments)

    def left(self) -> list[Segment]:
        return [s for s in self.segments if s.number not in self.parts.done]

    @property
    def kept_frames(self) -> int:
        """Frames in the parts already painted (by an earlier run, at the start of this one)."""
        return sum(s.frames for s in self.segments if s.number in self.parts.done)

    def finished(self, segment: Segment, seconds: float) -> None:
        self.parts.finished(segment.number)
        self.seconds[segment.number] = seconds

    def join(self, started: float, workers: int) -> VideoResult:
        """Join every part into the target (renamed into place when complete), drop the parts, and
        say how the segments went: those painted by this run (since ``started``) on ``workers`` workers."""
        joining = time.perf_counter()
        try:
            with atomic_path(self.target) as tmp:
                frames, transcoded, dropped = join_parts(self.source, [self.part(s) for s in self.segments], tmp, self.info)
        except OSError as e:
            raise StylecastError(f"could not write {self.target}: {e.strerror or e}") from e
        joined = time.perf_counter()
        self.joined = True
        self.parts.remove()
        new = sum(s.frames for s in self.segments if s.number in self.seconds)
        busy = sum(self.seconds.values())
        summary = f"{len(self.segments)} segment(s)"
        if self.seconds and workers > 1:  # one painter's rate is the run's, said beside this
            summary += f" on {workers} worker(s), {new / busy if busy else 0.0:.1f} fps per busy worker (pre-roll included)"
        if self.parts.kept:
            summary += f", {self.parts.kept} painted by an earlier run"
        summary += f", joined in {joined - joining:.1f} s"
        times = StageTimes(frames=new, wall=joined - started)  # the rate of this run's painting
        return VideoResult(self.target, frames, 0, times, transcoded, dropped, claimed_frames=self.info.frames,
                           segments=summary)

    def leave(self) -> str | None:
        """At the end of a run: the parts dropped where joined or none painted, else kept, and said so."""
        return self.parts.leave(self.joined, self.source, len(self.segments))
