"""HiPER on hiper/BabyAI-v0 end to end: bot SFT, an update, the per-iteration console line, honest curves."""

from __future__ import annotations

import json

from training.config import load_config
from training.trainer import Trainer

FAST = [
    "env.id=hiper/BabyAI-v0", "env.num_envs=4", "env.max_steps=6", "model.tiny_hidden=32", "model.tiny_layers=1",
    "model.tiny_vocab=400", "rollout.max_new_tokens=40", "sft.enabled=true", "sft.episodes=4", "sft.epochs=1",
    "sft.expert_noise=0.2", "eval.episodes=4", "eval.every=0", "optim.mini_batch_turns=16",
    "optim.micro_batch_turns=8", "iterations=2",
]


def test_babyai_run_trains_logs_health_and_prints_one_line_per_iteration(tmp_path, capsys):
    cfg = load_config("default_cpu.yaml", FAST)
    assert cfg.env.kwargs == {"level": "GoToLocalSeq"}
    with Trainer(cfg, tmp_path / "run", progress=False) as trainer:
        summary = trainer.train()
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("iter ")]
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]
    assert all(k in lines[0] for k in ("success", "valid", "kl", "entropy", "turns/s", "min"))
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    update = next(r for r in rows if r["iteration"] == 1 and "kl" in r)
    for key in ("value/high_explained_var", "value/low_explained_var", "clip_frac", "entropy", "adv/low_std",
                "adv/high_std", "adv/switch_std"):
        assert key in update, key
    assert summary["after"]["eval/episodes"] == 4 and (tmp_path / "run" / "curves.png").is_file()
