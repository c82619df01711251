"""Milestones of an ALFWorld task from the PDDL goal and facts, latched once reached (docs/design.md §5).

| task type | milestones |
| --- | --- |
| pick_and_place_simple | take X, place X in R |
| pick_clean/heat/cool_then_place_in_recep | take X, clean/heat/cool X, place X in R |
| look_at_obj_in_light | take X, turn on L |
| pick_two_obj_and_place | take first X, place first X in R, take second X, place second X in R |

An object counts only once the agent has held it in this episode: an X that lay in R from the start does not make
"place X in R" done. The last milestone is also done whenever the game is won.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hiper_gym.alfworld.games import TASK_TYPES
from hiper_gym.alfworld.world import WorldView, type_name
from hiper_gym.core import Milestone

MODIFIERS = {  # task type -> (verb of the milestone, the state it makes)
    "pick_clean_then_place_in_recep": ("clean", "clean"),
    "pick_heat_then_place_in_recep": ("heat", "hot"),
    "pick_cool_then_place_in_recep": ("cool", "cool"),
}


@dataclass(frozen=True)
class TaskGoal:
    """What a game asks for, read from its PDDL goal: the object type, the receptacle type or the lamp type."""

    task_type: str
    obj: str
    recep: str | None = None
    lamp: str | None = None

    def milestone_names(self) -> list[str]:
        """The canonical subgoals in order."""
        x, r = self.obj, self.recep
        if self.task_type == "look_at_obj_in_light":
            return [f"take {x}", f"turn on {self.lamp}"]
        if self.task_type == "pick_two_obj_and_place":
            return [f"take first {x}", f"place first {x} in {r}", f"take second {x}", f"place second {x} in {r}"]
        if self.task_type in MODIFIERS:
            return [f"take {x}", f"{MODIFIERS[self.task_type][0]} {x}", f"place {x} in {r}"]
        return [f"take {x}", f"place {x} in {r}"]


def infer_task_type(goal: str) -> str:
    """The task type a PDDL goal expresses (for games given by path, outside any index)."""
    if "isToggled" in goal:
        return "look_at_obj_in_light"
    if "?o2" in goal:
        return "pick_two_obj_and_place"
    for task_type, flag in (("pick_clean", "isClean"), ("pick_heat", "isHot"), ("pick_cool", "isCool")):
        if flag in goal:
            return next(t for t in TASK_TYPES if t.startswith(task_type))
    return "pick_and_place_simple"


def parse_goal(goal: str, task_type: str | None = None) -> TaskGoal:
    """Read the object, receptacle and lamp types from a PDDL goal (`(objectType ?o AppleType)` ...)."""
    task_type = task_type or infer_task_type(goal)
    object_types = [type_name(t) for t in re.findall(r"\(objectType \?\w+ (\w+)\)", goal)]
    recep_types = [type_name(t) for t in re.findall(r"\(receptacleType \?\w+ (\w+)\)", goal)]
    if task_type == "look_at_obj_in_light":
        lamps = [t for t in object_types if t.endswith("lamp")]
        things = [t for t in object_types if not t.endswith("lamp")]
        if not lamps or not things:
            raise ValueError(f"cannot read the object and lamp of a look_at_obj_in_light goal: {goal[:300]}")
        return TaskGoal(task_type, things[0], lamp=lamps[0])
    if not object_types or not recep_types:
        raise ValueError(f"cannot read the object and receptacle of a {task_type} goal: {goal[:300]}")
    return TaskGoal(task_type, object_types[0], recep=recep_types[0])


class MilestoneTracker:
    """Follows one episode: `update(view, won)` after every state; `milestones()` in order, latched."""

    def __init__(self, goal: TaskGoal):
        self.goal = goal
        self.names = goal.milestone_names()
        self.done = [False] * len(self.names)
        self.taken: set[str] = set()  # target objects held at some point of the episode

    def update(self, view: WorldView, won: bool) -> None:
        """Latch what the new state reaches."""
        goal = self.goal
        targets = view.of_type(goal.obj)
        held_targets = view.held & targets
        self.taken |= held_targets
        reached: list[bool]
        if goal.task_type == "look_at_obj_in_light":
            lamps_on = {lamp for lamp in view.of_type(goal.lamp or "") if view.has("toggled", lamp)}
            reached = [bool(held_targets), bool(lamps_on)]
        else:
            placed = {o for o in self.taken if any(view.types.get(r) == goal.recep for r in view.location_of(o))}
            if goal.task_type == "pick_two_obj_and_place":
                second = bool(placed) and bool(held_targets - placed)
                reached = [bool(self.taken), bool(placed), second, len(placed) >= 2]
            elif goal.task_type in MODIFIERS:
                state = MODIFIERS[goal.task_type][1]
                changed = {o for o in self.taken if view.has(state, o)}
                reached = [bool(self.taken), bool(changed), bool(placed & changed)]
            else:
                reached = [bool(self.taken), bool(placed)]
        reached[-1] = reached[-1] or won
        self.done = [old or new for old, new in zip(self.done, reached)]

    def milestones(self) -> list[Milestone]:
        """The milestones in order with their latched state."""
        return [Milestone(name, done) for name, done in zip(self.names, self.done)]

    def next_pending(self) -> str | None:
        """The first milestone not reached yet (the subgoal an expert step serves)."""
        return next((name for name, done in zip(self.names, self.done) if not done), None)
