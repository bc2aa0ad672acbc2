"""`stylecast eval-temporal`: the warping error of a stylized video against its source."""
from __future__ import annotations

import itertools
from pathlib import Path

import cv2

from stylecast.errors import StylecastError
from stylecast.realtime.media.sources import VideoFileSource
from stylecast.realtime.temporal.warping_error import TemporalScores, warping_error


def evaluate_videos(stylized: Path, source: Path, limit: int = 300, flow_scale: float = 1.0) -> TemporalScores:
    with VideoFileSource(Path(source)) as src, VideoFileSource(Path(stylized)) as out:
        size = (out.info.width, out.info.height)
        originals = (f.image if f.image.shape[1::-1] == size else cv2.resize(f.image, size, interpolation=cv2.INTER_AREA)
                     for f in itertools.islice(src, limit))
        styled = (f.image for f in itertools.islice(out, limit))
        try:
            return warping_error(originals, styled, flow_scale)
        except ValueError as e:
            raise StylecastError(f"cannot compare {stylized} with {source}: {e}") from e
