"""hiper/ALFWorld-v0: the real ALFWorld games (Shridhar et al. 2021) on the real TextWorld engine.

    env = gym.make("hiper/ALFWorld-v0")
    obs, info = env.reset(seed=0, options={"split": "valid_unseen", "task_types": ["pick_heat"]})
    obs, reward, terminated, truncated, info = env.step(info["admissible_actions"][0])

The engine runs in a child process (`engine="process"`, the default), replaced every `recycle_every` games, so a
game that raises, exits or leaks cannot take the caller with it; `engine="inprocess"` skips the process (faster to
start, contains exceptions and `sys.exit` but not crashes of the C planner).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hiper_gym.core import Expert, Milestone, StepOutcome, TextEnv

if importlib.util.find_spec("textworld") is None or importlib.util.find_spec("alfworld") is None:
    raise ImportError("hiper/ALFWorld-v0 needs the TextWorld engine: pip install 'hiper[alfworld]'")

from hiper_gym.alfworld.engine import EngineState, GameLoadError  # noqa: E402
from hiper_gym.alfworld.engine_process import EngineError, EngineProcess, InProcessEngine  # noqa: E402
from hiper_gym.alfworld.games import SPLITS, GameRecord, load_games, resolve_task_types, task_type_of  # noqa: E402
from hiper_gym.alfworld.milestones import MilestoneTracker, parse_goal  # noqa: E402
from hiper_gym.alfworld.subgoals import judge_subgoal  # noqa: E402
from hiper_gym.alfworld.world import WorldView  # noqa: E402

TASK_PREFIX = "Your task is to: "
HELP = "help"
FAILED_OBSERVATION = "The environment failed; the episode ends."


def task_of(observation: str) -> str:
    """The goal text: what follows 'Your task is to: ' in the first observation (as the reference reads it)."""
    start = observation.find(TASK_PREFIX)
    return observation[start + len(TASK_PREFIX) :].strip().split("\n")[0].strip() if start >= 0 else ""


class ALFWorldEnv(TextEnv):
    """ALFWorld's text games with admissible commands, PDDL milestones, a subgoal judge and the engine's plans.

    Args:
        data_dir: the official ALFWorld data (`json_2.1.1`) or a folder holding `alfworld/alfworld-2.1.2.tar.xz`;
            default: `$HIPER_DATA`, then `shared/data` beside the checkout.
        split: default split of `reset()` without options: "train", "valid_seen" or "valid_unseen".
        task_types: default task types (names, unique prefixes such as "pick_heat", or ALFWorld's ids 1-6).
        win_reward: the reward of the winning step (the paper's runs scale success to 10 in the trainer).
        show_help: keep the engine's `help` command in `admissible_actions`.
        engine: "process" (contained, recycled) or "inprocess".
        recycle_every: game loads per engine process before it is replaced (bounds the engine's memory).
        engine_timeout: seconds an engine call may take before the engine is stopped and the episode ends.
    """

    prompt_family = "alfworld"
    eval_split = "valid_unseen"

    def __init__(
        self,
        data_dir: str | None = None,
        split: str = "train",
        task_types: list[str] | None = None,
        win_reward: float = 1.0,
        show_help: bool = False,
        engine: str = "process",
        recycle_every: int = 100,
        engine_timeout: float = 120.0,
        render_mode: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(render_mode=render_mode, **kwargs)
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if engine not in ("process", "inprocess"):
            raise ValueError(f"engine must be 'process' or 'inprocess', got {engine!r}")
        self.data_dir, self.default_split = data_dir, split
        self.default_task_types = resolve_task_types(task_types)
        self.win_reward, self.show_help = float(win_reward), show_help
        self.index = load_games(data_dir)
        self._engine: EngineProcess | InProcessEngine = (
            EngineProcess(recycle_every=recycle_every, timeout=engine_timeout)
            if engine == "process"
            else InProcessEngine()
        )
        self._order: list[GameRecord] = []
        self._order_key: tuple[str, tuple[str, ...]] | None = None
        self._cursor = 0
        self.game: GameRecord | None = None
        self._state: EngineState | None = None
        self._view = WorldView()
        self._tracker: MilestoneTracker | None = None
        self._taken: set[str] = set()
        self._task = ""
        self._failed: str | None = None
        self._reseeded = False

    # --- which game -------------------------------------------------------------------------------------------
    def games(self, split: str | None = None, task_types: list[str] | None = None) -> list[GameRecord]:
        """The games of a split (default: the env's) and task types, in the fixed order `game_idx` counts in."""
        return self.index.games(split or self.default_split, task_types or self.default_task_types)

    def split_options(self, split: str) -> list[dict[str, Any]]:
        """Reset options for every game of a split, in order (what evaluation loops over)."""
        return [{"split": split, "game_idx": i} for i in range(len(self.games(split)))]

    def expert(self, noise: float = 0.0, rng: Any = None) -> Expert:
        """The engine's plan, each action labelled with the milestone it leads to ("heat the apple")."""
        if noise > 0:
            raise ValueError(f"sft.expert_noise={noise}: ALFWorld's expert has no noisy variant; set it to 0")
        from hiper_gym.alfworld.expert import PlanExpert

        return PlanExpert()

    def task_subset(self, n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The trials of n train tasks (a task: type, object, receptacle and room; its trials differ in where things
        lie), two-milestone task types first, then the tasks with most trials; each task's trials split in half
        between training and held out, so every held-out game is a task seen in training in a new layout."""
        import collections

        from hiper_gym.alfworld.games import TASK_TYPES
        from hiper_gym.subsets import split_families

        games = self.index.games("train", TASK_TYPES)
        per_task: dict[str, list[int]] = collections.defaultdict(list)
        for i, game in enumerate(games):
            per_task[game.task_folder].append(i)
        two_milestones = ("pick_and_place_simple", "look_at_obj_in_light")

        def simplicity(folder: str) -> tuple[bool, int, str]:
            return not folder.startswith(two_milestones), -len(per_task[folder]), folder

        train, held_out = split_families(per_task, n, simplicity, seed)
        options = {"split": "train", "task_types": list(TASK_TYPES)}
        return [{**options, "game_idx": i} for i in train], [{**options, "game_idx": i} for i in held_out]

    def _pick_game(self, options: dict[str, Any], reseeded: bool) -> GameRecord:
        if options.get("game") is not None:
            path = Path(options["game"]).expanduser().resolve()
            known = {r.path: r for r in self.index.records}
            if str(path) in known:
                return known[str(path)]
            try:
                task_type = task_type_of(path.parent.parent.name)
            except ValueError:
                task_type = ""  # read from the PDDL goal after loading
            return GameRecord("custom", task_type, str(path), path.name)
        split = options.get("split", self.default_split)
        task_types = resolve_task_types(options.get("task_types", self.default_task_types))
        games = self.index.games(split, task_types)
        if not games:
            raise ValueError(f"no ALFWorld games in split {split!r} with task types {task_types}")
        if options.get("game_idx") is not None:
            position = int(options["game_idx"])
            if not 0 <= position < len(games):
                raise IndexError(f"game_idx {position} is outside split {split!r} (0..{len(games) - 1})")
            return games[position]
        key = (split, task_types)
        if reseeded or key != self._order_key or self._cursor >= len(self._order):
            self._order = [games[i] for i in self.np_random.permutation(len(games))]
            self._order_key, self._cursor = key, 0
        self._cursor += 1
        return self._order[self._cursor - 1]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start a game: options `split`, `task_types`, `game_idx` (index in that list) or `game` (a file path).

        Without `game`/`game_idx` the games of the split are played in an order shuffled from the seed.
        """
        self._reseeded = seed is not None
        return super().reset(seed=seed, options=options)

    def _reset_episode(self, options: dict[str, Any]) -> str:
        unknown = set(options) - {"split", "task_types", "game_idx", "game"}
        if unknown:
            raise ValueError(f"unknown ALFWorld reset options {sorted(unknown)}; use split, task_types, game_idx, game")
        self.game = self._pick_game(options, self._reseeded)
        self._reseeded, self._failed, self._state = False, None, None
        try:
            state = self._engine.start(self.game.path)
        except GameLoadError:
            raise
        except EngineError as exc:
            raise EngineError(f"{exc}\n(game: {self.game.path})") from exc
        goal = parse_goal(state.goal_pddl, self.game.task_type or None)
        if not self.game.task_type:
            self.game = GameRecord(self.game.split, goal.task_type, self.game.path, self.game.name)
        self._tracker, self._taken, self._task = MilestoneTracker(goal), set(), task_of(state.feedback)
        self._observe(state)
        return state.feedback

    def _observe(self, state: EngineState) -> None:
        self._state = state
        self._view = WorldView.from_facts(state.facts)
        self._taken |= self._view.held
        assert self._tracker is not None
        self._tracker.update(self._view, state.won)

    def _step_episode(self, action: str) -> StepOutcome:
        if self._state is None:
            raise RuntimeError("call reset() first")
        command = action.strip()
        valid = command in self._state.admissible_commands
        was_won = self._state.won
        try:
            state = self._engine.step(command)
        except EngineError as exc:
            self._failed = f"{exc}\n(game: {self.game.path if self.game else '?'})"
            return StepOutcome(
                FAILED_OBSERVATION, 0.0, True, False, {**self._extra(), "env_error": self._failed[-2000:]}
            )
        self._observe(state)
        reward = self.win_reward if state.won and not was_won else 0.0
        return StepOutcome(state.feedback, reward, state.won, valid, self._extra())

    def _extra(self) -> dict[str, Any]:
        game = self.game
        return {"task_type": game.task_type if game else None, "gamefile": game.name if game else None}

    def _info(self, action_valid: bool, completed: list[str], extra: dict[str, Any] | None) -> dict[str, Any]:
        return super()._info(action_valid, completed, {**self._extra(), **(extra or {})})

    # --- the info contract -----------------------------------------------------------------------------------
    def admissible_actions(self) -> list[str]:
        """The engine's admissible commands (without `help` unless show_help); none after a failure or a win."""
        if self._state is None or self._failed is not None or self._state.won:
            return []
        return [c for c in self._state.admissible_commands if self.show_help or c != HELP]

    @property
    def task(self) -> str:
        """The goal text ('put a clean mug in coffeemachine.')."""
        return self._task

    @property
    def task_type(self) -> str | None:
        """The current game's task type."""
        return self.game.task_type if self.game else None

    @property
    def won(self) -> bool:
        """Whether the game's PDDL goal holds."""
        return bool(self._state and self._state.won and self._failed is None)

    @property
    def score(self) -> float:
        """1.0 when won, else 0.0 (ALFWorld's own score)."""
        return 1.0 if self.won else 0.0

    def milestones(self) -> list[Milestone]:
        """The task type's milestones from the PDDL facts, latched (see hiper_gym.alfworld.milestones)."""
        return self._tracker.milestones() if self._tracker is not None else []

    def subgoal_done(self, text: str) -> bool | None:
        """Judge 'take the mug', 'heat the mug', 'put the mug in the cabinet', 'go to the fridge', ..."""
        if self._state is None:
            return None
        return judge_subgoal(text, self._view, self._tracker, self._taken)

    @property
    def pending_milestone(self) -> str | None:
        """The first milestone not reached yet (None before reset or once all are reached)."""
        return self._tracker.next_pending() if self._tracker is not None else None

    @property
    def view(self) -> WorldView:
        """The current state as read from the PDDL facts."""
        return self._view

    def expert_plan(self) -> list[str]:
        """The engine's plan (fast-downward) from the current state to the goal."""
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._engine.plan()

    def close(self) -> None:
        """Stop the engine process."""
        self._engine.close()
        super().close()
