"""The per-GPU memory plan of a config, by arithmetic, before anything is loaded (`python -m training.run --dry-run`).

Bytes per parameter follow the trainer's mixed precision (docs/training.md): trained weights are fp32 masters (4 B)
with fp32 gradients (4 B) and two fp32 Adam moments (8 B); autocast keeps a bf16 copy of each weight during a pass
(2 B); the KL reference and a LoRA actor's frozen base are held in bf16 (2 B). On one GPU AdamW is fused (in place);
under FSDP its foreach step makes temporaries of about two fp32 copies of the largest trained model's shard.
Activations of one micro-batch follow a per-token, per-layer cost of 2 x (16 h + 4 i) bytes (h hidden, i MLP width),
calibrated on an H200 (benchmarks/gpu_smoke.json: 84.0 GiB peak for 8 turns x 2,560 tokens without gradient
checkpointing at Qwen2.5-1.5B's shape); with gradient checkpointing each layer keeps only its bf16 input and one
layer is live at a time. The response logits cost 4 B per kept position and vocabulary entry (bf16 logits and their
gradient) plus one chunk's fp32 temporaries: log-probs and entropy are computed over chunks of positions and
recomputed in backward (computed whole, as in the H200 run, they cost 14 B per entry). A vLLM engine holds its
`gpu_memory_utilization` share of the GPU for the whole run, or during rollouts only when it sleeps through updates
(`rollout.engine_sleep`). On that H200 the plan of the smoke's iteration gave 69 GiB against 70.4 measured, with
whole-vocabulary logits and the foreach AdamW temporaries (11.5 GiB) that fused AdamW now avoids (the new figures
are not yet measured). Figures are per GPU; FSDP divides weights, gradients and optimizer state by the world size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from training.config import RunConfig
from training.losses import CHUNK_COPIES, CHUNK_ELEMENTS

GIB = 2**30


@dataclass(frozen=True)
class Shape:
    """What the plan needs of a decoder-only transformer."""

    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    vocab: int
    tied: bool

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.hidden // self.heads

    def params(self, with_head: bool = True) -> int:
        """Parameter count (Qwen2/Llama layout: q, k, v with biases, o, gated MLP, two norms per layer)."""
        h, kv = self.hidden, self.kv_heads * self.head_dim
        layer = h * h + 2 * h * kv + (h + 2 * kv) + h * h + 3 * h * self.intermediate + 2 * h
        head = self.vocab * h if with_head and not self.tied else 0
        return self.vocab * h + self.layers * layer + h + head

    def lora_params(self, rank: int) -> int:
        """Adapter parameters with LoRA on every linear layer of every block (peft's all-linear)."""
        h, i, kv = self.hidden, self.intermediate, self.kv_heads * self.head_dim
        pairs = [(h, h), (h, kv), (h, kv), (h, h), (h, i), (h, i), (i, h)]
        return self.layers * rank * sum(a + b for a, b in pairs)


# The shipped recipes' models, so a plan needs no download (values from their config.json).
KNOWN_SHAPES = {
    "qwen/qwen2.5-1.5b-instruct": Shape(28, 1536, 8960, 12, 2, 151936, True),
    "qwen/qwen2.5-7b-instruct": Shape(28, 3584, 18944, 28, 4, 152064, False),
    "smollm2-135m": Shape(30, 576, 1536, 9, 3, 49152, True),
}


def shape_of(name: str, cfg: RunConfig | None = None) -> Shape | None:
    """The shape of a model by short name, known id or local path (config.json); 'tiny' from the config."""
    if name == "tiny" and cfg is not None:
        m = cfg.model
        return Shape(m.tiny_layers, m.tiny_hidden, m.tiny_hidden * 2, 4, 2, m.tiny_vocab, True)
    if name.lower() in KNOWN_SHAPES:
        return KNOWN_SHAPES[name.lower()]
    config = Path(name) / "config.json"
    if config.is_file():
        c = json.loads(config.read_text())
        return Shape(c["num_hidden_layers"], c["hidden_size"], c["intermediate_size"], c["num_attention_heads"],
                     c.get("num_key_value_heads", c["num_attention_heads"]), c["vocab_size"],
                     bool(c.get("tie_word_embeddings", False)))
    return None


@dataclass
class Plan:
    """Per-GPU bytes by item, and which phase holds them."""

    items: list[tuple[str, float, str]]  # (what, bytes, when: "always", "update" or "rollout")
    gpu_bytes: float
    world: int

    def peak(self) -> float:
        """The larger of the update's and the rollout's total."""
        always = sum(b for _, b, when in self.items if when == "always")
        update = sum(b for _, b, when in self.items if when == "update")
        rollout = sum(b for _, b, when in self.items if when == "rollout")
        return always + max(update, rollout)

    def fits(self) -> bool:
        """Whether the peak stays within 95% of the GPU (the CUDA context and fragmentation take the rest)."""
        return self.peak() <= 0.95 * self.gpu_bytes

    def table(self) -> str:
        """The plan as lines of text."""
        lines = [f"memory plan per GPU ({self.world} GPU(s) of {self.gpu_bytes / GIB:.0f} GiB):"]
        for what, size, when in self.items:
            lines.append(f"  {what:<58} {size / GIB:8.1f} GiB  ({when})")
        verdict = "fits" if self.fits() else "does NOT fit"
        lines.append(f"  {'peak (always + the larger phase)':<58} {self.peak() / GIB:8.1f} GiB  -> {verdict}")
        return "\n".join(lines)


def memory_plan(cfg: RunConfig, gpu_gib: float = 80.0, world: int = 1) -> Plan | None:
    """The plan of `cfg` on GPUs of `gpu_gib`, or None when the model's shape is unknown offline."""
    actor = shape_of(cfg.model.name, cfg)
    if actor is None:
        return None
    shard = world if cfg.model.fsdp else 1
    p = actor.params()
    items: list[tuple[str, float, str]] = []
    if cfg.model.lora:
        adapter = actor.lora_params(cfg.model.lora_rank)
        items += [("actor base, frozen (bf16)", 2 * p, "always"),
                  ("actor LoRA adapters + Adam (fp32, 3 copies)", 12 * adapter, "always"),
                  ("actor LoRA gradients (fp32)", 4 * adapter, "update")]
        trained = adapter
    else:
        items += [("actor master weights (fp32)", 4 * p / shard, "always"),
                  ("actor Adam moments (fp32, 2 copies)", 8 * p / shard, "always"),
                  ("actor gradients (fp32)", 4 * p / shard, "update"),
                  ("actor bf16 copies under autocast", 2 * p / shard, "update")]
        trained = p
        if cfg.optim.kl_coef > 0:
            items.append(("KL reference (bf16)", 2 * p / shard, "always"))
    if cfg.algo.name in ("hiper", "ppo") and cfg.critic.backbone == "adapter":  # on the actor's base: no weights
        adapter = actor.lora_params(cfg.model.lora_rank)
        items += [("critic LoRA adapter + heads + Adam (fp32, 3 copies)", 12 * adapter, "always"),
                  ("critic LoRA gradients (fp32)", 4 * adapter, "update")]
    elif cfg.algo.name in ("hiper", "ppo"):
        critic = actor if cfg.critic.backbone == "actor" else shape_of(cfg.critic.backbone)
        if critic is None:  # a critic backbone by hub id that is not in KNOWN_SHAPES: no plan, as for the actor
            return None
        c = critic.params(with_head=False)
        items += [("critic weights + Adam (fp32, 3 copies)", 12 * c / shard, "always"),
                  ("critic gradients (fp32) + bf16 copies", 6 * c / shard, "update")]
        trained = max(trained, c)
    if cfg.model.fsdp:  # sharded weights step with foreach AdamW (fused AdamW runs in place on one GPU)
        items.append(("AdamW foreach temporaries (2 fp32 copies of the largest)", 8 * trained / shard, "update"))
    prompt, new = cfg.rollout.max_prompt_tokens, cfg.rollout.max_new_tokens
    turns = cfg.optim.micro_batch_turns  # short turns pack up to this many per pass: the logits' bound
    tokens = cfg.optim.micro_batch_tokens or turns * (prompt + new)
    per_layer = 2 * (16 * actor.hidden + 4 * actor.intermediate)
    if cfg.model.gradient_checkpointing:
        activations = tokens * (actor.layers * actor.hidden * 2 + per_layer)
        how = "checkpointed"
    else:
        activations = tokens * actor.layers * per_layer
        how = "no checkpointing"
    # bf16 logits and their gradient, plus one chunk's fp32 temporaries (training.losses.CHUNK_ELEMENTS)
    logits = turns * (new + 1) * actor.vocab * 4 + CHUNK_COPIES * 4 * CHUNK_ELEMENTS
    items += [(f"activations, one micro-batch of {tokens:,} tokens ({how})", activations, "update"),
              (f"response logits, {turns} x {new + 1} positions x vocab {actor.vocab:,}", logits, "update")]
    if cfg.rollout.backend == "vllm":
        share = float(cfg.rollout.vllm_kwargs.get("gpu_memory_utilization", 0.4))
        asleep = cfg.rollout.engine_sleep != "never"  # sleep mode frees weights and KV cache during updates (CUDA)
        items.append((f"vLLM engine (gpu_memory_utilization {share}{', asleep in updates' if asleep else ''})",
                      share * gpu_gib * GIB, "rollout" if asleep else "always"))
    else:
        batch = -(-cfg.env.num_envs // world)
        kv = batch * (prompt + new) * actor.layers * 2 * actor.kv_heads * actor.head_dim * 2
        items.append((f"KV cache, transformers generation ({batch} sequences)", kv, "rollout"))
    return Plan(items, gpu_gib * GIB, world)


def advice(cfg: RunConfig, plan: Plan) -> str:
    """One line saying what to change when a plan does not fit."""
    tips = []
    if not cfg.model.gradient_checkpointing:
        tips.append("model.gradient_checkpointing=true")
    if not cfg.optim.micro_batch_tokens:
        tips.append("optim.micro_batch_tokens=8192 (or fewer optim.micro_batch_turns)")
    if not cfg.model.lora and not cfg.model.fsdp:
        tips.append("model.lora=true, or model.fsdp=true under torchrun on more GPUs")
    if cfg.rollout.backend == "vllm":
        tips.append("a smaller rollout.vllm_kwargs.gpu_memory_utilization")
    return (f"this config needs about {plan.peak() / GIB:.0f} GiB per GPU, more than the {plan.gpu_bytes / GIB:.0f} GiB "
            f"there: try {'; '.join(tips) or 'a smaller model'}")
