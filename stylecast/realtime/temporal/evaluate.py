"""`stylecast eval-temporal`: the warping error of a stylized video against its source."""
from __future__ import annotations

import itertools
from pathlib import Path

import cv2

from stylecast.errors import StylecastError
from stylecast.realtime.media.sources import VideoFileSource, VideoInfo
from stylecast.realtime.temporal.warping_error import TemporalScores, warping_error


def evaluate_videos(stylized: Path, source: Path, limit: int = 300, flow_scale: float = 1.0) -> TemporalScores:
    with VideoFileSource(Path(source)) as src, VideoFileSource(Path(stylized)) as out:
        _check_pair(stylized, out.info, source, src.info)
        size = (out.info.width, out.info.height)
        originals = (f.image if f.image.shape[1::-1] == size else cv2.resize(f.image, size, interpolation=cv2.INTER_AREA)
                     for f in itertools.islice(src, limit))
        styled = (f.image for f in itertools.islice(out, limit))
        try:
            return warping_error(originals, styled, flow_scale)
        except ValueError as e:
            raise StylecastError(f"cannot compare {stylized} with {source}: {e}") from e


def _check_pair(stylized: Path, out: VideoInfo, source: Path, src: VideoInfo) -> None:
    """Refuse a pair that cannot be a video and what it was made from: frames paired in order
    across different clips score as if the stylization flickered, or did not."""
    why = None
    # a few frames either way: damaged packets skipped, a header that miscounts
    if out.frames and src.frames and abs(out.frames - src.frames) > max(2, 0.1 * max(out.frames, src.frames)):
        why = f"{out.frames} frames against {src.frames}"
    elif abs(out.width * src.height - src.width * out.height) > 0.02 * src.width * out.height:
        why = f"{out.width}x{out.height} against {src.width}x{src.height}, another shape"
    if why:
        raise StylecastError(f"{stylized} cannot have been made from {source} ({why}): give --source the video "
                             f"it was painted from")
