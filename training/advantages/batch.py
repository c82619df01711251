"""The one input and output type of every advantage estimator, and the vectorised helpers they share."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from hiper_agents.runner import TurnRecord

Tensor = torch.Tensor


@dataclass
class TurnBatch:
    """A batch of turns, each field a tensor of shape [N]; turns may come in any order.

    `switch` is the parsed switch already segmented by docs/design.md §2's rule (True: the turn opens a segment; a turn 0
    is a segment start whatever its switch, but a KEEP on turn 0 still counts for the KEEP penalty). A trajectory's
    last turn that is not `done` counts as truncated (by the step limit or by the end of the rollout).
    """

    traj_id: Tensor
    turn_idx: Tensor
    reward: Tensor
    done: Tensor
    switch: Tensor
    v_high: Tensor
    v_low: Tensor
    v_term: Tensor
    truncated: Tensor | None = None
    won: Tensor | None = None  # the env reported success on this turn; shaping turns it into the success reward
    valid: Tensor | None = None  # the turn's format was valid (docs/design.md §2)
    group_id: Tensor | None = None  # rollouts of the same task share a group (GRPO, GiGPO)
    obs_key: Tensor | None = None  # an integer key of the observation text (GiGPO's step groups)
    keep_subgoal_changed: Tensor | None = None  # a KEEP turn whose subgoal differs from the previous turn's
    has_subgoal: Tensor | None = None  # the response has a <subgoal> block (else it cannot carry A^H)
    has_switch: Tensor | None = None  # the response has a <switch> block (else it cannot carry A^sw)
    switch_prob: Tensor | None = None  # β_t = P(SWITCH), needed by switch_advantage="paper"
    milestones: Tensor | None = None  # how many of the task's milestones turned done on this turn

    def __len__(self) -> int:
        return int(self.traj_id.numel())

    def take(self, index: Tensor) -> TurnBatch:
        """The batch reordered (or subset) by `index`."""
        return TurnBatch(**{f.name: _take(getattr(self, f.name), index) for f in fields(self)})

    def with_values(self, values: Tensor | None) -> TurnBatch:
        """The same turns with the critic's `values` [N, 3] (high, low, term); zeros without a critic."""
        values = torch.zeros(len(self), 3) if values is None else values
        return replace(self, v_high=values[:, 0].float(), v_low=values[:, 1].float(), v_term=values[:, 2].float())

    @classmethod
    def from_records(cls, turns: Sequence[TurnRecord], values: Tensor | None = None) -> TurnBatch:
        """The batch of the runner's turn records; `values` [N, 3] (high, low, term) from a critic, zeros without one."""

        def col(get, dtype: torch.dtype) -> Tensor:
            return torch.tensor([get(t) for t in turns], dtype=dtype)

        return cls(
            traj_id=col(lambda t: t.episode, torch.int64), turn_idx=col(lambda t: t.turn_index, torch.int64),
            reward=col(lambda t: t.reward, torch.float32), done=col(lambda t: t.terminated, torch.bool),
            truncated=col(lambda t: t.truncated, torch.bool), won=col(lambda t: t.won, torch.bool),
            switch=col(lambda t: t.step.turn.starts_segment, torch.bool),  # turn 0's own switch, for the KEEP penalty
            v_high=torch.zeros(len(turns)), v_low=torch.zeros(len(turns)), v_term=torch.zeros(len(turns)),
            valid=col(lambda t: t.valid, torch.bool), group_id=col(lambda t: t.group, torch.int64),
            obs_key=col(lambda t: stable_key(t.step.observation or t.step.prompt_text), torch.int64),
            keep_subgoal_changed=col(lambda t: t.keep_subgoal_changed, torch.bool),
            has_subgoal=col(lambda t: "subgoal" in t.step.token_spans, torch.bool),
            has_switch=col(lambda t: "switch" in t.step.token_spans, torch.bool),
            milestones=col(lambda t: len(t.milestones_completed), torch.int64),
        ).with_values(values)


def stable_key(text: str) -> int:
    """A 63-bit key of a string, stable across processes (Python's hash() is salted)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def _take(value: Tensor | None, index: Tensor) -> Tensor | None:
    return None if value is None else value[index]


@dataclass
class Advantages:
    """Per-turn advantages and value targets; `flat` estimators put their one advantage in `low`."""

    low: Tensor
    high: Tensor
    switch: Tensor
    segment_start: Tensor
    carries_high: Tensor
    carries_switch: Tensor
    rewards: Tensor
    returns: dict[str, Tensor] = field(default_factory=dict)  # value-head name -> target per turn
    value_mask: dict[str, Tensor] = field(default_factory=dict)  # value-head name -> turns that train it
    flat: bool = False


class BatchError(ValueError):
    """The turn batch is malformed (shapes, turn order, done flags)."""


def _bool(value: Tensor | None, n: int, default: bool, device: torch.device) -> Tensor:
    if value is None:
        return torch.full((n,), default, dtype=torch.bool, device=device)
    return value.to(torch.bool)


@dataclass
class Layout:
    """A batch sorted by (trajectory, turn) with its trajectory and segment boundaries."""

    batch: TurnBatch
    order: Tensor  # sorted position -> original position
    first: Tensor
    last: Tensor
    seg_start: Tensor
    seg_end: Tensor

    def unsort(self, sorted_values: Tensor) -> Tensor:
        """Put values computed in sorted order back into the batch's original order."""
        out = torch.empty_like(sorted_values)
        out[self.order] = sorted_values
        return out

    def flag(self, value: Tensor | None, default: bool) -> Tensor:
        """An optional boolean field of the sorted batch, with its default where absent."""
        return _bool(value, len(self.batch), default, self.first.device)


def layout(batch: TurnBatch) -> Layout:
    """Sort the batch by (trajectory, turn), check it, and find trajectory and segment boundaries."""
    n = len(batch)
    for f in fields(batch):
        value = getattr(batch, f.name)
        if value is not None and tuple(value.shape) != (n,):
            raise BatchError(f"field {f.name!r} has shape {tuple(value.shape)}, expected ({n},)")
    if n == 0:
        raise BatchError("empty turn batch")
    traj = batch.traj_id.to(torch.int64)
    turn = batch.turn_idx.to(torch.int64)
    if bool((turn < 0).any()):
        raise BatchError("turn_idx must be >= 0")
    in_order = (traj[1:] > traj[:-1]) | ((traj[1:] == traj[:-1]) & (turn[1:] > turn[:-1]))
    if bool(in_order.all()):
        order = torch.arange(n, device=traj.device)
    else:  # lexicographic (trajectory, turn) order from two stable sorts
        by_turn = torch.argsort(turn, stable=True)
        order = by_turn[torch.argsort(traj[by_turn], stable=True)]
        batch = batch.take(order)
        traj, turn = traj[order], turn[order]

    first = torch.ones(n, dtype=torch.bool, device=traj.device)
    first[1:] = traj[1:] != traj[:-1]
    last = torch.ones_like(first)
    last[:-1] = first[1:]
    if bool((turn[first] != 0).any()):
        raise BatchError("every trajectory must start at turn_idx 0")
    if bool((turn[1:][~first[1:]] != turn[:-1][~first[1:]] + 1).any()):
        raise BatchError("turn_idx must be consecutive within a trajectory (0, 1, 2, ...) without duplicates")
    done = batch.done.to(torch.bool)
    if bool((done & ~last).any()):
        raise BatchError("done is set on a turn that is not its trajectory's last")
    for name in ("reward", "v_high", "v_low", "v_term"):
        if not bool(torch.isfinite(getattr(batch, name)).all()):
            raise BatchError(f"field {name!r} has non-finite values")

    seg_start = first | batch.switch.to(torch.bool)
    seg_end = last.clone()
    seg_end[:-1] |= seg_start[1:]
    return Layout(batch=batch, order=order, first=first, last=last, seg_start=seg_start, seg_end=seg_end)


def flat_advantages(
    lay: Layout, adv: Tensor, r: Tensor, returns: dict[str, Tensor] | None = None, value_mask: dict[str, Tensor] | None = None
) -> Advantages:
    """Package a flat estimator's one advantage (sorted order) in the common output type."""
    none = torch.zeros_like(lay.first)
    zeros = torch.zeros(adv.shape, dtype=torch.float32, device=adv.device)
    return Advantages(
        low=lay.unsort(adv.to(torch.float32)),
        high=zeros,
        switch=zeros,
        segment_start=lay.unsort(lay.seg_start),
        carries_high=none,
        carries_switch=none,
        rewards=lay.unsort(r.to(torch.float32)),
        returns={k: lay.unsort(v.to(torch.float32)) for k, v in (returns or {}).items()},
        value_mask={k: lay.unsort(v) for k, v in (value_mask or {}).items()},
        flat=True,
    )


def reverse_linear_scan(x: Tensor, coef: Tensor) -> Tensor:
    """y_t = x_t + coef_t * y_{t+1} with y past the end 0, as a parallel doubling scan (no loop over turns).

    A zero coefficient cuts the recursion (a trajectory or segment end), so the loop runs ceil(log2(longest
    run)) times, each pass one vectorised multiply-add over the whole batch.
    """
    y = x.clone()
    a = coef.to(x.dtype).clone()
    n, step = y.numel(), 1
    while step < n and bool(a.any()):
        y_next = y.clone()
        y_next[:-step] += a[:-step] * y[step:]
        a_next = torch.zeros_like(a)
        a_next[:-step] = a[:-step] * a[step:]
        y, a = y_next, a_next
        step *= 2
    return y


def segment_ids(seg_start: Tensor) -> Tensor:
    """The segment number of each turn (0-based, over the whole sorted batch)."""
    return torch.cumsum(seg_start.to(torch.int64), dim=0) - 1


def masked_normalize(values: Tensor, mask: Tensor, eps: float = 1e-8) -> Tensor:
    """(values - mean) / (population std + eps) over the masked turns; other turns become 0."""
    out = torch.zeros_like(values)
    if bool(mask.any()):
        chosen = values[mask]
        out[mask] = (chosen - chosen.mean()) / (chosen.std(unbiased=False) + eps)
    return out


def group_stats(values: Tensor, groups: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per element: its group's size, mean and unbiased std (std 0 for singletons), groups given as int ids."""
    _, inverse = torch.unique(groups, return_inverse=True)
    k = int(inverse.max()) + 1
    count = torch.zeros(k, dtype=values.dtype, device=values.device).index_add_(0, inverse, torch.ones_like(values))
    total = torch.zeros(k, dtype=values.dtype, device=values.device).index_add_(0, inverse, values)
    mean = total / count
    dev2 = (values - mean[inverse]) ** 2
    ss = torch.zeros(k, dtype=values.dtype, device=values.device).index_add_(0, inverse, dev2)
    std = torch.where(count > 1, torch.sqrt(ss / (count - 1).clamp_min(1)), torch.zeros_like(ss))
    return count[inverse], mean[inverse], std[inverse]


def pair_ids(a: Tensor, b: Tensor) -> Tensor:
    """One integer id per distinct (a, b) pair (1-D uniques combined: far faster than unique over rows)."""
    _, a_ids = torch.unique(a, return_inverse=True)
    _, b_ids = torch.unique(b, return_inverse=True)
    _, inverse = torch.unique(a_ids * (int(b_ids.max()) + 1) + b_ids, return_inverse=True)
    return inverse
