"""Async tests here run under pytest-asyncio without marking each one; a short training run shared by the
end-to-end and example tests."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: Any) -> None:
    """Mark this directory's coroutine tests with `asyncio` before pytest-asyncio collects them (the repo keeps
    pytest-asyncio in strict mode, and the standard suites' async tests carry no mark of their own)."""
    function = getattr(obj, "__func__", obj)
    if name.startswith("test_") and inspect.iscoroutinefunction(function):
        marks = getattr(function, "pytestmark", [])
        if not any(mark.name == "asyncio" for mark in marks):
            pytest.mark.asyncio(function)


# A short `python -m training.run` on the shop tools (examples/shop_tiny.yaml, cut down): SFT, one HiPER iteration.
SHOP_TRAINING = [
    "iterations=1", "env.num_envs=2", "sft.episodes=12", "sft.epochs=3", "eval.episodes=1",
    "rollout.max_new_tokens=32", "model.tiny_hidden=32", "model.tiny_layers=1", "model.tiny_vocab=400",
]  # fmt: skip


def train_run(output_dir: Path, name: str, overrides: list[str], options: tuple[str, ...] = ()) -> Path:
    """Run `python -m training.run` in a subprocess (as a user would) and return the run directory."""
    command = [
        sys.executable,
        "-m",
        "training.run",
        "--quiet",
        *options,
        f"output_dir={output_dir}",
        f"run_name={name}",
    ]
    done = subprocess.run([*command, *overrides], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"training.run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return output_dir / name


@pytest.fixture(scope="session")
def shop_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory trained on hiper/ShopTools-v0 by a short `python -m training.run`."""
    options = ("--plugin", "examples.shop_tools", "--config", "examples/shop_tiny.yaml")
    return train_run(tmp_path_factory.mktemp("runs"), "shop", SHOP_TRAINING, options)
