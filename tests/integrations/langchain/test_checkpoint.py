"""Resolving and loading what training.run saves: run directories, checkpoints, model directories, LoRA runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from integrations.langchain.checkpoint import CheckpointError, load_model, resolve_checkpoint
from tests.integrations.langchain.tiny_checkpoint import tiny_checkpoint


def _lora_run(tmp_path: Path) -> tuple[Path, dict]:
    """A run directory laid out as the trainer writes it for `model.lora=true` on the tiny model."""
    from peft import LoraConfig, get_peft_model

    from hiper_agents.tiny import TINY_MARKER, build_tiny_model, load_tokenizer

    run = tmp_path / "lora-run"
    tokenizer = load_tokenizer(tiny_checkpoint())
    base = build_tiny_model(tokenizer, hidden=32, layers=1, seed=7)
    actor = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear", task_type="CAUSAL_LM"))
    actor.save_pretrained(run / "model")
    tokenizer.save_pretrained(run / "model")
    (run / "model" / TINY_MARKER).write_text("{}")
    with torch.no_grad():  # "training" moved the adapters after model/ was written
        for name, parameter in actor.named_parameters():
            if "lora_B" in name:
                parameter.add_(0.01)
    (run / "checkpoints" / "iter_000003").mkdir(parents=True)
    torch.save(actor.state_dict(), run / "checkpoints" / "iter_000003" / "actor.pt")
    (run / "checkpoints" / "iter_000003" / "state.json").write_text('{"iteration": 3}')
    (run / "checkpoints" / "iter_000004.tmp").mkdir()  # a write killed half-way is ignored
    config = {"seed": 7, "model": {"name": "tiny", "tiny_hidden": 32, "tiny_layers": 1, "lora": True},
              "env": {"id": "hiper/WebShop-v0", "max_steps": 9},
              "rollout": {"history_length": 1, "max_prompt_tokens": 300, "max_new_tokens": 20, "prompt_style": "compact"},
              "eval": {"temperature": 0.0}}  # fmt: skip
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    return run, actor.state_dict()


def test_a_lora_run_loads_base_adapters_and_the_latest_checkpoint(tmp_path: Path):
    run, trained = _lora_run(tmp_path)
    spec = resolve_checkpoint(run)
    assert spec.is_adapter and spec.weights == run / "checkpoints" / "iter_000003" / "actor.pt"
    assert spec.settings.env_family == "webshop" and spec.settings.max_steps == 9
    assert (spec.settings.history_length, spec.settings.max_prompt_tokens, spec.settings.temperature) == (1, 300, 0.0)
    assert spec.settings.prompt_style == "compact"  # the agent prompts as the run was trained
    model, _ = load_model(spec)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in trained.items())
    final, _ = load_model(resolve_checkpoint(run, which="final"))  # model/: the adapters before the update
    lora_b = next(k for k in trained if "lora_B" in k)
    assert not torch.equal(final.state_dict()[lora_b], trained[lora_b])


def test_paths_resolve_to_the_right_pieces(tmp_path: Path):
    run, _ = _lora_run(tmp_path)
    assert resolve_checkpoint(run / "checkpoints" / "iter_000003").weights == run / "checkpoints/iter_000003/actor.pt"
    assert resolve_checkpoint(run / "model").weights is None and resolve_checkpoint(run / "model").run_dir == run
    plain = resolve_checkpoint(tiny_checkpoint())
    assert plain.model == tiny_checkpoint() and plain.run_dir is None and plain.settings.env_family is None
    assert resolve_checkpoint("smollm2-135m").model == "smollm2-135m"  # a short name, resolved at load time


def test_wrong_paths_fail_early_with_what_to_pass(tmp_path: Path):
    with pytest.raises(CheckpointError, match="does not exist"):
        resolve_checkpoint(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="neither a run directory"):
        resolve_checkpoint(tmp_path)
    (tmp_path / "config.yaml").write_text("seed: 0\n")
    with pytest.raises(CheckpointError, match="no saved model"):
        resolve_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="which must be"):
        resolve_checkpoint(tmp_path, which="best")
