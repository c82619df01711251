"""The runner: lock-step episodes with one backend call per round, records, aggregates, a tiny model end to end."""

from __future__ import annotations

import math

import pytest

from hiper_agents.backends import TransformersBackend
from hiper_agents.backends.base import SamplingParams
from hiper_agents.backends.scripted import ScriptedBackend
from hiper_agents.policy import HierarchicalPolicy
from hiper_agents.runner import mean_interval, run_episodes, wilson_interval
from hiper_agents.turn import render_turn
from tests.hiper_gym.test_core import KeyDoorEnv


def _expert(prompt_ids, tokenizer):
    """Reads the prompt: takes the key first, then opens the door (KEEP on the second turn)."""
    text = tokenizer.decode(prompt_ids)
    if "- take key" in text:
        return render_turn("SWITCH", "get the key", "take key")
    return render_turn("KEEP", "get the key", "open door")


def test_wilson_interval_known_values():
    lo, hi = wilson_interval(8, 10)
    assert math.isclose(lo, 0.4902, abs_tol=1e-4) and math.isclose(hi, 0.9433, abs_tol=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0) and wilson_interval(5, 5)[1] == 1.0
    assert mean_interval([1.0]) == (1.0, 1.0)


def test_scripted_expert_wins_every_episode_in_lock_step(tiny_tokenizer):
    backend = ScriptedBackend(tiny_tokenizer, lambda ids: _expert(ids, tiny_tokenizer))
    policy = HierarchicalPolicy(backend, env_family="alfworld")
    report = run_episodes([KeyDoorEnv() for _ in range(3)], policy, n=7, seed=5, progress=False)
    assert report.n == 7 and report.success_rate == 1.0 and report.mean_score == 1.0
    assert [e.episode for e in report.episodes] == list(range(7))
    assert [e.seed for e in report.episodes] == [5 + i for i in range(7)]
    assert backend.calls == report.backend_calls < 7 * 2  # one call per round for all live episodes
    episode = report.episodes[0]
    assert episode.length == 2 and episode.switches == 0 and episode.valid_ratio == 1.0
    assert episode.milestones_hit == ["take key", "open door"] and episode.milestones_total == 2
    assert [t.starts_segment for t in episode.turns] == [True, False] and episode.terminated
    agg = report.aggregates()
    assert agg["success_ci95"][0] > 0.5 and agg["milestone_ratio"] == 1.0 and agg["admissible_action_ratio"] == 1.0


def test_turn_limit_truncates_and_keep_steps_keeps_policy_steps(tiny_tokenizer):
    backend = ScriptedBackend(tiny_tokenizer, lambda _ids: "<switch>KEEP</switch> just looking <action>look</action>")
    policy = HierarchicalPolicy(backend, env_family="alfworld")
    report = run_episodes(KeyDoorEnv(), policy, n=2, max_turns=3, progress=False, keep_steps=True)
    assert all(e.truncated and not e.terminated and e.length == 3 and not e.success for e in report.episodes)
    turns = report.episodes[0].turns
    assert report.aggregates()["valid_turn_ratio"] == 0.0 and all(t.step.prompt_ids for t in turns)
    assert [(t.terminated, t.truncated) for t in turns] == [(False, False), (False, False), (False, True)]
    assert "step" not in report.episodes[0].to_dict()["turns"][0]
    lean = run_episodes(KeyDoorEnv(), policy, n=1, max_turns=3, progress=False)
    assert all(t.step.prompt_ids == [] and t.response_tokens > 0 for t in lean.episodes[0].turns)


def test_reset_options_are_given_per_episode(tiny_tokenizer):
    seen = []

    class Recording(KeyDoorEnv):
        def _reset_episode(self, options):
            seen.append(options.get("goal_idx"))
            return super()._reset_episode(options)

    backend = ScriptedBackend(tiny_tokenizer, lambda ids: _expert(ids, tiny_tokenizer))
    policy = HierarchicalPolicy(backend, env_family="webshop")
    run_episodes([Recording(), Recording()], policy, n=4, reset_options=lambda i: {"goal_idx": 10 + i}, progress=False)
    assert sorted(seen) == [10, 11, 12, 13]


def test_tiny_model_plays_full_episodes(tiny_model, tiny_tokenizer):
    policy = HierarchicalPolicy(TransformersBackend(tiny_model, tiny_tokenizer), env_family="alfworld", max_new_tokens=24)
    report = run_episodes([KeyDoorEnv() for _ in range(4)], policy, n=6, seed=0, max_turns=4, progress=False)
    assert report.n == 6 and all(1 <= e.length <= 4 for e in report.episodes)
    assert report.response_tokens > 0 and report.backend_calls <= 8
    assert all(t.response_tokens <= 24 for e in report.episodes for t in e.turns)
    again = run_episodes([KeyDoorEnv() for _ in range(4)], policy, n=6, seed=0, max_turns=4, progress=False)
    assert [t.response for e in again.episodes for t in e.turns] == [t.response for e in report.episodes for t in e.turns]


@pytest.mark.slow
def test_tiny_model_plays_webshop_episodes(tiny_model, tiny_tokenizer):
    pytest.importorskip("hiper_gym.webshop.env")
    import gymnasium as gym

    import hiper_gym  # noqa: F401

    envs = [gym.make("hiper/WebShop-v0") for _ in range(2)]
    policy = HierarchicalPolicy(TransformersBackend(tiny_model, tiny_tokenizer), env_family="webshop", max_new_tokens=32)
    report = run_episodes(envs, policy, n=2, seed=0, progress=False)
    assert report.n == 2 and all(1 <= e.length <= 15 for e in report.episodes)
    assert all(isinstance(e.score, float) for e in report.episodes)


@pytest.mark.slow
def test_tiny_model_plays_alfworld_episodes(tiny_model, tiny_tokenizer):
    pytest.importorskip("hiper_gym.alfworld.env")
    import gymnasium as gym

    import hiper_gym  # noqa: F401

    envs = [gym.make("hiper/ALFWorld-v0", split="valid_unseen") for _ in range(2)]
    policy = HierarchicalPolicy(TransformersBackend(tiny_model, tiny_tokenizer), env_family="alfworld", max_new_tokens=32)
    try:
        report = run_episodes(envs, policy, n=2, seed=0, progress=False)  # full episodes: won or 50 steps
    finally:
        for env in envs:
            env.close()
    assert report.n == 2 and all(e.length == 50 and e.truncated or e.success for e in report.episodes)
    assert all(e.milestones_total >= 2 and e.task_type and e.task for e in report.episodes)
    turns = [t for e in report.episodes for t in e.turns]
    assert all(isinstance(t.action, str) and isinstance(t.action_valid, bool) for t in turns)
    # A random model may write an empty <action></action>: the env gets "" and refuses it, the episode goes on.
    assert all(not t.action_valid for t in turns if not t.action.strip())


class _SeedRecorder(ScriptedBackend):
    """Records the sampling seed of every backend call (one call per round)."""

    def __init__(self, tokenizer):
        super().__init__(tokenizer, lambda ids: _expert(ids, tokenizer))
        self.seeds = []

    def generate(self, prompts, sampling):
        self.seeds.append(sampling.seed)
        return super().generate(prompts, sampling)


def test_every_round_gets_its_own_seed_even_when_the_caller_fixes_one(tiny_tokenizer):
    """A trainer passes one seeded SamplingParams per iteration; reusing that seed every round made the policy
    repeat its previous response (23% of turns on the CPU default). Rounds are reproducible for a given seed."""
    from hiper_agents.backends import SamplingParams

    runs = []
    for _ in range(2):
        backend = _SeedRecorder(tiny_tokenizer)
        policy = HierarchicalPolicy(backend, env_family="alfworld", max_new_tokens=40)
        run_episodes([KeyDoorEnv() for _ in range(2)], policy, n=4, seed=0, progress=False,
                     sampling=SamplingParams(temperature=1.0, max_new_tokens=40, seed=123))
        runs.append(backend.seeds)
    assert len(runs[0]) >= 3 and len(set(runs[0])) == len(runs[0]) and 123 not in runs[0]
    assert runs[0] == runs[1]


def test_lock_step_hands_items_to_idle_slots_in_order_and_acts_once_per_round(tiny_tokenizer):
    from hiper_agents.runner import LockStep

    backend = ScriptedBackend(tiny_tokenizer, lambda ids: _expert(ids, tiny_tokenizer))
    stepper = LockStep(HierarchicalPolicy(backend, env_family="alfworld"), slots=2, items=3)
    assert stepper.assign() == [(0, 0), (1, 1)] and stepper.assign() == []
    for slot in (0, 1):
        stepper.begin(slot, "You are in room 1. A key lies on the floor.", {"admissible_actions": ["take key"]})
    steps = stepper.act(SamplingParams(max_new_tokens=24))
    assert [s.slot for s in steps] == [0, 1] and stepper.rounds == backend.calls == 1
    assert stepper.end(1) == 1 and stepper.assign([1]) == [(1, 2)] and not stepper.pending
