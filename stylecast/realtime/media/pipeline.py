"""Wire a source, a frame transform and sinks, with decoding, inference and encoding overlapped.

Decoding runs in one thread, encoding in another, inference in the caller's (or, with
``workers`` > 1, in that many threads, frames kept in order); bounded queues between them let the
slowest stage set the pace without unbounded memory.

A worker that stops making progress (a runtime deadlocked inside a call, as an identity model on
two OpenVINO streams once did) ends the run with one line instead of hanging it: the caller waits
for each frame at most ``stall_s`` (or 20 times the slowest frame so far, if longer), and the
workers are daemon threads, so a stuck one cannot hold the process open at exit either.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for_futures
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

from stylecast.errors import StylecastError
from stylecast.realtime.media.sources import Frame

_END = object()


@dataclass
class StageTimes:
    """Seconds spent in each stage, to show where the time goes."""

    decode: float = 0.0
    infer: float = 0.0
    encode: float = 0.0
    frames: int = 0
    wall: float = 0.0
    errors: list[BaseException] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.wall if self.wall else 0.0


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


class _DaemonPool:
    """A fixed set of daemon threads running submitted calls (a ThreadPoolExecutor's threads are
    joined at interpreter exit, so one stuck in native code would keep the process alive)."""

    def __init__(self, workers: int) -> None:
        self._jobs: queue.Queue = queue.Queue()
        for _ in range(workers):
            threading.Thread(target=self._work, daemon=True).start()
        self._workers = workers

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, arg = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(arg))
                except BaseException as e:
                    future.set_exception(e)

    def submit(self, fn: Callable, arg) -> Future:
        future: Future = Future()
        self._jobs.put((future, fn, arg))
        return future

    def shutdown(self) -> None:
        """Let idle workers end; never waits for a busy one."""
        for _ in range(self._workers):
            self._jobs.put(None)


# No frame takes this long on any network we ship: a 4K frame of a full-width style on 2 AVX2
# cores takes a few seconds.
STALL_S = 120.0
# How long a stopped run waits for the frames being painted: more than any frame we ship takes
# (unless one has been seen to take longer), less than a user waits before pressing Ctrl-C again.
FINISH_S = 10.0


class _Run:
    """One run of the pipeline: its queues, threads and worker pool, and the time spent in each stage."""

    def __init__(self, frames: Iterable[Frame], transform: Callable[[Frame], Frame], write: Callable[[Frame], None],
                 on_frame: Callable[[Frame], None] | None, depth: int, workers: int,
                 finish: Callable[[Frame], Frame] | None, stall_s: float) -> None:
        self.frames, self.transform, self.write, self.on_frame = frames, transform, write, on_frame
        self.finish, self.stall_s, self.workers = finish, stall_s, workers
        self.times = StageTimes()
        self.stop = threading.Event()
        self.decoded: queue.Queue = queue.Queue(depth)
        self.done: queue.Queue = queue.Queue(depth)
        self.pool = _DaemonPool(workers) if workers > 1 else None
        self.pending: deque[Future] = deque()
        self.slowest = 0.0  # seconds the slowest frame was waited for
        self.stalled = False  # a worker made no progress: nothing to wait for at the end

    def decode(self) -> None:
        try:
            it = iter(self.frames)
            while not self.stop.is_set():
                t = time.perf_counter()
                frame = next(it, _END)
                self.times.decode += time.perf_counter() - t
                if not _put(self.decoded, frame, self.stop) or frame is _END:
                    return
        except BaseException as e:  # handed to the main thread
            self.times.errors.append(e)
            _put(self.decoded, _END, self.stop)

    def encode(self) -> None:
        try:
            while (item := self._next_done()) is not _END:
                t = time.perf_counter()
                self.write(item)
                self.times.encode += time.perf_counter() - t
                if self.on_frame is not None:
                    self.on_frame(item)
        except BaseException as e:
            self.times.errors.append(e)
            self.stop.set()

    def _next_done(self) -> Frame | object:
        """The next painted frame, or _END once painting has ended or been stopped (Ctrl-C: the
        encoder must not wait on a queue nothing fills any more, or stopping takes the join's 5 s)."""
        while True:
            try:
                return self.done.get(timeout=0.1)
            except queue.Empty:
                if self.stop.is_set():
                    return _END

    def hand_on(self, out: Frame) -> bool:
        if self.finish is not None:
            out = self.finish(out)
        self.times.frames += 1
        return _put(self.done, out, self.stop)

    def oldest(self) -> Frame:
        """The oldest frame in the workers' hands, once painted; a stuck worker ends the run."""
        waited = time.perf_counter()
        limit = max(self.stall_s, 20 * self.slowest)
        try:
            # left in ``pending`` until done, so a Ctrl-C while waiting here still waits for its worker
            out = self.pending[0].result(timeout=limit)
            self.pending.popleft()
        except FutureTimeout:
            self.stalled = True
            raise StylecastError(f"a painting worker made no progress for {limit:.0f} s (stuck inside the runtime); "
                                 f"run again, or with --streams 1") from None
        self.slowest = max(self.slowest, time.perf_counter() - waited)
        return out

    def paint(self, frame: Frame) -> Frame | None:
        """``frame`` painted, or with workers, the oldest frame painted (None while they fill up)."""
        t = time.perf_counter()
        if self.pool is None:
            out = self.transform(frame)
        else:  # keep every worker busy; wait only for the oldest frame, so the order holds
            self.pending.append(self.pool.submit(self.transform, frame))
            out = self.oldest() if len(self.pending) >= self.workers else None
        self.times.infer += time.perf_counter() - t
        return out

    def paint_all(self) -> None:
        while not self.stop.is_set():
            try:
                frame = self.decoded.get(timeout=0.1)
            except queue.Empty:
                continue
            if frame is _END:
                break
            out = self.paint(frame)
            if out is not None and not self.hand_on(out):
                return
        while self.pending and not self.stop.is_set():
            t = time.perf_counter()
            out = self.oldest()
            self.times.infer += time.perf_counter() - t
            if not self.hand_on(out):
                return

    def _let_painting_frames_finish(self) -> None:
        """Cancel the frames not started, and wait (bounded) for those a worker is painting: a
        worker thread left inside the runtime while the process exits (Ctrl-C) aborts it with
        SIGABRT, the runtime's model freed under it."""
        running = [future for future in self.pending if not future.cancel()]
        if running and not self.stalled:
            wait_for_futures(running, timeout=max(FINISH_S, 3 * self.slowest))

    def __call__(self) -> StageTimes:
        started = time.perf_counter()
        decoder, encoder = threading.Thread(target=self.decode, daemon=True), threading.Thread(target=self.encode, daemon=True)
        decoder.start()
        encoder.start()
        try:
            self.paint_all()
            _put(self.done, _END, self.stop)
            encoder.join()
        finally:
            self.stop.set()
            if self.pool is not None:
                self._let_painting_frames_finish()
                self.pool.shutdown()
            for th in (decoder, encoder):
                th.join(timeout=5)
            self.times.wall = time.perf_counter() - started
        if self.times.errors:
            raise self.times.errors[0]
        return self.times


def run_pipeline(
    frames: Iterable[Frame],
    transform: Callable[[Frame], Frame],
    write: Callable[[Frame], None],
    on_frame: Callable[[Frame], None] | None = None,
    depth: int = 8,
    workers: int = 1,
    finish: Callable[[Frame], Frame] | None = None,
    stall_s: float = STALL_S,
) -> StageTimes:
    """Decode -> transform -> finish -> write, overlapped; re-raises the first error from any stage.

    ``transform`` may run on ``workers`` frames at once (it must be thread-safe then); ``finish``
    (e.g. temporal smoothing, which needs the previous output) sees the frames one by one, in order.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    return _Run(frames, transform, write, on_frame, depth, workers, finish, stall_s)()
