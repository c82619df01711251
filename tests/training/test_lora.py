"""LoRA runs: after an SFT warm start the KL reference is the SFT policy, and the saved model is that policy."""

from __future__ import annotations

import json

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
