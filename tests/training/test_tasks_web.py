"""What the trainer reads from hiper/WebTask-v0: instances per split and the task's expert for SFT."""

from __future__ import annotations

import gymnasium as gym
import pytest

import hiper_gym  # noqa: F401
from training.sft import expert_episodes
from training.tasks import env_contract

pytestmark = pytest.mark.browser


def test_web_task_lists_instances_and_its_expert_wins():
    env = gym.make("hiper/WebTask-v0", task="wiki-lookup")
    try:
        assert env_contract("hiper/WebTask-v0").prompt_family == "web"
        u = env.unwrapped
        assert (len(u.split_options("train")), len(u.split_options("test"))) == (1000, 100)
        options = u.split_options("test")[:2]
        episodes = expert_episodes(env, options, seed=0)
        assert all(len(e) >= 3 for e in episodes)
        assert all(t.subgoal for e in episodes for t in e)
        assert env.unwrapped.won
    finally:
        env.close()
