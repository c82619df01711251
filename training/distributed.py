"""Data-parallel training across processes (`torchrun --nproc-per-node N -m training.run ...`).

Each rank plays its share of the episodes; the turns are gathered so every rank computes the same advantages over
the global batch (normalisation is global); each rank then back-propagates only the turns it played, and the
gradients are summed across ranks before every optimiser step. With the global token count as the loss
denominator this is the same update as one process on the whole batch (up to summation order).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the group."""

    rank: int = 0
    world: int = 1

    @property
    def enabled(self) -> bool:
        """Whether more than one process trains."""
        return self.world > 1

    @property
    def is_main(self) -> bool:
        """Rank 0 writes logs, evaluations and checkpoints."""
        return self.rank == 0


def init_from_env(device: torch.device) -> DistInfo:
    """Join the process group torchrun describes (WORLD_SIZE > 1); gloo on CPU, nccl for CUDA tensors on CUDA."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if device.type == "cuda":  # one GPU per rank: "cuda" then means this rank's device
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        # On CUDA, CPU tensors (our small metric and count reductions) still go through gloo.
        dist.init_process_group("cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo")
    return DistInfo(rank=dist.get_rank(), world=dist.get_world_size())


TORCHRUN_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR", "MASTER_PORT")


def rank_gpu(local_rank: int, visible: str | None) -> str:
    """The physical GPU id of a local rank: its entry of CUDA_VISIBLE_DEVICES when that is set, else the rank."""
    ids = [d.strip() for d in (visible or "").split(",") if d.strip()]
    if ids and local_rank >= len(ids):
        raise ValueError(f"local rank {local_rank} has no GPU: CUDA_VISIBLE_DEVICES={visible!r} lists {len(ids)}")
    return ids[local_rank] if ids else str(local_rank)


@contextmanager
def engine_sees_only_this_rank_gpu() -> Iterator[None]:
    """While a vLLM engine process is spawned, show it only this rank's GPU (its cuda:0 is then ours).

    A vLLM engine takes no device argument and starts on cuda:0 of what it can see, so under torchrun every rank's
    engine landed on GPU 0. The variable is restored after the spawn; this process's own CUDA context is untouched.
    """
    names = ("CUDA_VISIBLE_DEVICES", *TORCHRUN_VARIABLES)
    previous = {name: os.environ.get(name) for name in names}
    gpu = rank_gpu(int(os.environ.get("LOCAL_RANK", "0")), previous["CUDA_VISIBLE_DEVICES"])
    for name in TORCHRUN_VARIABLES:  # the engine is a process of its own, not a member of our group
        os.environ.pop(name, None)
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def shard(items: Sequence[Any], info: DistInfo) -> list[Any]:
    """This rank's share: items rank, rank + world, ..."""
    return list(items[info.rank :: info.world])


def gather_objects(obj: Any, info: DistInfo) -> list[Any]:
    """Every rank's `obj`, in rank order (a list of one without distribution)."""
    if not info.enabled:
        return [obj]
    out: list[Any] = [None] * info.world
    dist.all_gather_object(out, obj)
    return out


def all_reduce_sum(value: float, info: DistInfo) -> float:
    """Sum of a number over ranks."""
    if not info.enabled:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor)
    return float(tensor.item())


def sum_gradients(params: Iterable[torch.nn.Parameter], info: DistInfo) -> None:
    """Sum every parameter's gradient over ranks (a rank without a gradient contributes zeros)."""
    if not info.enabled:
        return
    for p in params:
        if not p.requires_grad:
            continue
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)


def barrier(info: DistInfo) -> None:
    """Wait for every rank."""
    if info.enabled:
        dist.barrier()
