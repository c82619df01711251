"""A small two-subgoal text task for trainer tests: take the key of the asked colour, then open that door."""

from __future__ import annotations

import random

from hiper_gym.core import Milestone, StepOutcome, TextEnv, register_text_env

COLOURS = ("red", "blue", "green")
ENV_ID = "hiper/ToyKeyDoor-v0"


class ToyKeyDoorEnv(TextEnv):
    """Task i asks for colour COLOURS[i % 3]; reward 1 when the right door opens."""

    prompt_family = "web"

    def split_options(self, split):
        return [{"task": i} for i in range(30 if split == "train" else 9)]

    def expert(self, noise=0.0, rng=None):
        return _expert

    def _reset_episode(self, options):
        self.colour = COLOURS[int(options.get("task", 0)) % len(COLOURS)]
        self.key = None
        self.opened = None
        return "You are in a hall with three keys and three doors."

    def _step_episode(self, action):
        if action not in self.admissible_actions():
            return StepOutcome("Nothing happens.", 0.0, False, action_valid=False)
        verb, colour = action.split()[0], action.split()[1]
        if verb == "take":
            self.key = colour
            return StepOutcome(f"You hold the {colour} key.", 0.0, False, action_valid=True)
        self.opened = colour
        won = colour == self.colour
        return StepOutcome(f"The {colour} door opens.", 1.0 if won else 0.0, True, action_valid=True)

    def admissible_actions(self):
        actions = [f"take {c} key" for c in COLOURS]
        if self.key:
            actions.append(f"open {self.key} door")
        return actions

    @property
    def task(self):
        return f"open the {self.colour} door"

    @property
    def won(self):
        return self.opened == self.colour

    @property
    def score(self):
        return float(self.won)

    def milestones(self):
        return [Milestone(f"take {self.colour} key", self.key == self.colour), Milestone("open door", self.won)]


def _expert(env):
    inner = env.unwrapped
    if inner.key != inner.colour:
        return f"take {inner.colour} key", f"get the {inner.colour} key"
    return f"open {inner.colour} door", f"open the {inner.colour} door"


register_text_env("ToyKeyDoor-v0", f"{__name__}:ToyKeyDoorEnv", max_episode_steps=6)


# The same task with a blind expert: it takes a key of a random colour and opens that door. SFT on its episodes
# teaches the turn format and the plan, not which colour to take; only the reward tells that (test_learning.py).
BLIND_ENV_ID = "hiper/ToyKeyDoorBlind-v0"
_blind_rng = random.Random(0)


def _blind_expert():
    colour = _blind_rng.choice(COLOURS)

    def act(env):
        if env.unwrapped.key != colour:
            return f"take {colour} key", f"get the {colour} key"
        return f"open {colour} door", f"open the {colour} door"

    return act


class ToyKeyDoorBlindEnv(ToyKeyDoorEnv):
    """ToyKeyDoor with 60 training tasks, 150 held out, and the blind expert."""

    def split_options(self, split):
        return [{"task": i + (0 if split == "train" else 1000)} for i in range(60 if split == "train" else 150)]

    def expert(self, noise=0.0, rng=None):
        return _blind_expert()


register_text_env("ToyKeyDoorBlind-v0", f"{__name__}:ToyKeyDoorBlindEnv", max_episode_steps=6)
