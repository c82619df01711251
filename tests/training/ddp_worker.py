"""Run one PPO update on a fixed global batch, with or without data parallelism (launched by test_distributed).

Usage: python -m torch.distributed.run --nproc-per-node N tests/training/ddp_worker.py OUT_DIR [fsdp] [adapter] [nosft]
With `fsdp`, the models are sharded (FSDP2) instead of replicated; with `adapter`, a LoRA actor with the critic as
a second adapter on its base (its gradients are summed over ranks only while that adapter is active); with `nosft`,
no SFT warm start (then FSDP ranks other than 0 build on the meta device and receive their shards from rank 0). Every process builds the same tiny model (same
seed) and plays the same fixed rollout; each rank then back-propagates its share of the turns. Rank 0 writes the
update's metrics and the final weights.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import tests.training.toy_env as toy  # noqa: E402
from hiper_agents.backends.base import SamplingParams  # noqa: E402
from tests.training.test_trainer import FAST  # noqa: E402
from training.config import load_config  # noqa: E402
from training.fsdp import full_state_dict, gathered  # noqa: E402
from training.rollout import collect  # noqa: E402
from training.trainer import Trainer  # noqa: E402

ADAPTER_CRITIC = ["model.lora=true", "model.lora_rank=4", "critic.backbone=adapter", "critic.lr=1e-2"]


def main() -> None:
    out = Path(sys.argv[1])
    cfg = load_config(overrides=[*FAST, "iterations=0", "optim.mini_batch_turns=6", "optim.micro_batch_turns=2",
                                 "optim.ppo_epochs=2", "env.num_envs=8", f"model.fsdp={'fsdp' in sys.argv[2:]}",
                                 "critic.fit_bias=true",  # the fit must shift every rank's copy or shard alike
                                 *(ADAPTER_CRITIC if "adapter" in sys.argv[2:] else []),
                                 *(["sft.enabled=false"] if "nosft" in sys.argv[2:] else [])])
    trainer = Trainer(cfg, out / "run", progress=False)
    envs = [gym.make(toy.ENV_ID, max_episode_steps=4) for _ in range(8)]
    options = [{"task": k} for k in range(8)]
    with gathered(trainer.models.actor):  # ranks generate different token counts: no collectives inside
        rollout = collect(envs, trainer.policy, options, list(range(8)), SamplingParams(max_new_tokens=24, seed=5), seed=5)
    samples = sorted(rollout.turns, key=lambda t: (t.episode, t.turn_index))
    owned = [t.episode % trainer.dist.world == trainer.dist.rank for t in samples]
    row = trainer.learner.update(samples, iteration=1, owned=owned)
    weights = {"actor": full_state_dict(trainer.models.actor), "critic": full_state_dict(trainer.models.critic)}
    trainer.engine.save_weights(out / "sync")  # what vLLM engines would load: gathered tensor by tensor when sharded
    if trainer.dist.is_main:
        (out / "row.json").write_text(json.dumps({**row, "turns": len(samples), "world": trainer.dist.world}))
        torch.save(weights, out / "weights.pt")


if __name__ == "__main__":
    main()
