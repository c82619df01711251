"""`python -m training.compare`: several algorithms on the same env-step budget, warm start and evaluation.

Every (level, seed) gets one warm start, trained once from the base config (its SFT, checkpoint 0 and the before-RL
evaluation), and every algorithm's run for that (level, seed) starts from a copy of it; each (level, algo, seed) run
then plays until `--env-steps` env steps and is evaluated on the same held-out tasks. A rerun skips finished runs and
resumes unfinished ones from their last checkpoint. Results go under --out: results.json (one record per run),
table.md and curves.png (held-out success against env steps, mean and spread over seeds). See docs/compare.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from hiper_agents.run_dir import latest_checkpoint, metrics_rows, phase_row
from training.config import ConfigError, RunConfig, load_config

# What each estimator needs to be itself: a group baseline needs several rollouts of one task.
FAIR_SETTINGS = {"hiper": [], "ppo": [], "grpo": ["env.group_n=4"], "gigpo": ["env.group_n=4"]}
GRID_POINTS = 21  # env-step points the seeds' curves are interpolated onto before averaging


@dataclasses.dataclass
class Job:
    """One unit of work: a warm start (algo None) or one (level, algo, seed) run."""

    level: str | None
    seed: int
    algo: str | None
    run_dir: Path
    cfg: RunConfig


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (dotted `key=value` overrides apply to every run)."""
    parser = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="default_cpu.yaml", help="base YAML recipe (default: default_cpu.yaml)")
    parser.add_argument("--algos", nargs="+", default=list(FAIR_SETTINGS), choices=list(FAIR_SETTINGS),
                        help="algorithms to compare")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="seeds (each its own warm start)")
    parser.add_argument("--levels", nargs="+", default=[None], help="BabyAI levels (env.kwargs.level); default: the config's")
    parser.add_argument("--env-steps", type=int, required=True, help="env steps of RL per run (the equal budget)")
    parser.add_argument("--out", default="runs/compare", help="directory for the runs, results.json, table.md, curves.png")
    parser.add_argument("--set", action="append", default=[], metavar="ALGO:key=value",
                        help="an override for one algorithm's runs, e.g. grpo:env.group_n=8")
    parser.add_argument("--workers", type=int, default=1, help="runs played at once, each in its own process")
    parser.add_argument("--shard", default="0/1", metavar="K/N", help="play only runs K, K+N, K+2N, ... (one shard per machine)")
    parser.add_argument("--warm-only", action="store_true", help="train the warm starts and stop (before sharding)")
    parser.add_argument("--report-only", action="store_true", help="write the table and plot from finished runs")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="overrides for every run")
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> tuple[list[Job], list[Job]]:
    """The warm-start jobs and the run jobs the arguments ask for; a bad setting raises ConfigError."""
    if args.env_steps <= 0:
        raise ConfigError(f"--env-steps must be positive, got {args.env_steps}")
    per_algo: dict[str, list[str]] = {algo: list(FAIR_SETTINGS[algo]) for algo in args.algos}
    for item in args.set:
        algo, sep, override = item.partition(":")
        if not sep or algo not in per_algo or "=" not in override:
            raise ConfigError(f"--set {item!r}: expected ALGO:key=value with ALGO one of {args.algos}")
        per_algo[algo].append(override)
    out = Path(args.out)
    warm, runs = [], []
    for level in args.levels:
        level_set = [f"env.kwargs.level={level}"] if level else []
        for seed in args.seeds:
            base = load_config(args.config, [*args.overrides, *level_set, f"seed={seed}"])
            if level:  # keep the config's other env arguments
                base.env.kwargs = {**load_config(args.config, args.overrides).env.kwargs, "level": level}
            named = level or base.env.kwargs.get("level")  # the config's own level, named as if given
            name = named or base.env.id.split("/")[-1]
            warm_cfg = dataclasses.replace(
                base, iterations=0, algo=dataclasses.replace(base.algo, name="hiper"),  # hiper: it has a critic to copy
                env=dataclasses.replace(base.env, group_n=1))
            warm.append(Job(named, seed, None, out / name / f"warm-seed{seed}", warm_cfg))
            for algo in args.algos:
                cfg = load_config(args.config, [*args.overrides, *level_set, f"seed={seed}", f"algo.name={algo}",
                                                *per_algo[algo], f"max_env_steps={args.env_steps}"])
                cfg.env.kwargs = dict(base.env.kwargs)
                # every iteration plays at least num_envs steps, so this cap never binds before the env-step budget
                cfg.iterations = math.ceil(args.env_steps / cfg.env.num_envs) + 1
                if cfg.env.num_envs % cfg.env.group_n:
                    raise ConfigError(f"{algo}: env.num_envs ({cfg.env.num_envs}) must be a multiple of env.group_n "
                                      f"({cfg.env.group_n})")
                runs.append(Job(named, seed, algo, out / name / algo / f"seed{seed}", cfg))
    return warm, runs


def finished(job: Job) -> bool:
    """Whether a job's run has spent its budget and logged its final evaluation."""
    after = phase_row(job.run_dir, "after_rl")
    if after is None or latest_checkpoint(job.run_dir) is None:
        return False
    return job.algo is None or job.cfg.budget_spent(after["iteration"], after.get("env_steps", 0))


def run_job(job: Job, threads: int, warm_dir: Path | None = None) -> float:
    """Play one job to its end (a warm start, or a run started from a copy of `warm_dir`); returns its seconds."""
    import torch

    from training.trainer import Trainer

    torch.set_num_threads(threads)
    started = time.perf_counter()
    if job.algo is None:
        if job.run_dir.exists():  # a warm start cut short starts again (it is short next to the runs)
            shutil.rmtree(job.run_dir)
        with Trainer(job.cfg, job.run_dir, progress=False) as trainer:
            if latest_checkpoint(job.run_dir) is None:  # SFT off: checkpoint the initial model for the runs
                trainer._save(0)
            trainer.train()
    else:
        if latest_checkpoint(job.run_dir) is None:  # not started: begin from the warm start's checkpoint 0
            if job.run_dir.exists():
                shutil.rmtree(job.run_dir)
            shutil.copytree(warm_dir, job.run_dir, ignore=shutil.ignore_patterns("tensorboard", "curves.png"))
            before = phase_row(warm_dir, "before_rl")
            (job.run_dir / "metrics.jsonl").write_text(json.dumps(before) + "\n")  # the run skips re-evaluating it
        with Trainer(job.cfg, job.run_dir, resume=True, progress=False) as trainer:
            trainer.train()
    seconds = time.perf_counter() - started
    timing = job.run_dir / "wall_seconds.json"
    spent = json.loads(timing.read_text())["seconds"] if timing.is_file() else 0.0
    timing.write_text(json.dumps({"seconds": spent + seconds}))
    return seconds


def _label(job: Job) -> str:
    level = job.level or job.cfg.env.id
    return f"{level} {job.algo or 'warm start'} seed {job.seed}"


def play(jobs: list[Job], workers: int, warm_of: dict[tuple, Path] | None = None) -> None:
    """Run the unfinished jobs, `workers` at a time, printing one line per job."""
    todo = []
    for job in jobs:  # finished() reads the run's files once per job
        if finished(job):
            print(f"skip {_label(job)}: finished ({job.run_dir})", flush=True)
        else:
            todo.append(job)
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    warm = [warm_of[(job.level, job.seed)] if warm_of else None for job in todo]
    if workers <= 1:
        for job, warm_dir in zip(todo, warm):
            print(f"start {_label(job)}", flush=True)
            seconds = run_job(job, threads, warm_dir)
            print(f"done {_label(job)} in {seconds / 60:.1f} min: {_summary(job)}", flush=True)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(run_job, job, threads, warm_dir): job for job, warm_dir in zip(todo, warm)}
        for future, job in futures.items():
            seconds = future.result()
            print(f"done {_label(job)} in {seconds / 60:.1f} min: {_summary(job)}", flush=True)


def _summary(job: Job) -> str:
    after = phase_row(job.run_dir, "after_rl") or {}
    return (f"held-out success {after.get('eval/success', float('nan')):.3f} after {after.get('env_steps', 0)} env "
            "steps")


def record(job: Job) -> dict[str, Any]:
    """One finished run as a results.json record."""
    rows = metrics_rows(job.run_dir)
    phases = {r["phase"]: r for r in rows if "phase" in r}  # from the rows read once, not two more file reads
    before, after = phases["before_rl"], phases["after_rl"]
    curve = [(r.get("env_steps"), r["eval/success"]) for r in rows if r.get("eval/success") is not None]
    iterations = [r for r in rows if "phase" not in r and "turns" in r]
    tail = [r["value/high_explained_var"] for r in iterations[-5:] if r.get("value/high_explained_var") is not None]
    timing = job.run_dir / "wall_seconds.json"
    return {
        "algo": job.algo, "level": job.level or job.cfg.env.id, "seed": job.seed, "env_steps": after["env_steps"],
        "success": after["eval/success"], "success_low": after["eval/success_low"],
        "success_high": after["eval/success_high"], "episodes": after["eval/episodes"],
        "before_success": before["eval/success"], "iterations": after["iteration"],
        "rollout_success_last5": _mean([r["success"] for r in iterations[-5:]]),
        "value_high_explained_var_last5": _mean(tail) if tail else None,
        "kl_last": iterations[-1].get("kl") if iterations else None,
        "wall_s": json.loads(timing.read_text())["seconds"] if timing.is_file() else None,
        "curve": [[int(x), y] for x, y in curve if x is not None],
        "run_dir": str(job.run_dir),
    }


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def _std(xs: list[float]) -> float:
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0


def grid_end(records: list[dict[str, Any]], budget: int) -> float:
    """Where a level's common grid ends: its last evaluation over all algorithms and seeds, at least the budget."""
    return max([budget, *(r["curve"][-1][0] for r in records if r["curve"])])


def mean_curve(records: list[dict[str, Any]], budget: int, end: float | None = None
               ) -> tuple[list[float], list[float], list[float]]:
    """The seeds' held-out curves interpolated onto a common env-step grid: (grid, mean, std).

    The grid ends at the last evaluation, not at the budget: the last iteration overshoots the budget (e.g. 3,276 of
    3,000 steps), and a grid ending before it interpolated the final success away (flat PPO then never "reached" its
    own final success). A seed that ended earlier holds its last value. `end`: the level's `grid_end`, so every
    algorithm of a level is read off the same grid."""
    import numpy as np

    grid = np.linspace(0, end if end is not None else grid_end(records, budget), GRID_POINTS)
    curves = [np.interp(grid, [x for x, _ in r["curve"]], [y for _, y in r["curve"]]) for r in records]
    stacked = np.stack(curves)
    std = stacked.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros_like(grid)
    return grid.tolist(), stacked.mean(axis=0).tolist(), std.tolist()


def table(records: list[dict[str, Any]], budget: int) -> str:
    """A Markdown table: per level and algorithm, final held-out success over seeds and steps to reach PPO's."""
    from hiper_agents.runner import wilson_interval

    lines = ["| level | algo | seeds | success (mean ± std) | 95% interval (pooled) | before RL | env steps | "
             "env steps to PPO's final |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for level in dict.fromkeys(r["level"] for r in records):
        mine = [r for r in records if r["level"] == level]
        ppo = [r for r in mine if r["algo"] == "ppo"]
        target = _mean([r["success"] for r in ppo]) if ppo else None
        for algo in dict.fromkeys(r["algo"] for r in mine):
            runs = [r for r in mine if r["algo"] == algo]
            wins = sum(round(r["success"] * r["episodes"]) for r in runs)
            episodes = sum(r["episodes"] for r in runs)
            low, high = wilson_interval(wins, episodes)
            reach = "n/a"
            if target is not None:
                grid, mean, _ = mean_curve(runs, budget, grid_end(mine, budget))
                reach = next((f"{int(x)}" if x > 0 else "at start" for x, y in zip(grid, mean) if y >= target - 1e-9),
                             "not reached")
            successes = [r["success"] for r in runs]
            lines.append(f"| {level} | {algo} | {len(runs)} | {_mean(successes):.3f} ± {_std(successes):.3f} | "
                         f"[{low:.3f}, {high:.3f}] | {_mean([r['before_success'] for r in runs]):.3f} | "
                         f"{int(_mean([r['env_steps'] for r in runs]))} | {reach} |")
    return "\n".join(lines)


def plot(records: list[dict[str, Any]], budget: int, path: Path) -> Path | None:
    """Held-out success against env steps, one panel per level, one line per algorithm shaded ± 1 std over seeds."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    levels = list(dict.fromkeys(r["level"] for r in records))
    fig, axes = plt.subplots(1, len(levels), figsize=(5 * len(levels), 4), squeeze=False)
    for ax, level in zip(axes[0], levels):
        mine = [r for r in records if r["level"] == level]
        for algo in dict.fromkeys(r["algo"] for r in mine):
            runs = [r for r in mine if r["algo"] == algo]
            grid, mean, std = mean_curve(runs, budget, grid_end(mine, budget))
            line, = ax.plot(grid, mean, label=f"{algo} ({len(runs)} seeds)")
            ax.fill_between(grid, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)],
                            color=line.get_color(), alpha=0.2)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlim(0, budget)
        ax.set_title(level)
        ax.set_xlabel("env steps")
        ax.set_ylabel("held-out success (mean ± std over seeds)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def report(runs: list[Job], budget: int, out: Path) -> list[dict[str, Any]]:
    """Write results.json, table.md and curves.png from the finished runs; returns the records."""
    records = [record(job) for job in runs if finished(job)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(records, indent=1) + "\n")
    if records:
        (out / "table.md").write_text(table(records, budget) + "\n")
        plot(records, budget, out / "curves.png")
    return records


def main(argv: list[str] | None = None) -> int:
    """Run the comparison the arguments ask for; returns the exit status."""
    args = parse_args(argv)
    try:
        warm, runs = plan(args)
        k, _, n = args.shard.partition("/")
        if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
            raise ConfigError(f"--shard {args.shard!r}: expected K/N with 0 <= K < N")
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if not args.report_only:
        play(warm, args.workers)
        if not args.warm_only:
            mine = [job for i, job in enumerate(runs) if i % int(n) == int(k)]
            play(mine, args.workers, {(w.level, w.seed): w.run_dir for w in warm})
    records = report(runs, args.env_steps, out)
    if records:
        print((out / "table.md").read_text().rstrip())
    print(f"{len(records)} of {len(runs)} runs finished; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
