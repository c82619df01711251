"""`python -m hiper_agents.evaluate`: play every game or goal of a split once per seed and report success ± interval.

docs/design.md §4: temperature 0.4, success with a 95% Wilson interval overall and per task type, JSON written beside.
`--draws 128` reproduces the reference's validation instead (128 episodes drawn with replacement from the split).
The env says what to play (hiper_gym/core.py's TextEnv contract): `split_options(split)` lists the reset options of
every game or goal, `eval_split` is the default split and `prompt_family` the prompt template.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hiper_agents.backends.base import SamplingParams
from hiper_gym.core import offers


def split_options(env: Any, split: str | None, episodes: int | None) -> list[dict[str, Any]] | None:
    """Reset options for every episode of `split` (None: let the env choose, `episodes` of them)."""
    if split is None:
        return None
    unwrapped = getattr(env, "unwrapped", env)
    try:
        options = list(unwrapped.split_options(split))
    except (AttributeError, NotImplementedError) as error:
        raise ValueError(f"{type(unwrapped).__name__} does not list the tasks of split {split!r}: give it "
                         "split_options(split) (hiper_gym/core.py)") from error
    return options[:episodes] if episodes is not None else options


def make_backend(args: argparse.Namespace) -> Any:
    """The backend named by `--backend` for `--model`."""
    if args.backend == "transformers":
        from hiper_agents.backends.transformers_backend import TransformersBackend

        return TransformersBackend.from_pretrained(args.model, device=args.device, dtype=args.dtype, adapter=args.adapter)
    if args.backend == "vllm":
        from hiper_agents.backends.vllm_backend import VLLMBackend

        return VLLMBackend.from_pretrained(args.model, adapter=args.adapter)
    from hiper_agents.backends.openai_backend import OpenAIBackend
    from hiper_agents.tiny import load_tokenizer

    return OpenAIBackend(args.base_url, model=args.api_model or args.model, tokenizer=load_tokenizer(args.model))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m hiper_agents.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="checkpoint directory, cached id, or a short name (smollm2-135m)")
    parser.add_argument("--env", default="hiper/ALFWorld-v0", help="registered env id")
    parser.add_argument("--split", default=None, help="split to play in full (default: the env's eval_split)")
    parser.add_argument("--seeds", type=int, default=1, help="play the split once per seed")
    parser.add_argument("--episodes", type=int, default=None, help="play only the first N episodes of the split")
    parser.add_argument("--draws", type=int, default=None, help="reference-style: N episodes drawn with replacement")
    parser.add_argument("--temperature", type=float, default=0.4)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--max-new-tokens", type=int, default=512)
    parser.add_argument("--max-prompt-tokens", type=int, default=2048)
    parser.add_argument("--history-length", type=int, default=2)
    parser.add_argument("--max-turns", type=int, default=None, help="turn limit (default: the env's step limit)")
    parser.add_argument("--num-envs", type=int, default=8, help="episodes played in lock-step")
    parser.add_argument("--env-family", default=None, choices=["alfworld", "webshop", "web", "babyai"],
                        help="prompt template (default: the env's prompt_family)")
    parser.add_argument("--backend", default="transformers", choices=["transformers", "vllm", "openai"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--adapter", default=None, help="PEFT adapter directory")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1", help="openai backend endpoint")
    parser.add_argument("--api-model", default=None, help="model name sent to the openai endpoint")
    parser.add_argument("--out", default="evaluation.json", help="JSON results path")
    parser.add_argument("--no-progress", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the evaluation, print a table and write JSON; returns the results."""
    import gymnasium as gym

    import hiper_gym  # noqa: F401  registers the hiper/ ids
    from hiper_agents.policy import HierarchicalPolicy
    from hiper_agents.runner import EpisodeReport, run_episodes

    args = parse_args(argv)
    envs = [gym.make(args.env) for _ in range(args.num_envs)]
    family = args.env_family or getattr(envs[0].unwrapped, "prompt_family", None)
    if family is None:
        raise SystemExit(f"cannot tell the env family of {args.env}; pass --env-family alfworld|webshop|web|babyai")
    # An env that does not list its tasks (no split_options) plays `--episodes` tasks of its own choosing.
    split = args.split or (envs[0].unwrapped.eval_split if offers(envs[0], "split_options") else None)
    options = split_options(envs[0], split, args.episodes)
    backend = make_backend(args)
    policy = HierarchicalPolicy(
        backend, env_family=family, history_length=args.history_length,
        max_prompt_tokens=args.max_prompt_tokens, max_new_tokens=args.max_new_tokens,
    )
    sampling = SamplingParams(temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens)
    per_seed, episodes = [], []
    for seed in range(args.seeds):
        seed_options = options
        if args.draws is not None and options is not None:
            rng = random.Random(seed)
            seed_options = [rng.choice(options) for _ in range(args.draws)]
        n = len(seed_options) if seed_options is not None else (args.draws or args.episodes or 1)
        report = run_episodes(
            envs, policy, n, sampling=sampling, seed=seed * 1_000_000, progress=not args.no_progress,
            max_turns=args.max_turns, reset_options=seed_options,
        )
        per_seed.append({"seed": seed, **report.aggregates(), "by_task_type": report.by_task_type()})
        episodes += report.episodes
        print(f"seed {seed}: {report.summary()}", file=sys.stderr)
    pooled = EpisodeReport(episodes)
    results = {
        "env": args.env, "split": split, "model": str(args.model), "seeds": args.seeds,
        "sampling": asdict(sampling), "pooled": pooled.aggregates(), "by_task_type": pooled.by_task_type(),
        "per_seed": per_seed, "episodes": [e.to_dict() for e in episodes],
    }
    print(format_table(results))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    return results


def format_table(results: dict[str, Any]) -> str:
    """Success ± interval overall and per task type, one row each."""
    rows = [("all", results["pooled"]), *results["by_task_type"].items()]
    lines = [f"{'task type':<28} {'episodes':>8} {'success':>8} {'95% interval':>16} {'score':>7}"]
    for name, agg in rows:
        lo, hi = agg["success_ci95"]
        lines.append(f"{name:<28} {agg['episodes']:>8} {agg['success']:>8.3f} {f'[{lo:.3f}, {hi:.3f}]':>16} {agg['score']:>7.3f}")
    seeds = [f"{s['success']:.3f}" for s in results["per_seed"]]
    lines.append(f"per seed success: {', '.join(seeds)}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
