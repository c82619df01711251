"""Hierarchical advantage estimation (HiPER, docs/design.md §3), vectorised over the whole batch.

Symbols as in docs/design.md §3: segment k spans turns b_k..e_k (n_k turns); gamma, lam_turn, lam_seg.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from training.advantages.batch import (
    Advantages,
    Layout,
    Tensor,
    TurnBatch,
    layout,
    masked_normalize,
    reverse_linear_scan,
    segment_ids,
)
from training.advantages.shaping import RewardShaping, shape_rewards
from training.settings import setting

SWITCH_ADVANTAGES = ("return", "paper")


@dataclass
class HAEConfig:
    """HAE hyper-parameters (defaults as docs/design.md §3)."""

    gamma: float = setting(1.0, "discount", low=0.0, high=1.0)
    lam_turn: float = setting(1.0, "low-level lambda (turns inside a subgoal segment)", low=0.0, high=1.0)
    lam_seg: float = setting(0.95, "high-level lambda (over segments)", low=0.0, high=1.0)
    bootstrap_truncated: bool = setting(False, "bootstrap truncated episodes from the critic")
    # "return": G_t - V_term (reference code); "paper": (q - beta)(V_high - V_term)
    switch_advantage: str = setting("return", "switch advantage: return (reference code) or paper", SWITCH_ADVANTAGES)
    normalize: bool = setting(True, "normalise advantages per level over the batch")

    def __post_init__(self) -> None:
        if self.switch_advantage not in SWITCH_ADVANTAGES:
            raise ValueError(f"switch_advantage must be one of {SWITCH_ADVANTAGES}, got {self.switch_advantage!r}")
        for name in ("gamma", "lam_turn", "lam_seg"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


def segment_bootstrap(lay: Layout, v_high: Tensor, bootstrap_truncated: bool) -> Tensor:
    """Per turn, the value after its segment's end: sg[V_high(s_{b_{k+1}})], 0 when done, V_high(s_{b_k}) if truncated."""
    seg = segment_ids(lay.seg_start)
    v_high_at_own_start = v_high[lay.seg_start][seg]
    v_high_next = torch.roll(v_high, -1)
    truncated_value = v_high_at_own_start if bootstrap_truncated else torch.zeros_like(v_high)
    done = lay.batch.done.to(torch.bool)
    at_end = torch.where(done, torch.zeros_like(v_high), truncated_value)
    return torch.where(lay.last, at_end, v_high_next)


def compute_hae(batch: TurnBatch, config: HAEConfig | None = None, shaping: RewardShaping | None = None) -> Advantages:
    """HAE's low-level, high-level and switch advantages with their value targets."""
    cfg = config or HAEConfig()
    lay = layout(batch)
    b = lay.batch
    r = shape_rewards(lay, shaping or RewardShaping())
    v_high, v_low, v_term = (x.to(torch.float64) for x in (b.v_high, b.v_low, b.v_term))
    gamma = cfg.gamma
    inside = (~lay.seg_end).to(torch.float64)  # 1 where the next turn belongs to the same segment
    boot = segment_bootstrap(lay, v_high, cfg.bootstrap_truncated)
    done = b.done.to(torch.bool)

    # Low level: delta_t = r_t + gamma V_low(s_{t+1}) - V_low(s_t) inside a segment; at e_k the bootstrap is
    # sg[V_high(s_{b_{k+1}})], 0 when done, V_low(s_{e_k}) for a truncated last segment if bootstrap_truncated.
    low_truncated = v_low if cfg.bootstrap_truncated else torch.zeros_like(v_low)
    low_boot_last = torch.where(done, torch.zeros_like(v_low), low_truncated)
    next_value = torch.where(lay.seg_end, torch.where(lay.last, low_boot_last, boot), torch.roll(v_low, -1))
    delta = r + gamma * next_value - v_low
    adv_low = reverse_linear_scan(delta, gamma * cfg.lam_turn * inside)
    ret_low = adv_low + v_low

    # High level (semi-MDP GAE): delta^H_k = R_k + gamma^{n_k} boot_k - V_high(s_{b_k});
    # A^H_k = delta^H_k + gamma^{n_k} lam_seg (1 - d_{e_k}) A^H_{k+1} within the trajectory.
    seg_return = reverse_linear_scan(r, gamma * inside)[lay.seg_start]  # R_k, read at b_k
    seg = segment_ids(lay.seg_start)
    n_k = torch.bincount(seg).to(torch.float64)
    disc_k = gamma**n_k
    boot_k = boot[lay.seg_end]
    delta_high = seg_return + disc_k * boot_k - v_high[lay.seg_start]
    continues = (~lay.last[lay.seg_end]).to(torch.float64)
    adv_high_k = reverse_linear_scan(delta_high, disc_k * cfg.lam_seg * continues)
    adv_high = torch.zeros_like(r)
    adv_high[lay.seg_start] = adv_high_k
    ret_high = torch.zeros_like(r)
    ret_high[lay.seg_start] = adv_high_k + v_high[lay.seg_start]

    # Switch: G_t = r_t + gamma G_{t+1} inside the segment, G after e_k = boot_k; V_term's target is G_t.
    ret_switch = reverse_linear_scan(r + gamma * lay.seg_end.to(torch.float64) * boot, gamma * inside)
    if cfg.switch_advantage == "return":
        adv_switch = ret_switch - v_term
    else:
        if b.switch_prob is None:
            raise ValueError('switch_advantage="paper" needs TurnBatch.switch_prob (the policy\'s P(SWITCH))')
        q = lay.seg_start.to(torch.float64)
        adv_switch = (q - b.switch_prob.to(torch.float64)) * (v_high - v_term)

    carries_high = lay.seg_start & lay.flag(b.has_subgoal, default=True)
    carries_switch = lay.flag(b.has_switch, default=True)
    every_turn = torch.ones_like(carries_switch)
    if cfg.normalize:
        adv_low = masked_normalize(adv_low, every_turn)
        adv_high = masked_normalize(adv_high, carries_high)
        adv_switch = masked_normalize(adv_switch, carries_switch)
    else:
        adv_high = torch.where(carries_high, adv_high, torch.zeros_like(adv_high))
        adv_switch = torch.where(carries_switch, adv_switch, torch.zeros_like(adv_switch))

    def out(x: Tensor) -> Tensor:
        return lay.unsort(x.to(torch.float32))

    return Advantages(
        low=out(adv_low),
        high=out(adv_high),
        switch=out(adv_switch),
        segment_start=lay.unsort(lay.seg_start),
        carries_high=lay.unsort(carries_high),
        carries_switch=lay.unsort(carries_switch),
        rewards=out(r),
        returns={"low": out(ret_low), "high": out(ret_high), "term": out(ret_switch)},
        value_mask={"low": lay.unsort(every_turn), "high": lay.unsort(lay.seg_start), "term": lay.unsort(every_turn)},
    )
