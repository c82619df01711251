"""Time hiper/WebTask-v0: browser start, resets and steps of each built-in task, played by its scripted expert.

Run: `python benchmarks/webtask_env.py [--episodes 5] [--tasks webshop wiki-lookup ...]`. Per task, one env (one
headless Chromium, one site server) plays `--episodes` test instances with the expert, timing `env.reset` and
`env.step` only (not the expert). The first reset also starts the browser and is reported apart. Prints a table and
writes benchmarks/webtask_env.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`, 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def run_task(name: str, episodes: int) -> dict:
    """Play `episodes` expert episodes of one task; times in seconds."""
    import gymnasium as gym

    import hiper_gym  # noqa: F401

    env = gym.make("hiper/WebTask-v0", task=name)
    task = env.unwrapped.web_task
    resets, steps, won, first_reset = [], [], 0, 0.0
    try:
        for episode in range(episodes + 1):  # episode 0 warms up: browser start, catalogue and spaCy loads
            start = time.perf_counter()
            env.reset(options={"split": "test", "index": episode % task.count("test")})
            elapsed = time.perf_counter() - start
            expert, episode_steps = task.expert(), []
            while True:
                action, _ = expert(env)
                start = time.perf_counter()
                _, _, terminated, truncated, info = env.step(action)
                episode_steps.append(time.perf_counter() - start)
                if terminated or truncated:
                    break
            if episode == 0:
                first_reset = elapsed
                continue
            resets.append(elapsed)
            steps += episode_steps
            won += bool(info["won"])
    finally:
        env.close()
    return {
        "task": name,
        "episodes": episodes,
        "success": won / episodes,
        "steps": len(steps),
        "steps_per_s": len(steps) / sum(steps),
        "step_median_ms": 1000 * statistics.median(steps),
        "step_p90_ms": 1000 * percentile(steps, 90),
        "reset_median_ms": 1000 * statistics.median(resets),
        "first_reset_s": first_reset,
    }


def main() -> None:
    """Time every task and write the results."""
    from hiper_gym.web.task import BUILTIN_TASKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--tasks", nargs="*", default=sorted(BUILTIN_TASKS))
    parser.add_argument("--out", default=str(Path(__file__).with_suffix(".json")))
    args = parser.parse_args()
    rows = [run_task(name, args.episodes) for name in args.tasks]
    header = "| task | episodes | success | steps | steps/s | median step | p90 step | median reset | first reset |"
    print(header)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['task']} | {r['episodes']} | {r['success']:.0%} | {r['steps']} | {r['steps_per_s']:.1f} | "
            f"{r['step_median_ms']:.0f} ms | {r['step_p90_ms']:.0f} ms | {r['reset_median_ms']:.0f} ms | "
            f"{r['first_reset_s']:.1f} s |"
        )
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    Path(args.out).write_text(
        json.dumps({"machine": machine, "episodes": args.episodes, "tasks": rows}, indent=2) + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
