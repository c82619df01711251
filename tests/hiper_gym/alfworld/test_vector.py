"""ALFWorld in vector envs: a corrupt game in one slot, the others go on; memory stays bounded over many games."""

from __future__ import annotations

from pathlib import Path

import pytest

from hiper_gym.vector import make_vector_env


@pytest.fixture
def corrupt_game(tmp_path):
    path = tmp_path / "pick_and_place_simple-Mug-None-Desk-1" / "trial_1" / "game.tw-pddl"
    path.parent.mkdir(parents=True)
    path.write_text('{"pddl_domain": "(define (domain alfred)", "grammar": ')
    return str(path)


@pytest.mark.parametrize("mode", ["sync", "process"])
def test_a_corrupt_game_fails_its_slot_clearly_and_the_vector_env_keeps_going(mode, corrupt_game, one_per_type):
    good = one_per_type["pick_and_place_simple"].path
    with make_vector_env("hiper/ALFWorld-v0", 2, mode=mode) as vec:
        observations, infos = vec.reset(options=[{"game": corrupt_game}, {"game": good}])
        assert observations[0] == "" and "GameLoadError" in infos[0]["env_error"]
        assert f"{corrupt_game} is not valid JSON" in infos[0]["env_error"]
        assert "Your task is to:" in observations[1] and "env_error" not in infos[1]
        action = infos[1]["admissible_actions"][0]
        observations, _, terminated, _, infos = vec.step(["look", action])
        assert terminated == [True, False] and observations[1].startswith("You arrive at")
        observations, infos = vec.reset(options={"game": good}, indices=[0])
        assert infos[0]["admissible_actions"] and vec.call("subgoal_done", "go to the moon") == [None, None]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.slow
def test_memory_stays_bounded_over_hundreds_of_games(games):
    import os

    import gymnasium as gym

    import hiper_gym  # noqa: F401

    env = gym.make("hiper/ALFWorld-v0", recycle_every=50)
    engine = env.unwrapped._engine
    train = games.games("train")
    engine_rss, own_rss = [], []
    try:
        for i in range(200):
            env.reset(options={"game": train[i * 17].path})
            env.step("look")
            engine_rss.append(_rss_mib(engine.pid))
            own_rss.append(_rss_mib(os.getpid()))
    finally:
        env.close()
    assert engine.spawns == 4  # a fresh engine every 50 games
    assert max(engine_rss) < 600, max(engine_rss)
    assert own_rss[-1] - own_rss[20] < 50, (own_rss[20], own_rss[-1])
    print(
        f"engine RSS after 10/50/200 games: {engine_rss[9]:.0f}/{engine_rss[49]:.0f}/{engine_rss[-1]:.0f} MiB; "
        f"max {max(engine_rss):.0f} MiB; caller {own_rss[0]:.0f} -> {own_rss[-1]:.0f} MiB"
    )
