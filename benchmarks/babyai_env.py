"""Step speed of hiper/BabyAI-v0 against stepping the same minigrid level directly (the cost of the text view).

    python benchmarks/babyai_env.py [--steps 20000]

Both sides play the same random actions on the same level seeds (a reset when an episode ends); prints a table and
writes babyai_env.json beside this script.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import time
from pathlib import Path

import gymnasium as gym

import hiper_gym  # noqa: F401
from hiper_gym.babyai.levels import make_level
from hiper_gym.babyai.text import ACTIONS

LEVELS = ("GoToLocal", "GoToLocalSeq", "PutNextLocal", "GoToSeq")


def _minigrid(level: str, actions: list[int]) -> float:
    env = make_level(level)
    episode = 0
    with contextlib.redirect_stdout(io.StringIO()):
        env.reset(seed=episode)
    started = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            episode += 1
            with contextlib.redirect_stdout(io.StringIO()):
                env.reset(seed=episode)
    return len(actions) / (time.perf_counter() - started)


def _text(level: str, actions: list[int]) -> float:
    env = gym.make("hiper/BabyAI-v0", level=level)
    episode = 0
    env.reset(options={"index": episode})
    started = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(ACTIONS[action])
        if terminated or truncated:
            episode += 1
            env.reset(options={"index": episode})
    return len(actions) / (time.perf_counter() - started)


def main() -> None:
    """Measure every level and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20_000, help="random steps per level and side")
    args = parser.parse_args()
    rows = []
    for level in LEVELS:
        rng = random.Random(0)
        actions = [rng.randrange(6) for _ in range(args.steps)]
        direct, text = _minigrid(level, actions), _text(level, actions)
        rows.append({"level": level, "steps": args.steps, "minigrid_steps_per_s": direct, "text_steps_per_s": text,
                     "slowdown": direct / text})
    print(f"{'level':<14}{'minigrid steps/s':>18}{'text env steps/s':>18}{'slowdown':>10}")
    for r in rows:
        print(f"{r['level']:<14}{r['minigrid_steps_per_s']:>18.0f}{r['text_steps_per_s']:>18.0f}{r['slowdown']:>9.2f}x")
    Path(__file__).with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
