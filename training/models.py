"""Build the actor, its tokenizer, the KL reference and the critic from the config."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from training.config import RunConfig
from training.critic import AdapterCritic, ValueModel


@dataclass
class Models:
    """What the trainer trains and compares against."""

    actor: Any
    tokenizer: Any
    critic: ValueModel | None
    reference: Any | None  # a frozen copy for full fine-tuning; None under LoRA (adapters disabled) or without KL
    device: torch.device
    dtype: torch.dtype

    @property
    def pad_id(self) -> int:
        """The tokenizer's pad id (its eos id when it has none): what right-padded batches are filled with."""
        return pad_id_of(self.tokenizer)


def pad_id_of(tokenizer: Any) -> int:
    """A tokenizer's pad id, else its eos id."""
    return int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)


def pick_device(name: str) -> torch.device:
    """auto: CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("model.device=cuda but no CUDA device is visible; use model.device=cpu")
    return torch.device(name)


def pick_dtype(name: str, device: torch.device) -> torch.dtype:
    """The compute dtype. auto: bf16 on CUDA, fp32 on CPU. Trained weights stay fp32 either way (`build_actor`)."""
    if name == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return getattr(torch, name)


def build_actor(
    cfg: RunConfig, corpus: Iterable[str], device: torch.device, dtype: torch.dtype, tokenizer: Any = None
) -> tuple[Any, Any]:
    """The policy model and tokenizer: a tiny model built offline, or a pretrained one by id, path or short name.

    A tiny model's tokenizer is trained on `corpus`, unless a saved one is given (resuming a run).

    Mixed precision as the field does it: the weights the optimiser steps are fp32 (master weights, fp32 Adam state)
    and `dtype` is the compute dtype (the update runs under autocast, see `compute_context`). Plain AdamW on bf16
    weights loses most lr-1e-6 updates below bf16's resolution. Under LoRA the frozen base is held in `dtype` and the
    adapters in fp32.
    """
    m = cfg.model
    meta = device.type == "meta"  # shapes only: an FSDP rank that receives its shard from rank 0 (`shard_from_rank0`)
    if m.name == "tiny":
        from hiper_agents.tiny import build_tiny_model, build_tiny_tokenizer

        if tokenizer is None:
            tokenizer = build_tiny_tokenizer(list(corpus), vocab_size=m.tiny_vocab)
        with torch.device("meta") if meta else nullcontext():
            model = build_tiny_model(tokenizer, hidden=m.tiny_hidden, layers=m.tiny_layers, seed=cfg.seed)
    else:
        from transformers import AutoModelForCausalLM

        from hiper_agents.models import resolve_model
        from hiper_agents.tiny import load_tokenizer

        path = resolve_model(m.name)
        tokenizer = load_tokenizer(path)
        model = pretrained(AutoModelForCausalLM, path, meta, dtype=dtype if m.lora else torch.float32)
    model = model.to(device=device, dtype=dtype if m.lora else torch.float32)
    if m.gradient_checkpointing:
        enable_gradient_checkpointing(model)
    if m.lora:
        model = add_lora(model, cfg)
    return model, tokenizer


def pretrained(auto_class: Any, path: str, meta: bool, **kwargs: Any) -> Any:
    """`auto_class.from_pretrained(path)`, or with `meta` its architecture on the meta device, no weights read (an FSDP
    rank that receives its shards from rank 0)."""
    if not meta:
        return auto_class.from_pretrained(path, **kwargs)
    from transformers import AutoConfig

    with torch.device("meta"):
        return auto_class.from_config(AutoConfig.from_pretrained(path))


def add_lora(model: Any, cfg: RunConfig) -> Any:
    """Wrap `model` with fresh LoRA adapters on every linear layer (fp32 adapters over the frozen base)."""
    from hiper_agents.models import attach_lora

    model = attach_lora(model, cfg.model.lora_rank, cfg.model.lora_alpha)
    for parameter in model.parameters():  # PEFT casts adapters to fp32 already; make sure of it
        if parameter.requires_grad:
            parameter.data = parameter.data.float()
    return model


def restart_lora(actor: Any, cfg: RunConfig) -> Any:
    """Merge the SFT adapter into the base and put a fresh RL adapter on it, so that the KL reference (the base with
    adapters disabled) is the SFT policy, not the model before SFT (measured KL 4.3 at the first RL iteration)."""
    return add_lora(actor.merge_and_unload(), cfg)


def sft_merged(cfg: RunConfig) -> bool:
    """Whether a LoRA run's base holds merged SFT weights (then its saved model is whole, not an adapter)."""
    return cfg.model.lora and cfg.sft.enabled


def enable_gradient_checkpointing(model: Any) -> None:
    """Recompute each layer's activations in the backward pass (non-reentrant, so frozen LoRA bases need no trick).

    Generation is unaffected: transformers checkpoints only in training mode."""
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.2x renamed it
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})


def compute_context(device: torch.device, dtype: torch.dtype) -> Any:
    """Autocast to the compute dtype around forward passes of fp32 master weights (a no-op in fp32)."""
    return nullcontext() if dtype == torch.float32 else torch.autocast(device.type, dtype=dtype)


def build_models(cfg: RunConfig, corpus: Iterable[str]) -> Models:
    """Actor, tokenizer, reference (full fine-tuning with KL) and critic (HAE and PPO need one)."""
    device = pick_device(cfg.model.device)
    dtype = pick_dtype(cfg.model.dtype, device)
    actor, tokenizer = build_actor(cfg, corpus, device, dtype)
    critic = make_critic(cfg, actor, device) if cfg.algo.name in ("hiper", "ppo") else None
    return Models(actor=actor, tokenizer=tokenizer, critic=critic, reference=make_reference(cfg, actor, dtype), device=device,
                  dtype=dtype)


def make_reference(cfg: RunConfig, actor: Any, dtype: torch.dtype = torch.float32) -> Any | None:
    """A frozen copy of the actor as it is now (after SFT), in the compute dtype, unless LoRA gives it for free."""
    if cfg.optim.kl_coef == 0.0 or cfg.model.lora:
        return None
    reference = copy.deepcopy(actor).to(dtype).eval()
    reference.requires_grad_(False)
    return reference


def make_critic(cfg: RunConfig, actor: Any, device: torch.device) -> ValueModel:
    """The critic: a copy of the actor's base transformer, a second adapter on a LoRA actor's base, or a separate
    backbone by id or path."""
    if cfg.critic.backbone == "adapter":  # shares the actor's base, and so its gradient checkpointing
        return AdapterCritic(actor, cfg.model.lora_rank, cfg.model.lora_alpha).to(device=device, dtype=torch.float32)
    if cfg.critic.backbone == "actor":
        base = actor.get_base_model() if hasattr(actor, "get_base_model") else actor
        critic = ValueModel.from_causal_lm(base).to(device=device, dtype=torch.float32)
    else:
        from transformers import AutoModel

        from hiper_agents.models import resolve_model

        backbone = pretrained(AutoModel, resolve_model(cfg.critic.backbone), device.type == "meta")
        critic = ValueModel(backbone, backbone.config.hidden_size).to(device=device, dtype=torch.float32)
    if cfg.model.gradient_checkpointing:
        enable_gradient_checkpointing(critic.backbone)
    return critic


def save_actor(actor: Any, tokenizer: Any, directory: Path, tiny: bool, state_dict: dict | None = None,
               whole: bool = False) -> None:
    """Weights (or LoRA adapters) and tokenizer with save_pretrained; tiny checkpoints get their loading marker.

    `state_dict`: the whole weights when `actor` is sharded (FSDP), whose own state_dict holds shards.
    `whole`: save a LoRA actor as full weights, adapters added (its base is no longer the named model's, `sft_merged`).
    """
    from hiper_agents.tiny import TINY_MARKER

    directory.mkdir(parents=True, exist_ok=True)
    if whole and hasattr(actor, "peft_config"):
        from hiper_agents.backends.vllm_backend import save_merged_weights

        for stale in ("adapter_config.json", "adapter_model.safetensors"):
            (directory / stale).unlink(missing_ok=True)
        save_merged_weights(actor, directory)
        actor.get_base_model().config.save_pretrained(directory)
    elif hasattr(actor, "peft_config"):  # the policy's adapter only, not an adapter critic's
        actor.save_pretrained(directory, selected_adapters=["default"])
    else:
        actor.save_pretrained(directory, state_dict=state_dict)
    tokenizer.save_pretrained(directory)
    if tiny:  # PreTrainedTokenizerFast, never AutoTokenizer, loads it (docs/agents.md)
        (directory / TINY_MARKER).write_text('{"tokenizer_class": "PreTrainedTokenizerFast"}\n')


def describe_model(cfg: RunConfig) -> str:
    """What model a config would load, without loading it (for --dry-run)."""
    m = cfg.model
    if m.name == "tiny":
        return f"tiny Qwen2 built offline (hidden {m.tiny_hidden}, {m.tiny_layers} layers, vocab {m.tiny_vocab})"
    where = "a local path" if Path(m.name).exists() else "a short name or a Hugging Face id (hub or local cache)"
    return f"{m.name!r}, {where}; LoRA {'on, rank ' + str(m.lora_rank) if m.lora else 'off'}; dtype {m.dtype}"
