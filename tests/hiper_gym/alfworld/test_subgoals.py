"""The free-text subgoal judge on states built from facts."""

from __future__ import annotations

import pytest

from hiper_gym.alfworld.milestones import MilestoneTracker, TaskGoal
from hiper_gym.alfworld.subgoals import judge_subgoal, match_entities, normalize
from hiper_gym.alfworld.world import WorldView

FACTS = [
    ("objecttype", "mug 1", "mugtype"),
    ("objecttype", "mug 2", "mugtype"),
    ("objecttype", "desklamp 1", "desklamptype"),
    ("objecttype", "alarmclock 1", "alarmclocktype"),
    ("receptacletype", "cabinet 1", "cabinettype"),
    ("receptacletype", "fridge 1", "fridgetype"),
    ("receptacletype", "sinkbasin 1", "sinkbasintype"),
    ("receptacletype", "desk 1", "desktype"),
    ("receptacleatlocation", "fridge 1", "loc 2"),
    ("receptacleatlocation", "desk 1", "loc 3"),
    ("inreceptacle", "desklamp 1", "desk 1"),
    ("inreceptacle", "mug 2", "desk 1"),
]


def judge(text, *facts, taken=(), tracker=None):
    return judge_subgoal(text, WorldView.from_facts(FACTS + list(facts)), tracker, set(taken))


def test_normalize_drops_articles_and_punctuation():
    assert normalize("Put the Mug in the cabinet!") == "put mug in cabinet"


def test_entities_match_by_type_name_number_synonym_and_prefix():
    view = WorldView.from_facts(FACTS)
    assert match_entities("mug", view)[0] == {"mug 1", "mug 2"}
    assert match_entities("mug 2", view)[0] == {"mug 2"}
    assert match_entities("mugs", view)[0] == {"mug 1", "mug 2"}
    assert match_entities("refrigerator", view)[0] == {"fridge 1"}
    assert match_entities("sink", view)[0] == {"sinkbasin 1"}
    assert match_entities("desk lamp", view)[0] == {"desklamp 1"}
    assert match_entities("clean mug", view) == ({"mug 1", "mug 2"}, {"clean"})


@pytest.mark.parametrize("text", ["take the mug", "pick up a mug", "grab mug 1", "get the mug from the fridge"])
def test_take_is_done_once_the_object_was_picked_up(text):
    assert judge(text) is False
    assert judge(text, ("holds", "agent1", "mug 1"), taken={"mug 1"}) is True


def test_heat_clean_cool():
    assert judge("heat the mug", ("ishot", "mug 1")) is True
    assert judge("heat the mug with the microwave") is False
    assert judge("warm up the mug", ("ishot", "mug 1")) is True
    assert judge("clean the mug", ("isclean", "mug 1")) is True and judge("wash the mug") is False
    assert judge("cool the mug", ("iscool", "mug 2")) is True and judge("chill mug 1", ("iscool", "mug 2")) is False


def test_put_counts_only_objects_the_agent_moved():
    in_cabinet = ("inreceptacle", "mug 1", "cabinet 1")
    assert judge("put the mug in the cabinet", in_cabinet) is False  # never held: it was there already
    assert judge("put the mug in the cabinet", in_cabinet, taken={"mug 1"}) is True
    assert judge("place a mug on the desk", taken={"mug 1"}) is False
    assert judge("move mug 1 to cabinet 1", in_cabinet, taken={"mug 1"}) is True
    assert judge("put the clean mug in the cabinet", in_cabinet, taken={"mug 1"}) is False
    assert judge("put the clean mug in the cabinet", in_cabinet, ("isclean", "mug 1"), taken={"mug 1"}) is True


def test_go_to_means_being_at_the_receptacle():
    assert judge("go to the fridge") is False
    assert judge("go to the fridge", ("atlocation", "agent1", "loc 2")) is True
    assert judge("walk to fridge 1", ("atlocation", "agent1", "loc 2")) is True
    assert judge("navigate to the refrigerator", ("atlocation", "agent1", "loc 3")) is False


def test_lamp_examine_open_find():
    at_desk = ("atlocation", "agent1", "loc 3")
    assert judge("turn on the desklamp") is False and judge("use the desk lamp", ("istoggled", "desklamp 1")) is True
    assert judge("turn on the light", ("istoggled", "desklamp 1")) is True
    holding = ("holds", "agent1", "alarmclock 1")
    lit = ("istoggled", "desklamp 1")
    assert judge("examine the alarmclock with the desklamp", holding, lit, at_desk) is True
    assert judge("examine the alarmclock with the desklamp", holding, lit) is False  # not at the lamp
    assert judge("open the fridge", ("opened", "fridge 1")) is True and judge("close the fridge") is True
    assert judge("find a mug", at_desk) is True and judge("find a mug") is False


def test_clauses_and_pronouns():
    facts = [("holds", "agent1", "mug 1"), ("ishot", "mug 1")]
    assert judge("take the mug and heat it", *facts, taken={"mug 1"}) is True
    assert judge("take the mug, then put it in the cabinet", *facts, taken={"mug 1"}) is False


def test_unknown_verbs_and_objects_cannot_be_judged():
    assert judge("take the unicorn") is None
    assert judge("think about life") is None
    assert judge("") is None
    assert judge("go to the garage") is None


def test_milestone_names_and_labels_read_the_tracker():
    tracker = MilestoneTracker(TaskGoal("pick_two_obj_and_place", "mug", "cabinet"))
    tracker.done = [True, True, False, False]
    assert judge("take the first mug", tracker=tracker) is True
    assert judge("put the first mug in the cabinet", tracker=tracker) is True
    assert judge("take the second mug", tracker=tracker) is False
