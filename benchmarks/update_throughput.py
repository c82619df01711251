"""Update throughput of the embedded default on a CPU: micro-batches counted in turns against a padded-token budget.

    python benchmarks/update_throughput.py [--repeats 3] [--tokens 2048 4096]

The default recipe (BabyAI GoToLocalSeq, tiny model, SFT warm start) plays one rollout; the same rollout is then
updated from the same weights with each micro-batching in turn, alternating, `--repeats` times. Reported: turns and
tokens (prompt + response) per second of the update. Writes update_throughput.json beside this file.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="alternating measurements per setting")
    parser.add_argument("--tokens", type=int, nargs="+", default=[1024, 4096], help="micro_batch_tokens budgets to try")
    parser.add_argument("--out", default=str(Path(__file__).with_name("update_throughput.json")), help="JSON path")
    args = parser.parse_args(argv)

    import torch

    from hiper_agents.backends.base import SamplingParams
    from training.config import load_config
    from training.rollout import collect
    from training.trainer import Trainer

    cfg = load_config("default_cpu.yaml", ["iterations=1", "sft.episodes=80", "eval.episodes=8"])
    with tempfile.TemporaryDirectory() as tmp, Trainer(cfg, Path(tmp) / "run", progress=False) as trainer:
        options = trainer.train_options[: cfg.env.num_envs]
        sampling = SamplingParams(temperature=1.0, max_new_tokens=cfg.rollout.max_new_tokens, seed=1)
        turns = collect(trainer.rollout_envs, trainer.policy, options, list(range(len(options))), sampling, seed=1,
                        progress=False, max_turns=cfg.env.max_steps).turns
        tokens = sum(len(t.step.prompt_ids) + len(t.step.response_ids) for t in turns)
        start = {"actor": copy.deepcopy(trainer.models.actor.state_dict()),
                 "critic": copy.deepcopy(trainer.models.critic.state_dict()),
                 "actor_opt": copy.deepcopy(trainer.learner.actor_opt.state_dict()),
                 "critic_opt": copy.deepcopy(trainer.learner.critic_opt.state_dict())}
        # the token settings lift the turn cap, so the budget alone sets the passes
        settings = [("turns", cfg.optim.micro_batch_turns, 0)] + [(f"tokens {t}", 10_000, t) for t in args.tokens]
        seconds: dict[str, list[float]] = {name: [] for name, _, _ in settings}
        for _ in range(args.repeats):
            for name, micro_turns, micro_tokens in settings:
                trainer.models.actor.load_state_dict(start["actor"])
                trainer.models.critic.load_state_dict(start["critic"])
                trainer.learner.actor_opt.load_state_dict(start["actor_opt"])
                trainer.learner.critic_opt.load_state_dict(start["critic_opt"])
                trainer.cfg.optim.micro_batch_turns, trainer.cfg.optim.micro_batch_tokens = micro_turns, micro_tokens
                torch.manual_seed(0)
                began = time.perf_counter()
                trainer.learner.update(turns, 1)
                seconds[name].append(time.perf_counter() - began)
    rows = []
    for name, micro_turns, micro_tokens in settings:
        median = statistics.median(seconds[name])
        rows.append({"setting": name, "micro_batch_turns": micro_turns, "micro_batch_tokens": micro_tokens,
                     "seconds_median": round(median, 3), "seconds": [round(s, 3) for s in seconds[name]],
                     "turns_per_s": round(len(turns) / median, 1), "tokens_per_s": round(tokens / median, 1)})
    result = {"config": "default_cpu.yaml", "turns": len(turns), "tokens": tokens, "torch_threads": torch.get_num_threads(),
              "rows": rows}
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(f"{len(turns)} turns, {tokens} tokens (prompt + response), {args.repeats} alternating repeats\n")
    print("| micro-batches | update s (median) | turns/s | tokens/s |\n| --- | ---: | ---: | ---: |")
    for row in rows:
        print(f"| {row['setting']} | {row['seconds_median']} | {row['turns_per_s']} | {row['tokens_per_s']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
