"""Play episodes of any hiper_gym env with a HierarchicalPolicy: evaluation, demos, integrations.

Many envs step in lock-step: each round the policy makes one backend call for every live episode, every env steps
with its action, and an env whose episode ended starts the next one until `n` episodes are done. Episode `i` is
always reset with `seed + i` (and `reset_options(i)`), so which games are played does not depend on the batch.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from hiper_agents.backends.base import SamplingParams, derive_seed
from hiper_agents.policy import HierarchicalPolicy, PolicyStep

DEFAULT_MAX_TURNS = 100  # safety limit for envs without a TimeLimit wrapper


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% for z = 1.96); (0, 1) when n = 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float], z: float = 1.96) -> tuple[float, float]:
    """Normal-approximation interval of a mean (sample std); the point itself for fewer than two values."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, mean
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = z * std / math.sqrt(len(values))
    return mean - half, mean + half


@dataclass
class TurnRecord:
    """One turn as played, the one record from runner to trainer: the policy's step, what the env answered, and, on
    the turn that ended the episode, how it ended. The report fields (action, validity, subgoal, ...) are views of
    the step; its prompt token ids are kept only with run_episodes(keep_steps=True)."""

    step: PolicyStep
    reward: float
    action_valid: bool
    milestones_completed: list[str]
    episode: int = 0  # the episode's index in the batch (collect renumbers to the global batch)
    group: int = 0  # episodes of the same task share a group (GRPO/GiGPO); the runner gives each episode its own
    terminated: bool = False  # this turn ended the episode and the env said it was over
    truncated: bool = False  # this turn ended the episode at a step or turn limit
    won: bool = False  # this turn ended the episode with a win

    turn_index = property(lambda self: self.step.turn_index, doc="The turn's index in its episode.")
    action = property(lambda self: self.step.action, doc="The action sent to the env.")
    response = property(lambda self: self.step.response_text, doc="The model's text.")
    valid = property(lambda self: self.step.turn.valid, doc="Whether the response had the turn format.")
    error = property(lambda self: self.step.turn.error, doc="Why the response was not valid, if it was not.")
    admissible = property(lambda self: self.step.turn.admissible, doc="Whether the action was admissible.")
    switch = property(lambda self: self.step.turn.switch, doc="KEEP, SWITCH or None as parsed.")
    subgoal = property(lambda self: self.step.turn.subgoal, doc="The subgoal as written.")
    starts_segment = property(lambda self: self.step.starts_segment, doc="Turn 0, or a switch other than KEEP.")
    keep_subgoal_changed = property(lambda self: self.step.keep_subgoal_changed,
                                    doc="A KEEP turn whose subgoal differs from the current one.")
    finish_reason = property(lambda self: self.step.finish_reason, doc="Why generation stopped.")
    response_tokens = property(lambda self: len(self.step.response_ids), doc="Number of response tokens generated.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the report fields, without token ids."""
        return {name: getattr(self, name) for name in REPORT_FIELDS}


REPORT_FIELDS = ("turn_index", "action", "response", "valid", "error", "admissible", "switch", "subgoal",
                 "starts_segment", "keep_subgoal_changed", "reward", "action_valid", "milestones_completed",
                 "finish_reason", "response_tokens", "terminated", "truncated", "won")


@dataclass
class EpisodeRecord:
    """One finished episode."""

    episode: int
    seed: int | None
    task: str
    task_type: str | None
    turns: list[TurnRecord] = field(default_factory=list)
    total_reward: float = 0.0
    success: bool = False
    score: float = 0.0
    milestones_hit: list[str] = field(default_factory=list)
    milestones_total: int = 0
    terminated: bool = False
    truncated: bool = False
    env_error: str | None = None  # the env failed (a crashed worker or engine); the episode ended there

    @property
    def length(self) -> int:
        """Number of turns played."""
        return len(self.turns)

    @property
    def switches(self) -> int:
        """Subgoal switches: segment starts after turn 0."""
        return sum(t.starts_segment for t in self.turns[1:])

    @property
    def valid_ratio(self) -> float:
        """Share of turns whose format was valid."""
        return sum(t.valid for t in self.turns) / len(self.turns) if self.turns else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (turns without their token ids)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "turns"}
        data.update(turns=[t.to_dict() for t in self.turns], length=self.length, switches=self.switches,
                    valid_ratio=self.valid_ratio)
        return data


@dataclass
class EpisodeReport:
    """Per-episode records and aggregates (success with a 95% Wilson interval, score with a normal interval)."""

    episodes: list[EpisodeRecord]
    wall_seconds: float = 0.0
    backend_calls: int = 0
    response_tokens: int = 0

    @property
    def n(self) -> int:
        """Number of episodes."""
        return len(self.episodes)

    @property
    def success_rate(self) -> float:
        """Share of episodes won."""
        return sum(e.success for e in self.episodes) / self.n if self.n else 0.0

    @property
    def success_interval(self) -> tuple[float, float]:
        """95% Wilson interval of the success rate."""
        return wilson_interval(sum(e.success for e in self.episodes), self.n)

    @property
    def mean_score(self) -> float:
        """Mean benchmark score."""
        return sum(e.score for e in self.episodes) / self.n if self.n else 0.0

    @property
    def score_interval(self) -> tuple[float, float]:
        """95% normal interval of the mean score."""
        return mean_interval([e.score for e in self.episodes])

    def aggregates(self, episodes: Sequence[EpisodeRecord] | None = None) -> dict[str, Any]:
        """Success, score, validity, switches and length over `episodes` (default: all)."""
        eps = list(self.episodes if episodes is None else episodes)
        n, wins = len(eps), sum(e.success for e in eps)
        turns = sum(e.length for e in eps)
        return {
            "episodes": n,
            "success": wins / n if n else 0.0,
            "success_ci95": list(wilson_interval(wins, n)),
            "score": sum(e.score for e in eps) / n if n else 0.0,
            "score_ci95": list(mean_interval([e.score for e in eps])),
            "valid_turn_ratio": sum(sum(t.valid for t in e.turns) for e in eps) / turns if turns else 0.0,
            "admissible_action_ratio": sum(sum(bool(t.admissible) for t in e.turns) for e in eps) / turns if turns else 0.0,
            "mean_switches": sum(e.switches for e in eps) / n if n else 0.0,
            "mean_length": turns / n if n else 0.0,
            "milestone_ratio": (sum(len(e.milestones_hit) for e in eps) / max(1, sum(e.milestones_total for e in eps))),
        }

    def by_task_type(self) -> dict[str, dict[str, Any]]:
        """Aggregates per task type (episodes without one count under "all" only)."""
        types = sorted({e.task_type for e in self.episodes if e.task_type})
        return {t: self.aggregates([e for e in self.episodes if e.task_type == t]) for t in types}

    def summary(self) -> str:
        """One line: success ± interval, score, validity, throughput."""
        lo, hi = self.success_interval
        rate = self.response_tokens / self.wall_seconds if self.wall_seconds else 0.0
        agg = self.aggregates()
        return (
            f"{self.n} episodes: success {self.success_rate:.3f} [{lo:.3f}, {hi:.3f}], score {self.mean_score:.3f}, "
            f"valid turns {agg['valid_turn_ratio']:.3f}, switches/episode {agg['mean_switches']:.2f}, "
            f"{rate:.0f} generated tokens/s"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: aggregates, per type, and every episode."""
        return {
            "aggregates": self.aggregates(),
            "by_task_type": self.by_task_type(),
            "wall_seconds": self.wall_seconds,
            "backend_calls": self.backend_calls,
            "response_tokens": self.response_tokens,
            "episodes": [e.to_dict() for e in self.episodes],
        }


class LockStep:
    """Slots played in lock-step by one policy: which slot plays which item (episode or request), what each slot
    last observed, and one policy call per round for every live slot. run_episodes and the LangChain agent drive
    it; they own the envs and the I/O (vector resets, events, timeouts, async tools)."""

    def __init__(self, policy: HierarchicalPolicy, slots: int, items: int):
        self.policy, self.slots = policy, slots
        self.pending = deque(range(items))
        self.live: dict[int, int] = {}  # slot -> item
        self.observations: dict[int, str] = {}
        self.infos: dict[int, dict[str, Any]] = {}
        self.rounds = 0
        policy.reset(slots)

    def assign(self, slots: Sequence[int] | None = None) -> list[tuple[int, int]]:
        """Give the next pending items to idle slots (all idle ones by default), as (slot, item); the caller resets
        their envs and calls `begin`."""
        chosen = []
        for slot in range(self.slots) if slots is None else slots:
            if slot not in self.live and self.pending:
                self.live[slot] = self.pending.popleft()
                chosen.append((slot, self.live[slot]))
        return chosen

    def begin(self, slot: int, observation: str, info: dict[str, Any]) -> None:
        """Start a slot's episode on its first observation (the policy forgets the slot's last one)."""
        self.policy.reset_slot(slot)
        self.observe(slot, observation, info)

    def observe(self, slot: int, observation: str, info: dict[str, Any]) -> None:
        """What the env answered a slot's last action."""
        self.observations[slot], self.infos[slot] = observation, info

    def end(self, slot: int) -> int:
        """Free a slot; returns the item it played."""
        self.observations.pop(slot, None)
        self.infos.pop(slot, None)
        return self.live.pop(slot)

    def act(self, sampling: SamplingParams) -> list[PolicyStep]:
        """One backend call for every live slot (in slot order); one PolicyStep each."""
        active = sorted(self.live)
        steps = self.policy.act([self.observations[s] for s in active], [self.infos[s] for s in active], active,
                                sampling)
        self.rounds += 1
        return steps


class _EnvSlots:
    """Slots played in lock-step: a list of envs (stepped one by one) or a hiper_gym TextVectorEnv (stepped and
    reset in one call per round, so worker processes or Ray actors step in parallel)."""

    def __init__(self, envs: Any, num_envs: int):
        self.vector = None
        self.envs: list[Any] = []
        if isinstance(envs, str):
            import gymnasium as gym

            import hiper_gym  # noqa: F401  registers the hiper/ ids

            self.envs = [gym.make(envs) for _ in range(num_envs)]
        elif isinstance(envs, (list, tuple)):
            if not envs:
                raise ValueError("run_episodes needs at least one env")
            self.envs = list(envs)
        elif _is_text_vector_env(envs):
            self.vector = envs
        elif hasattr(envs, "num_envs") and not hasattr(envs, "unwrapped"):
            raise TypeError("gymnasium VectorEnv autoresets; pass a list of envs or a hiper_gym TextVectorEnv instead")
        else:
            self.envs = [envs]

    def __len__(self) -> int:
        return self.vector.num_envs if self.vector is not None else len(self.envs)

    def reset(self, slots: list[int], seeds: list[int | None], options: list[Any]) -> list[tuple[str, dict[str, Any]]]:
        if self.vector is not None:
            observations, infos = self.vector.reset(seed=seeds, options=options, indices=slots)
            return list(zip(observations, infos))
        return [self.envs[s].reset(seed=seed, options=opts) for s, seed, opts in zip(slots, seeds, options)]

    def step(self, slots: list[int], actions: list[str]) -> list[tuple[str, float, bool, bool, dict[str, Any]]]:
        if self.vector is not None:
            return list(zip(*self.vector.step(actions, indices=slots))) if slots else []
        return [self.envs[s].step(a) for s, a in zip(slots, actions)]

    def turn_limit(self, slot: int, max_turns: int | None) -> int:
        if max_turns is not None:
            return max_turns
        env = self.envs[slot] if self.vector is None else None
        spec = getattr(env, "spec", None)
        return getattr(spec, "max_episode_steps", None) or DEFAULT_MAX_TURNS


def _is_text_vector_env(envs: Any) -> bool:
    from hiper_gym.vector import TextVectorEnv  # imported here: only runs that pass a vector env need it

    return isinstance(envs, TextVectorEnv)


def _options_for(reset_options: Any, episode: int) -> dict[str, Any] | None:
    if reset_options is None:
        return None
    if callable(reset_options):
        return reset_options(episode)
    if isinstance(reset_options, dict):
        return dict(reset_options)
    return dict(reset_options[episode])


def run_episodes(
    envs: Any,
    policy: HierarchicalPolicy,
    n: int,
    sampling: SamplingParams | None = None,
    seed: int | None = 0,
    progress: bool = True,
    max_turns: int | None = None,
    reset_options: dict[str, Any] | Sequence[dict[str, Any]] | Callable[[int], dict[str, Any]] | None = None,
    num_envs: int = 1,
    keep_steps: bool = False,
    desc: str = "episodes",
) -> EpisodeReport:
    """Play `n` episodes on `envs`: an env, a list of envs played in lock-step, a hiper_gym TextVectorEnv (the
    sync, process or Ray pool of hiper_gym.vector), or an env id made `num_envs` times. A TextVectorEnv has no
    TimeLimit per slot: pass `max_turns`. `keep_steps` keeps every turn's prompt token ids (what a trainer needs);
    `desc` labels the progress bar."""
    from tqdm.auto import tqdm

    slots_env = _EnvSlots(envs, num_envs)
    n_slots = len(slots_env)
    sampling = sampling or policy.default_sampling()
    stepper = LockStep(policy, n_slots, n)
    records: dict[int, EpisodeRecord] = {}  # slot -> the episode it plays
    finished: list[EpisodeRecord] = []
    tokens = 0
    started = time.perf_counter()
    bar = tqdm(total=n, disable=not progress, desc=desc, leave=False)

    def start(slots: list[int] | None = None) -> None:
        """Reset the given idle slots (default: all) with the next episodes, in one call; the rest stay idle."""
        chosen = stepper.assign(slots)
        seeds = [None if seed is None else seed + e for _, e in chosen]
        results = slots_env.reset([s for s, _ in chosen], seeds, [_options_for(reset_options, e) for _, e in chosen])
        for (slot, episode), episode_seed, (obs, info) in zip(chosen, seeds, results):
            stepper.begin(slot, obs, info)
            records[slot] = EpisodeRecord(
                episode=episode, seed=episode_seed, task=str(info.get("task", "")), task_type=info.get("task_type"),
                milestones_total=len(info.get("milestones") or []),
            )

    start()
    try:
        while stepper.live:
            # Every round draws fresh noise: a seed reused across rounds makes the policy repeat its last response
            # (measured: 23% of consecutive turns on the CPU default). Backends derive one seed per request from it.
            base_seed = sampling.seed if sampling.seed is not None else seed
            round_sampling = (sampling if base_seed is None
                              else replace(sampling, seed=derive_seed(base_seed, stepper.rounds)))
            steps = stepper.act(round_sampling)
            transitions = slots_env.step([step.slot for step in steps], [step.action for step in steps])
            done_slots = []
            for step, (obs, reward, terminated, truncated, info) in zip(steps, transitions):
                slot, record = step.slot, records[step.slot]
                tokens += len(step.response_ids)
                completed = list(info.get("milestones_completed") or [])
                turn = TurnRecord(step if keep_steps else step.without_prompt_ids(), float(reward),
                                  bool(info.get("action_valid", True)), completed, episode=record.episode,
                                  group=record.episode)
                record.turns.append(turn)
                record.total_reward += float(reward)
                record.milestones_hit += [m for m in completed if m not in record.milestones_hit]
                stepper.observe(slot, obs, info)
                out_of_turns = record.length >= slots_env.turn_limit(slot, max_turns)
                if terminated or truncated or out_of_turns:
                    record.terminated, record.truncated = bool(terminated), bool(truncated or not terminated)
                    record.success, record.score = bool(info.get("won", False)), float(info.get("score", 0.0))
                    turn.terminated, turn.truncated, turn.won = record.terminated, record.truncated, record.success
                    if info.get("env_error"):
                        record.env_error = str(info["env_error"])
                    finished.append(records.pop(slot))
                    stepper.end(slot)
                    bar.update(1)
                    done_slots.append(slot)
            if done_slots:
                start(done_slots)
    finally:
        bar.close()
    finished.sort(key=lambda r: r.episode)
    return EpisodeReport(finished, time.perf_counter() - started, stepper.rounds, tokens)

