"""BabyAI levels by name: every `BabyAI-*-v0` level of minigrid, plus `GoToLocalSeq` (two go-to instructions in order
in one room) and `GoToLocalSeq3` (three), built from BabyAI's own instruction and verifier classes."""

from __future__ import annotations

import functools
from typing import Any

from minigrid.envs.babyai.core.roomgrid_level import RoomGridLevel
from minigrid.envs.babyai.core.verifier import (
    ActionInstr,
    AfterInstr,
    AndInstr,
    BeforeInstr,
    GoToInstr,
    Instr,
    ObjDesc,
)


class GoToLocalSeq(RoomGridLevel):
    """"go to the red ball, then go to the blue key" in one room with `num_objs` distinct objects.

    The smallest BabyAI task with two subgoals in order: each is a go-to (BabyAI's `GoToInstr`, verified when the
    agent faces the object), the sequence is BabyAI's `BeforeInstr`. Objects are unique, so every description names
    one object.
    """

    def __init__(self, room_size: int = 6, num_objs: int = 4, **kwargs: Any):
        self.num_objs = num_objs
        super().__init__(num_rows=1, num_cols=1, room_size=room_size, **kwargs)

    def gen_mission(self) -> None:
        """Place the agent and the objects, then pick two of them in order."""
        self.place_agent()
        objs = self.add_distractors(num_distractors=self.num_objs, all_unique=True)
        self.check_objs_reachable()
        first, second = self._rand_subset(objs, 2)
        self.instrs = BeforeInstr(GoToInstr(ObjDesc(first.type, first.color)),
                                  GoToInstr(ObjDesc(second.type, second.color)))


class GoToLocalSeq3(GoToLocalSeq):
    """"go to the red ball and go to the blue key, then go to the green box": three go-tos in one room, five objects.

    BabyAI's grammar allows one "then" per mission, so the longest go-to mission it can state is two clauses joined
    by "and" (`AndInstr`, either order), then a third (`BeforeInstr`): three subgoals, the third after the other two.
    """

    def __init__(self, room_size: int = 6, num_objs: int = 5, **kwargs: Any):
        super().__init__(room_size=room_size, num_objs=num_objs, **kwargs)

    def gen_mission(self) -> None:
        """Place the agent and the objects, then pick three of them: two in either order, then the third."""
        self.place_agent()
        objs = self.add_distractors(num_distractors=self.num_objs, all_unique=True)
        self.check_objs_reachable()
        first, second, third = self._rand_subset(objs, 3)
        both = AndInstr(GoToInstr(ObjDesc(first.type, first.color)), GoToInstr(ObjDesc(second.type, second.color)))
        self.instrs = BeforeInstr(both, GoToInstr(ObjDesc(third.type, third.color)))


CUSTOM_LEVELS = {"GoToLocalSeq": GoToLocalSeq, "GoToLocalSeq3": GoToLocalSeq3}


@functools.cache
def level_names() -> tuple[str, ...]:
    """Every level name `make_level` accepts (minigrid's registered BabyAI levels and ours)."""
    import gymnasium as gym
    import minigrid  # noqa: F401  registers the BabyAI-* ids

    names = {key[len("BabyAI-"):-len("-v0")] for key in gym.registry if key.startswith("BabyAI-") and key.endswith("-v0")}
    return tuple(sorted(names | set(CUSTOM_LEVELS)))


def normalize_level(level: str) -> str:
    """`GoToLocal` from `GoToLocal` or `BabyAI-GoToLocal-v0`; an unknown name raises ValueError listing close ones."""
    name = level.removeprefix("BabyAI-").removesuffix("-v0")
    if name not in level_names():
        import difflib

        close = difflib.get_close_matches(name, level_names(), n=5)
        raise ValueError(f"unknown BabyAI level {level!r}; did you mean one of {close}? (all: hiper_gym.babyai.level_names())")
    return name


def make_level(level: str) -> RoomGridLevel:
    """A fresh minigrid level env (unwrapped) by name."""
    import gymnasium as gym

    name = normalize_level(level)
    if name in CUSTOM_LEVELS:
        return CUSTOM_LEVELS[name]()
    return gym.make(f"BabyAI-{name}-v0").unwrapped


def instruction_leaves(instr: Instr) -> list[ActionInstr]:
    """The mission's action instructions in the order they are to be done ("after you" reverses its pair)."""
    if isinstance(instr, AfterInstr):
        return instruction_leaves(instr.instr_b) + instruction_leaves(instr.instr_a)
    if isinstance(instr, (BeforeInstr, AndInstr)):
        return instruction_leaves(instr.instr_a) + instruction_leaves(instr.instr_b)
    return [instr]


def done_leaves(instr: Instr, whole_done: bool) -> set[int]:
    """ids of the action instructions the verifier has marked done (a composite keeps a_done/b_done per part)."""
    if whole_done:
        return {id(leaf) for leaf in instruction_leaves(instr)}
    if isinstance(instr, (BeforeInstr, AfterInstr, AndInstr)):
        a_done = getattr(instr, "a_done", False) == "success"
        b_done = getattr(instr, "b_done", False) == "success"
        return done_leaves(instr.instr_a, a_done) | done_leaves(instr.instr_b, b_done)
    return set()
