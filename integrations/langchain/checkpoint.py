"""Load what `python -m training.run` saved, without importing `training` (so without the training extras).

A run directory holds `config.yaml` (the resolved config), `model/` (the actor after SFT, rewritten at the end of
the run: full weights or LoRA adapters, plus the tokenizer) and `checkpoints/iter_N/actor.pt` (the actor's state
dict after iteration N). The latest complete checkpoint is the newest actor, so it is applied on top of `model/`.
Prompt settings (env family, history length, token budgets, evaluation temperature, step limit) come from the config.
Loading needs torch and transformers (and peft for LoRA runs), nothing else of the `train` extra.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hiper_agents.run_dir import latest_checkpoint, read_config


class CheckpointError(FileNotFoundError):
    """A path is not a run directory, a checkpoint or a model directory that can be loaded."""


@dataclass(frozen=True)
class PromptSettings:
    """How the policy was prompted and sampled in training (defaults for a checkpoint without a run config)."""

    env_family: str | None = None
    history_length: int = 2
    max_prompt_tokens: int = 2048
    max_new_tokens: int = 512
    temperature: float = 0.4
    max_steps: int = 15
    prompt_style: str = "full"


@dataclass(frozen=True)
class CheckpointSpec:
    """Where a checkpoint's pieces are; resolving one reads only small text files."""

    model: str  # a model directory, a hub id or a short name (`smollm2-135m`)
    weights: Path | None = None  # an actor state dict applied on top of `model`
    base_model: str | None = None  # for a LoRA run: 'tiny' or the base model's id or path
    tiny: dict[str, int] = field(default_factory=dict)  # how a tiny base was built (hidden, layers, seed)
    lora: tuple[int, int] | None = None  # (rank, alpha) of a LoRA run, for its checkpoints' adapter state dicts
    run_dir: Path | None = None
    env_id: str | None = None
    settings: PromptSettings = field(default_factory=PromptSettings)

    @property
    def is_adapter(self) -> bool:
        """Whether `model` holds LoRA adapters rather than full weights."""
        return (Path(self.model) / "adapter_config.json").is_file()


def _family_of(env_id: str | None) -> str | None:
    """The prompt family an env class declares (TextEnv.prompt_family); None when the env cannot be imported."""
    if env_id is None:
        return None
    import hiper_gym  # noqa: F401  registers the hiper/ ids
    from hiper_gym.core import text_env_class

    try:
        return text_env_class(env_id).prompt_family
    except (KeyError, ImportError):  # unregistered, or its extra is not installed: the caller decides
        return None


def _run_spec(run_dir: Path, weights: Path | None) -> CheckpointSpec:
    config = read_config(run_dir)
    model_cfg, rollout = config.get("model", {}), config.get("rollout", {})
    env, evaluation = config.get("env", {}), config.get("eval", {})
    model_dir = run_dir / "model"
    if not (model_dir / "config.json").is_file() and not (model_dir / "adapter_config.json").is_file():
        raise CheckpointError(f"{run_dir} has a config.yaml but no saved model in {model_dir}; was the run started?")
    settings = PromptSettings(
        env_family=_family_of(env.get("id")),
        history_length=int(rollout.get("history_length", 2)),
        max_prompt_tokens=int(rollout.get("max_prompt_tokens", 2048)),
        max_new_tokens=int(rollout.get("max_new_tokens", 512)),
        temperature=float(evaluation.get("temperature", 0.4)),
        max_steps=int(env.get("max_steps", 15)),
        prompt_style=str(rollout.get("prompt_style", "full")),
    )
    tiny = {
        "hidden": int(model_cfg.get("tiny_hidden", 128)),
        "layers": int(model_cfg.get("tiny_layers", 2)),
        "seed": int(config.get("seed", 0)),
    }
    return CheckpointSpec(
        model=str(model_dir),
        weights=weights,
        base_model=str(model_cfg.get("name", "tiny")),
        tiny=tiny,
        lora=(int(model_cfg.get("lora_rank", 16)), int(model_cfg.get("lora_alpha", 32))) if model_cfg.get("lora") else None,
        run_dir=run_dir,
        env_id=env.get("id"),
        settings=settings,
    )


def resolve_checkpoint(path: str | Path, which: str = "latest") -> CheckpointSpec:
    """Find the pieces of a checkpoint: a run directory, one of its `checkpoints/iter_N` or its `model/`, a model
    directory, or a model id. `which="latest"` applies the newest `actor.pt` of a run; `"final"` takes `model/` only."""
    if which not in ("latest", "final"):
        raise ValueError(f"which must be 'latest' or 'final', got {which!r}")
    p = Path(path)
    if (p / "config.yaml").is_file():  # a run directory
        latest = latest_checkpoint(p) if which == "latest" else None
        return _run_spec(p, latest / "actor.pt" if latest is not None else None)
    if (p / "state.json").is_file() and (p / "actor.pt").is_file():  # checkpoints/iter_N
        run_dir = p.parent.parent
        if not (run_dir / "config.yaml").is_file():
            raise CheckpointError(f"checkpoint {p} is not inside a run directory (no {run_dir / 'config.yaml'})")
        return _run_spec(run_dir, p / "actor.pt")
    if (p / "config.json").is_file() or (p / "adapter_config.json").is_file():
        if (p.parent / "config.yaml").is_file() and p.name == "model":  # a run's model/
            return _run_spec(p.parent, None)
        return CheckpointSpec(model=str(p))
    if p.exists():
        raise CheckpointError(
            f"{p} is neither a run directory (config.yaml), a checkpoint (state.json + actor.pt) nor a model "
            "directory (config.json or adapter_config.json); pass the directory `python -m training.run` printed"
        )
    if str(path).startswith(("/", "./", "../", "~")):
        raise CheckpointError(f"{p} does not exist; pass the run directory `python -m training.run` printed")
    return CheckpointSpec(model=str(path))  # a hub id or a short name, resolved at load time


def _import_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "loading a local HiPER checkpoint needs torch and transformers: pip install torch transformers "
            "(or pip install 'hiper[train]'); an OpenAI-compatible endpoint needs neither"
        ) from error
    return torch


def load_model(spec: CheckpointSpec, device: str = "cpu", dtype: str = "float32") -> tuple[Any, Any]:
    """Build the causal LM and tokenizer a spec describes, in eval mode on `device`."""
    torch = _import_torch()
    from transformers import AutoModelForCausalLM

    from hiper_agents.models import resolve_model
    from hiper_agents.tiny import build_tiny_model, load_tokenizer

    torch_dtype = getattr(torch, dtype)
    if spec.is_adapter:
        try:
            from peft import PeftModel
        except ImportError as error:
            raise ImportError(f"{spec.model} holds LoRA adapters: pip install peft") from error
        tokenizer = load_tokenizer(spec.model)
        if spec.base_model in (None, "tiny"):
            tiny = spec.tiny or {}
            base = build_tiny_model(
                tokenizer, hidden=tiny.get("hidden", 128), layers=tiny.get("layers", 2), seed=tiny.get("seed", 0)
            )
        else:
            base = AutoModelForCausalLM.from_pretrained(resolve_model(spec.base_model), dtype=torch_dtype)
        model = PeftModel.from_pretrained(base.to(dtype=torch_dtype), spec.model)
    else:
        path = resolve_model(spec.model)
        tokenizer = load_tokenizer(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
    if spec.weights is not None:
        state = torch.load(spec.weights, map_location="cpu", weights_only=True)
        if spec.lora and not spec.is_adapter and any(k.startswith("base_model.model.") for k in state):
            # A LoRA run whose SFT was merged into the base saves whole weights in model/, while each checkpoint
            # holds that base and the RL adapter: rebuild the adapter over the saved architecture, load, merge.
            from hiper_agents.models import attach_lora

            model = attach_lora(model, *spec.lora)
            _load_matching(model, state, spec)
            return model.merge_and_unload().to(device=device, dtype=torch_dtype).eval(), tokenizer
        _load_matching(model, state, spec)
    return model.to(device=device, dtype=torch_dtype).eval(), tokenizer


def _load_matching(model: Any, state: dict, spec: CheckpointSpec) -> None:
    """Load `state` into `model`; keys that do not match raise CheckpointError (a tied head may be absent)."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.endswith("lm_head.weight")]:  # tied heads may be absent
        raise CheckpointError(
            f"{spec.weights} does not match the model in {spec.model}: {len(missing)} missing and "
            f"{len(unexpected)} unexpected keys (first: {(missing or unexpected)[:3]})"
        )


def describe(spec: CheckpointSpec) -> dict[str, Any]:
    """A JSON-ready summary of a spec (for response metadata and logs)."""
    return json.loads(
        json.dumps(
            {
                "model": spec.model,
                "weights": str(spec.weights) if spec.weights else None,
                "base_model": spec.base_model,
                "run_dir": str(spec.run_dir) if spec.run_dir else None,
                "env_id": spec.env_id,
                "env_family": spec.settings.env_family,
            }
        )
    )
