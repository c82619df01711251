"""A run's life through the CLI: help and dry run show what would run, a run directory is never silently reused,
SFT survives a kill in the first evaluation, and resuming a finished or extended run does what it says."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.training.test_trainer import _run
from training import checkpoint as ckpt
from training.run import main


def test_help_config_shows_what_a_bare_run_runs(capsys):
    assert main(["--help-config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # default_cpu.yaml's values, not the dataclass defaults (iterations 150, sft off, WebShop)
    assert "iterations = 20 (default 150)" in "\n".join(lines)
    assert any(line.startswith("sft.enabled = True") for line in lines)
    assert any(line.startswith("env.id = 'hiper/BabyAI-v0'") for line in lines)
    assert main(["--help-config", "iterations=7"]) == 0
    assert "iterations = 7 (default 150)" in capsys.readouterr().out


def test_dry_run_prints_the_resolved_config(capsys, tmp_path):
    assert main(["--dry-run", "optim.actor_lr=2e-5", f"output_dir={tmp_path}"]) == 0
    out = capsys.readouterr().out
    start = out.index("seed:")
    config = yaml.safe_load(out[start : out.index("model: ", start)])
    assert config["optim"]["actor_lr"] == 2e-5 and config["env"]["id"] == "hiper/BabyAI-v0"
    assert config["iterations"] == 20


def test_a_reused_run_name_is_refused(capsys, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "config.yaml").write_text("seed: 0\n")
    assert main([f"output_dir={tmp_path}", "run_name=taken"]) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["config.yaml"]  # nothing written beside it


def test_sft_is_checkpointed_before_the_first_evaluation(tmp_path):
    _run(tmp_path, "r", "iterations=1")
    # the iteration-0 checkpoint holds the SFT weights; it is pruned only once two later ones exist
    assert ckpt.checkpoint_dir(tmp_path / "r", 0).is_dir()
    _run(tmp_path, "s", "iterations=2")
    assert not ckpt.checkpoint_dir(tmp_path / "s", 0).exists()
    # a run killed in its first evaluation resumes from iteration 0: same result as one that was not killed
    killed = tmp_path / "killed"
    _run(tmp_path, "killed", "iterations=0")  # stops after its first evaluation: its checkpoint is iteration 0's
    (killed / "metrics.jsonl").unlink()  # as if killed before the evaluation wrote anything
    resumed = _run(tmp_path, "killed", "iterations=1", resume=True)
    fresh = _run(tmp_path, "fresh", "iterations=1")
    assert resumed["before"]["eval/success"] == fresh["before"]["eval/success"]
    assert resumed["after"]["eval/success"] == fresh["after"]["eval/success"]


def test_resuming_a_finished_run_does_not_rerun_it_and_config_records_the_extension(tmp_path, capsys):
    first = _run(tmp_path, "r", "iterations=1")
    log = (tmp_path / "r" / "metrics.jsonl").read_text()
    again = _run(tmp_path, "r", "iterations=1", resume=True)
    assert "already done its 1 iterations" in capsys.readouterr().out
    assert (tmp_path / "r" / "metrics.jsonl").read_text() == log  # nothing re-run, nothing dropped
    assert again["after"]["eval/success"] == first["after"]["eval/success"]
    _run(tmp_path, "r", "iterations=2", resume=True)
    assert yaml.safe_load((tmp_path / "r" / "config.yaml").read_text())["iterations"] == 2
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows if "loss/policy" in r] == [1, 2]
    assert sum(r.get("phase") == "after_rl" for r in rows) == 1


def test_resuming_with_fewer_iterations_than_done_is_refused(tmp_path):
    _run(tmp_path, "r", "iterations=2")
    with pytest.raises(ValueError, match="pass iterations=2"):
        _run(tmp_path, "r", "iterations=1", resume=True)



def test_an_env_step_budget_stops_the_run_and_a_larger_one_continues_it(tmp_path, capsys):
    first = _run(tmp_path, "b", "iterations=50", "max_env_steps=5")
    rows = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    steps = [r["env_steps"] for r in rows if "turns" in r]
    assert steps and steps[-1] >= 5 and (len(steps) == 1 or steps[-2] < 5)  # stops after the iteration reaching 5
    assert first["after"]["env_steps"] == steps[-1] and first["after"]["iteration"] == len(steps)
    again = _run(tmp_path, "b", "iterations=50", "max_env_steps=5", resume=True)
    assert again["after"].items() >= first["after"].items() and "already done" in capsys.readouterr().out
    more = _run(tmp_path, "b", "iterations=50", f"max_env_steps={steps[-1] + 1}", resume=True)
    rows = [json.loads(line) for line in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in rows if "phase" in r] == ["before_rl", "after_rl"]  # one final row, the new one
    assert more["after"]["iteration"] == len(steps) + 1 and more["after"]["env_steps"] > steps[-1]
