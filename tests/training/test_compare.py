"""`python -m training.compare` end to end on a tiny budget: one warm start per seed shared by every algorithm,
equal env-step budgets, the table and records, and a rerun that skips what is finished."""

from __future__ import annotations

import json

from tests.training.test_babyai_training import FAST
from training.compare import main

BUDGET = 10


def _compare(out, *extra):
    overrides = [o for o in FAST if not o.startswith("iterations=")]
    return main(["--algos", "ppo", "grpo", "--seeds", "0", "--levels", "GoToLocal", "--env-steps", str(BUDGET),
                 "--out", str(out), *extra, *overrides])


def test_compare_runs_each_pair_on_one_budget_and_skips_finished_pairs_on_rerun(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert _compare(out) == 0
    first = capsys.readouterr().out
    records = json.loads((out / "results.json").read_text())
    assert sorted(r["algo"] for r in records) == ["grpo", "ppo"]
    for r in records:
        assert r["level"] == "GoToLocal" and r["seed"] == 0 and r["episodes"] == 4
        assert BUDGET <= r["env_steps"] < BUDGET + 4 * 6  # stops after the iteration that reaches the budget
        assert 0.0 <= r["success_low"] <= r["success"] <= r["success_high"] <= 1.0
        assert r["curve"][0] == [0, r["before_success"]] and r["curve"][-1] == [r["env_steps"], r["success"]]
    # one warm start: both algorithms start from the same SFT policy and its one before-RL evaluation
    assert records[0]["before_success"] == records[1]["before_success"]
    assert first.count("start GoToLocal warm start seed 0") == 1
    grpo = (out / "GoToLocal" / "grpo" / "seed0" / "config.yaml").read_text()
    assert "group_n: 4" in grpo and f"max_env_steps: {BUDGET}" in grpo
    table = (out / "table.md").read_text().splitlines()
    assert table[0].startswith("| level | algo | seeds | success (mean ± std)")
    assert len(table) == 4 and table[2].startswith("| GoToLocal | ppo | 1 |")
    assert (out / "curves.png").stat().st_size > 0

    metrics = out / "GoToLocal" / "ppo" / "seed0" / "metrics.jsonl"
    written = metrics.read_text()
    assert _compare(out) == 0
    second = capsys.readouterr().out
    assert "\nstart " not in "\n" + second and second.count("skip ") == 3  # the warm start and both runs
    assert metrics.read_text() == written
    assert json.loads((out / "results.json").read_text()) == records


def test_compare_refuses_a_bad_per_algorithm_setting(tmp_path, capsys):
    assert _compare(tmp_path, "--set", "sac:optim.actor_lr=1") == 2
    assert "--set 'sac:optim.actor_lr=1'" in capsys.readouterr().err


def test_flat_ppo_reaches_its_own_final_success_when_the_last_iteration_overshoots_the_budget():
    from training.compare import table

    def record(algo, curve):
        return {"level": "L", "algo": algo, "seed": 0, "success": curve[-1][1], "episodes": 200,
                "before_success": curve[0][1], "env_steps": curve[-1][0], "curve": curve}

    records = [record("ppo", [(0, 0.40), (1300, 0.42), (2600, 0.41), (3276, 0.48)]),
               record("hiper", [(0, 0.40), (1300, 0.50), (2600, 0.45), (3303, 0.44)])]
    rows = {line.split(" | ")[1]: line for line in table(records, 3000).splitlines()[2:]}
    # its final evaluation (3,276 steps, past the 3,000-step budget), read off the level's grid, which runs to the
    # level's last evaluation (3,303) in 20 steps
    reach = int(rows["ppo"].rstrip(" |").rsplit("| ", 1)[-1])
    assert 3276 <= reach <= 3303
    assert rows["hiper"].endswith(" |") and "not reached" not in rows["hiper"]
