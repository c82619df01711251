"""Collect turns from envs with the policy: the runner's turn records, numbered for the global batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hiper_agents.backends.base import SamplingParams
from hiper_agents.policy import HierarchicalPolicy
from hiper_agents.runner import EpisodeReport, TurnRecord, run_episodes


@dataclass
class Rollout:
    """The turns of one collection and the runner's per-episode report."""

    turns: list[TurnRecord]
    report: EpisodeReport

    def episode_stats(self) -> list[tuple[bool, float, int, int]]:
        """(success, score, turns, milestones hit) per episode: small enough to gather across ranks."""
        return [(e.success, e.score, e.length, len(e.milestones_hit)) for e in self.report.episodes]


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
    """Play one episode per entry of `options` (reset options) and return every turn with its token ids.

    `envs` is a list of envs or a hiper_gym TextVectorEnv (worker processes or Ray actors); see run_episodes.
    `episode_ids` name the episodes in the global batch (data-parallel ranks each play a share; default 0..n-1) and
    `group_ids` their task groups; each turn record carries both.
    """
    episode_ids = list(range(len(options))) if episode_ids is None else list(episode_ids)
    report = run_episodes(envs, policy, n=len(options), sampling=sampling, seed=seed, progress=progress,
                          reset_options=list(options), keep_steps=True, max_turns=max_turns)
    turns = [replace(turn, episode=episode_ids[episode.episode], group=int(group_ids[episode.episode]))
             for episode in report.episodes for turn in episode.turns]
    return Rollout(turns=turns, report=report)
