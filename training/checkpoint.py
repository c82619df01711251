"""Checkpoints under the run directory, written atomically so a killed run always leaves a loadable one."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hiper_agents.run_dir import checkpoint_dir, checkpoint_iteration, latest_checkpoint

__all__ = ["KEEP_LAST", "checkpoint_dir", "directory_gib", "checkpoint_iteration", "latest_checkpoint", "rng_state", "save_checkpoint",
           "set_rng_state"]

KEEP_LAST = 2


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch RNG states."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what rng_state() returned."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(run_dir: Path, iteration: int, write: Any, keep: int = KEEP_LAST) -> Path:
    """Call `write(tmp_dir)` then rename the directory into place; keep the last `keep` checkpoints (at least 1)."""
    final = checkpoint_dir(run_dir, iteration)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write(tmp)
    (tmp / "state.json").write_text(json.dumps({"iteration": iteration}))
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in sorted(p for p in final.parent.glob("iter_*") if not p.name.endswith(".tmp"))[:-max(keep, 1)]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def directory_gib(path: Path) -> float:
    """Size of the files under `path` in GiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30
