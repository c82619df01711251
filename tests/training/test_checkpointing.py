"""Run-directory checkpoints (how many are kept, none at all) and gradient checkpointing of the models."""

from __future__ import annotations

import torch

from tests.training.test_trainer import FAST
from training import checkpoint as ckpt
from training.config import load_config
from training.models import build_actor, make_critic
from training.trainer import Trainer


def test_save_checkpoint_keeps_the_last_n(tmp_path):
    for iteration in range(1, 5):
        ckpt.save_checkpoint(tmp_path, iteration, lambda d: (d / "w.pt").write_bytes(b"x" * 10), keep=1)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["iter_000004"]
    for iteration in range(5, 8):
        ckpt.save_checkpoint(tmp_path, iteration, lambda d: (d / "w.pt").write_bytes(b"x"), keep=2)
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["iter_000006", "iter_000007"]
    assert ckpt.directory_gib(tmp_path / "checkpoints" / "iter_000007") > 0


def test_checkpoint_keep_zero_writes_none_but_saves_the_model(tmp_path, capsys):
    cfg = load_config(overrides=[*FAST, "iterations=2", "checkpoint_keep=0"])
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        trainer.train()
    assert not (tmp_path / "run" / "checkpoints").exists()
    assert (tmp_path / "run" / "model").is_dir()


def test_checkpoint_size_is_printed_once(tmp_path, capsys):
    cfg = load_config(overrides=[*FAST, "iterations=2", "checkpoint_keep=1"])
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        trainer.train()
    printed = capsys.readouterr().out
    assert printed.count("GiB (keeping 1)") == 2  # iteration 0 (after SFT) and 1, not 2
    assert [p.name for p in (tmp_path / "run" / "checkpoints").iterdir()] == ["iter_000002"]


def checkpointing(model) -> bool:
    """Whether transformers will recompute `model`'s activations (the attribute was renamed in 5.2x)."""
    name = "is_activation_checkpointing" if hasattr(type(model), "is_activation_checkpointing") else "is_gradient_checkpointing"
    return bool(getattr(model, name))


def test_gradient_checkpointing_gives_the_same_gradients(tmp_path):
    grads = {}
    for flag in (False, True):
        cfg = load_config(overrides=[*FAST, f"model.gradient_checkpointing={str(flag).lower()}", "model.device=cpu"])
        torch.manual_seed(0)
        actor, tokenizer = build_actor(cfg, ["go to the red ball"] * 20, torch.device("cpu"), torch.float32)
        critic = make_critic(cfg, actor, torch.device("cpu"))
        assert checkpointing(actor) is flag and checkpointing(critic.backbone) is flag
        actor.train()
        ids = torch.tensor([tokenizer.encode("go to the red ball then the key")])
        actor(input_ids=ids, labels=ids).loss.backward()
        grads[flag] = torch.cat([p.grad.flatten() for p in actor.parameters()])
    torch.testing.assert_close(grads[True], grads[False], atol=1e-6, rtol=1e-5)
