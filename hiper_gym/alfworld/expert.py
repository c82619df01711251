"""The engine's plans as an expert: actions labelled with the milestone they serve, for the SFT warm start.

The plan is the engine's own (fast-downward on the game's PDDL, what ALFWorld calls the planner expert), computed
at the first step and again whenever its next command is not admissible. Each action's subgoal label is the effect
of the next world-changing action of the plan, in the milestones' words ("take the apple", "heat the apple", "put the
apple in the fridge"): "go to microwave 1" serves "heat the apple". `subgoal_done` understands every label.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_EXPERT_STEPS = 50


_EFFECT = re.compile(r"^(take|move|heat|cool|clean|use) (.+?)(?: (?:from|to|with) (.+))?$")
_ORDINALS = ("first", "second")


def _kind(name: str) -> str:
    """'soapbottle 2' -> 'soapbottle'."""
    words = name.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1].isdigit() else name


def label_plan(plan: list[str], pick_two: bool = False, counts: dict[str, int] | None = None) -> list[str]:
    """A subgoal label per planned action: the effect of the next action that changes the world ('take', 'move',
    'heat', 'cool', 'clean', 'use'), in the words of the milestones ('take the first cd', 'put the mug in the
    cabinet', 'heat the apple', 'turn on the desklamp'). `counts` carries the takes and moves done before `plan`."""
    counts = dict(counts or {"take": 0, "move": 0})
    effects: list[str | None] = []
    for action in plan:
        m = _EFFECT.match(action)
        if not m:
            effects.append(None)
            continue
        verb, obj, target = m.group(1), _kind(m.group(2)), _kind(m.group(3) or "")
        ordinal = ""
        if pick_two and verb in counts:
            ordinal = _ORDINALS[min(counts[verb], 1)] + " "
            counts[verb] += 1
        if verb == "take":
            effects.append(f"take the {ordinal}{obj}")
        elif verb == "move":
            effects.append(f"put the {ordinal}{obj} in the {target}")
        elif verb == "use":
            effects.append(f"turn on the {obj}")
        else:
            effects.append(f"{verb} the {obj}")
    labels: list[str] = []
    upcoming = next((e for e in reversed(effects) if e), "finish the task")
    for effect in reversed(effects):
        upcoming = effect or upcoming
        labels.append(upcoming)
    return labels[::-1]


class PlanExpert:
    """Follows the engine's plan from the current state; `act(env)` -> (action, subgoal label)."""

    def __init__(self) -> None:
        self._plan: list[str] = []
        self._labels: list[str] = []
        self._counts = {"take": 0, "move": 0}

    def act(self, env: Any) -> tuple[str, str]:
        """The next planned action and the subgoal it serves."""
        alf = env.unwrapped
        if not self._plan or self._plan[0] not in alf.admissible_actions():
            self._plan = alf.expert_plan() or ["look"]
            self._labels = label_plan(self._plan, alf.task_type == "pick_two_obj_and_place", self._counts)
        action, label = self._plan.pop(0), self._labels.pop(0)
        verb = action.split(" ", 1)[0]
        if verb in self._counts:
            self._counts[verb] += 1
        return action, label

    __call__ = act


@dataclass
class ExpertStep:
    """One expert step: what it saw, what it did, the subgoal it served and the milestones the step completed."""

    observation: str
    admissible_actions: list[str]
    action: str
    subgoal: str
    milestones_completed: list[str] = field(default_factory=list)


@dataclass
class ExpertTrajectory:
    """The expert's episode on one game."""

    game: str
    task: str
    task_type: str
    steps: list[ExpertStep]
    won: bool


def play_expert(env: Any, options: dict[str, Any], seed: int | None = None) -> ExpertTrajectory:
    """Reset `env` with `options` and follow the plan to the end (a win, the step limit or a failure)."""
    observation, info = env.reset(seed=seed, options=options)
    expert, steps = PlanExpert(), []
    for _ in range(MAX_EXPERT_STEPS):
        action, subgoal = expert.act(env)
        step = ExpertStep(observation, list(info["admissible_actions"]), action, subgoal)
        observation, _, terminated, truncated, info = env.step(action)
        step.milestones_completed = list(info["milestones_completed"])
        steps.append(step)
        if terminated or truncated:
            break
    return ExpertTrajectory(
        str(info.get("gamefile")), str(info["task"]), str(info.get("task_type")), steps, bool(info["won"])
    )


def expert_trajectories(
    split: str = "train",
    n: int | None = None,
    seed: int = 0,
    task_types: list[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    env: Any = None,
) -> Iterator[ExpertTrajectory]:
    """Expert episodes on `n` games of a split (all when None; a seeded sample otherwise), one trajectory each."""
    import gymnasium as gym

    import hiper_gym  # noqa: F401  registers hiper/ALFWorld-v0

    owned = env is None
    env = (
        env if env is not None else gym.make("hiper/ALFWorld-v0", data_dir=None if data_dir is None else str(data_dir))
    )
    try:
        games = env.unwrapped.games(split, task_types)
        indices = list(range(len(games)))
        if n is not None and n < len(indices):
            indices = sorted(random.Random(seed).sample(indices, n))
        for i in indices:
            yield play_expert(env, {"split": split, "task_types": task_types, "game_idx": i})
    finally:
        if owned:
            env.close()
