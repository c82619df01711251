"""Reward shaping (docs/design.md §3): the trainer's reward from what the env reports, shared by every estimator."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from training.advantages.batch import Layout, Tensor
from training.settings import setting

KEEP_PENALTY_MODES = ("normalized", "fixed")
REWARD_SOURCES = ("success", "env")


@dataclass
class RewardShaping:
    """Per-turn reward shaping; penalties are added (so they are negative numbers)."""

    success_reward: float | None = setting(10.0, "reward on success (null: the env's own reward unscaled)")
    invalid_penalty: float = setting(-0.1, "added on each turn with an invalid format", high=0.0)
    keep_penalty: float = setting(0.0, "KEEP penalty (-0.3 ALFWorld, -3.5 WebShop in the paper)", high=0.0)
    keep_penalty_mode: str = setting("normalized", "normalized (keep_penalty / T per KEEP) or fixed", KEEP_PENALTY_MODES)
    consistency_penalty: float = setting(-0.3, "added on a KEEP turn whose subgoal changed", high=0.0)
    # env: WebShop's partial score on buy, a dense signal for small models (ALFWorld's reward is `won`: both agree)
    reward_source: str = setting("success", "success: success_reward x won (the paper); env: x the env's own reward",
                                 REWARD_SOURCES)
    milestone_reward: float = setting(0.0, "added on a turn per task milestone it completes (0 in the paper)", low=0.0)

    def __post_init__(self) -> None:
        if self.keep_penalty_mode not in KEEP_PENALTY_MODES:
            raise ValueError(f"keep_penalty_mode must be one of {KEEP_PENALTY_MODES}, got {self.keep_penalty_mode!r}")
        if self.reward_source not in REWARD_SOURCES:
            raise ValueError(f"reward_source must be one of {REWARD_SOURCES}, got {self.reward_source!r}")


def shape_rewards(lay: Layout, shaping: RewardShaping) -> Tensor:
    """The shaped per-turn reward (float64, sorted order)."""
    b = lay.batch
    if shaping.success_reward is None:
        reward = b.reward.to(torch.float64).clone()
    elif shaping.reward_source == "env":
        reward = b.reward.to(torch.float64) * shaping.success_reward
    else:
        won = lay.flag(b.won, default=False)
        reward = won.to(torch.float64) * shaping.success_reward
    valid = lay.flag(b.valid, default=True)
    reward = reward + (~valid).to(torch.float64) * shaping.invalid_penalty

    keep = ~b.switch.to(torch.bool)  # a KEEP on turn 0 counts, although turn 0 still opens a segment
    if shaping.keep_penalty != 0.0:
        if shaping.keep_penalty_mode == "fixed":
            reward = reward + keep.to(torch.float64) * shaping.keep_penalty
        else:
            traj_len = _trajectory_length(lay)
            per_turn = torch.where(traj_len > 1, shaping.keep_penalty / traj_len, torch.zeros_like(traj_len))
            reward = reward + keep.to(torch.float64) * per_turn
    if shaping.consistency_penalty != 0.0:
        changed = lay.flag(b.keep_subgoal_changed, default=False) & keep & ~lay.first
        reward = reward + changed.to(torch.float64) * shaping.consistency_penalty
    if shaping.milestone_reward != 0.0 and b.milestones is not None:
        reward = reward + b.milestones.to(torch.float64) * shaping.milestone_reward
    return reward


def _trajectory_length(lay: Layout) -> Tensor:
    traj_number = torch.cumsum(lay.first.to(torch.int64), dim=0) - 1
    lengths = torch.bincount(traj_number).to(torch.float64)
    return lengths[traj_number]
