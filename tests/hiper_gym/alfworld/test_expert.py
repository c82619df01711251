"""The plan expert: subgoal labels per step, expert_trajectories, and the plan winning every valid_unseen game."""

from __future__ import annotations

import pytest

from hiper_gym.alfworld.expert import expert_trajectories, label_plan


def test_plan_steps_are_labelled_with_the_effect_they_lead_to():
    plan = [
        "go to countertop 1",
        "take apple 1 from countertop 1",
        "go to microwave 1",
        "heat apple 1 with microwave 1",
        "go to fridge 1",
        "open fridge 1",
        "move apple 1 to fridge 1",
    ]
    assert label_plan(plan) == ["take the apple"] * 2 + ["heat the apple"] * 2 + ["put the apple in the fridge"] * 3
    lamp = ["go to desk 1", "use desklamp 1", "take pencil 3 from desk 1"]
    assert label_plan(lamp) == ["turn on the desklamp", "turn on the desklamp", "take the pencil"]
    two = [
        "take cd 1 from desk 1",
        "move cd 1 to safe 1",
        "take cd 2 from bed 1",
        "go to safe 1",
        "move cd 2 to safe 1",
    ]
    assert label_plan(two, pick_two=True) == [
        "take the first cd",
        "put the first cd in the safe",
        "take the second cd",
        "put the second cd in the safe",
        "put the second cd in the safe",
    ]
    assert label_plan(["look"]) == ["finish the task"]


def test_expert_trajectories_label_every_step_and_win(one_per_type):
    trajectories = list(expert_trajectories("valid_seen", n=2, seed=0))
    assert len(trajectories) == 2
    for trajectory in trajectories:
        assert trajectory.won and trajectory.task and trajectory.game.startswith("valid_seen/")
        assert all(step.subgoal and step.action in step.admissible_actions for step in trajectory.steps)
        labels = [step.subgoal for step in trajectory.steps]
        assert labels == sorted(labels, key=labels.index)  # each subgoal is one contiguous segment
        completed = [name for step in trajectory.steps for name in step.milestones_completed]
        assert len(completed) >= 2


def test_every_subgoal_label_is_judged_done_when_its_segment_ends(env, one_per_type):
    from hiper_gym.alfworld.expert import PlanExpert

    for task_type in ("pick_two_obj_and_place", "look_at_obj_in_light", "pick_clean_then_place_in_recep"):
        env.reset(options={"game": one_per_type[task_type].path})
        expert, previous, terminated = PlanExpert(), None, False
        while not terminated:
            action, label = expert.act(env)
            if previous is not None and label != previous:
                assert env.unwrapped.subgoal_done(previous) is True, (task_type, previous)
            assert env.unwrapped.subgoal_done(label) is False, (task_type, label)
            terminated = env.step(action)[2]
            previous = label
        assert env.unwrapped.subgoal_done(previous) is True


@pytest.mark.slow
def test_the_engine_plan_wins_all_134_valid_unseen_games():
    results = [(t.task_type, t.won, len(t.steps)) for t in expert_trajectories("valid_unseen")]
    assert len(results) == 134
    lost = [r for r in results if not r[1]]
    assert lost == [], lost
