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
    times = StageTimes()
    stop = threading.Event()
    decoded: queue.Queue = queue.Queue(depth)
    done: queue.Queue = queue.Queue(depth)

    def decode() -> None:
        try:
            it = iter(frames)
            while not stop.is_set():
                t = time.perf_counter()
                frame = next(it, _END)
                times.decode += time.perf_counter() - t
                if not _put(decoded, frame, stop) or frame is _END:
                    return
        except BaseException as e:  # handed to the main thread
            times.errors.append(e)
            _put(decoded, _END, stop)

    def encode() -> None:
        try:
            while True:
                item = done.get()
                if item is _END:
                    return
                t = time.perf_counter()
                write(item)
                times.encode += time.perf_counter() - t
                if on_frame is not None:
                    on_frame(item)
        except BaseException as e:
            times.errors.append(e)
            stop.set()

    def hand_on(out: Frame) -> bool:
        if finish is not None:
            out = finish(out)
        times.frames += 1
        return _put(done, out, stop)

    started = time.perf_counter()
    threads = [threading.Thread(target=decode, daemon=True), threading.Thread(target=encode, daemon=True)]
    for th in threads:
        th.start()
    pool = _DaemonPool(workers) if workers > 1 else None
    pending: deque[Future] = deque()
    slowest = 0.0

    def oldest() -> Frame:
        nonlocal slowest
        waited = time.perf_counter()
        limit = max(stall_s, 20 * slowest)
        try:
            out = pending.popleft().result(timeout=limit)
        except FutureTimeout:
            raise StylecastError(f"a painting worker made no progress for {limit:.0f} s (stuck inside the runtime); "
                                 f"run again, or with --streams 1") from None
        slowest = max(slowest, time.perf_counter() - waited)
        return out
    try:
        while not stop.is_set():
            try:
                frame = decoded.get(timeout=0.1)
            except queue.Empty:
                continue
            if frame is _END:
                break
            t = time.perf_counter()
            if pool is None:
                out = transform(frame)
            else:  # keep every worker busy; wait only for the oldest frame, so the order holds
                pending.append(pool.submit(transform, frame))
                out = oldest() if len(pending) >= workers else None
            times.infer += time.perf_counter() - t
            if out is not None and not hand_on(out):
                break
        while pending and not stop.is_set():
            t = time.perf_counter()
            out = oldest()
            times.infer += time.perf_counter() - t
            if not hand_on(out):
                break
        _put(done, _END, stop)
        threads[1].join()
    finally:
        stop.set()
        if pool is not None:
            for future in pending:
                future.cancel()
            pool.shutdown()
        for th in threads:
            th.join(timeout=5)
        times.wall = time.perf_counter() - started
    if times.errors:
        raise times.errors[0]
    return times
