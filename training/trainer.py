"""The training loop: rollout -> values -> advantages -> PPO update -> evaluation -> checkpoint (docs/design.md §4)."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from hiper_agents.backends.base import SamplingParams
from hiper_agents.backends.transformers_backend import TransformersBackend
from hiper_agents.evaluate import split_options
from hiper_agents.policy import HierarchicalPolicy
from hiper_agents.runner import TurnRecord, run_episodes, wilson_interval
from hiper_gym.core import offers
from training import checkpoint as ckpt
from training.config import RunConfig, config_to_dict
from training.distributed import barrier, gather_objects, init_from_env, shard
from training.engine import RolloutEngine
from training.fsdp import (
    full_optimizer_state,
    full_state_dict,
    gathered,
    is_sharded,
    load_optimizer_state,
    shard_from_rank0,
    shard_model,
)
from training.metrics import MetricsLog
from training.models import (
    Models,
    build_actor,
    make_critic,
    make_reference,
    pad_id_of,
    pick_device,
    pick_dtype,
    restart_lora,
    save_actor,
    sft_merged,
)
from training.rollout import collect
from training.sft import expert_episodes, expert_texts, sft_samples, sft_train
from training.tasks import env_contract
from training.update import Learner

BASE_FILE = "base.json"  # in a checkpoint that holds LoRA adapters only: the model they were trained on


def cycled(items: list[Any], n: int) -> list[Any]:
    """The first n items of `items` repeated end to end (empty when `items` is)."""
    return [items[i % len(items)] for i in range(n)] if items else []


def seed_all(seed: int) -> None:
    """Seed Python, NumPy and torch (every iteration reseeds, so a resumed run replays the same draws)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Trainer:
    """One training run in one run directory; `train()` runs it (or resumes it) to the end."""

    def __init__(self, cfg: RunConfig, run_dir: Path, resume: bool = False, progress: bool = True):
        import gymnasium as gym

        import hiper_gym  # noqa: F401  registers the hiper/ ids

        if cfg.env.num_envs % cfg.env.group_n:
            raise ValueError(f"env.num_envs ({cfg.env.num_envs}) must be a multiple of env.group_n ({cfg.env.group_n})")
        self.cfg, self.run_dir = cfg, run_dir
        self.dist = init_from_env(pick_device(cfg.model.device))
        self.progress = progress and self.dist.is_main
        run_dir.mkdir(parents=True, exist_ok=True)
        self.env_family = env_contract(cfg.env.id).prompt_family
        local_envs = len(shard(range(cfg.env.num_envs), self.dist))
        make = lambda: gym.make(cfg.env.id, max_episode_steps=cfg.env.max_steps, **cfg.env.kwargs)  # noqa: E731
        if cfg.env.workers == "inprocess":
            self.envs = [make() for _ in range(local_envs)]
            self.rollout_envs: Any = self.envs
        else:  # one local env lists the tasks and runs the expert; rollouts step in workers, in parallel
            from hiper_gym.vector import make_vector_env

            self.envs = [make()]
            mode = {"multiprocess": "process", "ray": "ray"}[cfg.env.workers]
            self.rollout_envs = make_vector_env(cfg.env.id, local_envs, mode=mode, max_episode_steps=cfg.env.max_steps,
                                                **cfg.env.kwargs)
        self.train_options, self.eval_options = self._tasks()
        latest = ckpt.latest_checkpoint(run_dir) if resume else None
        if resume and latest is None:
            raise FileNotFoundError(f"--resume: no complete checkpoint under {run_dir / 'checkpoints'} (the run stopped "
                                    "before its first one): start it again without --resume")
        self.completed = 0 if latest is None else ckpt.checkpoint_iteration(latest)  # iterations already done
        if self.completed > cfg.iterations:
            raise ValueError(f"--resume: the run has done {self.completed} iterations, more than iterations="
                             f"{cfg.iterations}; pass iterations={self.completed} or more")
        self.metrics = MetricsLog(run_dir, None if latest is None else self.completed, write=self.dist.is_main,
                                  keep_final=True)
        # env steps played so far (each turn is one step, a penalised invalid one included): max_env_steps counts them
        self.env_steps = max((r.get("env_steps", 0) for r in self.metrics.rows), default=0)
        if self.metrics.phase_row("after_rl") is not None and not self.budget_spent():
            self.metrics.drop_phase("after_rl")  # a finished run continued with a larger budget evaluates again
        if self.dist.is_main:  # a resumed run records the settings it goes on with (e.g. a raised `iterations`)
            (run_dir / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
        # Under FSDP only rank 0 builds the models' weights (on CPU; the others on the meta device), and each rank
        # receives its shard; a run with SFT builds them whole everywhere, as every rank runs the SFT steps.
        self.sharded_build = cfg.model.fsdp and self.dist.enabled and (latest is not None or not cfg.sft.enabled)
        # whether a LoRA actor's base holds merged SFT weights (then checkpoints and model/ hold whole weights, else
        # the adapters only); a resumed run takes it from its checkpoint, not from the config (`_load`)
        self.lora_base_merged = sft_merged(cfg)
        self.models = self._load(latest) if latest is not None else self._build()
        # a vLLM engine starts from the whole weights, saved before sharding; transformers generates with the
        # sharded actor itself (gathered around rollouts), so it starts after
        self.engine = RolloutEngine(cfg, self.models, self.dist, run_dir) if cfg.rollout.backend == "vllm" else None
        if cfg.model.fsdp:
            for model in (self.models.actor, self.models.critic, self.models.reference):
                if model is not None and self.sharded_build:
                    shard_from_rank0(model, self.models.device, self.dist)
                elif model is not None:
                    shard_model(model)
        self.engine = self.engine or RolloutEngine(cfg, self.models, self.dist, run_dir)
        self.backend = self.engine.backend
        self.policy = HierarchicalPolicy(
            self.backend, self.models.tokenizer, env_family=self.env_family, history_length=cfg.rollout.history_length,
            max_prompt_tokens=cfg.rollout.max_prompt_tokens, max_new_tokens=cfg.rollout.max_new_tokens,
            prompt_style=cfg.rollout.prompt_style,
        )
        self.learner = Learner(cfg, self.models, self.dist)
        if latest is not None:
            self._load_optimizers(latest)
        elif cfg.sft.enabled:  # iteration 0: a run killed in its first evaluation resumes without redoing SFT
            self._save(0)

    def budget_spent(self) -> bool:
        """Whether the run has done its iterations or played its max_env_steps."""
        return self.cfg.budget_spent(self.completed, self.env_steps)

    def close(self) -> None:
        """Stop the rollout workers (processes or Ray actors); in-process envs are closed too."""
        if self.rollout_envs is not self.envs:
            self.rollout_envs.close()
        for env in self.envs:
            env.close()

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _tasks(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Reset options of the training tasks and of the held-out evaluation tasks."""
        cfg, env = self.cfg, self.envs[0]
        if cfg.env.task_subset:
            subset = env.unwrapped.task_subset(cfg.env.task_subset, cfg.seed)
            if subset is None:
                raise ValueError(f"env.task_subset is not supported for {cfg.env.id}")
            train, held_out = subset
        else:
            train = split_options(env, cfg.env.train_split, cfg.env.train_tasks or None)
            held_out = split_options(env, cfg.eval.split, None)
        if cfg.eval.episodes > len(held_out) and cfg.env.task_subset:
            # A small subset has fewer held-out goals than episodes: replay them (each replay draws other samples).
            held_out = cycled(held_out, cfg.eval.episodes)
        return train, held_out[: cfg.eval.episodes]

    # --- models -----------------------------------------------------------------------------------------
    def _build(self) -> Models:
        cfg = self.cfg
        seed_all(cfg.seed)
        device = pick_device(cfg.model.device)
        dtype = pick_dtype(cfg.model.dtype, device)
        episodes = []
        if cfg.sft.enabled or (cfg.model.name == "tiny" and offers(self.envs[0], "expert")):
            # Cycle the training tasks up to sft.episodes, so a noisy expert demonstrates each task several times
            # with fresh random choices (a single demonstration per task is memorised as a fixed choice).
            options = cycled(self.train_options, cfg.sft.episodes)
            episodes = expert_episodes(self.envs[0], options, seed=cfg.seed, noise=cfg.sft.expert_noise)
        actor, tokenizer = build_actor(cfg, expert_texts(episodes), self._build_device(device), dtype)
        if self.dist.is_main:
            tokenizer.save_pretrained(self.run_dir / "tokenizer")
        models = Models(actor, tokenizer, None, None, device, dtype)
        if cfg.sft.enabled:
            policy = HierarchicalPolicy(TransformersBackend(actor, tokenizer, device=str(device)), tokenizer,
                                        env_family=self.env_family, history_length=cfg.rollout.history_length,
                                        max_prompt_tokens=cfg.rollout.max_prompt_tokens,
                                        prompt_style=cfg.rollout.prompt_style)
            samples = sft_samples(policy, episodes)
            losses = sft_train(actor, samples, pad_id_of(tokenizer), device, cfg.sft.epochs, cfg.sft.lr,
                               cfg.sft.batch_turns, cfg.seed, self.progress)
            print(f"SFT on {len(samples)} expert turns ({len(episodes)} episodes): loss per epoch {[round(x, 4) for x in losses]}")
            if cfg.model.lora:
                models.actor = actor = restart_lora(actor, cfg)
        models.reference = make_reference(cfg, actor, dtype)
        models.critic = make_critic(cfg, actor, self._build_device(device)) if cfg.algo.name in ("hiper", "ppo") else None
        if self.dist.is_main:
            if models.reference is not None:
                torch.save(models.reference.state_dict(), self.run_dir / "reference.pt")
            save_actor(actor, tokenizer, self.run_dir / "model", tiny=cfg.model.name == "tiny",
                       whole=self.lora_base_merged)
        barrier(self.dist)
        return models

    def _build_device(self, device: torch.device) -> torch.device:
        """Where this rank builds the models: `device`, or under a sharded build CPU on rank 0 and meta elsewhere."""
        if not self.sharded_build:
            return device
        return torch.device("cpu") if self.dist.is_main else torch.device("meta")

    def _load(self, path: Path) -> Models:
        cfg = self.cfg
        device = pick_device(cfg.model.device)
        dtype = pick_dtype(cfg.model.dtype, device)
        saved_tokenizer = None
        if cfg.model.name == "tiny":
            from hiper_agents.tiny import load_tokenizer

            saved_tokenizer = load_tokenizer(self.run_dir / "tokenizer")
        build = self._build_device(device)
        actor, tokenizer = build_actor(cfg, [], build, dtype, tokenizer=saved_tokenizer)
        # the critic first: an adapter critic adds its adapter to the actor, whose saved state holds it
        critic = make_critic(cfg, actor, build) if cfg.algo.name in ("hiper", "ppo") else None
        reference = make_reference(cfg, actor, dtype)
        if build.type == "meta":  # this rank receives its shards from rank 0 (`shard_from_rank0`)
            return Models(actor.eval(), tokenizer, critic, reference, device, dtype)
        saved = torch.load(path / "actor.pt", map_location=build)
        adapters = bool(saved) and all("lora_" in name for name in saved)
        if adapters:  # the base is the named model's: it must be the one the adapters were trained on
            base = json.loads((path / BASE_FILE).read_text()).get("model") if (path / BASE_FILE).exists() else None
            if base != cfg.model.name:
                raise RuntimeError(f"{path} holds LoRA adapters trained on model {base!r}; this config names "
                                   f"{cfg.model.name!r}: resume with model.name={base}")
        missing, unexpected = actor.load_state_dict(saved, strict=not adapters)
        if unexpected or any("lora_" in name for name in missing):
            raise RuntimeError(f"{path / 'actor.pt'} does not match model {cfg.model.name!r} with these LoRA settings "
                               f"(unexpected {unexpected[:3]}, missing {[n for n in missing if 'lora_' in n][:3]})")
        # a whole LoRA checkpoint (a run with SFT) keeps being saved whole, whatever sft.enabled says now
        self.lora_base_merged = cfg.model.lora and not adapters
        if reference is not None:
            reference.load_state_dict(torch.load(self.run_dir / "reference.pt", map_location=build))
        if critic is not None:
            critic.load_state_dict(torch.load(path / "critic.pt", map_location=build))
        return Models(actor.eval(), tokenizer, critic, reference, device, dtype)

    def _load_optimizers(self, path: Path) -> None:
        state = torch.load(path / "optim.pt", map_location="cpu", weights_only=False)
        learner = self.learner
        pairs = [(self.models.actor, learner.actor_opt, state["actor"]), (self.models.critic, learner.critic_opt, state["critic"])]
        for model, optimizer, saved in pairs:
            if optimizer is None or saved is None:  # None: saved before the optimizer's first step
                continue
            fused = [group.get("fused") for group in optimizer.param_groups]
            if is_sharded(model):  # saved whole (by parameter name): each rank loads its shard
                load_optimizer_state(model, optimizer, saved)
            else:
                optimizer.load_state_dict(saved)
            for group, flag in zip(optimizer.param_groups, fused):  # loading restores the saved run's setting
                group["fused"] = flag
        ckpt.set_rng_state(state["rng"])

    def _whole_state(self, model: Any, optimizer: Any) -> tuple[dict | None, dict | None]:
        """Weights and optimizer state as one process holds them (when sharded: gathered to rank 0, which writes)."""
        if model is None:
            return None, None
        return full_state_dict(model), full_optimizer_state(model, optimizer)

    def _save(self, iteration: int) -> None:
        if not self.cfg.checkpoint_keep:  # the user chose no checkpoints (the final model is still saved)
            return
        actor, actor_opt = self._whole_state(self.models.actor, self.learner.actor_opt)
        adapters = self.cfg.model.lora and not self.lora_base_merged
        if adapters:  # the frozen base is the named model's, loaded again on resume (15 GiB at 7B)
            actor = {name: tensor for name, tensor in actor.items() if "lora_" in name}
        critic, critic_opt = self._whole_state(self.models.critic, self.learner.critic_opt)

        def write(directory: Path) -> None:
            torch.save(actor, directory / "actor.pt")
            if critic is not None:
                torch.save(critic, directory / "critic.pt")
            torch.save({"actor": actor_opt, "critic": critic_opt, "rng": ckpt.rng_state()}, directory / "optim.pt")
            if adapters:
                (directory / BASE_FILE).write_text(json.dumps({"model": self.cfg.model.name}) + "\n")

        if self.dist.is_main:
            path = ckpt.save_checkpoint(self.run_dir, iteration, write, keep=self.cfg.checkpoint_keep)
            if iteration <= 1:  # say once what each checkpoint costs on disk
                print(f"checkpoint {path.name}: {ckpt.directory_gib(path):.2f} GiB (keeping {self.cfg.checkpoint_keep})")
        barrier(self.dist)

    # --- phases -------------------------------------------------------------------------------------------
    def evaluate(self, iteration: int) -> dict[str, Any]:
        """Play the first eval.episodes tasks of the eval split once at the eval temperature (ranks share them)."""
        cfg = self.cfg
        options = shard(self.eval_options, self.dist)
        sampling = SamplingParams(temperature=cfg.eval.temperature, top_p=1.0, max_new_tokens=cfg.rollout.max_new_tokens)
        with torch.random.fork_rng(devices=[]), gathered(self.engine.generating_model()):
            report = run_episodes(self.rollout_envs, self.policy, n=len(options), sampling=sampling,
                                  seed=cfg.seed + self.dist.rank, progress=self.progress, reset_options=options,
                                  desc=f"held-out evaluation (iteration {iteration})",
                                  max_turns=cfg.env.max_steps)
        results = [r for part in gather_objects([(e.success, e.score) for e in report.episodes], self.dist) for r in part]
        successes = sum(s for s, _ in results)
        low, high = wilson_interval(successes, len(results))
        return {"iteration": iteration, "eval/success": successes / len(results), "eval/success_low": low,
                "eval/success_high": high, "eval/score": float(np.mean([s for _, s in results])),
                "eval/episodes": len(results)}

    def iteration(self, it: int) -> dict[str, Any]:
        """One rollout and update; returns its metrics."""
        cfg = self.cfg
        seed_all(cfg.seed * 100_003 + it)
        n_groups = cfg.env.num_envs // cfg.env.group_n
        tasks = random.Random(cfg.seed * 7919 + it).sample(self.train_options, min(n_groups, len(self.train_options)))
        options = [task for task in tasks for _ in range(cfg.env.group_n)]
        groups = [g for g in range(len(tasks)) for _ in range(cfg.env.group_n)]
        sampling = SamplingParams(temperature=cfg.rollout.temperature, top_p=cfg.rollout.top_p,
                                  max_new_tokens=cfg.rollout.max_new_tokens, seed=cfg.seed * 100_003 + it)
        started = time.perf_counter()
        reset_peak_memory(self.models.device)
        self.models.actor.eval()
        mine = shard(range(len(options)), self.dist)  # this rank's episodes of the global batch
        with gathered(self.engine.generating_model()):
            rollout = collect(self.rollout_envs, self.policy, [options[k] for k in mine], [groups[k] for k in mine],
                              sampling,
                              seed=cfg.seed * 100_003 + it + 7_919 * self.dist.rank, progress=False,
                              episode_ids=mine, max_turns=cfg.env.max_steps)
        rollout_s = time.perf_counter() - started
        parts = gather_objects((rollout.turns, rollout.episode_stats()), self.dist)
        turns = sorted((t for part, _ in parts for t in part), key=lambda t: (t.episode, t.turn_index))
        episodes = [e for _, part in parts for e in part]
        row = {"iteration": it, **rollout_metrics(turns, episodes, rollout_s), **peak_memory(self.models.device, "rollout")}
        owned = [t.episode % self.dist.world == self.dist.rank for t in turns]
        row.update(self.engine.before_update())  # a sleeping engine's memory goes to the update
        update_started = time.perf_counter()
        reset_peak_memory(self.models.device)
        row.update(self.learner.update(turns, it, owned))
        row.update(peak_memory(self.models.device, "update"))
        row["time/update_s"] = time.perf_counter() - update_started
        sync_started = time.perf_counter()
        self.engine.sync()
        row["time/sync_s"] = time.perf_counter() - sync_started
        row["time/rollout_s"] = rollout_s
        row["time/iteration_s"] = time.perf_counter() - started
        return row

    def train(self) -> dict[str, Any]:
        """Run (or resume) to cfg.iterations; evaluates before, every eval.every iterations and at the end."""
        cfg = self.cfg
        before = None
        started = time.perf_counter()
        final = self.metrics.phase_row("after_rl")
        if final is not None and self.budget_spent():  # --resume of a finished run: report, do not re-run
            print(f"the run has already done its {self.completed} iterations ({self.env_steps} env steps) and its final "
                  "evaluation; pass iterations=N or max_env_steps=N (more) to continue it")
            self.metrics.close()
            return {"before": self.metrics.phase_row("before_rl"), "after": final, "run_dir": str(self.run_dir)}
        before = self.metrics.phase_row("before_rl")  # kept by a run resumed after its first evaluation
        if before is None:
            before = self.evaluate(0)
            before["env_steps"] = 0
            self.metrics.log({**before, "phase": "before_rl"})
            if self.dist.is_main:
                print(f"before RL: success {before['eval/success']:.3f} on {before['eval/episodes']} held-out tasks")
        last = self.completed
        for it in range(self.completed + 1, cfg.iterations + 1):
            if self.budget_spent():
                break
            row = self.iteration(it)
            self.env_steps += row["turns"]
            row["env_steps"] = self.env_steps
            last = self.completed = it
            if cfg.eval.every and it % cfg.eval.every == 0 and it < cfg.iterations:
                row.update({k: v for k, v in self.evaluate(it).items() if k != "iteration"})
            self.metrics.log(row)
            if self.dist.is_main:
                print(iteration_line(row, cfg.iterations, time.perf_counter() - started), flush=True)
            if it % cfg.checkpoint_every == 0 or it == cfg.iterations or self.budget_spent():
                self._save(it)
            if "eval/success" in row:
                self.metrics.plot()
        # a run without RL (iterations=0) has nothing new to evaluate: its "after" is its "before"
        after = {**before, "iteration": last} if last == 0 else self.evaluate(last)
        after["env_steps"] = self.env_steps
        self.metrics.log({**after, "phase": "after_rl"})
        self.metrics.plot()
        weights = full_state_dict(self.models.actor) if is_sharded(self.models.actor) else None
        if self.dist.is_main:
            save_actor(self.models.actor, self.models.tokenizer, self.run_dir / "model", tiny=cfg.model.name == "tiny",
                       whole=self.lora_base_merged,
                       state_dict=weights)
        barrier(self.dist)
        self.metrics.close()
        return {"before": before, "after": after, "run_dir": str(self.run_dir)}


def reset_peak_memory(device: torch.device) -> None:
    """Start a phase's peak-memory count (CUDA only)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device, phase: str) -> dict[str, float]:
    """The phase's peak allocated and reserved GPU memory in GiB (nothing on CPU)."""
    if device.type != "cuda":
        return {}
    return {f"memory/{phase}_peak_gib": torch.cuda.max_memory_allocated(device) / 2**30,
            f"memory/{phase}_reserved_gib": torch.cuda.max_memory_reserved(device) / 2**30}


def rollout_metrics(turns: list[TurnRecord], episodes: list[tuple[bool, float, int, int]], seconds: float) -> dict[str, float]:
    """Success, score, validity, switch rate and throughput of one (global) rollout."""
    later = [t for t in turns if t.turn_index > 0]
    tokens = sum(t.response_tokens for t in turns)
    return {
        "success": float(np.mean([e[0] for e in episodes])),
        "score": float(np.mean([e[1] for e in episodes])),
        "valid_ratio": float(np.mean([s.valid for s in turns])),
        "switch_rate": float(np.mean([t.starts_segment for t in later])) if later else 0.0,
        "episode_length": float(np.mean([e[2] for e in episodes])),
        "milestones_per_episode": float(np.mean([e[3] for e in episodes])),
        "turns": len(turns),
        "throughput/turns_per_s": len(turns) / max(seconds, 1e-9),
        "throughput/tokens_per_s": tokens / max(seconds, 1e-9),
    }


def iteration_line(row: dict[str, Any], iterations: int, elapsed: float) -> str:
    """One console line per iteration: what a user watches to see whether learning is healthy."""
    line = (f"iter {row['iteration']:>3}/{iterations}  success {row['success']:.3f}  score {row['score']:.3f}  "
            f"valid {row['valid_ratio']:.2f}  kl {row['kl']:.4f}  entropy {row['entropy']:.3f}  "
            f"clip {row['clip_frac']:.3f}")
    if "value/high_explained_var" in row:
        line += f"  ev_high {row['value/high_explained_var']:+.2f}"
    if "eval/success" in row:
        line += f"  eval {row['eval/success']:.3f} [{row['eval/success_low']:.3f}, {row['eval/success_high']:.3f}]"
    return line + f"  {row['throughput/turns_per_s']:.1f} turns/s  {elapsed / 60:.1f} min"


def config_summary(cfg: RunConfig) -> str:
    """A short description of what a config will run (for --dry-run)."""
    c = dataclasses.asdict(cfg)
    return (f"algo={c['algo']['name']} model={c['model']['name']} (lora={c['model']['lora']}) env={c['env']['id']} "
            f"num_envs={c['env']['num_envs']} group_n={c['env']['group_n']} iterations={c['iterations']} "
            f"sft={c['sft']['enabled']} actor_lr={c['optim']['actor_lr']} critic_lr={c['critic']['lr']}")
