"""LoRA runs: after an SFT warm start the KL reference is the SFT policy, and the saved model is that policy."""

from __future__ import annotations

import json

import pytest
import torch

from tests.training.test_trainer import FAST
from training.config import load_config
from training.trainer import Trainer

LORA = [*FAST, "model.lora=true", "model.lora_rank=4", "sft.epochs=2", "sft.lr=3e-3", "model.device=cpu"]


def test_the_reference_after_sft_is_the_sft_policy(tmp_path):
    cfg = load_config(overrides=[*LORA, "iterations=1", "optim.mini_batch_turns=1000"])
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        row = trainer.iteration(1)
    # one mini-batch: pi_theta = pi_old = reference at the step, so the KL is 0 up to rounding (it was ~4 with the
    # pre-SFT base as the reference)
    assert row["kl"] < 1e-5, row["kl"]


def test_a_lora_run_after_sft_saves_whole_weights_that_load_as_the_trained_policy(tmp_path):
    from integrations.langchain.checkpoint import load_model, resolve_checkpoint

    cfg = load_config(overrides=[*LORA, "iterations=1"])
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        trainer.train()
        actor = trainer.models.actor.eval()
        ids = torch.tensor([trainer.models.tokenizer.encode("go to the door")])
        with torch.no_grad():
            expected = actor(input_ids=ids).logits
    model_dir = tmp_path / "run" / "model"
    assert (model_dir / "config.json").is_file() and not (model_dir / "adapter_config.json").exists()
    loaded, _ = load_model(resolve_checkpoint(str(tmp_path / "run")))
    with torch.no_grad():
        torch.testing.assert_close(loaded(input_ids=ids).logits, expected, atol=1e-4, rtol=1e-4)
    assert json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[1])["kl"] < 0.05


def test_a_lora_run_after_sft_keeps_whole_checkpoints_when_resumed_without_sft(tmp_path):
    """Whether checkpoints hold only adapters follows the run's checkpoint, not today's sft.enabled: the base of a run
    that did SFT holds the merged SFT weights, which an adapter-only checkpoint would lose on the next resume."""
    run = tmp_path / "run"
    with Trainer(load_config(overrides=[*LORA, "iterations=1", "checkpoint_every=1"]), run, progress=False) as trainer:
        trainer.train()
    overrides = [*LORA, "sft.enabled=false", "iterations=2", "checkpoint_every=1", "checkpoint_keep=3"]
    with Trainer(load_config(overrides=overrides), run, resume=True, progress=False) as trainer:
        trainer.train()
        base = {k: v.clone() for k, v in trainer.models.actor.state_dict().items() if "lora_" not in k}
    saved = torch.load(run / "checkpoints" / "iter_000002" / "actor.pt")
    assert base.keys() <= saved.keys()  # whole, not adapters only
    with Trainer(load_config(overrides=[*overrides, "iterations=3"]), run, resume=True, progress=False) as trainer:
        for name, tensor in trainer.models.actor.state_dict().items():
            if name in base:
                torch.testing.assert_close(tensor, base[name])


def test_adapters_resumed_on_another_base_are_refused(tmp_path):
    run = tmp_path / "run"
    overrides = [*LORA, "sft.enabled=false", "iterations=1", "checkpoint_every=1"]
    with Trainer(load_config(overrides=overrides), run, progress=False) as trainer:
        trainer.train()
    base_file = run / "checkpoints" / "iter_000001" / "base.json"
    assert json.loads(base_file.read_text()) == {"model": "tiny"}
    base_file.write_text('{"model": "Qwen/Qwen2.5-7B-Instruct"}\n')
    with pytest.raises(RuntimeError, match="model.name=Qwen/Qwen2.5-7B-Instruct"):
        Trainer(load_config(overrides=[*overrides, "iterations=2"]), run, resume=True, progress=False)
