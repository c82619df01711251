"""Goals read from the PDDL, milestones per task type, latched and counting only objects the agent moved."""

from __future__ import annotations

import pytest

from hiper_gym.alfworld.engine import goal_section, read_game
from hiper_gym.alfworld.milestones import MilestoneTracker, TaskGoal, infer_task_type, parse_goal
from hiper_gym.alfworld.world import WorldView

BASE = [
    ("objecttype", "mug 1", "mugtype"),
    ("objecttype", "mug 2", "mugtype"),
    ("receptacletype", "cabinet 1", "cabinettype"),
    ("receptacletype", "desk 1", "desktype"),
    ("atlocation", "agent1", "loc 1"),
    ("receptacleatlocation", "desk 1", "loc 1"),
]


def view(*facts):
    return WorldView.from_facts(BASE + list(facts))


@pytest.mark.parametrize(
    "task_type, obj, recep, lamp",
    [
        ("pick_and_place_simple", "soapbottle", "toilet", None),
        ("look_at_obj_in_light", "alarmclock", None, "desklamp"),
        ("pick_clean_then_place_in_recep", "bowl", "cabinet", None),
        ("pick_heat_then_place_in_recep", "apple", "fridge", None),
        ("pick_cool_then_place_in_recep", "bread", "countertop", None),
        ("pick_two_obj_and_place", "cd", "safe", None),
    ],
)
def test_goals_are_read_from_the_pddl_of_real_games(games, task_type, obj, recep, lamp):
    for record in games.games("valid_unseen", [task_type]):
        goal = parse_goal(goal_section(read_game(record.path)["pddl_problem"]))
        folder_obj, folder_recep = record.task_folder.split("-")[1].lower(), record.task_folder.split("-")[3].lower()
        assert goal.task_type == task_type == infer_task_type(goal_section(read_game(record.path)["pddl_problem"]))
        assert goal.obj == folder_obj and (goal.recep or goal.lamp) == folder_recep
    first = games.games("valid_unseen", [task_type])
    assert any(
        parse_goal(goal_section(read_game(r.path)["pddl_problem"])) == TaskGoal(task_type, obj, recep, lamp)
        for r in first
    )


def test_milestone_names_per_task_type():
    assert TaskGoal("pick_and_place_simple", "mug", "desk").milestone_names() == ["take mug", "place mug in desk"]
    assert TaskGoal("pick_heat_then_place_in_recep", "apple", "fridge").milestone_names() == [
        "take apple",
        "heat apple",
        "place apple in fridge",
    ]
    assert TaskGoal("look_at_obj_in_light", "cd", lamp="floorlamp").milestone_names() == [
        "take cd",
        "turn on floorlamp",
    ]
    assert TaskGoal("pick_two_obj_and_place", "cd", "safe").milestone_names() == [
        "take first cd",
        "place first cd in safe",
        "take second cd",
        "place second cd in safe",
    ]


def test_milestones_latch_and_a_mug_already_in_place_does_not_count():
    tracker = MilestoneTracker(TaskGoal("pick_clean_then_place_in_recep", "mug", "cabinet"))
    tracker.update(view(("inreceptacle", "mug 2", "cabinet 1"), ("isclean", "mug 2")), won=False)
    assert tracker.done == [False, False, False]
    tracker.update(view(("holds", "agent1", "mug 1")), won=False)
    assert tracker.done == [True, False, False] and tracker.next_pending() == "clean mug"
    tracker.update(view(("holds", "agent1", "mug 1"), ("isclean", "mug 1")), won=False)
    tracker.update(view(("inreceptacle", "mug 1", "desk 1"), ("isclean", "mug 1")), won=False)
    assert tracker.done == [True, True, False]  # put down elsewhere: taking and cleaning stay done
    tracker.update(view(("inreceptacle", "mug 1", "cabinet 1"), ("isclean", "mug 1")), won=True)
    assert tracker.done == [True, True, True] and tracker.next_pending() is None


def test_pick_two_counts_two_distinct_objects():
    tracker = MilestoneTracker(TaskGoal("pick_two_obj_and_place", "mug", "cabinet"))
    tracker.update(view(("holds", "agent1", "mug 1")), won=False)
    tracker.update(view(("inreceptacle", "mug 1", "cabinet 1")), won=False)
    assert tracker.done == [True, True, False, False]
    tracker.update(view(("inreceptacle", "mug 1", "desk 1"), ("holds", "agent1", "mug 1")), won=False)
    assert tracker.done == [True, True, False, False]  # the same mug again is not the second one
    tracker.update(view(("inreceptacle", "mug 1", "cabinet 1"), ("holds", "agent1", "mug 2")), won=False)
    tracker.update(view(("inreceptacle", "mug 1", "cabinet 1"), ("inreceptacle", "mug 2", "cabinet 1")), won=True)
    assert tracker.done == [True, True, True, True]


def test_look_at_obj_in_light_needs_the_object_and_the_lamp():
    facts = [("objecttype", "desklamp 1", "desklamptype"), ("objecttype", "cd 1", "cdtype")]
    tracker = MilestoneTracker(TaskGoal("look_at_obj_in_light", "cd", lamp="desklamp"))
    tracker.update(WorldView.from_facts(facts + [("istoggled", "desklamp 1")]), won=False)
    assert tracker.done == [False, True]
    tracker.update(WorldView.from_facts(facts + [("holds", "agent1", "cd 1")]), won=True)
    assert tracker.done == [True, True]
