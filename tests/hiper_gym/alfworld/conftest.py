"""ALFWorld test fixtures: the game index, one env (one engine process) per test module, a game per task type."""

from __future__ import annotations

import pytest

pytest.importorskip("textworld", reason="the alfworld extra is not installed: pip install 'hiper[alfworld]'")


@pytest.fixture(scope="session")
def games():
    """The default game index (the archive in shared/data, extracted once into the cache)."""
    from hiper_gym.alfworld.games import load_games

    return load_games()


@pytest.fixture(scope="session")
def one_per_type(games):
    """The first valid_unseen game of each task type (a fixed sample for the default suite)."""
    from hiper_gym.alfworld.games import TASK_TYPES

    return {task_type: games.games("valid_unseen", [task_type])[0] for task_type in TASK_TYPES}


@pytest.fixture(scope="module")
def env():
    """hiper/ALFWorld-v0 with its engine process, shared by a module's tests."""
    import gymnasium as gym

    import hiper_gym  # noqa: F401

    env = gym.make("hiper/ALFWorld-v0")
    yield env
    env.close()
