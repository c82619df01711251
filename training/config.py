"""Typed training config: dataclasses with help text, YAML recipes in training/configs/, dotted CLI overrides."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from training.advantages import GAEConfig, GiGPOConfig, GRPOConfig, HAEConfig, RewardShaping
from training.settings import setting

CONFIG_DIR = Path(__file__).resolve().parent / "configs"


class ConfigError(ValueError):
    """A config file or override is invalid: unknown key, wrong type, or a value out of range."""


_f = setting


@dataclass
class ModelConfig:
    """The policy model."""

    name: str = _f("tiny", "'tiny' (built from a config, offline), 'smollm2-135m', a Hugging Face id or a local path")
    tiny_hidden: int = _f(128, "hidden size of the tiny model", low=16)
    tiny_layers: int = _f(2, "layers of the tiny model", low=1)
    tiny_vocab: int = _f(2000, "vocabulary size of the tiny tokenizer", low=300)
    lora: bool = _f(False, "train LoRA adapters instead of all weights (the KL reference is then the base model)")
    lora_rank: int = _f(16, "LoRA rank", low=1)
    lora_alpha: int = _f(32, "LoRA alpha", low=1)
    dtype: str = _f("auto", "compute dtype (trained weights stay fp32): auto (bf16 on CUDA, fp32 on CPU), float32, bfloat16",
                    ("auto", "float32", "bfloat16"))
    device: str = _f("auto", "auto (cuda when available), cpu or cuda", ("auto", "cpu", "cuda"))
    fsdp: bool = _f(False, "under torchrun, shard actor, critic and reference with FSDP2 (full fine-tuning only)")
    gradient_checkpointing: bool = _f(False, "recompute activations in backward passes (actor and critic): less "
                                      "memory for ~30% more update compute")


@dataclass
class CriticConfig:
    """The value model: a backbone with three scalar heads (V_high, V_low, V_term)."""

    backbone: str = _f("actor", "'actor': a copy of the actor's initial model; 'adapter': a second LoRA adapter on the "
                       "LoRA actor's frozen base; else a Hugging Face id or local path")
    lr: float = _f(1e-5, "critic learning rate", low=0.0)
    value_clip: float = _f(0.5, "clip range of the value loss around last iteration's values, in return units", low=0.0)
    warmup_iterations: int = _f(0, "the first N iterations train only the critic (verl's critic_warmup)", low=0)
    fit_features: bool = _f(False, "standardise the value heads' input features once, before the first update")
    fit_bias: bool = _f(False, "set each value head's bias to its targets' batch mean before the first update")


@dataclass
class EnvConfig:
    """Which environment and which tasks."""

    id: str = _f("hiper/WebShop-v0", "a registered hiper/ env id")
    kwargs: dict = _f({}, "keyword arguments for gym.make")
    num_envs: int = _f(8, "episodes played in parallel per rollout", low=1)
    group_n: int = _f(1, "rollouts of the same task in a group (GRPO/GiGPO)", low=1)
    max_steps: int = _f(15, "step limit per episode", low=1)
    train_split: str = _f("train", "split the training tasks come from")
    train_tasks: int = _f(0, "use only the first N tasks of the train split (0: all)", low=0)
    task_subset: int = _f(0, "train on half the tasks of N task families and evaluate on the other half (0: off)", low=0)
    workers: str = _f("inprocess", "where rollout envs run: inprocess, multiprocess or ray",
                      ("inprocess", "multiprocess", "ray"))


# The flat algo keys of before the estimators' settings moved into their own sections: each now lives at
MOVED_ALGO_KEYS = {
    "gamma": "algo.hae.gamma (HiPER) or algo.gae.gamma (PPO)", "lam_turn": "algo.hae.lam_turn",
    "lam_seg": "algo.hae.lam_seg", "lam": "algo.gae.lam",
    "bootstrap_truncated": "algo.hae.bootstrap_truncated (HiPER) or algo.gae.bootstrap_truncated (PPO)",
    "switch_advantage": "algo.hae.switch_advantage", "normalize": "algo.hae.normalize (HiPER) or algo.gae.normalize (PPO)",
    "grpo_std": "algo.grpo.std_normalize", "gigpo_gamma": "algo.gigpo.gamma", "gigpo_step_weight": "algo.gigpo.step_weight",
    **{k: f"algo.shaping.{k}" for k in ("success_reward", "reward_source", "invalid_penalty", "keep_penalty",
                                        "keep_penalty_mode", "consistency_penalty", "milestone_reward")},
}


@dataclass
class AlgoConfig:
    """The advantage estimator (each with its own section) and the reward shaping (docs/design.md §3)."""

    name: str = _f("hiper", "hiper (HAE), ppo (flat GAE), grpo or gigpo", ("hiper", "ppo", "grpo", "gigpo"))
    hae: HAEConfig = field(default_factory=HAEConfig)
    gae: GAEConfig = field(default_factory=GAEConfig)
    grpo: GRPOConfig = field(default_factory=GRPOConfig)
    gigpo: GiGPOConfig = field(default_factory=GiGPOConfig)
    shaping: RewardShaping = field(default_factory=RewardShaping)

    def estimator(self) -> Any:
        """The config of the estimator `name` selects."""
        return {"hiper": self.hae, "ppo": self.gae, "grpo": self.grpo, "gigpo": self.gigpo}[self.name]


@dataclass
class OptimConfig:
    """The PPO update."""

    actor_lr: float = _f(1e-6, "actor learning rate", low=0.0)
    clip_eps: float = _f(0.2, "PPO clip range", low=0.0)
    dual_clip: float = _f(3.0, "dual-clip constant for negative advantages (> 1)", low=1.0)
    kl_coef: float = _f(0.01, "KL-to-reference coefficient (k3 estimator)", low=0.0)
    entropy_coef: float = _f(0.001, "entropy bonus coefficient", low=0.0)
    ppo_epochs: int = _f(1, "passes over each batch", low=1)
    mini_batch_turns: int = _f(256, "turns per optimiser step", low=1)
    micro_batch_turns: int = _f(8, "turns per forward pass (gradient accumulation)", low=1)
    micro_batch_tokens: int = _f(0, "padded tokens per forward pass, turns sorted by length, at most micro_batch_turns "
                                 "turns (0: count turns only)", low=0)
    max_grad_norm: float = _f(1.0, "gradient clipping norm", low=0.0)


@dataclass
class RolloutConfig:
    """Generation during rollouts."""

    backend: str = _f("transformers", "transformers or vllm (GPU)", ("transformers", "vllm"))
    temperature: float = _f(1.0, "sampling temperature", low=0.0)
    top_p: float = _f(1.0, "nucleus sampling", low=0.0, high=1.0)
    max_prompt_tokens: int = _f(2048, "prompt budget; the observation is cut from the middle", low=64)
    max_new_tokens: int = _f(512, "response budget", low=8)
    history_length: int = _f(2, "past observations and actions shown", low=0)
    prompt_style: str = _f("full", "full (intro and format rules, for pretrained models) or compact (the state alone)",
                           ("full", "compact"))
    vllm_kwargs: dict = _f({}, "extra vllm.LLM arguments (gpu_memory_utilization, enforce_eager, ...)")
    engine_sleep: str = _f("auto", "free vLLM's weights and KV cache during updates: auto (where vLLM can: CUDA), always, never",
                           ("auto", "always", "never"))


@dataclass
class SFTConfig:
    """Warm start on expert trajectories (for models trained from scratch; off in the paper configs)."""

    enabled: bool = _f(False, "run SFT before RL")
    episodes: int = _f(200, "expert episodes (the training tasks in turn, cycled as often as needed)", low=1)
    epochs: int = _f(2, "passes over the expert turns", low=1)
    lr: float = _f(1e-3, "SFT learning rate", low=0.0)
    batch_turns: int = _f(16, "turns per SFT step", low=1)
    expert_noise: float = _f(0.0, "probability that the expert makes a task choice at random, leaving RL to learn it",
                             low=0.0, high=1.0)


@dataclass
class EvalConfig:
    """Periodic evaluation."""

    every: int = _f(5, "evaluate every N iterations (0: only before and after)", low=0)
    split: str = _f("test", "evaluation split")
    episodes: int = _f(50, "episodes per evaluation (the first N tasks of the split)", low=1)
    temperature: float = _f(0.4, "evaluation sampling temperature", low=0.0)


@dataclass
class RunConfig:
    """Everything one training run needs."""

    seed: int = _f(0, "global seed")
    iterations: int = _f(150, "rollout-update iterations", low=0)
    output_dir: str = _f("runs", "where run directories are created")
    run_name: str = _f("", "run directory name (default: algo-env-time)")
    checkpoint_every: int = _f(1, "checkpoint every N iterations (and after the last)", low=1)
    checkpoint_keep: int = _f(2, "checkpoints kept on disk (0: write none, the run cannot be resumed)", low=0)
    max_env_steps: int = _f(0, "stop RL after the iteration that brings the env steps played to this (0: no cap)", low=0)
    model: ModelConfig = field(default_factory=ModelConfig)
    critic: CriticConfig = field(default_factory=CriticConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    algo: AlgoConfig = field(default_factory=AlgoConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def budget_spent(self, iterations_done: int, env_steps: int) -> bool:
        """Whether a run with this config is over: its iterations done or its max_env_steps played."""
        return iterations_done >= self.iterations or bool(self.max_env_steps and env_steps >= self.max_env_steps)


def _coerce(value: Any, annotation: Any, path: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return None if value is None else _coerce(value, options[0], path)
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads 2e-6 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
    elif annotation is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif annotation is dict or origin is dict:
        if isinstance(value, dict):
            return value
    else:
        return value
    raise ConfigError(f"{path}: expected {getattr(annotation, '__name__', annotation)}, got {value!r}")


def _check(obj: Any, f: dataclasses.Field, value: Any, path: str) -> None:
    meta = f.metadata
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{path}: {value!r} is not one of {list(meta['choices'])}")
    if meta.get("low") is not None and value < meta["low"]:
        raise ConfigError(f"{path}: {value!r} is below the minimum {meta['low']}")
    if meta.get("high") is not None and value > meta["high"]:
        raise ConfigError(f"{path}: {value!r} is above the maximum {meta['high']}")


def _apply(obj: Any, data: dict[str, Any], prefix: str = "") -> None:
    hints = typing.get_type_hints(type(obj))
    fields_by_name = {f.name: f for f in dataclasses.fields(obj)}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in fields_by_name:
            if isinstance(obj, AlgoConfig) and key in MOVED_ALGO_KEYS:
                raise ConfigError(f"{path} has moved: it is now {MOVED_ALGO_KEYS[key]}")
            raise ConfigError(f"unknown config key {path!r}; valid keys here: {sorted(fields_by_name)}")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: expected a mapping of {sorted(f.name for f in dataclasses.fields(current))}")
            _apply(current, value, f"{path}.")
            continue
        coerced = _coerce(value, hints[key], path)
        _check(obj, fields_by_name[key], coerced, path)
        setattr(obj, key, coerced)


def _dotted(overrides: list[str]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw.strip() else ""
        node = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r} conflicts with an earlier one")
        node[parts[-1]] = value
    return nested


def resolve_config_path(path: str | Path) -> Path:
    """A config path as given, or relative to training/ or training/configs/."""
    for candidate in (Path(path), CONFIG_DIR.parent / path, CONFIG_DIR / path, CONFIG_DIR / Path(path).name):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"config file {path!r} not found (also looked in {CONFIG_DIR})")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """The RunConfig from defaults, then a YAML file, then dotted `key=value` overrides; invalid input raises ConfigError."""
    config = RunConfig()
    if path is not None:
        file = resolve_config_path(path)
        try:
            data = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"{file}: not valid YAML: {error}") from error
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: the top level must be a mapping")
        _apply(config, data)
    _apply(config, _dotted(overrides or []))
    if config.critic.backbone == "adapter" and not config.model.lora:
        raise ConfigError("critic.backbone=adapter shares a LoRA actor's frozen base: set model.lora=true, or use "
                          "critic.backbone=actor")
    if config.model.fsdp and config.model.lora:
        raise ConfigError("model.fsdp with model.lora is not supported: LoRA keeps the trained weights small enough "
                          "to replicate (DDP); use model.fsdp for full fine-tuning")
    return config


def config_to_dict(config: RunConfig) -> dict[str, Any]:
    """The config as plain data (for the run directory's config.yaml)."""
    return dataclasses.asdict(config)


def describe(config: Any = RunConfig, prefix: str = "") -> list[str]:
    """One line per key: dotted name, value and help (for --help-config).

    Given a config instance, the value shown is the instance's, with the dataclass default noted where they differ."""
    lines = []
    instance = not isinstance(config, type)
    for f in dataclasses.fields(config):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        value = getattr(config, f.name) if instance else default
        if dataclasses.is_dataclass(default):
            lines += describe(value, f"{prefix}{f.name}.")
        else:
            choices = f" {list(f.metadata['choices'])}" if f.metadata.get("choices") else ""
            changed = f" (default {default!r})" if instance and value != default else ""
            lines.append(f"{prefix}{f.name} = {value!r}{changed}{choices}  # {f.metadata.get('help', '')}")
    return lines
