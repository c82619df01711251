"""Forward passes over sampled turns (the policy's steps: exact prompt and response ids, block spans): response-token
log-probs and entropies, and critic values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from hiper_agents.policy import PolicyStep
from training.critic import ValueModel, pad_right, value_positions
from training.losses import token_logprobs_and_entropy

Tensor = torch.Tensor


def response_logprobs(
    model: Any, samples: Sequence[PolicyStep], pad_id: int, device: torch.device, temperature: float = 1.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Log-probs [B, W] and entropies [B, W] of each response token under log_softmax(logits / T), and the token mask.

    Trains on the exact sampled ids (prompt + response), never on re-tokenized text. Sequences are left-padded
    (positions from the attention mask, as in generation) so that every response ends at the last column and the
    LM head runs on the last W + 1 positions only (`logits_to_keep`): most of a small model's cost is its head.
    """
    lengths = [len(s.response_ids) for s in samples]
    width = max(lengths)
    sequences = [list(s.prompt_ids) + list(s.response_ids) for s in samples]
    total = max(len(seq) for seq in sequences)
    ids = torch.full((len(samples), total), pad_id, dtype=torch.long)
    attention = torch.zeros((len(samples), total), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, total - len(seq) :] = torch.tensor(seq, dtype=torch.long)
        attention[i, total - len(seq) :] = 1
    ids, attention = ids.to(device), attention.to(device)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    mask = left_padded_mask(attention, eager=_attention_kind(model) == "eager")
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=width + 1).logits
    # Kept column c < width holds the logits at sequence position total - width - 1 + c, which predict the token at
    # total - width + c (the last column predicts past the sequence: its target is a placeholder, dropped). Log-probs
    # are computed per column on the contiguous logits, then realigned so each response starts at column 0
    # (realigning, or slicing, the [B, W + 1, V] logits would copy them).
    targets = torch.nn.functional.pad(ids[:, total - width :], (0, 1), value=0)
    logp, entropy = token_logprobs_and_entropy(logits, targets, temperature)
    logp, entropy = logp[:, :width], entropy[:, :width]
    length = torch.tensor(lengths, device=device)
    k = torch.arange(width, device=device)
    mask = k[None, :] < length[:, None]
    column = (width - length[:, None] + k[None, :]).clamp(0, width - 1)
    return logp.gather(1, column) * mask, entropy.gather(1, column) * mask, mask


def left_padded_mask(attention: Tensor, eager: bool = False) -> Tensor:
    """The causal mask [B, 1, T, T] of left-padded rows, in which each pad position attends to itself.

    With the plain 2-D mask a pad query attends to nothing. SDPA's CUDA kernels return such fully masked rows finite
    in the forward pass but their backward turns NaN, and the NaN spreads to every gradient (on an H200 every actor
    step of the first GPU run had a NaN gradient norm; the right-padded critic was fine). Real queries see the same
    keys as before. `eager`: the additive float form eager attention expects (0 where allowed).
    """
    length = attention.shape[1]
    real = attention.bool()
    causal = torch.ones(length, length, dtype=torch.bool, device=attention.device).tril()
    allowed = causal[None] & real[:, None, :]  # query i sees real keys j <= i
    allowed = allowed | (torch.eye(length, dtype=torch.bool, device=attention.device)[None] & ~real[:, :, None])
    allowed = allowed[:, None]
    if not eager:
        return allowed
    return torch.zeros(allowed.shape, device=attention.device).masked_fill(~allowed, torch.finfo(torch.float32).min)


def _attention_kind(model: Any) -> str:
    config = getattr(model, "config", None)
    return str(getattr(config, "_attn_implementation", "sdpa") or "sdpa")


@dataclass(frozen=True)
class MicroBatching:
    """How turns are cut into forward passes: `turns` at a time in their order, or, with `tokens` > 0, sorted by length
    (longest first) and packed while a pass's padded size (turns x longest) stays within `tokens`, at most `turns` per
    pass (the response logits grow with the turns, whatever their length).

    Counting turns, a pass of 8 turns is 8 x 2,560 tokens at the paper's prompt and response budgets whatever the
    turns hold; a token budget keeps every pass near the same memory, and sorting keeps padding small."""

    turns: int
    tokens: int = 0

    def split(self, lengths: Sequence[int]) -> list[list[int]]:
        """Index groups (into `lengths`, each turn's prompt + response tokens) that cover every turn once."""
        n = len(lengths)
        if not self.tokens:
            return [list(range(start, min(start + self.turns, n))) for start in range(0, n, self.turns)]
        groups: list[list[int]] = []
        for i in sorted(range(n), key=lambda k: -lengths[k]):  # stable: equal lengths keep their order
            last = groups[-1] if groups else None
            if last and len(last) < self.turns and lengths[last[0]] * (len(last) + 1) <= self.tokens:
                last.append(i)  # the group's first turn is its longest
            else:
                groups.append([i])
        return groups

    def split_steps(self, samples: Sequence[PolicyStep]) -> list[list[int]]:
        """`split` over the turns' prompt + response lengths."""
        return self.split([len(s.prompt_ids) + len(s.response_ids) for s in samples])


@torch.no_grad()
def batched_logprobs(
    model: Any, samples: Sequence[PolicyStep], pad_id: int, device: torch.device, temperature: float,
    micro: MicroBatching,
) -> list[Tensor]:
    """Per turn, the log-probs of its response tokens (no gradient), in micro-batches; returned in `samples` order."""
    out: list[Tensor | None] = [None] * len(samples)
    for group in micro.split_steps(samples):
        chunk = [samples[i] for i in group]
        logp, _, _ = response_logprobs(model, chunk, pad_id, device, temperature)
        for row, (i, s) in enumerate(zip(group, chunk)):
            out[i] = logp[row, : len(s.response_ids)].float().cpu()
    return out  # type: ignore[return-value]


def critic_inputs(samples: Sequence[PolicyStep], pad_id: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Right-padded ids, attention mask and the three value positions (docs/design.md §4) per turn."""
    ids, attention = pad_right([list(s.prompt_ids) + list(s.response_ids) for s in samples], pad_id, device)
    positions = torch.tensor([value_positions(len(s.prompt_ids), s.token_spans) for s in samples], device=device)
    return ids, attention, positions


def critic_values(critic: ValueModel, samples: Sequence[PolicyStep], pad_id: int, device: torch.device,
                  micro: MicroBatching, grad: bool = False) -> Tensor:
    """Values [N, 3] (high, low, term) for every turn, in `samples` order."""
    groups = micro.split_steps(samples)
    with torch.set_grad_enabled(grad):
        parts = [critic(*critic_inputs([samples[i] for i in group], pad_id, device)) for group in groups]
    order = torch.tensor([i for group in groups for i in group], dtype=torch.long)
    return torch.cat(parts).float()[torch.argsort(order).to(parts[0].device)]
