"""The engine and its child process: real games, corrupt files, crashes and exits contained, recycling."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from hiper_gym.alfworld.engine import EngineState, GameLoadError, goal_section, read_game
from hiper_gym.alfworld.engine_process import EngineError, EngineProcess, InProcessEngine

FAKE = f"{__name__}:ExitingEngine"


class ExitingEngine:
    """A fake engine (for the containment tests only): 'exit' calls sys.exit(3), 'raise' raises."""

    def start(self, path):
        return EngineState(f"started {path}", ["exit", "raise", "wait"], False)

    def step(self, command):
        if command == "exit":
            sys.exit(3)
        if command == "raise":
            raise RuntimeError("game bug")
        return EngineState(command, [], False)

    def plan(self):
        return []


@pytest.fixture(scope="module")
def engine():
    process = EngineProcess(recycle_every=100)
    yield process
    process.close()


@pytest.fixture
def corrupt_games(tmp_path, one_per_type):
    """A truncated JSON file and a file with broken PDDL."""
    truncated = tmp_path / "truncated" / "game.tw-pddl"
    truncated.parent.mkdir()
    truncated.write_text(Path(one_per_type["pick_and_place_simple"].path).read_text()[:5000])
    broken = tmp_path / "broken" / "game.tw-pddl"
    broken.parent.mkdir()
    data = json.loads(Path(one_per_type["pick_and_place_simple"].path).read_text())
    data["pddl_problem"] = data["pddl_problem"].replace("(:init", "(:init (((", 1)
    broken.write_text(json.dumps(data))
    return truncated, broken


def test_engine_process_plays_a_real_game_with_the_engines_plan(engine, one_per_type):
    game = one_per_type["pick_heat_then_place_in_recep"]
    state = engine.start(game.path)
    assert "Your task is to: " in state.feedback and "help" in state.admissible_commands and not state.won
    assert "isHot" in state.goal_pddl and any(fact[0] == "atlocation" for fact in state.facts)
    plan = engine.plan()
    assert any(action.startswith("heat ") for action in plan)
    for action in plan:
        state = engine.step(action)
    assert state.won
    assert engine.step("jump around").feedback == "Nothing happens."
    loads = engine._loads
    assert engine.start(game.path).won is False and engine._loads == loads  # same game: reset without reloading


def test_corrupt_game_files_raise_a_clear_error_and_the_engine_goes_on(engine, corrupt_games, one_per_type):
    truncated, broken = corrupt_games
    with pytest.raises(GameLoadError, match=r"truncated/game.tw-pddl is not valid JSON"):
        engine.start(str(truncated))
    with pytest.raises(GameLoadError, match=r"could not load .*broken/game.tw-pddl"):
        engine.start(str(broken))
    with pytest.raises(GameLoadError, match="does not exist"):
        engine.start(str(truncated.parent / "missing.tw-pddl"))
    pid = engine.pid
    assert engine.start(one_per_type["pick_and_place_simple"].path).admissible_commands
    assert engine.pid == pid  # a bad file does not cost the engine process


def test_a_killed_engine_ends_the_game_and_the_next_start_restarts_it(one_per_type):
    engine = EngineProcess()
    try:
        engine.start(one_per_type["look_at_obj_in_light"].path)
        os.kill(engine.pid, signal.SIGKILL)
        with pytest.raises(EngineError, match="exit code -9"):
            engine.step("look")
        with pytest.raises(EngineError, match="not running"):
            engine.step("look")
        assert engine.start(one_per_type["look_at_obj_in_light"].path).admissible_commands and engine.spawns == 2
    finally:
        engine.close()


def test_an_engine_that_exits_or_raises_is_contained_in_its_process():
    engine = EngineProcess(engine=FAKE)
    try:
        engine.start("a")
        with pytest.raises(EngineError, match="RuntimeError: game bug"):
            engine.step("raise")
        with pytest.raises(EngineError, match="exit code 3"):
            engine.step("exit")
        assert engine.start("b").feedback == "started b" and engine.spawns == 2
    finally:
        engine.close()


def test_in_process_engine_turns_sys_exit_into_an_engine_error():
    engine = InProcessEngine(engine=FAKE)
    engine.start("a")
    with pytest.raises(EngineError, match="SystemExit"):
        engine.step("exit")
    assert engine.step("wait").feedback == "wait"


def test_the_engine_process_is_replaced_every_recycle_every_games(games):
    engine = EngineProcess(engine=FAKE, recycle_every=2)
    try:
        pids = []
        for name in ["a", "b", "b", "c", "d", "e"]:
            engine.start(name)
            pids.append(engine.pid)
        assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] != pids[5] and engine.spawns == 3
    finally:
        engine.close()


def test_read_game_and_goal_section(one_per_type, tmp_path):
    data = read_game(one_per_type["pick_two_obj_and_place"].path)
    assert data["solvable"] is True and goal_section(data["pddl_problem"]).startswith("(:goal (and")
    bad = tmp_path / "game.tw-pddl"
    bad.write_text(json.dumps({"grammar": ""}))
    with pytest.raises(GameLoadError, match="lacks"):
        read_game(bad)
