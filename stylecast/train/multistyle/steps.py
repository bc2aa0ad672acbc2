"""The step loop of the multi-style trainers: progress, a mean of the losses and a checkpoint every
few steps, and a checkpoint on Ctrl-C, so that any run resumes where it stopped."""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from stylecast.train.checkpoint import check_finite


class Resumable(Protocol):
    checkpoint_path: Path
    step: int
    elapsed: float
    history: list[dict[str, float]]

    def save(self) -> None: ...


def run_steps(trainer: Resumable, train_step: Callable[[], dict[str, float]], total: int, save_every: int,
              desc: str, quiet: bool) -> None:
    """Call ``train_step`` until ``trainer.step`` reaches ``total``; ``history`` gets each window's mean losses."""
    bar = tqdm(total=total, initial=trainer.step, desc=desc, unit="step", disable=quiet)
    start = time.monotonic() - trainer.elapsed
    window: list[dict[str, float]] = []
    try:
        while trainer.step < total:
            window.append(train_step())
            check_finite(window[-1], trainer.step, trainer.checkpoint_path)
            bar.update()
            if trainer.step % save_every == 0 or trainer.step == total:
                mean = {k: float(np.mean([w.get(k, 0.0) for w in window])) for k in window[-1]}
                trainer.elapsed = time.monotonic() - start
                trainer.history.append({"step": trainer.step, "elapsed": round(trainer.elapsed, 1), **mean})
                window = []
                trainer.save()
                bar.set_postfix(loss=f"{mean.get('total', 0.0):.4g}")
                if quiet:
                    print(f"step {trainer.step}: " + " ".join(f"{k} {v:.4g}" for k, v in mean.items()), flush=True)
    except KeyboardInterrupt:
        trainer.elapsed = time.monotonic() - start
        trainer.save()
        raise
    finally:
        bar.close()
