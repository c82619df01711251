"""Time hiper/ALFWorld-v0 stepping with 1, 2 and N worker processes (and one env in this process for reference).

Run: `python benchmarks/alfworld_env.py [--steps 200] [--workers 1 2 4] [--ray]`. For each worker count a
`ProcessTextVectorEnv` (each env in its own worker process, its engine in a child process) resets every slot to a
valid_unseen game (seeded order) and then takes `--steps` lock-step rounds of a random admissible action per slot,
resetting a slot whose episode ended. Steps/s counts env steps of all slots over the wall time of the step rounds;
resets are timed apart. `--ray` adds a Ray actor pool with the largest worker count. Prints a table and writes
benchmarks/alfworld_env.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPTIONS = {"split": "valid_unseen"}


def run(mode: str, workers: int, steps: int, seed: int = 0) -> dict[str, Any]:
    """Reset every slot, then `steps` rounds of random admissible actions; returns the timings."""
    from hiper_gym.vector import make_vector_env

    rng = random.Random(seed)
    started = time.perf_counter()
    vec = make_vector_env("hiper/ALFWorld-v0", workers, mode=mode)
    start_seconds = time.perf_counter() - started
    try:
        reset_started = time.perf_counter()
        _, infos = vec.reset(seed=seed, options=OPTIONS)
        first_reset = time.perf_counter() - reset_started
        step_seconds, reset_seconds, resets, env_steps = 0.0, 0.0, 0, 0
        for _ in range(steps):
            actions = [rng.choice(info["admissible_actions"] or ["look"]) for info in infos]
            t = time.perf_counter()
            _, _, terminated, truncated, infos = vec.step(actions)
            step_seconds += time.perf_counter() - t
            env_steps += workers
            done = [i for i in range(workers) if terminated[i] or truncated[i]]
            if done:
                t = time.perf_counter()
                _, new_infos = vec.reset(options=OPTIONS, indices=done)
                reset_seconds += time.perf_counter() - t
                resets += len(done)
                for i, info in zip(done, new_infos):
                    infos[i] = info
    finally:
        vec.close()
    return {
        "mode": mode,
        "workers": workers,
        "env_steps": env_steps,
        "steps_per_s": env_steps / step_seconds,
        "ms_per_round": 1000 * step_seconds / steps,
        "first_reset_s": first_reset,
        "resets_after_start": resets,
        "start_s": start_seconds,
    }


def main() -> None:
    """Run every configuration, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="lock-step rounds per configuration")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--ray", action="store_true", help="also time a Ray actor pool with the largest count")
    args = parser.parse_args()
    configs = [("sync", 1)] + [("process", n) for n in args.workers]
    if args.ray:
        configs.append(("ray", max(args.workers)))
    results = []
    for mode, workers in configs:
        results.append(run(mode, workers, args.steps))
        print(f"done: {mode} x{workers}", file=sys.stderr)
    base = results[0]["steps_per_s"]
    print(f"\n{'mode':8} {'envs':>4} {'steps/s':>8} {'speed-up':>8} {'ms/round':>9} {'first reset':>12}")
    for r in results:
        print(
            f"{r['mode']:8} {r['workers']:>4} {r['steps_per_s']:>8.1f} {r['steps_per_s'] / base:>7.2f}x "
            f"{r['ms_per_round']:>9.1f} {r['first_reset_s']:>11.1f}s"
        )
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "steps": args.steps,
        "options": OPTIONS,
        "results": results,
    }
    Path(__file__).with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
