"""The trainer end to end on a tiny model: each algo runs, resume is exact, runs write what docs/design.md §4 lists."""

from __future__ import annotations

import json

import pytest

import tests.training.toy_env as toy
from training.config import load_config
from training.trainer import Trainer

FAST = [
    f"env.id={toy.ENV_ID}", "env.num_envs=4", "env.max_steps=4", "model.tiny_hidden=32", "model.tiny_layers=1",
    "model.tiny_vocab=400", "rollout.max_new_tokens=24", "rollout.max_prompt_tokens=400", "sft.enabled=true",
    "sft.episodes=6", "sft.epochs=1", "eval.episodes=3", "eval.every=0", "optim.mini_batch_turns=8",
    "optim.micro_batch_turns=4", "optim.actor_lr=1e-4", "env.task_subset=0", "env.kwargs={}", "sft.expert_noise=0",
]


def _run(tmp_path, name, *overrides, resume=False):
    cfg = load_config(overrides=[*FAST, *overrides])
    with Trainer(cfg, tmp_path / name, resume=resume, progress=False) as trainer:
        return trainer.train()


@pytest.mark.parametrize("algo", ["hiper", "ppo", "grpo", "gigpo"])
def test_each_algo_runs_end_to_end(tmp_path, algo):
    extra = ["env.group_n=2"] if algo in ("grpo", "gigpo") else []
    summary = _run(tmp_path, algo, f"algo.name={algo}", "iterations=2", *extra)
    rows = [json.loads(line) for line in (tmp_path / algo / "metrics.jsonl").read_text().splitlines()]
    iterations = [r for r in rows if "loss/policy" in r]
    assert [r["iteration"] for r in iterations] == [1, 2]
    for row in iterations:
        assert row["turns"] > 0 and 0.0 <= row["valid_ratio"] <= 1.0 and row["throughput/tokens_per_s"] > 0
        assert row["loss/policy"] == row["loss/policy"]  # not NaN
        if algo in ("hiper", "ppo"):
            assert "loss/value" in row and "value/high_explained_var" in row
    assert summary["after"]["eval/episodes"] == 3
    run = tmp_path / algo
    assert (run / "config.yaml").is_file() and (run / "curves.png").is_file() and (run / "model").is_dir()
    assert list((run / "tensorboard").iterdir())


def test_resume_continues_exactly(tmp_path):
    full = _run(tmp_path, "full", "iterations=3", "eval.every=0")
    # a run stopped after iteration 2 (its last checkpoint), then resumed to 3
    _run(tmp_path, "cut", "iterations=2", "eval.every=0")
    resumed = _run(tmp_path, "cut", "iterations=3", "eval.every=0", resume=True)
    keys = ("success", "score", "turns", "loss/policy", "loss/value", "kl", "valid_ratio")
    rows = {}
    for name in ("full", "cut"):
        lines = (tmp_path / name / "metrics.jsonl").read_text().splitlines()
        rows[name] = [json.loads(line) for line in lines if "loss/policy" in json.loads(line)]
    assert [r["iteration"] for r in rows["cut"]] == [1, 2, 3]
    for a, b in zip(rows["full"], rows["cut"]):
        assert {k: a[k] for k in keys} == pytest.approx({k: b[k] for k in keys}, rel=1e-6, abs=1e-9)
    assert resumed["after"]["eval/success"] == full["after"]["eval/success"]


@pytest.mark.parametrize("workers", ["multiprocess", "ray"])
def test_rollouts_in_workers_equal_in_process_rollouts(tmp_path, workers):
    """The same seed gives the same run whether envs step in the trainer's process, in worker processes or in Ray
    actors: rollout placement changes where envs run, never what they return."""
    if workers == "ray":
        pytest.importorskip("ray")
        import os

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # tests only: a local instance bound to 127.0.0.1
    env_id = f"tests.training.toy_env:{toy.ENV_ID}"  # the workers import the module that registers the toy env
    _run(tmp_path, "local", "iterations=2", f"env.id={env_id}")
    _run(tmp_path, workers, "iterations=2", f"env.id={env_id}", f"env.workers={workers}")
    keys = ("success", "score", "turns", "episode_length", "loss/policy", "loss/value", "valid_ratio")
    rows = {}
    for name in ("local", workers):
        lines = (tmp_path / name / "metrics.jsonl").read_text().splitlines()
        rows[name] = [json.loads(line) for line in lines]
    trained = {name: [r for r in rs if "loss/policy" in r] for name, rs in rows.items()}
    assert len(trained[workers]) == 2
    for a, b in zip(trained["local"], trained[workers]):
        assert {k: a[k] for k in keys} == pytest.approx({k: b[k] for k in keys}, rel=1e-6, abs=1e-9)
    evals = {name: [r["eval/success"] for r in rs if "eval/success" in r] for name, rs in rows.items()}
    assert evals["local"] == evals[workers]


def test_critic_warmup_moves_only_the_critic(tmp_path):
    """critic.warmup_iterations=1: iteration 1 changes the critic and leaves the actor as it was; iteration 2 moves
    the actor too."""
    import torch

    cfg = load_config(overrides=[*FAST, "critic.warmup_iterations=1", "iterations=2"])
    with Trainer(cfg, tmp_path / "warm", progress=False) as trainer:
        def snapshot(module):
            return {k: v.detach().clone() for k, v in module.state_dict().items()}

        actor, critic = snapshot(trainer.models.actor), snapshot(trainer.models.critic)
        row = trainer.iteration(1)
        assert row["actor_updated"] == 0.0
        assert all(torch.equal(v, trainer.models.actor.state_dict()[k]) for k, v in actor.items())
        assert any(not torch.equal(v, trainer.models.critic.state_dict()[k]) for k, v in critic.items())
        row = trainer.iteration(2)
        assert row["actor_updated"] == 1.0
        assert any(not torch.equal(v, trainer.models.actor.state_dict()[k]) for k, v in actor.items())


def test_sft_cycles_the_training_tasks_up_to_its_episode_count(tmp_path, capsys):
    # The toy env has 30 training tasks: 45 episodes play every task once, then the first 15 again (fresh seeds,
    # so a noisy expert shows other choices), rather than stopping silently at 30.
    _run(tmp_path, "cycle", "sft.episodes=45", "iterations=0")
    assert "(45 episodes)" in capsys.readouterr().out


def test_critic_fit_bias_shifts_the_heads_once_to_the_first_batch_targets(tmp_path):
    """critic.fit_bias=true: the first update moves each head's bias so its batch mean meets its targets' mean (a
    fresh head reads ~0 while returns are on the success reward's scale); later updates do not shift it again, and
    the flag is in the critic's state dict, so a resumed run does not refit."""
    import torch

    cfg = load_config(overrides=[*FAST, "critic.fit_bias=true", "critic.lr=0", "iterations=2", "env.num_envs=8"])
    with Trainer(cfg, tmp_path / "fit", progress=False) as trainer:
        critic = trainer.models.critic
        assert not bool(critic.bias_fitted) and torch.count_nonzero(critic.heads.bias) == 0
        row = trainer.iteration(1)
        assert bool(critic.bias_fitted) and "bias_fitted" in critic.state_dict()
        fitted = critic.heads.bias.detach().clone()
        assert fitted.abs().max() > 0.05  # a fresh head reads ~0; this barely-trained policy's returns are penalties
        for head in ("high", "low", "term"):
            # V_low's targets bootstrap on V_high: the fit repeats until the shift is negligible
            assert abs(row[f"value/{head}_mean"] - row[f"returns/{head}_mean"]) < 1e-2, (head, row)
        trainer.iteration(2)
        assert torch.equal(critic.heads.bias.detach(), fitted)  # lr 0: only a second fit could have moved it


def test_a_critic_saved_before_fit_bias_existed_loads_as_fitted():
    """Old checkpoints lack the flag; their heads were trained, so loading one must not make a run refit them."""
    import torch
    from transformers import Qwen2Config, Qwen2Model

    from training.critic import ValueModel

    backbone = Qwen2Model(Qwen2Config(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                      num_attention_heads=2, num_key_value_heads=2))
    critic = ValueModel(backbone, 16)
    old = {k: v for k, v in critic.state_dict().items() if "fitted" not in k and not k.startswith("feature_")}
    critic.load_state_dict(old)
    assert bool(critic.bias_fitted) and bool(critic.features_fitted)  # trained on raw features: identity map kept
    assert torch.equal(critic.feature_scale, torch.ones(16)) and torch.equal(critic.feature_mean, torch.zeros(16))
    fresh = ValueModel(backbone, 16)
    assert not bool(fresh.bias_fitted)
    fresh.load_state_dict(ValueModel(backbone, 16).state_dict())
    assert not bool(fresh.bias_fitted)


def test_critic_fit_features_standardises_what_the_heads_read_once(tmp_path):
    """critic.fit_features=true: the first update sets a fixed map so each hidden feature the heads read has mean 0
    and std 1 over the batch (a tiny model's last-prompt-token states differ by ~2% between prompts, too little for a
    linear head to learn from); the map is saved with the critic and not refitted."""
    import torch

    from training.forward import critic_inputs

    cfg = load_config(overrides=[*FAST, "critic.fit_features=true", "critic.lr=0", "iterations=2", "env.num_envs=8"])
    with Trainer(cfg, tmp_path / "feat", progress=False) as trainer:
        critic = trainer.models.critic
        assert not bool(critic.features_fitted)
        trainer.iteration(1)
        assert bool(critic.features_fitted) and "feature_scale" in critic.state_dict()
        fitted = critic.feature_scale.clone()
        assert float(fitted.min()) > 1.0  # the raw features vary by far less than 1 across turns
        trainer.iteration(2)
        assert torch.equal(critic.feature_scale, fitted)
        # the map standardises: on fresh turns the mapped features' spread is of order 1, not ~0.01
        ids, mask, pos = critic_inputs(_fresh_turns(trainer), trainer.models.pad_id, trainer.models.device)
        with torch.no_grad():
            mapped = (critic.features(ids, mask, pos) - critic.feature_mean) * critic.feature_scale
        assert 0.3 < float(mapped.reshape(-1, mapped.shape[-1]).std(0).mean()) < 3.0


def _fresh_turns(trainer):
    from hiper_agents.backends.base import SamplingParams
    from training.rollout import collect

    options = [{"task": k} for k in range(4)]
    rollout = collect(trainer.rollout_envs[:4], trainer.policy, options, list(range(4)),
                      SamplingParams(max_new_tokens=24, seed=9), seed=9)
    return [turn.step for turn in rollout.turns]
