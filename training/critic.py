"""The value model (docs/design.md §4): a transformer backbone with three scalar heads, V_high, V_low and V_term."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import torch
from torch import nn

HEADS = ("high", "low", "term")
CRITIC_ADAPTER = "critic"  # the adapter name of a critic that shares the actor's frozen base (`AdapterCritic`)
Tensor = torch.Tensor


def value_positions(prompt_len: int, spans: dict[str, tuple[int, int]]) -> tuple[int, int, int]:
    """Sequence positions whose hidden states give V_high, V_low and V_term for one turn.

    V_high and V_term read the last prompt token (it sees the state and the current subgoal); V_low reads the last
    token of `</subgoal>` (fallback: of `</switch>`, then the last prompt token), just before the action.
    """
    last_prompt = prompt_len - 1
    low = last_prompt
    for block in ("subgoal", "switch"):
        if block in spans and spans[block][1] > spans[block][0]:
            low = prompt_len + spans[block][1] - 1
            break
    return last_prompt, low, last_prompt


class ValueModel(nn.Module):
    """A causal LM's base transformer and three linear heads reading hidden states at given positions."""

    def __init__(self, backbone: nn.Module | None, hidden_size: int):
        super().__init__()
        self.backbone = backbone
        self.heads = nn.Linear(hidden_size, len(HEADS))
        nn.init.normal_(self.heads.weight, std=1.0 / hidden_size)
        nn.init.zeros_(self.heads.bias)
        # Set once the heads' bias is fitted to the first batch's targets (critic.fit_bias); saved in checkpoints.
        self.register_buffer("bias_fitted", torch.zeros((), dtype=torch.bool))
        # A fixed affine map of the hidden features the heads read (identity until critic.fit_features sets it).
        self.register_buffer("feature_mean", torch.zeros(hidden_size))
        self.register_buffer("feature_scale", torch.ones(hidden_size))
        self.register_buffer("features_fitted", torch.zeros((), dtype=torch.bool))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        # Checkpoints from before critic.fit_bias / fit_features lack their state: their heads were trained on
        # the raw features, so keep the identity map and never refit them.
        state_dict.setdefault(prefix + "bias_fitted", torch.ones((), dtype=torch.bool))
        state_dict.setdefault(prefix + "feature_mean", torch.zeros_like(self.feature_mean))
        state_dict.setdefault(prefix + "feature_scale", torch.ones_like(self.feature_scale))
        state_dict.setdefault(prefix + "features_fitted", torch.ones((), dtype=torch.bool))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @torch.no_grad()
    def set_feature_map(self, mean: Tensor, std: Tensor) -> None:
        """Standardise the heads' input: (h - mean) / std per hidden feature, fixed from now on (critic.fit_features)."""
        self.feature_mean.copy_(mean.to(self.feature_mean))
        self.feature_scale.copy_(1.0 / std.clamp_min(1e-6).to(self.feature_scale))
        self.features_fitted.fill_(True)

    def active(self) -> Any:
        """A context in which the backbone is this critic's; a forward pass and its backward both belong inside it."""
        return nullcontext()

    def transformer(self) -> nn.Module:
        """The transformer whose last hidden states the heads read."""
        return self.backbone

    def features(self, input_ids: Tensor, attention_mask: Tensor, positions: Tensor) -> Tensor:
        """The raw hidden states [B, 3, H] the heads read, at `positions` [B, 3]."""
        with self.active():
            hidden = self.transformer()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        rows = torch.arange(hidden.shape[0], device=hidden.device)[:, None]
        return hidden[rows, positions]

    @torch.no_grad()
    def shift_bias(self, delta: Tensor) -> None:
        """Add delta [3] to the heads' bias (high, low, term) and mark the bias fitted.

        Under FSDP the bias is a sharded DTensor: every rank passes the same delta (a collective: call on all ranks)."""
        from torch.distributed.tensor import DTensor, distribute_tensor

        bias = self.heads.bias
        if isinstance(bias, DTensor):
            delta = distribute_tensor(delta.to(bias.to_local().device, bias.dtype), bias.device_mesh, bias.placements)
        else:
            delta = delta.to(bias.device, bias.dtype)
        bias.add_(delta)
        self.bias_fitted.fill_(True)

    @classmethod
    def from_causal_lm(cls, model: Any) -> ValueModel:
        """A critic whose backbone is a copy of `model`'s base transformer (no LM head)."""
        base = copy.deepcopy(model.base_model if hasattr(model, "base_model") else model)
        return cls(base, model.config.hidden_size)

    def forward(self, input_ids: Tensor, attention_mask: Tensor, positions: Tensor) -> Tensor:
        """Values [B, 3] (high, low, term) at `positions` [B, 3] of right-padded sequences."""
        picked = self.features(input_ids, attention_mask, positions).to(self.heads.weight.dtype)  # [B, 3, H]
        with torch.autocast(picked.device.type, enabled=False):  # the backbone may run in bf16, the heads stay fp32
            picked = (picked - self.feature_mean) * self.feature_scale
            all_heads = self.heads(picked)  # [B, 3, 3]
        return all_heads.diagonal(dim1=1, dim2=2)  # head j at position j


class AdapterCritic(ValueModel):
    """The critic as a second LoRA adapter on the LoRA actor's frozen base, plus the three heads (docs/training.md).

    One frozen base serves actor, reference (adapters disabled) and critic: what lets a 7B run fit one 80 GB GPU.
    The critic's parameters are its adapter's (shared with the actor's module tree, where only `active()` switches
    them on) and the heads; its state dict holds those, not the base. PEFT's `set_adapter` also sets which adapter
    requires gradients, so outside `active()` the actor's trainable parameters are its own adapter's only.

    Gradient checkpointing recomputes a layer's forward during backward with whichever adapter is active then: a
    critic's backward must run inside `active()` too, or its gradients are silently those of the actor's adapter.
    """

    def __init__(self, actor: Any, rank: int, alpha: int):
        from peft import LoraConfig

        super().__init__(None, actor.config.hidden_size)
        actor.add_adapter(CRITIC_ADAPTER, LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0,
                                                     target_modules="all-linear"))
        self._actor = [actor]  # a list, so that the actor is not registered as a submodule (its base is not ours)
        marker = f".{CRITIC_ADAPTER}."
        own = {name.replace(".", "__"): p for name, p in actor.named_parameters() if marker in name}
        if not own:
            raise ValueError("the critic adapter attached to no layer of the actor")
        for parameter in own.values():
            parameter.data = parameter.data.float()
        self.adapter = nn.ParameterDict(own)

    @contextmanager
    def active(self) -> Iterator[None]:
        """The actor's base with the critic's adapter in place of the actor's (restored afterwards)."""
        lora = self._actor[0].base_model
        previous = lora.active_adapter
        if previous == CRITIC_ADAPTER:  # nested: already active
            yield
            return
        lora.set_adapter(CRITIC_ADAPTER)
        try:
            yield
        finally:
            lora.set_adapter(previous)

    def transformer(self) -> nn.Module:
        """The actor's base transformer (the causal LM without its head)."""
        return self._actor[0].get_base_model().base_model


def pad_right(sequences: Sequence[Sequence[int]], pad_id: int, device: Any = None) -> tuple[Tensor, Tensor]:
    """Right-padded ids [B, L] and attention mask."""
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, : len(seq)] = torch.tensor(list(seq), dtype=torch.long)
        mask[i, : len(seq)] = 1
    return ids.to(device), mask.to(device)
