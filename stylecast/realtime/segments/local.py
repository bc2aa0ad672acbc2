"""A long video painted here in segments, one after another, each kept beside the output as soon
as it is done: a run stopped on the way (Ctrl-C, a crash, a power cut) goes on from the last
finished segment when the same command runs again."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from stylecast.realtime.hd.painter import WorkingSizePainter
from stylecast.realtime.media.outputs import writable_folders
from stylecast.realtime.media.sources import VideoFileSource
from stylecast.realtime.segments.join import join_file
from stylecast.realtime.segments.parts import PartsFolder, painting_settings
from stylecast.realtime.segments.plan import CannotSplit, Segment, Timeline, plan_segments, preroll_frames, read_timeline
from stylecast.realtime.segments.segment import paint_segment
from stylecast.realtime.video import VideoConfig, VideoResult


def paint_in_segments(source: Path, target: Path, paint: WorkingSizePainter, width: int, config: VideoConfig,
                      workers: int = 1, show_progress: bool = False,
                      tell: Callable[[str], None] = lambda note: None) -> VideoResult:
    """Paint ``source`` into ``target`` segment by segment (``workers`` frames at once), reusing the
    parts an earlier run of the same settings finished. Raises ``CannotSplit`` (nothing kept) for a
    file that cannot be painted so; one pass paints it then."""
    with VideoFileSource(source) as src:
        info = src.info
    timeline = read_timeline(source)
    segments = plan_segments(source, timeline, float(info.fps), config.segment_s,
                             preroll_frames(config.smooth, config.run.paint))
    with writable_folders([target.parent]):
        parts = PartsFolder.open(target, painting_settings(source, config, segments), tell)
        joined = False
        try:
            started = time.perf_counter()
            seconds = _paint(parts, paint, width, config, timeline, segments, workers, show_progress)
            result = join_file(source, info, parts, segments, started, seconds, 1)  # one painter, segment after segment
            joined = True
            return result
        except CannotSplit:
            parts.remove()  # the one-pass painting that follows would leave them unused
            raise
        finally:
            if line := parts.leave(joined, source, len(segments)):
                tell(line)


def _paint(parts: PartsFolder, paint: WorkingSizePainter, width: int, config: VideoConfig, timeline: Timeline,
           segments: list[Segment], workers: int, show_progress: bool) -> dict[int, float]:
    """Paint the segments ``parts`` lacks; returns the seconds each took."""
    seconds: dict[int, float] = {}
    kept = sum(s.frames for s in segments if s.number in parts.done)
    with tqdm(total=timeline.frames, initial=kept, unit="frame", desc=parts.target.name, disable=not show_progress,
              dynamic_ncols=True) as bar:
        for segment in segments:
            if segment.number in parts.done:
                continue
            started = time.perf_counter()
            paint_segment(paint, config, timeline, segment, parts.part(segment.number), width, workers,
                          progress=lambda: bar.update(1))
            parts.finished(segment.number)
            seconds[segment.number] = time.perf_counter() - started
    return seconds
