"""Join the painted parts of a file by stream copy, with the source's audio and subtitles muxed
once, as the single-process path does."""
from __future__ import annotations

from pathlib import Path

from stylecast.realtime.media.sinks import _SideStreams, container_for
from stylecast.realtime.media.sources import VideoInfo


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
