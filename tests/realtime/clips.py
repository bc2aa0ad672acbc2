"""Small real video files made by the tests themselves with PyAV: frames plus a sine tone."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def make_clip(path: Path, *, frames: int = 24, size: tuple[int, int] = (96, 64), fps: int = 12,
              audio: str | None = "aac", pts: list[int] | None = None, time_base: Fraction | None = None,
              codec: str = "libx264", rotation: float = 0.0, faststart: bool = False) -> Path:
    """A moving gradient with a 440 Hz tone; ``pts`` (in ``time_base``) makes it variable-rate;
    ``faststart`` puts an MP4's index first, as files made for streaming have it."""
    import av

    w, h = size
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as out:
        v = out.add_stream(codec, rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        if rotation:
            v.set_display_rotation(rotation)
        if time_base is not None:
            v.time_base = time_base
            v.codec_context.time_base = time_base
        a = None
        if audio:
            a = out.add_stream(audio, rate=48000)
            a.layout = "stereo"
        yy, xx = np.mgrid[0:h, 0:w]
        for i in range(frames):
            img = np.stack([(xx * 2 + i * 5) % 256, (yy * 3 + i * 3) % 256, np.full_like(xx, (i * 10) % 256)], -1).astype(np.uint8)
            f = av.VideoFrame.from_ndarray(img, format="bgr24")
            if pts is not None:
                f.pts, f.time_base = pts[i], time_base
            else:
                f.pts, f.time_base = i, Fraction(1, fps)
            out.mux(v.encode(f))
        out.mux(v.encode(None))
        if a is not None:
            seconds = frames / fps
            n = int(48000 * seconds)
            t = np.arange(n) / 48000
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            stereo = np.stack([tone, tone * 0.5])
            chunk = 1024
            for start in range(0, n, chunk):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(stereo[:, start:start + chunk]), format="fltp", layout="stereo")
                af.sample_rate = 48000
                af.pts = start
                af.time_base = Fraction(1, 48000)
                out.mux(a.encode(af))
            out.mux(a.encode(None))
    return path


def decoded_audio(path: Path) -> np.ndarray:
    """All audio samples of the first audio stream, planar (channels, samples), floats in [-1, 1]."""
    import av

    chunks = []
    with av.open(str(path)) as c:
        for f in _decode_skipping_damage(c):
            a = f.to_ndarray()
            channels = len(f.layout.channels)
            if not f.format.is_planar:  # packed: one row of interleaved samples
                a = a.reshape(-1, channels).T
            if a.dtype == np.int16:
                a = a / 32768.0
            chunks.append(a.astype(np.float32))
    return np.concatenate(chunks, axis=1) if chunks else np.zeros((0, 0), np.float32)


def _decode_skipping_damage(container):
    """Megamind.avi's first AC3 packet is a torn frame; every player skips it, so do we."""
    import av

    for packet in container.demux(audio=0):
        try:
            yield from packet.decode()
        except av.error.InvalidDataError:
            continue


def video_facts(path: Path) -> dict:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = list(c.decode(video=0))
        return {
            "frames": len(frames),
            "size": (s.codec_context.width, s.codec_context.height),
            "seconds": [float(f.pts * f.time_base) for f in frames],
            "rate": s.average_rate,
            "audio": [a.codec_context.name for a in c.streams.audio],
            "rotation": float(frames[0].rotation or 0.0) if frames else 0.0,
            "sar": s.codec_context.sample_aspect_ratio,
        }


def decoded_frames(path: Path) -> list[np.ndarray]:
    """Every video frame of a file, as BGR arrays."""
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def frames_and_pts(path: Path) -> tuple[list[int], list[np.ndarray]]:
    """Every video frame's timestamp, and the frames as BGR arrays."""
    import av

    with av.open(str(path)) as container:
        decoded = [(f.pts, f.to_ndarray(format="bgr24")) for f in container.decode(video=0)]
    return [p for p, _ in decoded], [f for _, f in decoded]


def audio_packets(path: Path) -> list[bytes]:
    """The first audio stream's packets as they are stored (to check audio copied, not re-encoded)."""
    import av

    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def pan_clip(path: Path, image: np.ndarray, *, frames: int, fps: int, size: tuple[int, int], step: int = 0) -> Path:
    """A lossless (FFV1) clip of ``image``'s top-left ``size`` (w, h) window moving ``step`` px down
    and right each frame: a real picture as a camera would pan over it."""
    import av

    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv444p"
        for i in range(frames):
            window = np.ascontiguousarray(image[i * step:i * step + h, i * step:i * step + w])
            frame = av.VideoFrame.from_ndarray(window, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path
