"""GiGPO: GRPO's episode advantage plus a step advantage within groups of identical observations."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from training.advantages.batch import (
    Advantages,
    TurnBatch,
    flat_advantages,
    group_stats,
    layout,
    pair_ids,
    reverse_linear_scan,
)
from training.advantages.grpo import episode_advantage
from training.advantages.shaping import RewardShaping, shape_rewards
from training.settings import setting


@dataclass
class GiGPOConfig:
    """GiGPO hyper-parameters (verl-agent's defaults: mean_norm, gamma 0.95, weight 1)."""

    gamma: float = setting(0.95, "step-return discount", low=0.0, high=1.0)
    step_weight: float = setting(1.0, "weight of the step advantage", low=0.0)
    std_normalize: bool = setting(False, "divide by the group's std (verl-agent's mean_std_norm; false: mean_norm)")
    eps: float = setting(1e-6, "added to the std before dividing", low=0.0)


def compute_gigpo(batch: TurnBatch, config: GiGPOConfig | None = None, shaping: RewardShaping | None = None) -> Advantages:
    """A_t = A^episode + w * A^step, A^step the discounted step return normalised among identical observations."""
    cfg = config or GiGPOConfig()
    lay = layout(batch)
    b = lay.batch
    if b.obs_key is None:
        raise ValueError("GiGPO needs TurnBatch.obs_key (an integer key of each turn's observation)")
    r = shape_rewards(lay, shaping or RewardShaping())
    episode = episode_advantage(lay, r, cfg.std_normalize, cfg.eps)
    step_return = reverse_linear_scan(r, cfg.gamma * (~lay.last).to(torch.float64))
    count, mean, std = group_stats(step_return, pair_ids(b.group_id, b.obs_key))
    step = step_return - mean  # a singleton is its own mean: 0
    if cfg.std_normalize:
        step = torch.where(count > 1, step / (std + cfg.eps), step)
    return flat_advantages(lay, episode + cfg.step_weight * step, r)
