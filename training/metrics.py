"""Run logging: metrics.jsonl, TensorBoard events and PNG learning curves, all under the run directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hiper_agents.run_dir import find_phase, metrics_rows

CURVES = ("success", "score", "valid_ratio", "switch_rate", "loss/policy", "loss/value", "kl")
SHARES = frozenset({"success", "score", "valid_ratio", "switch_rate"})  # drawn on [0, 1], so a flat result looks flat


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and value == value  # not NaN


class MetricsLog:
    """Append-only metrics with a resume-safe cut: rows after the resumed iteration are dropped."""

    def __init__(self, run_dir: Path, resume_from: int | None = None, write: bool = True, keep_final: bool = False):
        self.path = run_dir / "metrics.jsonl"
        self.run_dir = run_dir
        self.write = write  # only rank 0 of a data-parallel run writes
        self.rows: list[dict[str, Any]] = []
        self._writer = None
        if self.path.exists():
            for row in metrics_rows(run_dir):
                # a resumed run replays everything after its checkpoint, the final evaluation included
                # (unless keep_final: the run had finished and nothing is replayed)
                final = row.get("phase") == "after_rl"
                if resume_from is not None and row["iteration"] <= resume_from and (keep_final or not final):
                    self.rows.append(row)
            if write:
                self.path.write_text("".join(json.dumps(r) + "\n" for r in self.rows))
        if not write:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(run_dir / "tensorboard"))
        except ImportError:  # tensorboard is in the train extra; the JSONL log is the record either way
            self._writer = None

    def phase_row(self, phase: str) -> dict[str, Any] | None:
        """The row of an evaluation phase ("before_rl", "after_rl"), once the run has logged it."""
        return find_phase(self.rows, phase)

    def drop_phase(self, phase: str) -> None:
        """Forget an evaluation phase's row (a finished run that goes on will evaluate again)."""
        self.rows = [r for r in self.rows if r.get("phase") != phase]
        if self.write:
            self.path.write_text("".join(json.dumps(r) + "\n" for r in self.rows))

    def log(self, row: dict[str, Any]) -> None:
        """Record one row (must hold 'iteration')."""
        self.rows.append(row)
        if not self.write:
            return
        with self.path.open("a") as f:  # NaN is not JSON: an undefined metric is written as null
            f.write(json.dumps({k: None if isinstance(v, float) and v != v else v for k, v in row.items()}) + "\n")
        if self._writer is not None:
            for key, value in row.items():
                if isinstance(value, (int, float)) and key != "iteration":
                    self._writer.add_scalar(key, value, row["iteration"])
            self._writer.flush()

    def plot(self) -> Path | None:
        """Redraw the learning curves as one PNG: shares on [0, 1], held-out success with its 95% intervals."""
        if not self.write:
            return None
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            from matplotlib.ticker import MaxNLocator
        except ImportError:
            return None
        fig, axes = plt.subplots(2, 4, figsize=(16, 7))
        for ax, key in zip(axes.flat, CURVES + ("entropy",)):
            points = [(r["iteration"], r[key]) for r in self.rows if _number(r.get(key)) and "phase" not in r]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, "-", marker=".", label=f"{key} (training rollouts)")
            if key == "success":
                evals = [r for r in self.rows if _number(r.get("eval/success"))]
                if evals:
                    xs = [r["iteration"] for r in evals]
                    ys = [r["eval/success"] for r in evals]
                    low = [y - r.get("eval/success_low", y) for y, r in zip(ys, evals)]
                    high = [r.get("eval/success_high", y) - y for y, r in zip(ys, evals)]
                    ax.errorbar(xs, ys, yerr=[low, high], fmt="o--", capsize=4, label="held-out success (95% CI)")
            if key in SHARES:
                ax.set_ylim(0.0, 1.0)
            ax.set_title(key)
            ax.set_xlabel("iteration")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if ax.lines:
                ax.legend(fontsize=7)
        fig.tight_layout()
        path = self.run_dir / "curves.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        return path

    def close(self) -> None:
        """Flush TensorBoard."""
        if self._writer is not None:
            self._writer.close()
