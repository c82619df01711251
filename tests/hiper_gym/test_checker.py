"""check_text_env over every id hiper_gym registers: gymnasium's check_env, the info keys, the task lists, the expert."""

from __future__ import annotations

import gymnasium as gym
import pytest

import hiper_gym
from hiper_gym.checker import ContractError, check_text_env
from hiper_gym.core import TextEnv

MAKE_KWARGS = {"hiper/WebTask-v0": {"task": "wiki-lookup"}, "hiper/BabyAI-v0": {"level": "GoToLocalSeq"}}
MARKS = {"hiper/WebTask-v0": [pytest.mark.browser]}


@pytest.mark.parametrize("env_id", [pytest.param(i, marks=MARKS.get(i, [])) for i in hiper_gym.REGISTERED])
def test_every_registered_env_keeps_the_contract(env_id):
    if env_id == "hiper/ALFWorld-v0":
        pytest.importorskip("textworld", reason="the alfworld extra is not installed")
    env = gym.make(env_id, **MAKE_KWARGS.get(env_id, {}))
    try:
        found = check_text_env(env, expert_steps=80)
    finally:
        env.close()
    assert found["prompt_family"] in ("webshop", "alfworld", "web", "babyai")
    assert found["expert"] and found["expert_won"]  # every shipped env has an expert that wins its first task


def test_an_env_that_lists_no_tasks_is_named():
    from tests.hiper_gym.test_core import KeyDoorEnv

    class NoTasks(KeyDoorEnv):
        prompt_family = "web"

    with pytest.raises(NotImplementedError, match="NoTasks does not list the tasks"):
        check_text_env(NoTasks(), gym_check=False)
    with pytest.raises(ContractError, match="prompt_family"):
        check_text_env(KeyDoorEnv(), gym_check=False)
    assert TextEnv.prompt_family is None
