"""The decode -> stylize -> encode pipeline: order, parallel workers, errors."""
import random
import threading
import time

import numpy as np
import pytest

from stylecast.realtime.media.pipeline import run_pipeline
from stylecast.realtime.media.sources import Frame


def _frames(n: int) -> list[Frame]:
    return [Frame(np.full((4, 4, 3), i, np.uint8), i) for i in range(n)]


@pytest.mark.parametrize("workers", [1, 3])
def test_frames_reach_finish_and_the_writer_in_order_whatever_each_takes(workers):
    rng = random.Random(workers)
    delays = [rng.uniform(0, 0.01) for _ in range(30)]

    def transform(frame: Frame) -> Frame:
        time.sleep(delays[frame.index])  # later frames often finish first with several workers
        return Frame(frame.image + 1, frame.index)

    finished, written = [], []
    times = run_pipeline(_frames(30), transform, lambda f: written.append(f),
                         workers=workers, finish=lambda f: finished.append(f.index) or f)
    assert finished == list(range(30))
    assert [f.index for f in written] == list(range(30))
    assert all(int(f.image[0, 0, 0]) == f.index + 1 for f in written)
    assert times.frames == 30


def test_an_error_in_a_worker_reaches_the_caller():
    def transform(frame: Frame) -> Frame:
        if frame.index == 5:
            raise RuntimeError("frame 5 is bad")
        return frame

    with pytest.raises(RuntimeError, match="frame 5"):
        run_pipeline(_frames(20), transform, lambda f: None, workers=2)
    with pytest.raises(ValueError, match="workers"):
        run_pipeline(_frames(2), transform, lambda f: None, workers=0)


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_while_painting_ends_every_stage_at_once(workers):
    """The encoder waited on its queue for good, so each Ctrl-C of `video` took the 5 s of the
    join's timeout and left that thread behind."""
    before = threading.active_count()

    def transform(frame: Frame) -> Frame:
        if frame.index == 6:
            raise KeyboardInterrupt
        return frame

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(_frames(40), transform, lambda f: None, workers=workers)
    deadline = time.time() + 3  # the pool's idle workers take their end-of-work marker
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before, "a stage thread was left waiting"


def test_a_stuck_worker_ends_the_run_in_one_line_and_cannot_hold_the_process(tmp_path):
    """A runtime deadlocked inside a call (as an identity model on two OpenVINO streams once was):
    the run ends with a StylecastError once the frame is overdue, and the process exits although
    the stuck thread never returns."""
    import subprocess
    import sys

    script = tmp_path / "stuck.py"
    script.write_text(
        "import threading, time, numpy as np\n"
        "from stylecast.errors import StylecastError\n"
        "from stylecast.realtime.media.pipeline import run_pipeline\n"
        "from stylecast.realtime.media.sources import Frame\n"
        "never = threading.Event()\n"
        "def transform(frame):\n"
        "    if frame.index == 3:\n"
        "        never.wait()  # stuck for good\n"
        "    return frame\n"
        "frames = [Frame(np.zeros((4, 4, 3), np.uint8), i) for i in range(20)]\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    run_pipeline(frames, transform, lambda f: None, workers=2, stall_s=1.0)\n"
        "except StylecastError as e:\n"
        "    print(f'{time.perf_counter() - started:.1f}', e)\n"
    )
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    took, message = r.stdout.split(" ", 1)
    assert 1.0 <= float(took) < 10
    assert message.startswith("a painting worker made no progress for 1 s")
