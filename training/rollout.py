"""Collect turns from envs with the policy, and pack them for the estimators and the update."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from hiper_agents.backends.base import SamplingParams
from hiper_agents.policy import HierarchicalPolicy
from hiper_agents.runner import EpisodeReport, run_episodes
from training.advantages import TurnBatch


@dataclass
class TurnSample:
    """One turn as the trainer keeps it: the exact token ids and everything the estimators need."""

    traj_id: int
    turn_idx: int
    group_id: int
    prompt_ids: list[int]
    response_ids: list[int]
    sampler_logprobs: list[float] | None
    spans: dict[str, tuple[int, int]]
    reward: float
    done: bool
    truncated: bool
    won: bool
    switch: bool  # the parsed switch opens a segment (turn 0 is a segment start regardless)
    valid: bool
    keep_subgoal_changed: bool
    obs_key: int
    milestones_completed: list[str] = field(default_factory=list)


@dataclass
class Rollout:
    """The turns of one collection and the runner's per-episode report."""

    samples: list[TurnSample]
    report: EpisodeReport

    def episode_stats(self) -> list[tuple[bool, float, int, int]]:
        """(success, score, turns, milestones hit) per episode: small enough to gather across ranks."""
        return [(e.success, e.score, e.length, len(e.milestones_hit)) for e in self.report.episodes]


def stable_key(text: str) -> int:
    """A 63-bit key of a string, stable across processes (Python's hash() is salted)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def collect(
    envs: Any,
    policy: HierarchicalPolicy,
    options: Sequence[dict[str, Any]],
    group_ids: Sequence[int],
    sampling: SamplingParams,
    seed: int,
    progress: bool = False,
    episode_ids: Sequence[int] | None = None,
    max_turns: int | None = None,
) -> Rollout:
    """Play one episode per entry of `options` (reset options) and flatten every turn into a TurnSample.

    `envs` is a list of envs or a hiper_gym TextVectorEnv (worker processes or Ray actors); see run_episodes.

    `episode_ids` name the episodes in the global batch (data-parallel ranks each play a share); default 0..n-1.
    """
    episode_ids = list(range(len(options))) if episode_ids is None else list(episode_ids)
    report = run_episodes(envs, policy, n=len(options), sampling=sampling, seed=seed, progress=progress,
                          reset_options=list(options), keep_steps=True, max_turns=max_turns)
    samples: list[TurnSample] = []
    for episode in report.episodes:
        steps = episode.steps or []
        for t, (step, turn) in enumerate(zip(steps, episode.turns)):
            last = t == len(steps) - 1
            observation = getattr(step, "observation", None) or step.prompt_text
            samples.append(TurnSample(
                traj_id=episode_ids[episode.episode], turn_idx=t, group_id=int(group_ids[episode.episode]),
                prompt_ids=step.prompt_ids, response_ids=step.response_ids, sampler_logprobs=step.logprobs,
                spans=dict(step.token_spans), reward=turn.reward, done=last and episode.terminated,
                truncated=last and not episode.terminated, won=last and episode.success,
                switch=step.turn.starts_segment, valid=step.turn.valid,
                keep_subgoal_changed=step.keep_subgoal_changed, obs_key=stable_key(observation),
                milestones_completed=list(turn.milestones_completed),
            ))
    return Rollout(samples=samples, report=report)


def turn_batch(samples: Sequence[TurnSample], values: torch.Tensor | None) -> TurnBatch:
    """The estimators' input; `values` [N, 3] (high, low, term) from the critic, zeros without one."""
    n = len(samples)
    if values is None:
        values = torch.zeros(n, 3)

    def col(name: str, dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor([getattr(s, name) for s in samples], dtype=dtype)

    return TurnBatch(
        traj_id=col("traj_id", torch.int64), turn_idx=col("turn_idx", torch.int64), reward=col("reward", torch.float32),
        done=col("done", torch.bool), truncated=col("truncated", torch.bool), switch=col("switch", torch.bool),
        v_high=values[:, 0].float(), v_low=values[:, 1].float(), v_term=values[:, 2].float(),
        won=col("won", torch.bool), valid=col("valid", torch.bool), group_id=col("group_id", torch.int64),
        obs_key=col("obs_key", torch.int64), keep_subgoal_changed=col("keep_subgoal_changed", torch.bool),
        has_subgoal=torch.tensor(["subgoal" in s.spans for s in samples]),
        has_switch=torch.tensor(["switch" in s.spans for s in samples]),
        milestones=torch.tensor([len(s.milestones_completed) for s in samples], dtype=torch.int64),
    )
