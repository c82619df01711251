"""Command line: `python -m training.run [--config FILE] [--resume RUN_DIR] [--dry-run] [key=value ...]`.

With no arguments it trains the embedded CPU default (training/configs/default_cpu.yaml): a tiny model built
offline, an SFT warm start on a few noisy BabyAI bot demonstrations, then HiPER on BabyAI's GoToLocalSeq ("go to
the X, then go to the Y"), with held-out success before and after RL.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from training.config import ConfigError, describe, load_config

DEFAULT_CONFIG = "default_cpu.yaml"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The CLI's arguments; dotted overrides are the positional `key=value` items."""
    parser = argparse.ArgumentParser(prog="python -m training.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help=f"YAML recipe (a path, or a name in training/configs/; default {DEFAULT_CONFIG})")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    parser.add_argument("--dry-run", action="store_true", help="resolve and validate the config, print it, and exit")
    parser.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                        help="import a module first (it may register envs)")
    parser.add_argument("--help-config", action="store_true",
                        help="list every config key with the value this command line would run, and its help")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--gpus", type=int, default=None, help="GPUs the memory plan assumes (default: WORLD_SIZE or 1)")
    parser.add_argument("--gpu-gib", type=float, default=None,
                        help="GPU memory the plan assumes (default: the visible GPU's, else 80)")
    parser.add_argument("--skip-memory-check", action="store_true",
                        help="start on a GPU even when the memory plan says the config does not fit")
    parser.add_argument("overrides", nargs="*", metavar="key=value", help="dotted overrides, e.g. algo.name=grpo")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run training as the arguments say; returns the exit status."""
    args = parse_args(argv)
    for module in args.plugin:
        importlib.import_module(module)
    try:
        if args.resume:
            run_dir = Path(args.resume)
            if not (run_dir / "config.yaml").is_file():
                raise ConfigError(f"--resume {run_dir}: no config.yaml there (is it a run directory?)")
            cfg = load_config(run_dir / "config.yaml", args.overrides)
        else:
            cfg = load_config(args.config or DEFAULT_CONFIG, args.overrides)
            name = cfg.run_name or f"{cfg.algo.name}-{cfg.env.id.split('/')[-1]}-{time.strftime('%Y%m%d-%H%M%S')}"
            run_dir = Path(cfg.output_dir) / name
            if (run_dir / "config.yaml").exists() and not args.help_config and not args.dry_run:
                raise ConfigError(f"run directory {run_dir} already holds a run: continue it with --resume {run_dir}, "
                                  "or choose another run_name")
        if args.help_config:
            source = args.resume or args.config or DEFAULT_CONFIG
            print(f"# the values `python -m training.run` runs with {source} and the overrides given\n"
                  + "\n".join(describe(cfg)))
            return 0
        _check_env_id(cfg.env.id)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2

    from training.trainer import config_summary

    print(config_summary(cfg))
    if args.dry_run:
        import yaml

        from training.config import config_to_dict
        from training.models import describe_model

        print(yaml.safe_dump(config_to_dict(cfg), sort_keys=False).rstrip())
        print(f"model: {describe_model(cfg)}")
        plan = _memory_plan(cfg, args)
        print(plan.table() if plan is not None else "memory plan: a model's shape is unknown offline (pass a local path)")
        print(f"run directory would be: {run_dir}")
        return 0
    from training.models import pick_device

    on_cuda = pick_device(cfg.model.device).type == "cuda"
    plan = _memory_plan(cfg, args) if on_cuda and not args.skip_memory_check else None
    if plan is not None and not plan.fits():
        from training.memory import advice

        print(f"config error: {advice(cfg, plan)} (--dry-run shows the plan; --skip-memory-check starts anyway)",
              file=sys.stderr)
        return 2

    from training.trainer import Trainer

    with Trainer(cfg, run_dir, resume=bool(args.resume), progress=not args.quiet) as trainer:
        summary = trainer.train()
        if not trainer.dist.is_main:  # under torchrun rank 0 reports
            return 0
    print(success_table(summary))
    print(f"run directory: {run_dir}")
    return 0


def _memory_plan(cfg, args: argparse.Namespace):
    """The per-GPU memory plan for the GPUs this command would use (or the --gpus / --gpu-gib it was given)."""
    import os

    from training.memory import memory_plan

    world = args.gpus or int(os.environ.get("WORLD_SIZE", "1"))
    gib = args.gpu_gib
    if gib is None:
        import torch

        gib = torch.cuda.get_device_properties(0).total_memory / 2**30 if torch.cuda.is_available() else 80.0
    return memory_plan(cfg, gpu_gib=gib, world=world)


def _check_env_id(env_id: str) -> None:
    """Refuse an env id the trainer cannot play before anything is written (a typo used to die mid-run)."""
    from training.tasks import env_contract

    try:
        env_contract(env_id)
    except (KeyError, ImportError) as error:
        raise ConfigError(f"env.id: {error}") from error


def success_table(summary: dict) -> str:
    """Before/after success with 95% intervals."""
    lines = [f"{'':<12}{'success':>9}{'95% interval':>18}{'score':>8}{'episodes':>10}"]
    for label, key in (("before RL", "before"), ("after RL", "after")):
        row = summary.get(key)
        if row:
            interval = f"[{row['eval/success_low']:.3f}, {row['eval/success_high']:.3f}]"
            lines.append(f"{label:<12}{row['eval/success']:>9.3f}{interval:>18}{row['eval/score']:>8.3f}{row['eval/episodes']:>10}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
