"""hiper/BabyAI-v0 on minigrid's real levels and BabyAI's own bot: contract, text view, milestones, splits."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hiper_gym  # noqa: F401
from hiper_gym.babyai.env import BabyAIEnv
from hiper_gym.babyai.expert import BotExpert
from hiper_gym.babyai.splits import HELD_OUT_COMBOS, named_objects
from hiper_gym.babyai.text import ACTIONS, describe_view
from hiper_gym.core import INFO_KEYS


def _play_bot(env, options, noise=0.0):
    _, info = env.reset(options=options)
    expert, labels, completed = BotExpert(noise), [], []
    while True:
        action, label = expert(env)
        labels.append(label)
        _, reward, terminated, truncated, info = env.step(action)
        completed += info["milestones_completed"]
        if terminated or truncated:
            return info, labels, completed, reward


def test_passes_gymnasium_check_env():
    check_env(BabyAIEnv(level="GoToLocal"), skip_render_check=True)


@pytest.mark.parametrize("level", ["GoToLocal", "GoToLocalSeq", "GoToLocalSeq3", "PickupLoc", "PutNextLocal",
                                   "UnlockPickup"])
def test_bot_wins_through_the_text_env_and_completes_every_milestone_in_order(level):
    env = gym.make("hiper/BabyAI-v0", level=level)
    for index in range(5):
        info, labels, completed, reward = _play_bot(env, {"split": "test", "index": index})
        assert info["won"] and 0 < reward <= 1 and info["score"] == reward
        assert completed == [m["name"] for m in info["milestones"]] and all(m["done"] for m in info["milestones"])
        assert set(INFO_KEYS) <= set(info) and labels[0] != ""


def test_sequence_milestones_follow_the_verifier_one_at_a_time():
    env = gym.make("hiper/BabyAI-v0", level="GoToLocalSeq")
    obs, info = env.reset(options={"split": "train", "index": 0})
    first, second = (m["name"] for m in info["milestones"])
    assert info["task"] == f"{first}, then {second}" and obs.startswith(f"Mission: {info['task']}")
    expert, seen = BotExpert(), []
    while True:
        action, label = expert(env)
        _, _, terminated, _, info = env.step(action)
        seen.append((label, [m["done"] for m in info["milestones"]]))
        if terminated:
            break
    flags = [done for _, done in seen]
    assert [True, False] in flags and flags[-1] == [True, True]  # the first done strictly before the second
    assert {label for label, _ in seen} >= {second}


def test_three_go_to_level_finishes_the_last_go_to_after_the_other_two():
    env = gym.make("hiper/BabyAI-v0", level="GoToLocalSeq3")
    for index in range(5):
        obs, info = env.reset(options={"split": "test", "index": index})
        first, second, third = (m["name"] for m in info["milestones"])
        assert info["task"] == f"{first} and {second}, then {third}"
        expert, flags = BotExpert(), []
        while True:
            action, _ = expert(env)
            _, _, terminated, truncated, info = env.step(action)
            flags.append([m["done"] for m in info["milestones"]])
            if terminated or truncated:
                break
        assert info["won"] and flags[-1] == [True, True, True]
        assert all(not done[2] for done in flags[:-1])  # the third go-to counts only once both others are done


def test_after_you_missions_list_their_milestones_in_execution_order():
    env = BabyAIEnv(level="SynthSeq")
    for index in range(60):
        _, info = env.reset(options={"split": "train", "index": index})
        if " after you " in info["task"] and " then " not in info["task"] and " and " not in info["task"]:
            later, earlier = info["task"].split(" after you ")
            assert [m["name"] for m in info["milestones"]] == [earlier, later]
            return
    pytest.fail("no 'after you' mission in 60 SynthSeq tasks")


def test_view_text_names_objects_walls_and_positions():
    image = np.zeros((7, 7, 3), dtype=np.uint8)
    image[:, :, 0] = 1  # empty
    image[3, 4] = (6, 0, 0)  # red ball two steps ahead
    image[1, 6] = (5, 2, 0)  # blue key two steps left
    image[5, 3] = (4, 4, 2)  # locked yellow door: 3 forward, 2 right
    image[3, 1] = (2, 5, 0)  # wall five ahead
    lines = describe_view(image)
    assert lines == ["a blue key 2 steps left", "a red ball 2 steps forward",  # nearest first
                     "a locked yellow door 3 steps forward and 2 steps right", "a wall 5 steps forward"]


def test_invalid_action_changes_nothing_and_is_flagged():
    env = gym.make("hiper/BabyAI-v0", level="GoToLocal")
    obs, _ = env.reset(options={"split": "test", "index": 3})
    again, reward, terminated, truncated, info = env.step("fly away")
    assert again == obs and reward == 0.0 and not (terminated or truncated) and info["action_valid"] is False
    assert info["admissible_actions"] == list(ACTIONS)


def test_bad_options_and_levels_raise_one_clear_error():
    env = gym.make("hiper/BabyAI-v0", level="GoToLocal")
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"idx": 3})
    with pytest.raises(ValueError, match="split must be one of"):
        env.reset(options={"split": "valid"})
    with pytest.raises(ValueError, match="did you mean.*GoToLocal"):
        BabyAIEnv(level="GoToLocl")


def test_tasks_are_reproducible_and_splits_disjoint():
    env = BabyAIEnv(level="GoToLocalSeq")
    missions = []
    for split in ("train", "test"):
        for index in range(3):
            obs, info = env.reset(options={"split": split, "index": index})
            missions.append((split, info["level_seed"], obs))
    again = [env.reset(options={"split": "train", "index": i})[0] for i in range(3)]
    assert again == [obs for split, _, obs in missions if split == "train"]
    assert not {s for sp, s, _ in missions if sp == "train"} & {s for sp, s, _ in missions if sp == "test"}


def test_combo_splits_hold_out_colour_type_pairs():
    env = BabyAIEnv(level="GoToLocalSeq")
    for index in range(20):
        env.reset(options={"split": "train_combos", "index": index})
        assert not set(named_objects(env.minigrid)) & HELD_OUT_COMBOS
        env.reset(options={"split": "test_combos", "index": index})
        assert set(named_objects(env.minigrid)) & HELD_OUT_COMBOS


def test_subgoal_done_judges_go_to_pick_up_and_open():
    env = BabyAIEnv(level="UnlockPickup")
    env.reset(options={"split": "test", "index": 0})
    expert, judged = BotExpert(), {}
    while True:
        action, label = expert(env)
        _, _, terminated, truncated, _ = env.step(action)
        for text in ("go to the key", "pick up the key", "open the door"):
            judged.setdefault(text, []).append(env.subgoal_done(text))
        if terminated or truncated:
            break
    assert all(True in verdicts and False in verdicts for verdicts in judged.values()), judged
    assert env.subgoal_done("dance") is None


def test_noisy_bot_still_wins_mostly_and_labels_every_step():
    env = gym.make("hiper/BabyAI-v0", level="GoToLocalSeq")
    wins = sum(_play_bot(env, {"split": "train", "index": i}, noise=0.3)[0]["won"] for i in range(20))
    assert wins >= 15


def test_level_reset_option_plays_another_level_for_one_episode():
    env = gym.make("hiper/BabyAI-v0", level="GoToLocalSeq")
    _, info = env.reset(options={"level": "BabyAI-PickupLoc-v0", "index": 1})
    assert info["level"] == "PickupLoc" and info["task"].startswith("pick up")
    _, info = env.reset(options={"index": 1})
    assert info["level"] == "GoToLocalSeq" and ", then go to" in info["task"]


def test_the_view_says_what_blocks_the_way_forward():
    import numpy as np
    from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX

    from hiper_gym.babyai.text import describe_view

    image = np.zeros((7, 7, 3), dtype=np.uint8)
    image[:, :, 0] = OBJECT_TO_IDX["empty"]
    assert not any(line.startswith("you face") for line in describe_view(image))
    image[3, 5] = (OBJECT_TO_IDX["ball"], COLOR_TO_IDX["yellow"], 0)  # the cell just ahead of the agent (3, 6)
    lines = describe_view(image)
    assert "a yellow ball 1 step forward" in lines and lines[-1] == "you face the yellow ball"
    image[3, 5] = (OBJECT_TO_IDX["door"], COLOR_TO_IDX["red"], 2)
    assert describe_view(image)[-1] == "you face the locked red door"
