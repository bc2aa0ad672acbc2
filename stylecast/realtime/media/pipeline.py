"""Wire a source, a frame transform and sinks, with decoding, inference and encoding overlapped.

Decoding runs in one thread, encoding in another, inference in the caller's (or, with
``workers`` > 1, in that many threads, frames kept in order); bounded queues between them let the
slowest stage set the pace without unbounded memory.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

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


def run_pipeline(
    frames: Iterable[Frame],
    transform: Callable[[Frame], Frame],
    write: Callable[[Frame], None],
    on_frame: Callable[[Frame], None] | None = None,
    depth: int = 8,
    workers: int = 1,
    finish: Callable[[Frame], Frame] | None = None,
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
    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    pending: deque[Future] = deque()
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
                out = pending.popleft().result() if len(pending) >= workers else None
            times.infer += time.perf_counter() - t
            if out is not None and not hand_on(out):
                break
        while pending and not stop.is_set():
            t = time.perf_counter()
            out = pending.popleft().result()
            times.infer += time.perf_counter() - t
            if not hand_on(out):
                break
        _put(done, _END, stop)
        threads[1].join()
    finally:
        stop.set()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for th in threads:
            th.join(timeout=5)
        times.wall = time.perf_counter() - started
    if times.errors:
        raise times.errors[0]
    return times
