"""The examples run: a trained tiny agent drives the shop tools, and plays WebShop, inside LangChain pipelines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.langchain import EVENT_ACTION, EVENT_OBSERVATION, EVENT_SUBGOAL
from tests.integrations.langchain.conftest import train_run


def test_shop_example_runs_the_pipeline_and_streams_events(shop_run: Path, capsys: pytest.CaptureFixture):
    from examples import langchain_shop

    out = langchain_shop.main(["--run-dir", str(shop_run), "--max-steps", "4"])
    assert isinstance(out["answer"], str) and out["answer"]
    names = [name for name, _ in out["events"]]
    assert names[:1] == [EVENT_SUBGOAL] and EVENT_ACTION in names and names[-1] == EVENT_OBSERVATION
    printed = capsys.readouterr().out
    assert "[hiper_subgoal]" in printed and "orders placed:" in printed


@pytest.mark.slow
def test_webshop_example_plays_goals_in_a_chain(tmp_path: Path):
    from examples import langchain_webshop

    run = train_run(tmp_path, "webshop", [
        "iterations=1", "env.num_envs=2", "env.max_steps=4", "env.task_subset=4",
        "model.tiny_hidden=32", "model.tiny_layers=1", "model.tiny_vocab=600", "rollout.max_new_tokens=24",
        "sft.episodes=4", "sft.epochs=1", "eval.episodes=2", "optim.mini_batch_turns=8", "optim.micro_batch_turns=4",
    ], options=("--config", "webshop_tiny.yaml"))  # fmt: skip
    out = langchain_webshop.main(["--run-dir", str(run), "--goals", "2", "--max-steps", "3"])
    assert len(out["answers"]) == 2 and all(isinstance(a, str) and a for a in out["answers"])
    for result in out["results"]:
        meta = result.response_metadata
        assert (
            meta["task"] and 1 <= meta["steps"] <= 3 and meta["stop_reason"] in ("step_limit", "success", "terminated")
        )
        assert all(isinstance(a, str) for a in meta["actions"])


@pytest.mark.parametrize("name", ["langchain_shop.py", "langchain_webshop.py"])
def test_examples_run_as_files_from_any_directory(name: str, tmp_path: Path):
    script = Path(__file__).parents[3] / "examples" / name
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
