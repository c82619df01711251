"""The trainer's task source for hiper/WebTask-v0: instances per split and the task's expert for SFT."""

from __future__ import annotations

import gymnasium as gym
import pytest

import hiper_gym  # noqa: F401
from training.sft import expert_episodes
from training.tasks import task_source

pytestmark = pytest.mark.browser


def test_web_task_source_counts_instances_and_its_expert_wins():
    source = task_source("hiper/WebTask-v0")
    env = gym.make("hiper/WebTask-v0", task="wiki-lookup")
    try:
        assert source.env_family == "web"
        assert (source.count(env, "train"), source.count(env, "test")) == (1000, 100)
        options = [source.options("test", i) for i in range(2)]
        episodes = expert_episodes(env, source, options, seed=0)
        assert all(len(e) >= 3 for e in episodes)
        assert all(t.subgoal for e in episodes for t in e)
        assert env.unwrapped.won
    finally:
        env.close()
