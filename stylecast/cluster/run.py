"""``stylecast video ... --ray``: every segment of every input painted by the cluster's workers,
each file joined as soon as its segments are done, and the output renamed into place at the end."""
from __future__ import annotations

import shutil
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from stylecast.atomic import atomic_path
from stylecast.cluster.connect import ClusterConfig, connect
from stylecast.cluster.join import join_parts
from stylecast.cluster.plan import Segment, Timeline, plan_segments, read_timeline
from stylecast.errors import StylecastError
from stylecast.realtime.media.outputs import ensure_writable
from stylecast.realtime.media.pipeline import StageTimes
from stylecast.realtime.media.sources import VideoFileSource, VideoInfo
from stylecast.realtime.video import VideoConfig, VideoResult, plan_outputs
from stylecast.styles.mixes import parse_style

# Frames painted before a segment's start to prime --smooth (and the person mask's smoothing):
# the flow smoother keeps at most 0.8 of its history a frame, so 30 frames leave 0.8^30 = 0.1% of
# a segment's cold start.
PREROLL_FRAMES = 30


class SegmentPainter:
    """One per worker slot: opens the style's backend once, then paints segment after segment."""

    def __init__(self, config: VideoConfig) -> None:
        from stylecast.realtime.hd.painter import WorkingSizePainter
        from stylecast.realtime.hd.working_size import stroke_long_side
        from stylecast.realtime.runtimes.backends import open_backend
        from stylecast.realtime.runtimes.stylizer import Stylizer

        spec = parse_style(config.run.style)
        self.choice = open_backend(spec.model, config.run.prefer)
        self.config = config
        self.paint = WorkingSizePainter(Stylizer(self.choice.backend, spec.mix), stroke_long_side(config.run.stroke_scale))

    def describe(self) -> str:
        return self.choice.describe()

    def run(self, timeline: Timeline, segment: Segment, part: Path) -> float:
        """Paint ``segment`` into ``part``; returns the seconds it took."""
        from stylecast.cluster.segment import paint_segment

        started = time.perf_counter()
        paint_segment(self.paint, self.config, timeline, segment, part, self.choice.network_width)
        return time.perf_counter() - started


@dataclass
class _File:
    source: Path
    target: Path
    info: VideoInfo
    parts_dir: Path
    timeline: Timeline
    segments: list[Segment]
    done: set[int]
    seconds: dict[int, float] = field(default_factory=dict)  # segment -> time its worker took

    def part(self, segment: Segment) -> Path:
        return self.parts_dir / f"part-{segment.number:05d}{self.target.suffix}"


def _plan(source: Path, target: Path, config: VideoConfig, cluster: ClusterConfig) -> _File:
    with VideoFileSource(source) as src:
        info = src.info
    timeline = read_timeline(source)
    preroll = PREROLL_FRAMES if config.smooth != "off" or config.run.paint != "all" else 0
    ensure_writable(target.parent)
    parts_dir = target.with_name(f".{target.name}.stylecast-parts")
    shutil.rmtree(parts_dir, ignore_errors=True)  # a run killed before its clean-up
    parts_dir.mkdir()
    return _File(source, target, info, parts_dir, timeline,
                 plan_segments(source, timeline, float(info.fps), cluster.segment_seconds, preroll), set())


def _cause(error: BaseException) -> BaseException:
    return getattr(error, "cause", None) or error


def stylize_videos_on_ray(inputs: list[Path], output: Path | str, config: VideoConfig, cluster: ClusterConfig,
                          show_progress: bool = False) -> tuple[str | None, list[VideoResult]]:
    """The workers' backend (None where --skip-existing leaves nothing to do) and each file's result."""
    spec = parse_style(config.run.style)
    jobs = plan_outputs([Path(p) for p in inputs], output, spec.label, config)
    if not jobs:
        return None, []
    ray = connect(cluster)
    files: list[_File] = []
    actors: list = []
    pending: dict = {}
    try:
        files = [_plan(source, target, config, cluster) for source, target in jobs]
        actors = _start_painters(ray, config, cluster)
        slots = len(actors)
        describe = ray.get(actors[0].describe.remote())
        queue = deque((f, s) for f in files for s in f.segments)
        attempts: dict[tuple[int, int], int] = {}
        results: list[VideoResult] = []
        total = sum(f.timeline.frames for f in files)
        started = time.perf_counter()
        idle = deque(actors)
        with tqdm(total=total, unit="frame", desc=f"{len(files)} file(s) on {slots} worker(s)", disable=not show_progress,
                  dynamic_ncols=True) as bar:
            while queue or pending:
                while queue and idle:
                    f, segment = queue.popleft()
                    actor = idle.popleft()
                    pending[actor.run.remote(f.timeline, segment, f.part(segment))] = (actor, f, segment)
                ready, _ = ray.wait(list(pending), num_returns=1)
                actor, f, segment = pending.pop(ready[0])
                idle.append(actor)
                seconds = _seconds_or_retry(ray, ready[0], f, segment, attempts, cluster.retries)
                if seconds is None:
                    queue.appendleft((f, segment))
                    continue
                f.done.add(segment.number)
                f.seconds[segment.number] = seconds
                bar.update(segment.frames)
                bar.set_postfix_str(f"{bar.n / max(1e-6, time.perf_counter() - started):.1f} fps", refresh=False)
                if len(f.done) == len(f.segments):
                    results.append(_join(f, started, slots))
        return describe, results
    finally:  # Ctrl-C, an error, or done: stop the workers (and what they paint), drop the parts
        for actor in actors:
            ray.kill(actor)
        for f in files:
            shutil.rmtree(f.parts_dir, ignore_errors=True)
        ray.shutdown()


def _start_painters(ray, config: VideoConfig, cluster: ClusterConfig) -> list:
    """One SegmentPainter per GPU of the cluster, else per CPU."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    slots = gpus or max(1, int(resources.get("CPU", 1)))
    # a worker that dies is started again (max_restarts), and its segment is handed out again by the caller
    remote = ray.remote(num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1, max_restarts=cluster.retries)(SegmentPainter)
    return [remote.remote(config) for _ in range(slots)]


def _seconds_or_retry(ray, ref, f: _File, segment: Segment, attempts: dict[tuple[int, int], int],
                      retries: int) -> float | None:
    """The seconds a finished segment took, or None where its worker died and it is to be painted
    again; a painting error, or a segment whose workers keep dying, ends the run in one line."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        if isinstance(_cause(e), StylecastError):
            raise _cause(e) from None
        raise StylecastError(f"segment {segment.number} of {f.source} failed on a worker: "
                             f"{str(_cause(e)).splitlines()[0][:200]}") from e
    except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError) as e:
        key = (id(f), segment.number)
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] > retries:
            raise StylecastError(f"segment {segment.number} of {f.source} failed {attempts[key]} times: "
                                 f"workers keep dying ({e.__class__.__name__})") from e
        print(f"note: a worker died painting segment {segment.number} of {f.source.name}; painting it again",
              file=sys.stderr)
        return None


def _join(f: _File, started: float, slots: int) -> VideoResult:
    parts = [f.part(s) for s in f.segments]
    joining = time.perf_counter()
    with atomic_path(f.target) as tmp:
        frames, transcoded, dropped = join_parts(f.source, parts, tmp, f.info)
    joined = time.perf_counter()
    shutil.rmtree(f.parts_dir, ignore_errors=True)
    times = StageTimes(frames=frames, wall=joined - started)
    busy = sum(f.seconds.values())
    summary = (f"{len(f.segments)} segment(s) on {slots} worker(s), {frames / busy if busy else 0:.1f} fps per busy worker "
               f"(pre-roll included), joined in {joined - joining:.1f} s")
    return VideoResult(f.target, frames, 0, times, transcoded, dropped, claimed_frames=f.info.frames, cluster=summary)
