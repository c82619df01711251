"""ALFWorldEnv on the real engine: gymnasium contract, reset options, rewards, milestones, subgoals, failures."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import hiper_gym
from hiper_gym.alfworld.engine import GameLoadError
from hiper_gym.alfworld.env import ALFWorldEnv, task_of
from hiper_gym.alfworld.expert import PlanExpert
from hiper_gym.core import INFO_KEYS


def play_plan(env):
    """Follow the engine's plan; return the (action, info) of every step."""
    expert, steps = PlanExpert(), []
    for _ in range(50):
        action, _ = expert.act(env)
        _, reward, terminated, truncated, info = env.step(action)
        steps.append((action, reward, info))
        if terminated or truncated:
            break
    return steps


def test_check_env_passes():
    env = ALFWorldEnv(engine="inprocess")
    check_env(env, skip_render_check=True)
    env.close()


def test_reset_gives_the_game_text_task_and_info(env):
    obs, info = env.reset(seed=0, options={"split": "valid_seen"})
    assert obs.startswith("-= Welcome to TextWorld, ALFRED! =-") and f"Your task is to: {info['task']}" in obs
    assert set(INFO_KEYS) <= set(info) and info["task"] == task_of(obs) and info["task"].endswith(".")
    assert info["task_type"] in hiper_gym.alfworld.TASK_TYPES and info["gamefile"].startswith("valid_seen/")
    assert "help" not in info["admissible_actions"] and "look" in info["admissible_actions"]
    assert [m["done"] for m in info["milestones"]] == [False] * len(info["milestones"]) >= [False, False]
    assert env.spec.max_episode_steps == 50 and isinstance(env.unwrapped, ALFWorldEnv)


def test_help_is_admissible_only_when_asked(one_per_type):
    env = gym.make("hiper/ALFWorld-v0", show_help=True, engine="inprocess")
    _, info = env.reset(options={"game": one_per_type["pick_and_place_simple"].path})
    assert "help" in info["admissible_actions"]
    env.close()


def test_the_game_order_is_fixed_by_the_seed(env):
    options = {"split": "valid_unseen", "task_types": ["look_at"]}

    def sequence(seed):
        return [env.reset(seed=seed, options=options)[1]["gamefile"], env.reset(options=options)[1]["gamefile"]]

    first = sequence(3)
    assert sequence(3) == first and len(set(first)) == 2 and sequence(4) != first


def test_reset_options_pick_types_indices_and_files(env, games, one_per_type):
    _, info = env.reset(seed=1, options={"split": "valid_unseen", "task_types": ["pick_cool"]})
    assert info["task_type"] == "pick_cool_then_place_in_recep"
    _, info = env.reset(options={"split": "valid_unseen", "game_idx": 5})
    assert info["gamefile"] == games.games("valid_unseen")[5].name
    _, info = env.reset(options={"game": one_per_type["look_at_obj_in_light"].path})
    assert info["task_type"] == "look_at_obj_in_light" and info["task"].startswith(("examine", "look at"))
    assert len(env.unwrapped.split_options("valid_unseen")) == 134
    with pytest.raises(IndexError):
        env.reset(options={"split": "valid_unseen", "game_idx": 134})
    with pytest.raises(ValueError, match="unknown ALFWorld reset options"):
        env.reset(options={"goal_idx": 0})
    with pytest.raises(ValueError, match="split"):
        gym.make("hiper/ALFWorld-v0", split="test")


def test_an_inadmissible_command_changes_nothing(env, one_per_type):
    env.reset(options={"game": one_per_type["pick_and_place_simple"].path})
    obs, reward, terminated, truncated, info = env.step("fly to the moon")
    assert obs == "Nothing happens." and reward == 0.0 and not terminated and info["action_valid"] is False
    assert env.step("look")[4]["action_valid"] is True


@pytest.mark.parametrize("task_type", hiper_gym.alfworld.TASK_TYPES)
def test_the_engine_plan_wins_and_milestones_fire_on_their_step(env, one_per_type, task_type):
    env.reset(options={"game": one_per_type[task_type].path})
    steps = play_plan(env)
    action, reward, info = steps[-1]
    assert info["won"] and reward == 1.0 and info["score"] == 1.0 and info["admissible_actions"] == []
    assert all(m["done"] for m in info["milestones"])
    fired = {name: action for action, _, info in steps for name in info["milestones_completed"]}
    assert sorted(fired) == sorted(m["name"] for m in info["milestones"])
    for name, action in fired.items():  # each milestone turns done on the step whose action does it
        verb = {"place": "move", "turn": "use"}.get(name.split()[0], name.split()[0])
        assert action.startswith(verb), (name, action)
    assert sum(len(i["milestones_completed"]) for _, _, i in steps) == len(info["milestones"])


def test_the_win_reward_is_configurable_and_given_once(one_per_type):
    env = gym.make("hiper/ALFWorld-v0", win_reward=10.0, engine="inprocess")
    env.reset(options={"game": one_per_type["pick_and_place_simple"].path})
    steps = play_plan(env)
    assert [r for _, r, _ in steps] == [0.0] * (len(steps) - 1) + [10.0]
    env.close()


def test_subgoal_done_follows_the_episode(env, one_per_type):
    env.reset(options={"game": one_per_type["pick_heat_then_place_in_recep"].path})
    u = env.unwrapped
    obj, recep = u._tracker.goal.obj, u._tracker.goal.recep
    assert u.subgoal_done(f"take the {obj}") is False and u.subgoal_done("go to the microwave") is False
    texts = (f"take the {obj}", "go to the microwave", f"heat the {obj}", f"put the {obj} in the {recep}")
    seen: dict[str, str | None] = dict.fromkeys(texts)
    expert, terminated = PlanExpert(), False
    while not terminated:
        action, _ = expert.act(env)
        terminated = env.step(action)[2]
        for text in texts:
            if seen[text] is None and u.subgoal_done(text):
                seen[text] = action
    assert seen[f"take the {obj}"].startswith("take ") and seen[f"heat the {obj}"].startswith("heat ")
    assert seen["go to the microwave"] == "go to microwave 1" and seen[f"put the {obj} in the {recep}"].startswith(
        "move "
    )
    assert u.subgoal_done("juggle the cat") is None


def test_a_corrupt_game_file_raises_clearly_and_the_env_plays_on(env, tmp_path, one_per_type):
    bad = tmp_path / "pick_and_place_simple-Mug-None-Desk-1" / "trial_1" / "game.tw-pddl"
    bad.parent.mkdir(parents=True)
    bad.write_text(json.dumps({"pddl_domain": "(define", "grammar": "", "pddl_problem": "(define (problem p"}))
    with pytest.raises(GameLoadError, match="could not load"):
        env.reset(options={"game": str(bad)})
    obs, info = env.reset(options={"game": one_per_type["pick_two_obj_and_place"].path})
    assert info["admissible_actions"] and env.step("look")[4]["action_valid"]


@pytest.mark.slow
def test_an_engine_crash_mid_episode_ends_it_with_env_error(one_per_type):
    import os
    import signal

    env = gym.make("hiper/ALFWorld-v0")
    try:
        env.reset(options={"game": one_per_type["pick_and_place_simple"].path})
        os.kill(env.unwrapped._engine.pid, signal.SIGKILL)
        obs, reward, terminated, truncated, info = env.step("look")
        assert terminated and reward == 0.0 and not info["won"] and "exit code -9" in info["env_error"]
        assert info["admissible_actions"] == [] and info["task_type"] == "pick_and_place_simple"
        assert env.reset(options={"game": one_per_type["pick_and_place_simple"].path})[1]["admissible_actions"]
    finally:
        env.close()


def test_importing_the_env_does_not_import_torch():
    code = "import sys, hiper_gym.alfworld.env, hiper_gym.alfworld.expert; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
