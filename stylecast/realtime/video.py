"""Stylize video files end to end: `stylecast video`."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
from tqdm import tqdm

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.machine import check_memory
from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.runtimes.protocol import Backend, Choice
from stylecast.realtime.config import RunConfig
from stylecast.realtime.effects import paint_where
from stylecast.realtime.hd.painter import FULL_SIZE_BYTES_PER_PIXEL, WorkingSizePainter
from stylecast.realtime.hd.upsample import GuidedUpsampler
from stylecast.realtime.hd.working_size import stroke_long_side
from stylecast.realtime.media.outputs import expand_folders, plan_targets, writable_folders
from stylecast.realtime.media.pipeline import StageTimes, run_pipeline
from stylecast.realtime.temporal.smoothing import Smoother, make_smoother
from stylecast.realtime.media.sinks import VideoFileSink, check_encoding, container_for, default_codec
from stylecast.realtime.media.sources import Frame, VideoFileSource
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.segment.matte import PersonMatte, person_matte
from stylecast.sizing import MAX_FRAME_PIXELS, fit_size
from stylecast.styles.mixes import parse_style

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts"}
# Two frames at once keep both cores of a small CPU busy while the decoder and encoder take turns.
AUTO_STREAMS = 2


@dataclass(frozen=True)
class VideoConfig:
    run: RunConfig
    codec: str | None = None  # h264 | vp9; None picks by container
    smooth: str = "off"  # off | ema | flow
    crf: int | None = None
    keep_partial: bool = False
    streams: int | None = None  # frames stylized at once; None: AUTO_STREAMS where the backend can
    # Videos longer than this are painted in segments of ``segment_s``, each kept as soon as it is
    # done, so a stopped run goes on from the last one; None paints every video in one pass.
    resumable_from_s: float | None = 120.0
    segment_s: float = 60.0


@dataclass(frozen=True)
class VideoResult:
    output: Path
    frames: int
    decode_errors: int
    times: StageTimes
    audio_transcoded: tuple[str, ...] = ()
    subtitles_dropped: tuple[str, ...] = ()
    claimed_frames: int = 0  # what the input's header lists; 0 when it does not say
    segments: str = ""  # painted in segments (long files, --ray): how they went, for the summary line

    @property
    def cut_short(self) -> bool:
        """Far fewer frames than the header lists: an unfinished download or copy. The 10% slack is
        for containers whose count is an estimate."""
        return self.claimed_frames > 0 and self.frames < 0.9 * self.claimed_frames


def check_frame_size(path: Path, size: tuple[int, int], width: int, paint: WorkingSizePainter, workers: int = 1) -> None:
    """Refuse before any work frames beyond 8K, or that would not fit in free memory: the frames at
    their own size, and ``workers`` of them through a network ``width`` wide at the working size."""
    w, h = size
    if w * h > MAX_FRAME_PIXELS:
        raise StylecastError(f"{path} is {w}x{h}, beyond 8K UHD (7680x4320): add --max-side 7680 (or smaller) to downscale")
    need, (pw, ph) = paint.memory_needed(size, width, FULL_SIZE_BYTES_PER_PIXEL, workers)
    check_memory(need, f"painting {path} ({w}x{h}, painted at {pw}x{ph})",
                 "add --max-side 1920 (or smaller) to downscale, or paint smaller with a larger --stroke-scale")


def frame_transform(paint: WorkingSizePainter, size: tuple[int, int], matte: PersonMatte | None = None) -> Callable[[Frame], Frame]:
    """resize (if asked) -> paint at the working size (and segment, with a ``matte``), one frame at
    a time; thread-safe when ``paint`` is."""
    def transform(frame: Frame) -> Frame:
        image = frame.image
        if (image.shape[1], image.shape[0]) != size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        painted = paint(image)
        person = None if matte is None else matte.segment(painted.small)
        return replace(frame, image=painted.painting, original=image, work=painted.small, person=person)

    return transform


def finishing(smoother: Smoother, matte: PersonMatte | None = None, paint: str = "all") -> Callable[[Frame], Frame]:
    """Temporal smoothing at the working size (it needs the frames in order), then back to full
    size; with a ``matte``, the painting kept only where ``paint`` says (its mask smoothed in order too)."""
    upsample = GuidedUpsampler()

    def finish(frame: Frame) -> Frame:
        painting = smoother(frame.work, frame.image)
        full = upsample(painting, frame.work, frame.original)
        if matte is not None and frame.person is not None:
            full = paint_where(frame.original, full, matte.finish(frame.person, frame.original), paint)
        return replace(frame, image=full, original=None, work=None, person=None)

    return finish


def frames_in_flight(backend: Backend, wanted: int | None = None) -> int:
    """Set how many frames ``backend`` stylizes at once for a file (OpenVINO: one per stream) and return it."""
    cores = os.cpu_count() or 1
    if wanted is not None and wanted > cores:  # more frames in flight only hold more memory
        raise StylecastError(f"--streams {wanted}: this machine has {cores} cores and each stream paints on one "
                             f"of them at least: give {cores} or fewer")
    use_streams = getattr(backend, "use_streams", None)
    if use_streams is not None:
        if wanted is None:
            wanted = AUTO_STREAMS if (os.cpu_count() or 1) >= AUTO_STREAMS else 1
        use_streams(wanted)
    elif wanted not in (None, 1):
        raise StylecastError(f"--streams {wanted}: only the OpenVINO backend runs several frames at once")
    return backend.parallel_runs()


def plan_outputs(inputs: list[Path], output: Path | str, style: str, config: VideoConfig) -> list[tuple[Path, Path]]:
    """Every (input, output) pair, decided and checked (paths, container, codec, crf) before any work."""
    inputs, folder_given = expand_folders(inputs, VIDEO_SUFFIXES, "video")
    jobs = plan_targets(inputs, output, lambda src: f"{src.stem}-{style}.mp4", container_for, config.run.overwrite,
                        to_folder=folder_given, skip_existing=config.run.skip_existing)
    for _, target in jobs:
        check_encoding(target, config.codec, config.crf)
    return jobs


def _forecast(jobs: list[tuple[Path, Path]], paint: WorkingSizePainter, workers: int, config: VideoConfig,
              label: str) -> str | None:
    from stylecast.realtime.forecast import forecast_note, seconds_per_frame
    from stylecast.styles import lighter_variants

    frames, size = 0, None
    for source, _ in jobs:
        with VideoFileSource(source) as src:  # a header's frame count: 0 where it does not say
            frames += src.info.frames
            size = size or fit_size(src.info.width, src.info.height, longest=config.run.max_side, even=True, minimum=2)
    if not frames or size is None:
        return None
    per_frame = seconds_per_frame(paint, size)
    return forecast_note(per_frame, frames, workers, label, lighter_variants(label))


def stylize_video(source: Path, target: Path, paint: WorkingSizePainter, width: int, config: VideoConfig,
                  show_progress: bool = False, workers: int = 1) -> VideoResult:
    """Decode, stylize and encode one file; the output appears only when complete.

    ``workers`` > 1 calls ``paint`` from that many threads (see ``frames_in_flight``)."""
    codec = config.codec or default_codec(target)
    with VideoFileSource(source) as src:
        size = fit_size(src.info.width, src.info.height, longest=config.run.max_side, even=True, minimum=2)
        check_frame_size(source, size, width, paint, workers)
        with (writable_folders([target.parent]),  # made, and removed again if nothing is written there
              tqdm(total=src.info.frames or None, unit="frame", desc=source.name, disable=not show_progress,
                   dynamic_ncols=True) as bar,
              atomic_path(target) as tmp):
            try:
                with VideoFileSink(tmp, info=src.info, codec=codec, crf=config.crf, audio_from=source, size=size) as sink:
                    matte = person_matte(config.run.paint)  # one per file: its smoothing follows one shot
                    transform = frame_transform(paint, size, matte)
                    times = run_pipeline(src, transform, sink.write, lambda _: bar.update(1), workers=workers,
                                         finish=finishing(make_smoother(config.smooth), matte, config.run.paint))
            except KeyboardInterrupt:
                if config.keep_partial and tmp.exists():
                    os.replace(tmp, target.with_name(f"{target.stem}.partial{target.suffix}"))
                raise
            except OSError as e:  # the encoder's or muxer's (PyAV raises OSError subclasses): a full disk, say
                raise StylecastError(f"could not write {target}: {e.strerror or e}") from e
            if sink.frames_written == 0:
                raise StylecastError(f"{source}: no frame could be decoded ({src.decode_errors} decode errors)")
    return VideoResult(target, sink.frames_written, src.decode_errors, times, sink.audio_transcoded, sink.subtitles_dropped,
                       claimed_frames=src.info.frames)


def _stylize_one(source: Path, target: Path, paint: WorkingSizePainter, width: int, config: VideoConfig,
                 show_progress: bool, workers: int, tell: Callable[[str], None]) -> VideoResult:
    """A long video in segments kept as they finish (see ``resumable_from_s``), any other in one pass."""
    if config.resumable_from_s is not None and not config.keep_partial and _claimed_seconds(source) > config.resumable_from_s:
        from stylecast.realtime.segments.local import paint_in_segments
        from stylecast.realtime.segments.plan import CannotSplit

        try:
            return paint_in_segments(source, target, paint, width, config, workers, show_progress, tell)
        except CannotSplit as e:
            tell(f"{e.reason}: painting it in one pass, which a stopped run does not keep")
    return stylize_video(source, target, paint, width, config, show_progress, workers)


def _claimed_seconds(source: Path) -> float:
    with VideoFileSource(source) as src:
        return src.info.seconds


def stylize_videos(inputs: list[Path], output: Path | str, config: VideoConfig, show_progress: bool = False,
                   tell: Callable[[str], None] | None = None,
                   on_done: Callable[[VideoResult], None] | None = None) -> tuple[Choice | None, list[VideoResult]]:
    """``tell`` hears, before any work, how long a long job will take (and what paints faster), and
    ``on_done`` of each file as soon as it is complete. The choice is None where every output exists
    already and ``skip_existing`` leaves nothing to do."""
    spec = parse_style(config.run.style)
    jobs = plan_outputs([Path(p) for p in inputs], output, spec.label, config)
    if not jobs:
        return None, []
    choice = open_backend(spec.model, config.run.prefer)
    workers = frames_in_flight(choice.backend, config.streams)
    paint = WorkingSizePainter(Stylizer(choice.backend, spec.mix), stroke_long_side(config.run.stroke_scale))
    if tell is not None and (note := _forecast(jobs, paint, workers, config, spec.label)) is not None:
        tell(note)
    results = []
    for source, target in jobs:
        results.append(_stylize_one(source, target, paint, choice.network_width, config, show_progress, workers,
                                    tell or (lambda note: None)))
        if on_done is not None:
            on_done(results[-1])
    return choice, results
