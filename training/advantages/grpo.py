"""GRPO: each trajectory's return normalised within the group of rollouts of the same task."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from training.advantages.batch import Advantages, Layout, Tensor, TurnBatch, flat_advantages, group_stats, layout
from training.advantages.shaping import RewardShaping, shape_rewards
from training.settings import setting


@dataclass
class GRPOConfig:
    """GRPO hyper-parameters (verl's defaults)."""

    std_normalize: bool = setting(True, "divide by the group's std (false: Dr.GRPO, mean only)")
    eps: float = setting(1e-6, "added to the std before dividing", low=0.0)


def episode_advantage(lay: Layout, r: Tensor, std_normalize: bool, eps: float) -> Tensor:
    """Per turn, its trajectory's normalised return; a trajectory alone in its group keeps its raw return (as verl)."""
    b = lay.batch
    if b.group_id is None:
        raise ValueError("GRPO and GiGPO need TurnBatch.group_id (rollouts of the same task share one)")
    traj_number = torch.cumsum(lay.first.to(torch.int64), dim=0) - 1
    episode_return = torch.zeros(int(traj_number[-1]) + 1, dtype=r.dtype, device=r.device).index_add_(0, traj_number, r)
    episode_group = b.group_id[lay.first]
    count, mean, std = group_stats(episode_return, episode_group)
    centred = torch.where(count > 1, episode_return - mean, episode_return)
    if std_normalize:
        centred = torch.where(count > 1, centred / (std + eps), centred)
    return centred[traj_number]


def compute_grpo(batch: TurnBatch, config: GRPOConfig | None = None, shaping: RewardShaping | None = None) -> Advantages:
    """GRPO advantages: one per trajectory, the same on all its turns."""
    cfg = config or GRPOConfig()
    lay = layout(batch)
    r = shape_rewards(lay, shaping or RewardShaping())
    return flat_advantages(lay, episode_advantage(lay, r, cfg.std_normalize, cfg.eps), r)
