"""collect and TurnBatch.from_records: the runner's turn records become the estimators' batch without re-deriving
anything from the episode (ends, wins, groups, global episode ids)."""

from __future__ import annotations

import pytest
import torch

from hiper_agents.backends.base import SamplingParams
from hiper_agents.backends.scripted import ScriptedBackend
from hiper_agents.policy import HierarchicalPolicy
from hiper_agents.turn import render_turn
from tests.hiper_agents.conftest import CORPUS
from tests.hiper_gym.test_core import KeyDoorEnv
from training.advantages import TurnBatch
from training.rollout import collect


@pytest.fixture(scope="module")
def tokenizer():
    from hiper_agents.tiny import build_tiny_tokenizer

    return build_tiny_tokenizer(CORPUS, vocab_size=700)


def _policy(tokenizer, expert: bool) -> HierarchicalPolicy:
    def respond(ids):
        if expert and "- take key" in tokenizer.decode(ids):
            return render_turn("SWITCH", "get the key", "take key")
        return render_turn("KEEP", "get the key", "open door" if expert else "look")

    return HierarchicalPolicy(ScriptedBackend(tokenizer, respond), env_family="alfworld")


def test_won_episodes_end_done_and_won_on_their_last_turn_with_global_ids_and_groups(tokenizer):
    rollout = collect([KeyDoorEnv() for _ in range(2)], _policy(tokenizer, expert=True), [{}] * 4, [7, 7, 8, 8],
                      SamplingParams(max_new_tokens=24), seed=0, episode_ids=[10, 12, 14, 16], max_turns=5)
    batch = TurnBatch.from_records(rollout.turns)
    assert batch.traj_id.tolist() == [10, 10, 12, 12, 14, 14, 16, 16] and batch.turn_idx.tolist() == [0, 1] * 4
    assert batch.group_id.tolist() == [7, 7, 7, 7, 8, 8, 8, 8]
    assert batch.done.tolist() == batch.won.tolist() == [False, True] * 4 and not batch.truncated.any()
    assert batch.reward.tolist() == [0.0, 1.0] * 4 and batch.milestones.tolist() == [1] * 8
    assert batch.switch.tolist() == [True, False] * 4 and batch.valid.all() and batch.has_subgoal.all()
    assert batch.v_high.abs().sum() == 0 and all(t.step.prompt_ids and t.step.response_ids for t in rollout.turns)
    values = torch.arange(24, dtype=torch.float32).reshape(8, 3)
    swapped, direct = batch.with_values(values), TurnBatch.from_records(rollout.turns, values)
    for name in ("v_high", "v_low", "v_term", "traj_id", "obs_key", "done"):
        assert torch.equal(getattr(swapped, name), getattr(direct, name))
    assert swapped.v_low.tolist() == values[:, 1].tolist() and batch.v_low.abs().sum() == 0  # the original is kept
    first_rooms = {t.step.observation: int(k) for t, k in zip(rollout.turns, batch.obs_key) if t.turn_index == 0}
    assert len(set(first_rooms.values())) == len(first_rooms)  # one key per distinct observation


def test_episodes_cut_by_the_turn_limit_end_truncated_not_done(tokenizer):
    rollout = collect([KeyDoorEnv()], _policy(tokenizer, expert=False), [{}] * 2, [0, 1],
                      SamplingParams(max_new_tokens=24), seed=0, max_turns=3)
    batch = TurnBatch.from_records(rollout.turns)
    assert batch.truncated.tolist() == [False, False, True] * 2 and not batch.done.any() and not batch.won.any()
    assert batch.traj_id.tolist() == [0, 0, 0, 1, 1, 1]
