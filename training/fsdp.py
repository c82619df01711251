"""FSDP2 sharding for `torchrun` runs whose models do not fit one device (`model.fsdp=true`).

Under FSDP every forward and backward of a sharded module is a collective, so ranks must call them in lockstep. Our
ranks do not: each generates for its own episodes (different token counts) and owns different numbers of turns.
Two rules keep them in step:
- passes without gradient (generation, pi_old, reference and critic values) run inside `gathered(model)`: the
  parameters are all-gathered once and kept whole, so those forwards need no collective (memory as for one copy);
- the gradient passes of a mini-batch are padded to the same number of micro-batches on every rank with
  zero-weight micro-batches (`lockstep_count`), so every rank joins every gradient reduce-scatter.
Gradients are summed over ranks (divide factor 1), as `distributed.sum_gradients` does for DDP, so one FSDP step on a
global mini-batch is one process's step on the same turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from training.distributed import DistInfo


def _blocks(model: nn.Module) -> list[nn.Module]:
    """The transformer blocks: each becomes its own FSDP unit, so only one block's weights are whole at a time."""
    return [m for m in model.modules() if type(m).__name__.endswith(("DecoderLayer", "Block"))]


def shard_model(model: nn.Module) -> nn.Module:
    """Shard `model` in place across the default process group: each transformer block, then the root."""
    from torch.distributed.fsdp import fully_shard

    blocks = _blocks(model)
    if not blocks:
        raise ValueError(f"model.fsdp: found no transformer blocks (*DecoderLayer) to shard in {type(model).__name__}")
    for block in blocks:
        fully_shard(block)
    fully_shard(model)
    for unit in fsdp_units(model):
        unit.set_gradient_divide_factor(1.0)  # sum over ranks: the loss already divides by the global token count
        unit.set_force_sum_reduction_for_comms(True)  # plain SUM (gloo has no pre-multiplied sum)
    return model


def shard_from_rank0(model: nn.Module, device: torch.device, info: DistInfo) -> nn.Module:
    """Shard `model` when only rank 0 holds its weights (on CPU) and the other ranks built it on the meta device.

    Each block is sharded, the shards are allocated on `device`, and rank 0's weights are broadcast tensor by tensor,
    each rank keeping its shard: no GPU ever holds a whole model, and only rank 0's host memory holds one. Buffers
    outside the state dict (rotary frequencies) are copied from rank 0 as well.
    """
    import torch.distributed as dist
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    state = {name: t.detach() for name, t in model.state_dict().items()} if info.is_main else {}
    buffers = [{name: b.detach().clone() for name, b in model.named_buffers()} if info.is_main else None]
    dist.broadcast_object_list(buffers, src=0)
    shard_model(model)
    model.to_empty(device=device)
    set_model_state_dict(model, state, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            buffer.copy_(buffers[0][name].to(buffer.device, buffer.dtype))
    return model


class StreamedWeights:
    """A sharded model's whole weights as `.items()`, gathered one tensor at a time while they are iterated.

    Each gather is a collective: every rank must iterate to the end, in the same order (ranks that do not use the
    tensors iterate anyway). Peak memory is one whole tensor, not a whole model."""

    def __init__(self, model: nn.Module):
        self.model = model

    def items(self) -> Iterator[tuple[str, torch.Tensor]]:
        """(name, whole tensor) pairs in state-dict order."""
        from torch.distributed.tensor import DTensor

        for name, tensor in self.model.state_dict().items():
            yield name, tensor.full_tensor() if isinstance(tensor, DTensor) else tensor


def fsdp_units(model: nn.Module | None) -> list[Any]:
    """The FSDP-managed modules inside `model` (empty when it is not sharded)."""
    if model is None:
        return []
    from torch.distributed.fsdp import FSDPModule

    return [m for m in model.modules() if isinstance(m, FSDPModule)]


def is_sharded(model: nn.Module | None) -> bool:
    """Whether `model` was sharded by `shard_model`."""
    return bool(fsdp_units(model))


@contextmanager
def gathered(*models: nn.Module | None) -> Iterator[None]:
    """Keep the parameters of sharded `models` whole inside the block, so forwards need no collective.

    Every rank must enter and leave together (the gather and the release are collectives); what happens inside may
    differ per rank. A no-op for models that are not sharded.
    """
    units = [u for m in models for u in fsdp_units(m)]
    for unit in units:
        unit.set_reshard_after_forward(False)
        unit.unshard()
    try:
        yield
    finally:
        for unit in units:
            unit.reshard()
            unit.set_reshard_after_forward(True)


def lockstep_count(local: int, info: DistInfo) -> int:
    """The largest per-rank count of micro-batches: every rank runs that many gradient passes."""
    if not info.enabled:
        return local
    import torch.distributed as dist

    count = torch.tensor([local], dtype=torch.int64)
    dist.all_reduce(count, op=dist.ReduceOp.MAX)
    return int(count.item())


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The whole model's weights: a sharded model's as plain CPU tensors on rank 0 only (empty elsewhere; the weight
    sync streams them instead, `StreamedWeights`); an unsharded model's own state_dict on every rank."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    if not is_sharded(model):
        return model.state_dict()
    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return {k: v.detach().cpu() for k, v in state.items()}


def full_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any] | None:
    """The optimizer's whole state: for a sharded model unsharded and keyed by parameter name (on rank 0; empty
    elsewhere; None while it has no state yet); otherwise the optimizer's own state_dict."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    if not is_sharded(model):
        return optimizer.state_dict()
    if not optimizer.state:  # before the first step: get_optimizer_state_dict would take a zero-gradient step to
        return None  # create the state, and AdamW's step count then changes every later update (the SFT checkpoint)
    return get_optimizer_state_dict(model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    """Load what `full_optimizer_state` returned (every rank passes the same full state) into a sharded optimizer."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    set_optimizer_state_dict(model, optimizer, optim_state_dict=state, options=StateDictOptions(full_state_dict=True))
