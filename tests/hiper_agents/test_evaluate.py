"""`python -m hiper_agents.evaluate`: plays a split per seed, prints a table, writes JSON."""

from __future__ import annotations

import json

from hiper_agents.evaluate import format_table, main, split_options
from hiper_agents.tiny import save_tiny
from hiper_gym.core import register_text_env


def test_evaluate_cli_writes_results_for_a_saved_tiny_model(tiny_model, tiny_tokenizer, tmp_path, capsys):
    env_id = register_text_env("KeyDoorEval-v0", "tests.hiper_gym.test_core:KeyDoorEnv", max_episode_steps=3)
    save_tiny(tmp_path / "model", tiny_model, tiny_tokenizer)
    out = tmp_path / "eval.json"
    results = main([
        "--model", str(tmp_path / "model"), "--env", env_id, "--env-family", "alfworld", "--episodes", "3",
        "--seeds", "2", "--num-envs", "2", "--max-new-tokens", "16", "--out", str(out), "--no-progress",
    ])
    written = json.loads(out.read_text())
    assert written["pooled"]["episodes"] == 6 and len(written["per_seed"]) == 2
    assert written["sampling"]["temperature"] == 0.4 and results["pooled"] == written["pooled"]
    assert "per seed success" in capsys.readouterr().out


def test_known_splits_select_every_goal_or_game():
    import gymnasium as gym

    import hiper_gym  # noqa: F401

    shop = gym.make("hiper/WebShop-v0")
    webshop = split_options(shop, "test", None)
    assert len(webshop) == 500 and webshop[499] == {"split": "test", "goal_idx": 499}
    assert len(split_options(shop, "test", 10)) == 10

    class WithOptions:
        unwrapped = None

        def split_options(self, split):
            return [{"game": g} for g in "abc"]

    env = WithOptions()
    env.unwrapped = env
    assert split_options(env, "valid", None) == [{"game": "a"}, {"game": "b"}, {"game": "c"}]


def test_table_has_overall_and_per_type_rows():
    agg = {"episodes": 2, "success": 0.5, "success_ci95": [0.1, 0.9], "score": 0.5}
    table = format_table({"pooled": agg, "by_task_type": {"pick_clean": agg}, "per_seed": [{"success": 0.5}]})
    assert "all" in table and "pick_clean" in table and "[0.100, 0.900]" in table
