"""Weight averaging of fine-tuned runs ("model soups", Wortsman et al. 2022).

Runs fine-tuned from one parent with different loss weights stay close in weight space, so a
weighted mean of their parameters is itself a working network. For video styles it reaches
points a single short fine-tune does not: averaging a steadier run with one trained at a higher
style weight keeps most of the first one's steadiness at less style cost (see the card of
``cafe_terrace_fast_steady``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stylecast.errors import StylecastError
from stylecast.realtime.media.outputs import ensure_writable
from stylecast.train.checkpoint import lineage_steps, load_checkpoint, save_checkpoint


def average_state(states: list[dict[str, torch.Tensor]], weights: list[float]) -> dict[str, torch.Tensor]:
    """Weighted mean of float tensors; integer buffers (counters) are taken from the first state."""
    if len(states) != len(weights) or not states:
        raise StylecastError("give one weight per run")
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise StylecastError(f"weights must be >= 0 with a positive sum, not {weights}")
    keys = set(states[0])
    for s in states[1:]:
        if set(s) != keys or any(s[k].shape != states[0][k].shape for k in keys):
            raise StylecastError("the runs are different networks (width, design or layers differ): cannot average them")
    out = {}
    for k, first in states[0].items():
        if first.is_floating_point():
            out[k] = sum(w / total * s[k].float() for s, w in zip(states, weights)).to(first.dtype)
        else:
            out[k] = first.clone()
    return out


def average_runs(checkpoints: list[Path], weights: list[float], out: Path, name: str | None = None) -> dict[str, Any]:
    """Write ``out/checkpoint.pt`` with the averaged weights; its card records the ingredients."""
    ckpts = [load_checkpoint(Path(p)) for p in checkpoints]
    blurs = {float(c.get("config", {}).get("input_blur", 0.0)) for c in ckpts}
    if len(blurs) > 1:  # same weights, different input: the average would suit neither
        raise StylecastError(f"the runs blur their input differently ({sorted(blurs)}): cannot average them")
    state = average_state([c["model"] for c in ckpts], weights)
    out = Path(out)
    ensure_writable(out)
    name = name or out.name
    total = float(sum(weights))
    base = ckpts[0]
    card = dict(base.get("card") or {})
    training = dict(card.get("training") or {})
    training["averaged_from"] = [
        {"run": str(Path(p).parent.name), "share": round(w / total, 4), "training": (c.get("card") or {}).get("training", {})}
        for p, w, c in zip(checkpoints, weights, ckpts)
    ]
    training.pop("final_losses", None)  # losses of one ingredient, not of the average
    training["parent_steps"] = lineage_steps(training)
    training["steps"] = max(int((c.get("card") or {}).get("training", {}).get("steps", 0) or 0) for c in ckpts)
    card.update(name=name, training=training)
    result = {"config": {**base.get("config", {}), "out": str(out)}, "step": 0, "elapsed": 0.0, "model": state, "history": [], "card": card}
    save_checkpoint(out / "checkpoint.pt", result)
    return result
