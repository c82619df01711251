"""Warm start by supervised fine-tuning on expert trajectories in the turn format (docs/design.md §4).

The expert's subgoal labels become `<subgoal>`, and `<switch>` is SWITCH exactly where the label changes (and on
turn 0). Prompts are built by the same HierarchicalPolicy code as at rollout time, so SFT and RL see one format.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from hiper_agents.policy import HierarchicalPolicy, PolicyStep
from hiper_agents.turn import render_turn
from training.forward import response_logprobs
from training.tasks import make_expert


@dataclass
class ExpertTurn:
    """One expert step: what it saw and what it did."""

    observation: str
    info: dict[str, Any]
    action: str
    subgoal: str


def expert_episodes(
    env: Any, options: Sequence[dict[str, Any]], seed: int, noise: float = 0.0
) -> list[list[ExpertTurn]]:
    """Play the env's scripted expert on each task (its noisy variant when noise > 0); returns the turns of every
    episode."""
    rng = random.Random(seed)
    episodes = []
    for k, opts in enumerate(options):
        observation, info = env.reset(seed=seed + k, options=opts)
        expert = make_expert(env, noise, rng)
        turns: list[ExpertTurn] = []
        for _ in range(200):
            action, subgoal = expert(env)
            turns.append(ExpertTurn(observation, info, action, subgoal))
            observation, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                break
        episodes.append(turns)
    return episodes


def expert_texts(episodes: Sequence[Sequence[ExpertTurn]]) -> list[str]:
    """Every string the expert episodes contain (for training a tiny tokenizer)."""
    texts = []
    for episode in episodes:
        for t in episode:
            texts += [t.observation, t.action, t.subgoal, str(t.info.get("task", ""))]
            texts += list(t.info.get("admissible_actions") or []) + list(t.info.get("action_templates") or [])
    return texts


def sft_samples(policy: HierarchicalPolicy, episodes: Sequence[Sequence[ExpertTurn]]) -> list[PolicyStep]:
    """Token-level SFT examples with exactly the rollout prompts: the policy's step for each expert turn."""
    samples = []
    for episode in episodes:
        policy.reset(1)
        previous = None
        for t, turn in enumerate(episode):
            switch = "SWITCH" if t == 0 or turn.subgoal != previous else "KEEP"
            text = render_turn(switch, turn.subgoal, turn.action)
            samples.append(policy.act_with_responses([turn.observation], [turn.info], [text], active=[0])[0])
            previous = turn.subgoal
    return samples


def sft_train(
    model: Any, samples: Sequence[PolicyStep], pad_id: int, device: torch.device, epochs: int, lr: float,
    batch_turns: int, seed: int, progress: bool = False,
) -> list[float]:
    """Cross-entropy on the response tokens; returns the mean loss of each epoch."""
    from tqdm.auto import tqdm

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(samples), generator=generator).tolist()
        total, count = 0.0, 0
        batches = range(0, len(order), batch_turns)
        for start in tqdm(batches, desc=f"sft epoch {epoch + 1}/{epochs}", disable=not progress, leave=False):
            chunk = [samples[i] for i in order[start : start + batch_turns]]
            logp, _, mask = response_logprobs(model, chunk, pad_id, device)
            loss = -(logp * mask).sum() / mask.sum()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item() * len(chunk)
            count += len(chunk)
        losses.append(total / max(count, 1))
    model.eval()
    return losses
