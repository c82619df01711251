"""Policy and value losses (docs/design.md §3-§4): per-token advantages by block, clipped surrogate, KL, entropy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from training.advantages import Advantages

Tensor = torch.Tensor


def token_advantages(
    adv: Advantages, spans: Sequence[dict[str, tuple[int, int]]], lengths: Sequence[int], width: int
) -> tuple[Tensor, Tensor]:
    """Per-token advantage [N, width] and loss mask: A^low on <action>, A^H on <subgoal> of segment starts, A^sw on <switch>.

    Tags are inside the spans. A turn without an <action> block gives A^low to its whole response. Flat
    estimators put their one advantage on every response token. Tokens outside every block (whitespace between
    blocks, the end-of-turn token, the subgoal of a KEEP turn) get no gradient. Overlaps add.
    """
    n = len(lengths)
    values = torch.zeros(n, width)
    mask = torch.zeros(n, width, dtype=torch.bool)
    low, high, switch = adv.low.tolist(), adv.high.tolist(), adv.switch.tolist()
    carries_high, carries_switch = adv.carries_high.tolist(), adv.carries_switch.tolist()
    for i, (turn_spans, length) in enumerate(zip(spans, lengths)):
        length = min(length, width)
        if adv.flat:
            values[i, :length] = low[i]
            mask[i, :length] = True
            continue
        start, end = turn_spans.get("action", (0, length))
        values[i, start:end] += low[i]
        mask[i, start:end] = True
        if carries_high[i] and "subgoal" in turn_spans:
            start, end = turn_spans["subgoal"]
            values[i, start:end] += high[i]
            mask[i, start:end] = True
        if carries_switch[i] and "switch" in turn_spans:
            start, end = turn_spans["switch"]
            values[i, start:end] += switch[i]
            mask[i, start:end] = True
    return values, mask


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Token-mean of x over mask (0 when the mask is empty)."""
    mask = mask.to(x.dtype)
    return (x * mask).sum() / mask.sum().clamp_min(1.0)


def clipped_surrogate(logp: Tensor, old_logp: Tensor, adv: Tensor, clip_eps: float, dual_clip: float) -> Tensor:
    """Per-token PPO loss -min(r A, clip(r) A), with the dual clip max(., -c A) bound for A < 0."""
    ratio = torch.exp(logp - old_logp)
    loss = torch.maximum(-adv * ratio, -adv * ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps))
    dual = torch.minimum(loss, -adv * dual_clip)
    return torch.where(adv < 0, dual, loss)


def kl_k3(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Per-token k3 estimate of KL(pi || pi_ref): exp(ref - logp) - (ref - logp) - 1 (clamped like verl's low_var_kl)."""
    diff = (ref_logp - logp).clamp(-20.0, 20.0)
    return (torch.exp(diff) - diff - 1.0).clamp(-10.0, 10.0)


# Positions x vocabulary entries per chunk of `token_logprobs_and_entropy`: about 5 fp32 copies of a chunk are alive
# at its backward (0.625 GiB at most).
CHUNK_ELEMENTS = 2**25
CHUNK_COPIES = 5


def token_logprobs_and_entropy(logits: Tensor, targets: Tensor, temperature: float = 1.0,
                               chunk_elements: int = CHUNK_ELEMENTS) -> tuple[Tensor, Tensor]:
    """Log-prob of each target token and the entropy, under log_softmax(logits / T) (the sampler's convention).

    Computed in fp32 over chunks of positions, each chunk's fp32 log-softmax recomputed in the backward pass
    (activation checkpointing): only one chunk's fp32 copies are alive at a time, not three of the whole [.., V]
    logits (4 turns x 513 positions x 152k entries are 1.2 GB each). Pass contiguous logits: a strided view is copied
    whole by the reshape."""
    shape = targets.shape
    flat, flat_targets = logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    rows = max(1, chunk_elements // logits.shape[-1])
    grad = torch.is_grad_enabled() and logits.requires_grad
    parts = []
    for start in range(0, flat.shape[0], rows):
        args = (flat[start : start + rows], flat_targets[start : start + rows], temperature)
        if grad:
            parts.append(torch.utils.checkpoint.checkpoint(_logprobs_and_entropy, *args, use_reentrant=False))
        else:
            parts.append(_logprobs_and_entropy(*args))
    if not parts:  # no positions: zeros still in the graph, so a loss built on them can call backward
        empty = logits.sum(-1).to(torch.promote_types(logits.dtype, torch.float32)) * 0
        return empty, empty
    logp = torch.cat([p[0] for p in parts]).reshape(shape)
    entropy = torch.cat([p[1] for p in parts]).reshape(shape)
    return logp, entropy


def _logprobs_and_entropy(logits: Tensor, targets: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
    # half-precision softmax loses the ratio's accuracy: fp32 (the input's own precision when higher)
    scaled = logits.to(torch.promote_types(logits.dtype, torch.float32)) / temperature
    logp_all = F.log_softmax(scaled, dim=-1)
    del scaled  # not saved for backward: one copy fewer alive
    logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    # sum_v p_v log p_v as a batched dot product: no [rows, V] product tensor
    entropy = -torch.einsum("rv,rv->r", logp_all.exp(), logp_all)
    return logp, entropy


@dataclass
class PolicyLossTerms:
    """The parts of the policy loss, each a token-mean over the mask."""

    loss: Tensor
    pg: Tensor
    kl: Tensor
    entropy: Tensor
    clip_frac: Tensor


def policy_loss(
    logp: Tensor,
    old_logp: Tensor,
    ref_logp: Tensor | None,
    entropy: Tensor,
    adv: Tensor,
    mask: Tensor,
    clip_eps: float = 0.2,
    dual_clip: float = 3.0,
    kl_coef: float = 0.01,
    entropy_coef: float = 0.001,
) -> PolicyLossTerms:
    """Token-mean clipped surrogate + kl_coef * KL(k3) - entropy_coef * entropy."""
    pg = masked_mean(clipped_surrogate(logp, old_logp, adv, clip_eps, dual_clip), mask)
    kl = masked_mean(kl_k3(logp, ref_logp), mask) if ref_logp is not None else torch.zeros((), device=logp.device)
    ent = masked_mean(entropy, mask)
    ratio = torch.exp(logp - old_logp)
    clip_frac = masked_mean(((ratio - 1.0).abs() > clip_eps).float(), mask)
    loss = pg + kl_coef * kl - entropy_coef * ent
    return PolicyLossTerms(loss=loss, pg=pg.detach(), kl=kl.detach(), entropy=ent.detach(), clip_frac=clip_frac.detach())


def value_loss(values: Tensor, old_values: Tensor, targets: Tensor, mask: Tensor, clip: float = 0.5) -> Tensor:
    """Clipped value loss 0.5 * max((v - R)^2, (v_old + clip(v - v_old) - R)^2), mean over masked turns."""
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    loss = 0.5 * torch.maximum((values - targets) ** 2, (clipped - targets) ** 2)
    return masked_mean(loss, mask)
