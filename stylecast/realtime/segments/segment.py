"""Paint one segment of a video file into a video-only part file: what a cluster worker does.

The frames from the segment's pre-roll to its start are painted and smoothed but not written, so
temporal smoothing arrives at the segment's first frame in the state one process would have had.
"""
from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

from stylecast.atomic import atomic_path
from stylecast.realtime.segments.plan import CannotSplit, Segment, Timeline
from stylecast.errors import StylecastError
from stylecast.realtime.hd.painter import WorkingSizePainter
from stylecast.realtime.media.pipeline import run_pipeline
from stylecast.realtime.media.sinks import VideoFileSink, default_codec
from stylecast.realtime.media.sources import Frame, VideoFileSource
from stylecast.realtime.temporal.smoothing import make_smoother
from stylecast.realtime.video import VideoConfig, check_frame_size, finishing, frame_transform
from stylecast.segment.matte import person_matte
from stylecast.sizing import fit_size


def segment_frames(source: VideoFileSource, timeline: Timeline, segment: Segment) -> Iterator[Frame]:
    """Frames ``segment.preroll`` to ``segment.end`` in display order, labelled with the file's
    timestamps, decoded from the keyframe before the pre-roll."""
    key = timeline.keyframe_at_or_before(segment.preroll)
    if key:
        source.seek(timeline.pts[key])
    # The decoder hands frames on in display order from the keyframe, so counting gives each one's
    # place; their own labels are not used, as some containers (AVI) label frames with decode times
    # (the single-process path sorts those labels, which is what ``timeline.pts`` holds).
    index = key - 1
    for frame in source.decoded():
        index += 1
        if index < segment.preroll:
            continue
        if index >= segment.end:
            return
        yield Frame(frame.to_ndarray(format="bgr24"), index, timeline.pts[index], timeline.time_base)


def paint_segment(paint: WorkingSizePainter, config: VideoConfig, timeline: Timeline, segment: Segment, part: Path,
                  width: int, workers: int = 1, progress: Callable[[], object] | None = None) -> int:
    """Paint ``segment`` into ``part`` (renamed into place only when complete) with a network
    ``width`` channels wide, ``workers`` frames at once; ``progress`` hears of each frame written.
    Returns frames written."""
    if not segment.source.is_file():
        raise StylecastError(f"{socket.gethostname()} cannot read {segment.source}: with --ray, inputs and outputs must be "
                             f"on a path every node sees (a shared filesystem)")
    with VideoFileSource(segment.source) as src:
        size = fit_size(src.info.width, src.info.height, longest=config.run.max_side, even=True, minimum=2)
        check_frame_size(segment.source, size, width, paint, workers)
        matte = person_matte(config.run.paint)
        codec = config.codec or default_codec(part)
        try:
            with atomic_path(part) as tmp, VideoFileSink(tmp, info=src.info, codec=codec, crf=config.crf, size=size) as sink:
                def write(frame: Frame) -> None:
                    if frame.index >= segment.start:
                        sink.write(frame)
                        if progress is not None:
                            progress()

                run_pipeline(segment_frames(src, timeline, segment), frame_transform(paint, size, matte), write,
                             workers=workers, finish=finishing(make_smoother(config.smooth), matte, config.run.paint))
                written = sink.frames_written
        except OSError as e:  # the encoder's or muxer's (PyAV raises OSError subclasses): a full disk, say
            raise StylecastError(f"could not write {part}: {e.strerror or e}") from e
    if written != segment.frames:
        raise CannotSplit(f"{segment.source}: segment {segment.number} gave {written} of its {segment.frames} frames "
                          f"(a damaged file?)")
    return written
