"""Versioned plain-dict checkpoints (config + state), loadable with ``weights_only=True``."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from stylecast.atomic import atomic_path
from stylecast.errors import StylecastError
from stylecast.models.transformer import TransformerNet

CHECKPOINT_VERSION = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(Path(path)) as tmp:
        torch.save({"version": CHECKPOINT_VERSION, **state}, tmp)


def check_resume(path: Path, resume: bool) -> None:
    """A run folder's checkpoint is continued only when asked (``--resume``), and ``--resume`` only
    continues: a mistyped ``--out`` must not start hours of training over as if resumed."""
    if path.exists() and not resume:
        raise StylecastError(f"{path} exists: add --resume to continue it, or choose another --out")
    if resume and not path.exists():
        raise StylecastError(f"nothing to resume: {path} not found (check --out, or leave out --resume to start)")


def load_checkpoint(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise StylecastError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch's own message runs to several lines and suggests unsafe loading
        raise StylecastError(f"{path} is not a stylecast checkpoint: torch cannot read it as one "
                             f"({type(e).__name__}); checkpoints are the .pt files 'stylecast train' writes") from e
    if not isinstance(ckpt, dict) or ckpt.get("version") != CHECKPOINT_VERSION or "model" not in ckpt:
        raise StylecastError(f"{path} is not a stylecast checkpoint (version {CHECKPOINT_VERSION})")
    return ckpt


def net_from_checkpoint(ckpt: dict[str, Any]) -> TransformerNet:
    config = ckpt.get("config", {})
    net = TransformerNet(width=config.get("width", 32), residual_blocks=config.get("residual_blocks", 5),
                         design=config.get("design", "johnson"), input_blur=config.get("input_blur", 0.0),
                         bottleneck=config.get("bottleneck", 0))
    net.load_state_dict(ckpt["model"])
    return net.eval()


def lineage_steps(training: dict[str, Any]) -> int:
    """Training steps before this run: its --init-from parent's steps, and that parent's, and so on.

    Read from the card where recorded; for older runs, from the parent checkpoints still on disk."""
    if "parent_steps" in training:
        return int(training["parent_steps"] or 0)
    parent = training.get("init_from")
    if not parent or not Path(parent).is_file():
        return 0
    parent_training = (load_checkpoint(Path(parent)).get("card") or {}).get("training", {})
    return int(parent_training.get("steps", 0) or 0) + lineage_steps(parent_training)


def check_finite(terms: dict[str, float], step: int, checkpoint: Path) -> None:
    """Stop a run whose loss is no longer a number (too high a learning rate, a degenerate design):
    every step after it would only write NaN weights over the last good checkpoint."""
    total = terms.get("total", 0.0)
    if math.isfinite(total):
        return
    kept = f"the last checkpoint, {checkpoint}, is from before it" if Path(checkpoint).is_file() else "no checkpoint was written"
    raise StylecastError(f"training diverged at step {step}: the loss is {total}; {kept}. Try a lower --lr "
                         f"(or another design) and start again")
