"""The TextWorld engine for one ALFWorld game at a time, as ALFWorld's own TextWorld env builds it.

The stack is the one `textworld.gym` assembles (`GenericEnvironment`, then ALFWorld's `AlfredDemangler` and
`AlfredInfos`, then TextWorld's `Filter`), driven directly so that one engine is reused for game after game
(`load(gamefile)` per new game): registering a gym env per game keeps ~5 MB per game alive. Plans (fast-downward)
are computed only on request. This module imports textworld; import it only where the engine runs (the engine
process, `hiper_gym.alfworld.engine_process`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Predicates the milestones and the subgoal judge read; the rest (constants, distances) stay in the engine.
RELEVANT_PREDICATES = frozenset(
    {
        "atlocation",
        "receptacleatlocation",
        "objecttype",
        "receptacletype",
        "holds",
        "inreceptacle",
        "opened",
        "isclean",
        "ishot",
        "iscool",
        "istoggled",
    }
)


class GameLoadError(ValueError):
    """A game file could not be read or its PDDL could not be loaded by the engine."""


@dataclass
class EngineState:
    """What the engine reports after a reset or a step (entity names are the demangled ones: 'mug 1')."""

    feedback: str
    admissible_commands: list[str]
    won: bool
    facts: list[tuple[str, ...]] = field(default_factory=list)
    goal_pddl: str = ""  # the problem's (:goal ...) text; set on reset only


def read_game(path: str | Path) -> dict[str, Any]:
    """Read and check a `game.tw-pddl` file; raise GameLoadError saying what is wrong with it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise GameLoadError(f"ALFWorld game file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GameLoadError(
            f"ALFWorld game file {path} is not valid JSON ({exc}); re-extract the game archive or re-download the game"
        ) from exc
    missing = [
        key for key in ("pddl_domain", "grammar", "pddl_problem") if not isinstance(data, dict) or key not in data
    ]
    if missing:
        raise GameLoadError(f"ALFWorld game file {path} lacks {missing}: expected a game.tw-pddl of ALFWorld 2.1.x")
    return data


def goal_section(pddl_problem: str) -> str:
    """The `(:goal ...)` part of a PDDL problem, whitespace collapsed."""
    start = pddl_problem.find("(:goal")
    return re.sub(r"\s+", " ", pddl_problem[start:]).strip() if start >= 0 else ""


class TextWorldEngine:
    """One ALFWorld game on the TextWorld PDDL engine; `start(path)` loads a game (reusing the engine) and resets."""

    def __init__(self) -> None:
        import textworld
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos
        from textworld.envs.wrappers import Filter, GenericEnvironment

        infos = textworld.EnvInfos(won=True, admissible_commands=True, extras=["gamefile"])
        env: Any = GenericEnvironment(infos)
        for wrapper in (AlfredDemangler(shuffle=False), AlfredInfos, Filter):
            env = wrapper(env)
        self._env = env
        self._loaded: str | None = None
        self._goal = ""

    def start(self, path: str) -> EngineState:
        """Load `path` unless it is the game already loaded, then reset it."""
        if path != self._loaded:
            data = read_game(path)
            self._loaded = None
            try:
                self._env.load(path)
            except Exception as exc:  # tatsu parse errors, fast-downward translation errors, ...
                raise GameLoadError(f"the TextWorld engine could not load {path}: {type(exc).__name__}: {exc}") from exc
            self._loaded, self._goal = path, goal_section(data["pddl_problem"])
        feedback, _ = self._env.reset()
        state = self._state(feedback)
        state.goal_pddl = self._goal
        return state

    def step(self, command: str) -> EngineState:
        """Apply a command; the engine answers 'Nothing happens.' to one it does not know."""
        if self._loaded is None:
            raise RuntimeError("start() a game before step()")
        feedback, _, _, _ = self._env.step(command)
        return self._state(feedback)

    def plan(self) -> list[str]:
        """The engine's plan (fast-downward) from the current state to the goal; [] when none is found."""
        if self._loaded is None:
            raise RuntimeError("start() a game before plan()")
        pddl = self._env.unwrapped
        return list(pddl._pddl_state.replan(pddl._entity_infos))

    def _state(self, feedback: str) -> EngineState:
        game_state = self._env.unwrapped.state
        names = {key: (info.name or info.id).strip() for key, info in self._env.unwrapped._entity_infos.items()}
        facts = [
            (fact.name, *(names.get(arg.name, arg.name) for arg in fact.arguments))
            for fact in game_state["_facts"]
            if fact.name in RELEVANT_PREDICATES
        ]
        return EngineState(str(feedback), list(game_state["admissible_commands"]), bool(game_state["won"]), facts)
