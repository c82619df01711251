"""compare_tuning.py turns one training.compare directory per learning rate into one table, JSON and plot."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_sweep_of_two_rates_becomes_one_table(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("compare_tuning", ROOT / "benchmarks" / "compare_tuning.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dirs = []
    for lr, success in (("3e-5", 0.40), ("1e-4", 0.50)):
        directory = tmp_path / f"lr{lr}"
        directory.mkdir()
        records = [{"level": "GoToLocalSeq", "algo": algo, "seed": 0, "success": success + k / 100, "episodes": 200,
                    "before_success": 0.45, "env_steps": 3100, "curve": [[0, 0.45], [3100, success]]}
                   for k, algo in enumerate(("hiper", "ppo"))]
        (directory / "results.json").write_text(json.dumps(records))
        dirs.append(str(directory))
    out = tmp_path / "out"
    assert module.main([*dirs, "--out", str(out)]) == 0
    table = (out / "table.md").read_text()
    assert "| algo | actor lr 3e-5 | actor lr 1e-4 |" in table
    assert "| ppo | 0.410 [" in table and "| hiper | 0.400 [" in table and "before RL" in table
    assert {r["actor_lr"] for r in json.loads((out / "results.json").read_text())} == {3e-5, 1e-4}
    assert (out / "lr_sweep.png").stat().st_size > 0
