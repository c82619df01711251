"""hiper/BabyAI-v0: the BabyAI levels of Farama's minigrid as a text env with the mission's subgoals as milestones."""

from __future__ import annotations

import re
from typing import Any

from hiper_gym.babyai.levels import done_leaves, instruction_leaves, make_level, normalize_level
from hiper_gym.babyai.splits import SPLIT_SIZE, SPLITS, held_out_combo, level_seed
from hiper_gym.babyai.text import ACTIONS, render_observation
from hiper_gym.core import Expert, Milestone, StepOutcome, TextEnv

RESET_OPTIONS = ("split", "index", "level")
_SUBGOAL = re.compile(r"^\s*(go to|go next to|pick up|open|drop)\s+(?:the|a|an)\s+(?:(\w+)\s+)?(ball|box|key|door)\b", re.I)


class BabyAIEnv(TextEnv):
    """A BabyAI level (Chevalier-Boisvert et al. 2019) played in text.

    ## Description
    A grid world of rooms, doors and objects (balls, boxes, keys in six colours) and a mission in BabyAI's
    compositional language: "go to the red ball, then go to the blue key", "pick up the key after you open the door".
    The level's own generator and verifier (minigrid) decide the layout and success.

    ## Observation space
    Text: "Mission: ...", then the agent's egocentric 7x7 view, one line per visible object with its position in
    steps ("a red ball 2 steps forward and 1 step left"), the nearest wall straight ahead, left and right, what the
    agent faces ("you face the yellow box": the cell that blocks `go forward`) and what it carries. The agent does
    not see through walls or closed doors.

    ## Action space
    Text, one of `turn left`, `turn right`, `go forward`, `pick up`, `drop`, `toggle` (all always admissible). Any
    other text is an invalid action: nothing happens, reward 0, `info["action_valid"] = False`.

    ## Rewards
    minigrid's: `1 - 0.9 * step_count / max_steps` when the mission is accomplished, else 0. `info["score"]` is the
    same, `info["won"]` says whether the mission is accomplished.

    ## Episode end
    Terminated when the verifier says success or failure (e.g. the wrong object put down); truncated at the level's
    own step limit (`max_steps`, minigrid's per-level default unless given) or gymnasium's `max_episode_steps`.

    ## Milestones
    The mission's action instructions in the order they are to be done ("after you" reverses its pair), each done
    when BabyAI's verifier marks it: the subgoal-termination signal.

    ## Arguments
    `level` (e.g. `GoToLocal`, `BabyAI-PutNextLocal-v0`, or ours: `GoToLocalSeq`, `GoToLocalSeq3`), `split` (the default of
    `reset()` without options), `max_steps` (override the level's step limit). Reset options: `split`
    (`train`, `test`: unseen seeds; `train_combos`, `test_combos`: missions without / with one of six held-out
    colour-type combinations), `index` (the task's index in the split; without it a random one), `level`.

    ## Version history
    v0: first version (the "you face ..." line was added before the first release).
    """

    reset_options = RESET_OPTIONS
    prompt_family = "babyai"

    def __init__(self, level: str = "GoToLocalSeq", split: str = "train", max_steps: int | None = None,
                 render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
        self.default_level = normalize_level(level)
        self.default_split = split
        self.max_steps_override = max_steps
        self._levels: dict[str, Any] = {}
        self.level = self.default_level
        self.minigrid: Any = None
        self.level_seed: int | None = None
        self._leaves: list[Any] = []
        self._names: list[str] = []
        self._won = False
        self._score = 0.0

    def _level_env(self, level: str) -> Any:
        if level not in self._levels:
            env = make_level(level)
            if self.max_steps_override is not None:
                env.fixed_max_steps, env.max_steps = True, self.max_steps_override
            self._levels[level] = env
        return self._levels[level]

    # --- TextEnv -------------------------------------------------------------------------------------------
    def _reset_episode(self, options: dict[str, Any]) -> str:
        split = options.get("split", self.default_split)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
        self.level = normalize_level(options.get("level", self.default_level))
        self.minigrid = self._level_env(self.level)
        index = options.get("index")
        if index is None:
            index = int(self.np_random.integers(0, 2**30))
        elif not isinstance(index, int) or index < 0:
            raise ValueError(f"index must be a non-negative int, got {index!r}")
        self.level_seed, obs = level_seed(self.minigrid, split, index)
        self.split = split
        self._leaves = instruction_leaves(self.minigrid.instrs)
        names = [leaf.surface(self.minigrid) for leaf in self._leaves]
        self._names = [n if names[:k].count(n) == 0 else f"{n} ({names[:k].count(n) + 1})" for k, n in enumerate(names)]
        self._won, self._score = False, 0.0
        return render_observation(self.minigrid.mission, obs["image"], self.minigrid.carrying)

    def _step_episode(self, action: str) -> StepOutcome:
        key = action.strip().lower()
        if key not in ACTIONS:
            observation = self._last_observation or ""
            return StepOutcome(observation, 0.0, False, False, self._extra())
        obs, reward, terminated, truncated, _ = self.minigrid.step(ACTIONS.index(key))
        self._won = terminated and reward > 0
        self._score = float(reward)
        observation = render_observation(self.minigrid.mission, obs["image"], self.minigrid.carrying)
        return StepOutcome(observation, float(reward), bool(terminated), True, self._extra(), truncated=bool(truncated))

    def _reset_extra_info(self) -> dict[str, Any]:
        return self._extra()

    def _extra(self) -> dict[str, Any]:
        return {"level": self.level, "level_seed": self.level_seed, "split": self.split}

    def admissible_actions(self) -> list[str]:
        """The six BabyAI actions (always admissible)."""
        return list(ACTIONS)

    @property
    def task(self) -> str:
        """The mission."""
        return "" if self.minigrid is None else str(self.minigrid.mission)

    @property
    def won(self) -> bool:
        """Whether the level's verifier said success."""
        return self._won

    @property
    def score(self) -> float:
        """minigrid's reward of the episode (0 until success)."""
        return self._score

    def milestones(self) -> list[Milestone]:
        """The mission's action instructions in order, done as the verifier marks them."""
        if self.minigrid is None:
            return []
        done = done_leaves(self.minigrid.instrs, self._won)
        return [Milestone(name, id(leaf) in done) for name, leaf in zip(self._names, self._leaves)]

    def subgoal_done(self, text: str) -> bool | None:
        """Judge 'go to the red ball', 'pick up the key', 'open the door', 'drop the box' on the current state."""
        match = _SUBGOAL.match(text or "")
        if self.minigrid is None or match is None:
            return None
        verb, color, type_ = match.group(1).lower(), (match.group(2) or "").lower() or None, match.group(3).lower()
        if color is not None and color not in ("red", "green", "blue", "purple", "yellow", "grey"):
            return None

        def matches(obj: Any) -> bool:
            return obj is not None and obj.type == type_ and (color is None or obj.color == color)

        env = self.minigrid
        if verb in ("go to", "go next to"):
            return matches(env.grid.get(*env.front_pos))
        if verb == "pick up":
            return matches(env.carrying)
        if verb == "drop":
            return not matches(env.carrying)
        doors = [obj for obj in env.grid.grid if matches(obj) and obj.type == "door"]
        return bool(doors) and all(door.is_open for door in doors) if type_ == "door" else None

    def split_options(self, split: str) -> list[dict[str, Any]]:
        """The first SPLIT_SIZE tasks of `split` (any larger index is a valid task too)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
        return [{"split": split, "index": i} for i in range(SPLIT_SIZE)]

    def expert(self, noise: float = 0.0, rng: Any = None) -> Expert:
        """BabyAI's bot, each action labelled with its current subgoal ("go to the red ball", "explore"); with
        `noise`, a random move (turn or forward) with that probability, the bot replanning from there."""
        from hiper_gym.babyai.expert import BotExpert

        return BotExpert(noise, rng)

    def held_out_combo(self) -> bool:
        """Whether the current mission names one of the held-out colour-type combinations."""
        return held_out_combo(self.minigrid)
