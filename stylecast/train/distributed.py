"""Training on several processes under ``torchrun`` (one per GPU, or several CPU processes):
data split across ranks, gradients averaged every step, the loss logged and checkpoints written
by rank 0 alone.

torchrun sets WORLD_SIZE, RANK and LOCAL_RANK; without them (a plain ``stylecast train``) there is
one rank and nothing here does anything. The perceptual training step runs the network once and
trains through DistributedDataParallel. Distillation and the temporal and stability losses run the
network several times per step, which DDP's reducer does not take (it expects one forward pass per
backward): those average their gradients with one all-reduce per step over a flat copy of them, as
the reducer would.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from stylecast.errors import StylecastError


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1


def _env_int(name: str, default: int) -> int:
    text = os.environ.get(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise StylecastError(f"{name}={text!r} is not a whole number: torchrun sets it; unset it to train in one "
                             f"process") from None


def ranks_from_env() -> Ranks:
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return Ranks()
    return Ranks(_env_int("RANK", 0), world, _env_int("LOCAL_RANK", 0))


def start(ranks: Ranks, device: torch.device) -> None:
    """Join the process group: nccl between GPUs, gloo between CPU processes."""
    if not ranks.distributed or torch.distributed.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    try:
        torch.distributed.init_process_group(backend=backend)
    except (RuntimeError, ValueError) as e:
        raise StylecastError(f"cannot join the other {ranks.world - 1} training process(es): {str(e).splitlines()[0][:200]}") from e


def stop(ranks: Ranks) -> None:
    if ranks.distributed and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def local_batch(batch: int, ranks: Ranks) -> int:
    """Each rank's share of the global ``--batch``."""
    if batch % ranks.world:
        raise StylecastError(f"--batch {batch} does not split over {ranks.world} processes: give a multiple of {ranks.world}")
    return batch // ranks.world


def same_start(module: torch.nn.Module, ranks: Ranks) -> None:
    """Every rank starts from rank 0's weights (a resumed or fine-tuned one as much as a fresh one)."""
    if ranks.distributed:
        for tensor in module.state_dict().values():
            torch.distributed.broadcast(tensor, src=0)


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``module`` in DistributedDataParallel (which also starts every rank from rank 0's weights)."""
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def average_gradients(parameters: list[torch.nn.Parameter], ranks: Ranks) -> None:
    if not ranks.distributed:
        return
    grads = [p.grad for p in parameters if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= ranks.world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def average_terms(terms: dict[str, float], ranks: Ranks, device: torch.device) -> dict[str, float]:
    """The loss terms averaged over ranks: the loss of the global batch, the same on every rank."""
    if not ranks.distributed:
        return terms
    keys = sorted(terms)
    values = torch.tensor([terms[k] for k in keys], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(values)
    values /= ranks.world
    return dict(zip(keys, values.tolist()))


def barrier(ranks: Ranks) -> None:
    if ranks.distributed:
        torch.distributed.barrier()
