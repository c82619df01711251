"""SIGKILL a training run mid-iteration, resume it from its run directory: it ends with the same metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.training.test_trainer import FAST

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("success", "score", "turns", "loss/policy", "loss/value", "kl", "valid_ratio", "entropy")


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "training.run", "--quiet", "--plugin", "tests.training.toy_env", *args]


def _rows(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if "loss/policy" in r or r.get("phase")]


@pytest.mark.slow
def test_sigkill_during_training_then_resume_gives_the_same_metrics(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    common = [*FAST, "iterations=8", f"output_dir={tmp_path}", "optim.micro_batch_turns=1"]
    subprocess.run(_cmd(*common, "run_name=full"), cwd=ROOT, env=env, check=True, capture_output=True, timeout=900)

    proc = subprocess.Popen(_cmd(*common, "run_name=cut"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    checkpoints = tmp_path / "cut" / "checkpoints"
    deadline = time.time() + 600
    # any checkpoint from iteration 2 on (only the last two are kept, and a compact-prompt iteration is quick)
    while time.time() < deadline and proc.poll() is None and not [
        p for p in checkpoints.glob("iter_*") if not p.name.endswith(".tmp") and int(p.name[5:]) >= 2
    ]:
        time.sleep(0.02)
    time.sleep(0.2)  # the next iteration is under way: rollout or update
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    logged = [r["iteration"] for r in _rows(tmp_path / "cut") if "loss/policy" in r]
    assert logged and max(logged) < 8

    subprocess.run(_cmd("--resume", str(tmp_path / "cut")), cwd=ROOT, env=env, check=True, capture_output=True, timeout=900)
    full, cut = _rows(tmp_path / "full"), _rows(tmp_path / "cut")
    assert [r["iteration"] for r in cut] == [r["iteration"] for r in full]
    for a, b in zip(full, cut):
        assert {k: a.get(k) for k in KEYS} == pytest.approx({k: b.get(k) for k in KEYS}, rel=1e-6, abs=1e-9)
    assert full[-1]["phase"] == "after_rl" and cut[-1]["eval/success"] == full[-1]["eval/success"]
