"""A run directory's layout, read without torch: shared by the trainer, `training.compare` and the LangChain loader
(here, below `training`, because the LangChain loader runs without the training package).

`runs/<name>/`: `config.yaml` (the resolved config), `metrics.jsonl` (one row per iteration and per evaluation
phase), `checkpoints/iter_NNNNNN/` (each complete one has `state.json`), `model/` and `tokenizer/`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


def checkpoint_dir(run_dir: Path, iteration: int) -> Path:
    """The directory of iteration `iteration`'s checkpoint."""
    return Path(run_dir) / "checkpoints" / f"iter_{iteration:06d}"


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint (a `.tmp` left by a killed write is ignored)."""
    done = [p for p in (Path(run_dir) / "checkpoints").glob("iter_*")
            if not p.name.endswith(".tmp") and (p / "state.json").is_file()]
    return max(done, default=None)


def checkpoint_iteration(path: Path) -> int:
    """The iteration a checkpoint was written after."""
    return int(json.loads((Path(path) / "state.json").read_text())["iteration"])


def read_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.yaml as a dict (empty when the file is empty)."""
    return yaml.safe_load((Path(run_dir) / "config.yaml").read_text()) or {}


def metrics_rows(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of metrics.jsonl (none when the run has not logged yet)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def phase_row(run_dir: Path, phase: str) -> dict[str, Any] | None:
    """The row of an evaluation phase ("before_rl", "after_rl"), once the run has logged it."""
    return find_phase(metrics_rows(run_dir), phase)


def find_phase(rows: list[dict[str, Any]], phase: str) -> dict[str, Any] | None:
    """The first of `rows` (metrics.jsonl rows) that records evaluation phase `phase`."""
    return next((r for r in rows if r.get("phase") == phase), None)
