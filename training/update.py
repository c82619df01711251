"""The Learner: models, optimizers and the distributed state, and one PPO update on a rollout (values, advantages,
pi_old and the reference recomputed, then mini-batch steps). The trainer runs the loop and owns one Learner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hiper_agents.policy import PolicyStep
from hiper_agents.runner import TurnRecord
from training.advantages import Advantages, RewardShaping, TurnBatch, compute_advantages
from training.config import RunConfig
from training.critic import HEADS
from training.distributed import all_reduce_sum, gather_objects, sum_gradients
from training.forward import MicroBatching, batched_logprobs, critic_inputs, critic_values, response_logprobs
from training.fsdp import gathered, is_sharded, lockstep_count
from training.losses import policy_loss, token_advantages, value_loss
from training.models import Models, compute_context


def micro_batching(cfg: RunConfig) -> MicroBatching:
    """The update's micro-batches: optim.micro_batch_turns turns, or optim.micro_batch_tokens padded tokens."""
    return MicroBatching(cfg.optim.micro_batch_turns, cfg.optim.micro_batch_tokens)


def estimator_config(cfg: RunConfig) -> Any:
    """The selected estimator's own config (its section under algo)."""
    return cfg.algo.estimator()


def shaping_config(cfg: RunConfig) -> RewardShaping:
    """The trainer's reward shaping (docs/design.md §3)."""
    return cfg.algo.shaping


def _pad(rows: Sequence[torch.Tensor], width: int) -> torch.Tensor:
    out = torch.zeros(len(rows), width)
    for i, row in enumerate(rows):
        out[i, : min(len(row), width)] = row[:width]
    return out


def explained_variance(pred: torch.Tensor, target: torch.Tensor) -> float:
    """1 - Var(target - pred) / Var(target)."""
    var = target.var(unbiased=False)
    return float(1.0 - (target - pred).var(unbiased=False) / var) if var > 0 else float("nan")


@dataclass
class UpdateBatch:
    """Everything the mini-batch steps read, indexed by the turn's position in the global batch."""

    steps: list[PolicyStep]
    owned: list[bool]  # turns this rank back-propagates (all of them without data parallelism)
    adv: Advantages
    values: torch.Tensor | None
    old_logp: dict[int, torch.Tensor]
    ref_logp: dict[int, torch.Tensor] | None
    tok_adv: torch.Tensor
    tok_mask: torch.Tensor


def _owned_map(fn, samples: list[PolicyStep], owned: list[bool]) -> dict[int, torch.Tensor]:
    """Apply a per-turn batched function to this rank's turns only."""
    index = [i for i, mine in enumerate(owned) if mine]
    return dict(zip(index, fn([samples[i] for i in index]))) if index else {}


def _global_values(learner: Learner, samples: list[PolicyStep], owned: list[bool]) -> torch.Tensor | None:
    """Critic values of every turn: each rank computes its own, then they are gathered."""
    models = learner.models
    if models.critic is None:
        return None
    pad_id, micro = models.pad_id, micro_batching(learner.cfg)
    with gathered(models.critic), compute_context(models.device, models.dtype):
        mine = _owned_map(lambda b: list(critic_values(models.critic, b, pad_id, models.device, micro).cpu()), samples,
                          owned)
    values = torch.zeros(len(samples), 3)
    for part in gather_objects(mine, learner.dist):
        for i, row in part.items():
            values[i] = row
    return values


def _fit_value_features(learner: Learner, samples: list[PolicyStep], owned: list[bool]) -> None:
    """Set the critic's feature map from this batch: mean and std of every hidden feature the heads read, over all
    ranks' turns and the three value positions, so every rank sets the same map."""
    models = learner.models
    pad_id, micro = models.pad_id, micro_batching(learner.cfg)

    batch = [s for s, mine in zip(samples, owned) if mine]
    total = torch.zeros(3, 1)  # sum, sum of squares, count per feature
    with gathered(models.critic), torch.no_grad(), compute_context(models.device, models.dtype):
        for group in micro.split_steps(batch):
            picked = models.critic.features(*critic_inputs([batch[i] for i in group], pad_id, models.device))
            picked = picked.float().reshape(-1, picked.shape[-1]).cpu()
            total = total + torch.stack([picked.sum(0), (picked**2).sum(0), torch.full_like(picked[0], len(picked))])
    total = sum(gather_objects(total, learner.dist), torch.zeros(3, 1))
    count = total[2].clamp_min(1)
    mean = total[0] / count
    std = (total[1] / count - mean**2).clamp_min(0).sqrt()
    models.critic.set_feature_map(mean, std)


def _fit_value_bias(learner: Learner, values: torch.Tensor, adv: Advantages) -> tuple[torch.Tensor, torch.Tensor]:
    """Shift each head's bias by (mean target - mean value) over this batch; returns the values shifted alike and the
    shift.

    Every rank sees the same gathered values and targets, so every rank applies the same shift (to its shard under
    FSDP)."""
    delta = torch.zeros(len(HEADS))
    for h, head in enumerate(HEADS):
        if head in adv.returns and bool(adv.value_mask[head].any()):
            mask = adv.value_mask[head]
            delta[h] = adv.returns[head][mask].mean() - values[mask, h].mean()
    learner.models.critic.shift_bias(delta)
    return values + delta, delta


class Learner:
    """What an update changes: the models, their AdamW optimizers, and the distributed state they are reduced over."""

    def __init__(self, cfg: RunConfig, models: Models, dist: Any):
        self.cfg, self.models, self.dist = cfg, models, dist
        # fused AdamW on CUDA: one kernel, in place; the default foreach step makes fp32 temporaries the size of the
        # model (+11.5 GiB at 1.5B on the H200, benchmarks/gpu_smoke.json). Sharded (DTensor) weights keep the default.
        fused = {"fused": True} if models.device.type == "cuda" and not cfg.model.fsdp else {}
        self.actor_opt = torch.optim.AdamW([p for p in models.actor.parameters() if p.requires_grad],
                                           lr=cfg.optim.actor_lr, weight_decay=0.0, **fused)
        self.critic_opt = (torch.optim.AdamW(models.critic.parameters(), lr=cfg.critic.lr, weight_decay=0.0, **fused)
                           if models.critic is not None else None)

    def update(self, turns: list[TurnRecord], iteration: int, owned: list[bool] | None = None) -> dict[str, Any]:
        """One PPO update on a rollout's turns (`owned`: those this rank back-propagates); returns its metrics."""
        return ppo_update(self, turns, iteration, owned)


def ppo_update(learner: Learner, turns: list[TurnRecord], iteration: int, owned: list[bool] | None = None) -> dict[str, Any]:
    """Values -> advantages (global batch) -> pi_old/reference log-probs -> clipped updates of actor and critic."""
    cfg, models = learner.cfg, learner.models
    samples = [t.step for t in turns]  # the token ids and spans every forward pass reads
    owned = owned if owned is not None else [True] * len(samples)
    pad_id, micro = models.pad_id, micro_batching(cfg)
    temperature = cfg.rollout.temperature or 1.0
    models.actor.eval()
    if models.critic is not None and cfg.critic.fit_features and not bool(models.critic.features_fitted):
        _fit_value_features(learner, samples, owned)
    values = _global_values(learner, samples, owned)

    turn_batch = TurnBatch.from_records(turns)  # built once: the bias fit below only swaps the value columns

    def advantages(values: torch.Tensor | None) -> Advantages:
        return compute_advantages(cfg.algo.name, turn_batch.with_values(values), estimator_config(cfg),
                                  shaping_config(cfg))

    adv = advantages(values)
    if values is not None and cfg.critic.fit_bias and not bool(models.critic.bias_fitted):
        # V_low's targets bootstrap on V_high (and V_high's on itself when lambda < 1), so shifting the values moves
        # the targets: repeat until the shift is negligible (on the embedded default's first batch the means then
        # agree to 1e-3 on all three heads).
        for _ in range(8):
            values, delta = _fit_value_bias(learner, values, adv)
            adv = advantages(values)
            if float(delta.abs().max()) < 1e-3:
                break
    # During the critic warm-up the actor keeps its weights (verl's critic_warmup): no pi_old or reference needed.
    actor_steps = models.critic is None or iteration > cfg.critic.warmup_iterations
    with gathered(models.actor, models.reference):
        # pi_old under the same autocast as the gradient passes, so the first ratio is exactly 1
        old_logp = (_owned_map(lambda b: _autocast_logprobs(models, models.actor, b, pad_id, temperature, micro), samples,
                               owned) if actor_steps else {})
        ref_logp = (_owned_map(lambda b: _reference_logprobs(learner, b, pad_id, temperature, micro), samples,
                               owned) if cfg.optim.kl_coef > 0 and actor_steps else None)
    width = max(len(s.response_ids) for s in samples)
    tok_adv, tok_mask = token_advantages(adv, [s.token_spans for s in samples], [len(s.response_ids) for s in samples], width)
    batch = UpdateBatch(samples, owned, adv, values, old_logp, ref_logp, tok_adv, tok_mask)
    mismatch = [float((torch.tensor(samples[i].logprobs) - o).abs().mean()) for i, o in old_logp.items()
                if samples[i].logprobs is not None and len(samples[i].logprobs) == len(o) and len(o)]
    mismatch = [m for part in gather_objects(mismatch, learner.dist) for m in part]  # every rank's sampler

    stats: dict[str, list[float]] = {"pg": [], "kl": [], "entropy": [], "clip_frac": [], "value": [],
                                     "grad_norm/actor": [], "grad_norm/critic": []}
    generator = torch.Generator().manual_seed(cfg.seed * 31 + iteration)
    models.actor.train()
    if models.critic is not None:  # gradient checkpointing acts only in training mode (the models have no dropout)
        models.critic.train()
    for _ in range(cfg.optim.ppo_epochs):
        order = torch.randperm(len(samples), generator=generator).tolist()
        for indices in mini_batches(order, cfg.optim.mini_batch_turns):
            step = _mini_batch_step(learner, batch, indices, actor_steps)
            for key, value in step.items():
                stats[key].append(value)
    models.actor.eval()
    if models.critic is not None:
        models.critic.eval()

    row: dict[str, Any] = {
        "actor_updated": float(actor_steps),
        "loss/policy": float(np.mean(stats["pg"])), "kl": float(np.mean(stats["kl"])),
        "entropy": float(np.mean(stats["entropy"])), "clip_frac": float(np.mean(stats["clip_frac"])),
        "reward/shaped_mean": float(adv.rewards.mean()),
        # steps skipped for a non-finite gradient norm (bf16 overflow, a NaN loss): their weights were left as they were
        "update/skipped_steps": sum(not np.isfinite(n) for n in stats["grad_norm/actor"] + stats["grad_norm/critic"]),
        **{key: float(np.mean([n for n in stats[key] if np.isfinite(n)])) if any(np.isfinite(stats[key])) else float("nan")
           for key in ("grad_norm/actor", "grad_norm/critic") if stats[key]},
        "logprob_mismatch": float(np.mean(mismatch)) if mismatch else float("nan"),
    }
    for level in ("low", "high", "switch"):
        chosen = getattr(adv, level)
        row[f"adv/{level}_mean"] = float(chosen.mean())
        row[f"adv/{level}_abs_mean"] = float(chosen.abs().mean())
        carried = {"high": adv.carries_high, "switch": adv.carries_switch}.get(level)
        carried = chosen[carried.bool()] if carried is not None else chosen  # the turns whose tokens get this level
        row[f"adv/{level}_std"] = float(carried.std()) if carried.numel() > 1 else 0.0
    if values is not None:
        row["loss/value"] = float(np.mean(stats["value"]))
        for h, head in enumerate(HEADS):
            if head in adv.returns:
                mask = adv.value_mask[head]
                row[f"value/{head}_mean"] = float(values[mask, h].mean())
                row[f"returns/{head}_mean"] = float(adv.returns[head][mask].mean())
                row[f"value/{head}_explained_var"] = explained_variance(values[mask, h], adv.returns[head][mask])
    return row


def mini_batches(order: list[int], size: int) -> list[list[int]]:
    """`order` cut into round(len / size) mini-batches of near-equal length (at least one).

    Cutting every `size` turns left a short remainder (64 + 8 turns) that took a full Adam step on a few turns' noise.
    """
    count = max(1, round(len(order) / size))
    bounds = [round(k * len(order) / count) for k in range(count + 1)]
    return [order[bounds[k] : bounds[k + 1]] for k in range(count)]


def _mini_batch_step(learner: Learner, b: UpdateBatch, indices: list[int], actor_step: bool = True) -> dict[str, float]:
    """One optimiser step on a mini-batch of global turn indices (the critic's alone when not `actor_step`); returns
    its token-mean stats over all ranks."""
    cfg, models = learner.cfg, learner.models
    pad_id, device, micro = models.pad_id, models.device, micro_batching(cfg)
    temperature = cfg.rollout.temperature or 1.0
    # Denominators over the whole mini-batch (every rank's turns), so ranks' gradients add up to one process's.
    total_tokens = float(b.tok_mask[indices].sum().clamp_min(1))
    head_counts = {h: float(b.adv.value_mask[h][indices].sum().clamp_min(1)) for h in b.adv.value_mask}
    learner.actor_opt.zero_grad()
    if learner.critic_opt is not None:
        learner.critic_opt.zero_grad()
    stats = dict.fromkeys(("pg", "kl", "entropy", "clip_frac", "value"), 0.0)
    norms: dict[str, float] = {}
    autocast = compute_context(device, models.dtype)
    mine = [i for i in indices if b.owned[i]]
    chunks: list[list[int] | None] = [[mine[k] for k in group] for group in micro.split_steps([b.steps[i] for i in mine])]
    sharded = is_sharded(models.actor)
    if sharded:  # FSDP: every rank joins every gradient reduce-scatter, so pad with zero-weight passes
        chunks += [None] * (lockstep_count(len(chunks), learner.dist) - len(chunks))
    for chunk in chunks:
        weight = 1.0 if chunk is not None else 0.0
        chunk = chunk if chunk is not None else indices[:1]
        turns = [b.steps[i] for i in chunk]
        if actor_step:
            with autocast:
                logp, entropy, resp_mask = response_logprobs(models.actor, turns, pad_id, device, temperature)
            width = logp.shape[1]
            mask = b.tok_mask[chunk, :width].to(device) & resp_mask
            if weight:
                old = _pad([b.old_logp[i] for i in chunk], width).to(device)
                ref = _pad([b.ref_logp[i] for i in chunk], width).to(device) if b.ref_logp is not None else None
            else:  # a padding pass of a turn this rank does not own: any finite log-probs, weighted 0
                old = logp.detach().float()
                ref = old if b.ref_logp is not None else None
            terms = policy_loss(logp.float(), old, ref, entropy.float(), b.tok_adv[chunk, :width].to(device), mask,
                                cfg.optim.clip_eps, cfg.optim.dual_clip, cfg.optim.kl_coef, cfg.optim.entropy_coef)
            share = weight * float(mask.sum()) / total_tokens
            (terms.loss * share).backward()
            for key in ("pg", "kl", "entropy", "clip_frac"):
                stats[key] += float(getattr(terms, key)) * share
        if models.critic is not None:
            with models.critic.active():  # backward too: checkpointed layers recompute with the active adapter
                with autocast:
                    predicted = models.critic(*critic_inputs(turns, pad_id, device)).float()
                loss = torch.zeros((), device=device)
                for h, head in enumerate(HEADS):
                    if head not in b.adv.returns:
                        continue
                    head_mask = b.adv.value_mask[head][chunk].to(device)
                    loss = loss + float(head_mask.sum()) / head_counts[head] * value_loss(
                        predicted[:, h], b.values[chunk, h].to(device), b.adv.returns[head][chunk].to(device), head_mask,
                        cfg.critic.value_clip)
                (loss * weight).backward()
            stats["value"] += float(loss.detach()) * weight
    if actor_step:
        actor_params = [p for p in models.actor.parameters() if p.requires_grad]
        if not sharded:  # FSDP already summed them in backward
            sum_gradients(actor_params, learner.dist)
        norms["actor"] = _clipped_step(actor_params, learner.actor_opt, cfg.optim.max_grad_norm)
    if learner.critic_opt is not None:
        with models.critic.active():  # an adapter critic's parameters require gradients only while it is active
            if not is_sharded(models.critic):
                sum_gradients(models.critic.parameters(), learner.dist)
            norms["critic"] = _clipped_step(list(models.critic.parameters()), learner.critic_opt, cfg.optim.max_grad_norm)
    out = {key: all_reduce_sum(value, learner.dist) for key, value in stats.items()}
    return out | {f"grad_norm/{name}": norm for name, norm in norms.items()}


def _clipped_step(params: list[torch.Tensor], optimizer: torch.optim.Optimizer, max_norm: float) -> float:
    """Clip the gradients to `max_norm` and step; a non-finite norm skips the step (the weights would turn NaN) and
    is returned as is, so the metrics show it."""
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    norm = float(total.full_tensor() if hasattr(total, "full_tensor") else total)  # a DTensor under FSDP
    if np.isfinite(norm):
        optimizer.step()
    return norm


def _autocast_logprobs(models: Any, model: Any, samples, pad_id, temperature, micro) -> list[torch.Tensor]:
    """`model`'s log-probs of the sampled responses, computed in the run's compute dtype."""
    with compute_context(models.device, models.dtype):
        return batched_logprobs(model, samples, pad_id, models.device, temperature, micro)


def _reference_logprobs(learner: Learner, samples, pad_id, temperature, micro) -> list[torch.Tensor]:
    cfg, models = learner.cfg, learner.models
    if cfg.model.lora:  # the reference is the base model: adapters disabled, no second copy
        with models.actor.disable_adapter():
            return _autocast_logprobs(models, models.actor, samples, pad_id, temperature, micro)
    return _autocast_logprobs(models, models.reference, samples, pad_id, temperature, micro)
