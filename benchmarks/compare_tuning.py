"""Collect a learning-rate sweep of `python -m training.compare` (one output directory per rate) into one table.

    for lr in 3e-5 1e-4 3e-4; do
      python -m training.compare --algos hiper ppo grpo gigpo --seeds 0 --levels GoToLocalSeq --env-steps 3000 \
          --workers 2 --out runs/tune/lr$lr env.max_steps=30 eval.every=10 optim.actor_lr=$lr
    done
    python benchmarks/compare_tuning.py runs/tune/lr3e-5 runs/tune/lr1e-4 runs/tune/lr3e-4

Writes compare_babyai/tuning/{results.json, table.md, lr_sweep.png}: every run's record with its `actor_lr`, final
held-out success per algorithm and rate with 95% Wilson intervals, and the same as a plot (success on [0, 1], the
warm start's interval shaded).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    """Read the sweep's results.json files, print the table, write the JSON, table and plot."""
    from hiper_agents.runner import wilson_interval
    from training.config import load_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", help="training.compare output directories, one per learning rate")
    parser.add_argument("--out", default=str(Path(__file__).with_name("compare_babyai") / "tuning"), help="where to write")
    args = parser.parse_args(argv)
    records = []
    for directory in map(Path, args.dirs):
        for record in json.loads((directory / "results.json").read_text()):
            run = directory / record["level"] / record["algo"] / f"seed{record['seed']}"
            cfg = run / "config.yaml"
            record["actor_lr"] = load_config(cfg).optim.actor_lr if cfg.exists() else float(directory.name[2:])
            records.append(record)
    rates = sorted({r["actor_lr"] for r in records})
    label = lambda lr: f"{lr:.0e}".replace("e-0", "e-")  # noqa: E731  3e-05 -> 3e-5
    algos = list(dict.fromkeys(r["algo"] for r in records))

    def cell(algo: str, lr: float) -> tuple[float, float, float] | None:
        run = next((r for r in records if r["algo"] == algo and r["actor_lr"] == lr), None)
        if run is None:
            return None
        low, high = wilson_interval(round(run["success"] * run["episodes"]), run["episodes"])
        return run["success"], low, high

    lines = ["| algo | " + " | ".join(f"actor lr {label(lr)}" for lr in rates) + " |",
             "| --- | " + " | ".join("---:" for _ in rates) + " |"]
    for algo in algos:
        cells = [cell(algo, lr) for lr in rates]
        lines.append(f"| {algo} | " + " | ".join(f"{c[0]:.3f} [{c[1]:.3f}, {c[2]:.3f}]" if c else "n/a" for c in cells)
                     + " |")
    before = records[0]["before_success"]
    b_low, b_high = wilson_interval(round(before * records[0]["episodes"]), records[0]["episodes"])
    lines.append(f"\nbefore RL (the shared warm start): {before:.3f} [{b_low:.3f}, {b_high:.3f}]")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(records, indent=1) + "\n")
    (out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for k, algo in enumerate(algos):
        points = [(lr, cell(algo, lr)) for lr in rates if cell(algo, lr)]
        xs = [lr * (1 + 0.08 * (k - (len(algos) - 1) / 2)) for lr, _ in points]  # side by side at each rate
        ys = [c[0] for _, c in points]
        errors = [[c[0] - c[1] for _, c in points], [c[2] - c[0] for _, c in points]]
        ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=algo)
    ax.axhspan(b_low, b_high, color="grey", alpha=0.2, label="before RL (95%)")
    ax.set_xscale("log")
    ax.set_xticks(rates, [label(lr) for lr in rates])
    ax.minorticks_off()
    ax.set_ylim(0, 1)
    ax.set_xlabel("actor learning rate")
    ax.set_ylabel("held-out success")
    level = records[0]["level"]
    ax.set_title(f"{level}, one seed, equal env-step budget per run (95% intervals)", fontsize=9)
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "lr_sweep.png", dpi=120)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
