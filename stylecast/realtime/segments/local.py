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
from stylecast.realtime.segments.file import SegmentedFile, cut
from stylecast.realtime.segments.plan import CannotSplit
from stylecast.realtime.segments.segment import paint_segment
from stylecast.realtime.video import VideoConfig, VideoResult


def paint_in_segments(source: Path, target: Path, paint: WorkingSizePainter, width: int, config: VideoConfig,
                      workers: int = 1, show_progress: bool = False,
                      tell: Callable[[str], None] = lambda note: None) -> VideoResult:
    """Paint ``source`` into ``target`` segment by segment (``workers`` frames at once), reusing the
    parts an earlier run of the same settings finished. Raises ``CannotSplit`` (nothing kept) for a
    file that cannot be painted so; one pass paints it then."""
    pieces = cut(source, config, config.segment_s)
    with writable_folders([target.parent]):
        file = SegmentedFile.open(source, target, pieces, config, tell)
        try:
            started = time.perf_counter()
            _paint(file, paint, width, config, workers, show_progress)
            return file.join(started, 1)  # one painter, segment after segment
        except CannotSplit:
            file.parts.remove()  # the one-pass painting that follows would leave them unused
            raise
        finally:
            if line := file.leave():
                tell(line)


def _paint(file: SegmentedFile, paint: WorkingSizePainter, width: int, config: VideoConfig, workers: int,
           show_progress: bool) -> None:
    """Paint the segments ``file`` lacks, one after another."""
    with tqdm(total=file.timeline.frames, initial=file.kept_frames, unit="frame", desc=file.target.name,
              disable=not show_progress, dynamic_ncols=True) as bar:
        for segment in file.left():
            started = time.perf_counter()
            paint_segment(paint, config, file.timeline, segment, file.part(segment), width, workers,
                          progress=lambda: bar.update(1))
            file.finished(segment, time.perf_counter() - started)
