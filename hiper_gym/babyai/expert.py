"""BabyAI's own bot (minigrid.utils.baby_ai_bot) as the expert of hiper/BabyAI-v0, its subgoal stack as labels."""

from __future__ import annotations

import random
from typing import Any

from minigrid.utils.baby_ai_bot import (
    BabyAIBot,
    CloseSubgoal,
    DropSubgoal,
    GoNextToSubgoal,
    OpenSubgoal,
    PickupSubgoal,
)

from hiper_gym.babyai.text import ACTIONS

NAVIGATION = (0, 1, 2)  # turn left, turn right, go forward: the noisy expert's random actions


def _name(obj: Any) -> str:
    if obj is None:
        return "object"
    color = getattr(obj, "color", None)
    return f"{color} {obj.type}" if color else str(obj.type)


def subgoal_label(bot: BabyAIBot) -> str:
    """The bot's current subgoal in words: 'go to the red ball', 'pick up the blue key', 'open the red door',
    'drop the key', 'explore'."""
    if not bot.stack:
        return "finish the mission"
    subgoal = bot.stack[-1]
    level = bot.mission.unwrapped
    front = level.grid.get(*level.front_pos)
    if isinstance(subgoal, GoNextToSubgoal):
        if subgoal.reason == "Explore" or not hasattr(subgoal.datum, "type"):  # a position (tuple or array)
            return "explore"
        verb = "go next to" if subgoal.reason == "PutNext" else "go to"
        return f"{verb} the {_name(subgoal.datum)}"
    if isinstance(subgoal, PickupSubgoal):
        return f"pick up the {_name(front)}"
    if isinstance(subgoal, DropSubgoal):
        return f"drop the {_name(level.carrying)}"
    if isinstance(subgoal, OpenSubgoal):
        return f"open the {_name(front)}"
    if isinstance(subgoal, CloseSubgoal):
        return f"close the {_name(front)}"
    return "explore"


class BotExpert:
    """One episode of the BabyAI bot: `expert(env) -> (action, subgoal label)`, called once per step.

    With `noise > 0` it takes a random move (turn left, turn right, go forward) with that probability instead of the
    bot's action and labels it with the bot's subgoal; the bot replans from wherever that leaves it.
    """

    def __init__(self, noise: float = 0.0, rng: random.Random | None = None):
        self.noise = noise
        self.rng = rng or random.Random(0)
        self.bot: BabyAIBot | None = None
        self.level: Any = None
        self.last: int | None = None

    def __call__(self, env: Any) -> tuple[str, str]:
        level = env.unwrapped.minigrid
        if self.bot is None or self.level is not level or level.step_count == 0 and self.last is not None:
            self.bot, self.level, self.last = BabyAIBot(level), level, None
        action = int(self.bot.replan(self.last))
        label = subgoal_label(self.bot)
        if self.noise and self.rng.random() < self.noise:
            action = self.rng.choice(NAVIGATION)
        self.last = action
        return ACTIONS[action], label
