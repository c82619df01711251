"""Flat PPO's GAE over turns (one advantage for the whole response), on the state value V_high."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from training.advantages.batch import (
    Advantages,
    TurnBatch,
    flat_advantages,
    layout,
    masked_normalize,
    reverse_linear_scan,
)
from training.advantages.shaping import RewardShaping, shape_rewards
from training.settings import setting


@dataclass
class GAEConfig:
    """Flat GAE hyper-parameters."""

    gamma: float = setting(1.0, "discount", low=0.0, high=1.0)
    lam: float = setting(0.95, "GAE lambda", low=0.0, high=1.0)
    bootstrap_truncated: bool = setting(False, "bootstrap truncated episodes from the critic")
    normalize: bool = setting(True, "normalise advantages over the batch")


def compute_gae(batch: TurnBatch, config: GAEConfig | None = None, shaping: RewardShaping | None = None) -> Advantages:
    """delta_t = r_t + gamma V(s_{t+1}) - V(s_t); A_t = delta_t + gamma lam A_{t+1} within each trajectory."""
    cfg = config or GAEConfig()
    lay = layout(batch)
    b = lay.batch
    r = shape_rewards(lay, shaping or RewardShaping())
    v = b.v_high.to(torch.float64)
    done = b.done.to(torch.bool)
    # A truncated trajectory bootstraps from its last state's own value if asked (its successor is unseen).
    truncated_value = v if cfg.bootstrap_truncated else torch.zeros_like(v)
    next_value = torch.where(lay.last, torch.where(done, torch.zeros_like(v), truncated_value), torch.roll(v, -1))
    delta = r + cfg.gamma * next_value - v
    adv = reverse_linear_scan(delta, cfg.gamma * cfg.lam * (~lay.last).to(torch.float64))
    ret = adv + v
    every = torch.ones_like(lay.first)
    if cfg.normalize:
        adv = masked_normalize(adv, every)
    return flat_advantages(lay, adv, r, returns={"high": ret}, value_mask={"high": every})
