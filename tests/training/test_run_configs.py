"""Every shipped recipe resolves and validates offline with --dry-run and names the model it would load."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.run import main

CONFIGS = sorted((Path(__file__).parents[2] / "training" / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_config_dry_run_names_its_model(path, capsys, tmp_path):
    assert main(["--config", str(path), "--dry-run", f"output_dir={tmp_path}"]) == 0
    out = capsys.readouterr().out
    expected = {"qwen2.5_1.5b": "Qwen/Qwen2.5-1.5B-Instruct", "qwen2.5_7b": "Qwen/Qwen2.5-7B-Instruct",
                "smollm2": "smollm2-135m", "default": "tiny Qwen2 built offline",
                "tiny": "tiny Qwen2 built offline"}
    name = next(v for k, v in expected.items() if k in path.stem)
    assert "model: " in out and name in out
    assert not any(tmp_path.iterdir())  # a dry run writes nothing


def test_bad_override_is_one_clear_error(capsys):
    assert main(["--config", "default_cpu.yaml", "--dry-run", "optim.actor_lr=-1"]) == 2
    err = capsys.readouterr().err
    assert "optim.actor_lr" in err


def test_unknown_env_id_is_refused_before_anything_is_written(capsys, tmp_path):
    assert main(["--dry-run", "env.id=hiper/Nope-v0", f"output_dir={tmp_path}"]) == 2
    assert "env.id" in capsys.readouterr().err and not any(tmp_path.iterdir())
