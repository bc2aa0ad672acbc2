"""``stylecast video ... --ray``: every segment of every input painted by the cluster's workers,
each file joined as soon as its segments are done, and the output renamed into place at the end."""
from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from stylecast.cluster.connect import ClusterConfig, connect
from stylecast.realtime.segments.file import SegmentedFile, cut
from stylecast.realtime.segments.plan import Segment, Timeline
from stylecast.errors import StylecastError
from stylecast.realtime.media.outputs import ensure_writable
from stylecast.realtime.video import VideoConfig, VideoResult, plan_outputs
from stylecast.styles.mixes import parse_style


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
        from stylecast.realtime.segments.segment import paint_segment

        started = time.perf_counter()
        paint_segment(self.paint, self.config, timeline, segment, part, self.choice.network_width)
        return time.perf_counter() - started


def _plan(source: Path, target: Path, config: VideoConfig, cluster: ClusterConfig,
          tell: Callable[[str], None]) -> SegmentedFile:
    pieces = cut(source, config, cluster.segment_seconds)
    ensure_writable(target.parent)
    return SegmentedFile.open(source, target, pieces, config, tell)


def _cause(error: BaseException) -> BaseException:
    return getattr(error, "cause", None) or error


def stylize_videos_on_ray(inputs: list[Path], output: Path | str, config: VideoConfig, cluster: ClusterConfig,
                          show_progress: bool = False,
                          tell: Callable[[str], None] = lambda note: None) -> tuple[str | None, list[VideoResult]]:
    """The workers' backend (None where nothing was left to paint) and each file's result. ``tell``
    hears which parts an earlier run left are used, and, where this run stops early, which it leaves."""
    spec = parse_style(config.run.style)
    jobs = plan_outputs([Path(p) for p in inputs], output, spec.label, config)
    if not jobs:
        return None, []
    ray = connect(cluster)
    files: list[SegmentedFile] = []
    actors: list = []
    try:
        files = [_plan(source, target, config, cluster, tell) for source, target in jobs]
        results = [f.join(time.perf_counter(), 0) for f in files if f.complete]  # an earlier run stopped at the join
        queue = deque((f, s) for f in files for s in f.left())
        if not queue:
            return None, results
        actors = _start_painters(ray, config, cluster)
        describe = ray.get(actors[0].describe.remote())
        results += _paint(ray, actors, queue, files, cluster, show_progress)
        return describe, results
    finally:  # Ctrl-C, an error, or done: stop the workers (and what they paint); keep what is painted
        for actor in actors:
            ray.kill(actor)
        for f in files:
            if note := f.leave():
                tell(note)
        ray.shutdown()


def _paint(ray, actors: list, queue: deque, files: list[SegmentedFile], cluster: ClusterConfig, show_progress: bool) -> list[VideoResult]:
    """Hand the segments in ``queue`` to the workers as they come free; join each file once its last is done."""
    attempts: dict[tuple[int, int], int] = {}
    results: list[VideoResult] = []
    pending: dict = {}
    idle = deque(actors)
    started = time.perf_counter()
    kept = sum(f.kept_frames for f in files)
    with tqdm(total=sum(f.timeline.frames for f in files), initial=kept, unit="frame",
              desc=f"{len(files)} file(s) on {len(actors)} worker(s)", disable=not show_progress, dynamic_ncols=True) as bar:
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
            f.finished(segment, seconds)
            bar.update(segment.frames)
            bar.set_postfix_str(f"{(bar.n - kept) / max(1e-6, time.perf_counter() - started):.1f} fps", refresh=False)
            if f.complete:
                results.append(f.join(started, len(actors)))
    return results


def _start_painters(ray, config: VideoConfig, cluster: ClusterConfig) -> list:
    """One SegmentPainter per GPU of the cluster, else per CPU."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    slots = gpus or max(1, int(resources.get("CPU", 1)))
    # a worker that dies is started again (max_restarts), and its segment is handed out again by the caller
    remote = ray.remote(num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1, max_restarts=cluster.retries)(SegmentPainter)
    return [remote.remote(config) for _ in range(slots)]


def _seconds_or_retry(ray, ref, f: SegmentedFile, segment: Segment, attempts: dict[tuple[int, int], int],
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
