"""Join the painted parts of a file by stream copy, with the source's audio and subtitles muxed
once, as the single-process path does."""
from __future__ import annotations

import time
from pathlib import Path

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.realtime.media.pipeline import StageTimes
from stylecast.realtime.media.sinks import _SideStreams, container_for
from stylecast.realtime.media.sources import VideoInfo
from stylecast.realtime.segments.parts import PartsFolder
from stylecast.realtime.segments.plan import Segment
from stylecast.realtime.video import VideoResult


def join_file(source: Path, info: VideoInfo, parts: PartsFolder, segments: list[Segment], started: float,
              painted: dict[int, float], workers: int) -> VideoResult:
    """Join every part of ``source`` into the parts' target (renamed into place when complete), drop
    the parts, and say how the segments went: ``painted`` holds the seconds each segment painted by
    this run (since ``started``) took, on ``workers`` workers."""
    joining = time.perf_counter()
    try:
        with atomic_path(parts.target) as tmp:
            frames, transcoded, dropped = join_parts(source, [parts.part(s.number) for s in segments], tmp, info)
    except OSError as e:
        raise StylecastError(f"could not write {parts.target}: {e.strerror or e}") from e
    joined = time.perf_counter()
    parts.remove()
    new = sum(s.frames for s in segments if s.number in painted)
    busy = sum(painted.values())
    summary = f"{len(segments)} segment(s)"
    if painted and workers > 1:  # one painter's rate is the run's, said beside this
        summary += f" on {workers} worker(s), {new / busy if busy else 0.0:.1f} fps per busy worker (pre-roll included)"
    if parts.kept:
        summary += f", {parts.kept} painted by an earlier run"
    summary += f", joined in {joined - joining:.1f} s"
    times = StageTimes(frames=new, wall=joined - started)  # the rate of this run's painting
    return VideoResult(parts.target, frames, 0, times, transcoded, dropped, claimed_frames=info.frames, segments=summary)


def join_parts(source: Path, parts: list[Path], target: Path, info: VideoInfo) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """Write ``target`` from ``parts`` (in order); returns frames, audio re-encoded, subtitles left out."""
    import av

    fmt = container_for(target)
    frames = 0
    with av.open(str(target), "w", format=fmt) as out:
        out.metadata.update({"comment": "stylized with stylecast"})
        with av.open(str(parts[0])) as first:
            video = out.add_stream_from_template(first.streams.video[0])
        video.metadata.update(info.metadata)
        if info.rotation:
            video.set_display_rotation(info.rotation)
        side = _SideStreams(source, out, fmt)
        last_dts = None
        try:
            for part in parts:
                with av.open(str(part)) as container:
                    for packet in container.demux(container.streams.video[0]):
                        if packet.size == 0:
                            continue
                        # each part's encoder started its decode clock a few frames before its first
                        # picture, and Matroska gives no decode time at all to a part's first packets
                        # where it has B-frames; keep decode times increasing across the joins
                        if last_dts is not None and (packet.dts is None or packet.dts <= last_dts):
                            packet.dts = last_dts + 1
                        last_dts = packet.dts
                        side.mux_until(float(packet.pts * packet.time_base) if packet.pts is not None else None)
                        packet.stream = video
                        out.mux(packet)
                        frames += 1
            side.mux_until(None)
        finally:
            side.close()
    return frames, tuple(side.transcoded), tuple(side.dropped_subtitles)
