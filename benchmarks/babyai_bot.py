"""The BabyAI bot's success through hiper/BabyAI-v0 on the supported levels (100 test seeds each by default).

    python benchmarks/babyai_bot.py [--episodes 100]

Prints a table and writes babyai_bot.json beside this script.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import gymnasium as gym

import hiper_gym  # noqa: F401
from hiper_gym.babyai.expert import BotExpert

LEVELS = ("GoToLocal", "GoToLocalSeq", "PickupLoc", "PutNextLocal", "GoToSeq", "UnlockPickup", "SynthSeq")


def run(level: str, episodes: int) -> dict:
    """Play the bot on `episodes` test tasks of `level`; success, mean steps and milestone ratio."""
    env = gym.make("hiper/BabyAI-v0", level=level)
    wins, steps, milestones, total = 0, 0, 0, 0
    started = time.perf_counter()
    for index in range(episodes):
        _, info = env.reset(options={"split": "test", "index": index})
        expert = BotExpert()
        while True:
            action, _ = expert(env)
            _, _, terminated, truncated, info = env.step(action)
            steps += 1
            if terminated or truncated:
                break
        wins += info["won"]
        milestones += sum(m["done"] for m in info["milestones"])
        total += len(info["milestones"])
    seconds = time.perf_counter() - started
    return {"level": level, "episodes": episodes, "success": wins / episodes, "mean_steps": steps / episodes,
            "milestone_ratio": milestones / max(total, 1), "steps_per_s": steps / seconds}


def main() -> None:
    """Run every level and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100, help="test tasks per level")
    args = parser.parse_args()
    rows = [run(level, args.episodes) for level in LEVELS]
    print(f"{'level':<14}{'episodes':>9}{'success':>9}{'steps':>8}{'milestones':>11}{'steps/s':>9}")
    for r in rows:
        print(f"{r['level']:<14}{r['episodes']:>9}{r['success']:>9.3f}{r['mean_steps']:>8.1f}"
              f"{r['milestone_ratio']:>11.3f}{r['steps_per_s']:>9.0f}")
    Path(__file__).with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
