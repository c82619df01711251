"""HAE's equivalences with flat GAE and its edge cases (docs/design.md §3)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.training.advantages.strategies import to_batch, trajectory
from training.advantages import (
    BatchError,
    GAEConfig,
    HAEConfig,
    RewardShaping,
    TurnBatch,
    compute_gae,
    compute_hae,
)
from training.advantages.batch import layout
from training.advantages.shaping import shape_rewards

RAW = RewardShaping(success_reward=None, invalid_penalty=0.0, keep_penalty=0.0, consistency_penalty=0.0)


def _with(trajs, **overrides):
    return [[{**turn, **overrides} for turn in traj] for traj in trajs]


@settings(max_examples=200)
@given(st.lists(trajectory(), min_size=1, max_size=6), st.floats(0.5, 1.0), st.floats(0, 1), st.booleans())
def test_all_switch_high_level_equals_flat_gae_on_v_high(trajs, gamma, lam_seg, bootstrap):
    batch = to_batch(_with(trajs, switch=True, has_subgoal=True))
    hae = compute_hae(batch, HAEConfig(gamma=gamma, lam_seg=lam_seg, bootstrap_truncated=bootstrap, normalize=False), RAW)
    gae = compute_gae(batch, GAEConfig(gamma=gamma, lam=lam_seg, bootstrap_truncated=bootstrap, normalize=False), RAW)
    assert hae.segment_start.all()
    torch.testing.assert_close(hae.high, gae.low, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(hae.returns["high"], gae.returns["high"], rtol=1e-5, atol=1e-5)


@settings(max_examples=200)
@given(st.lists(trajectory(), min_size=1, max_size=6), st.floats(0.5, 1.0), st.floats(0, 1), st.booleans())
def test_one_segment_low_level_equals_flat_gae_on_v_low(trajs, gamma, lam_turn, bootstrap):
    batch = to_batch(_with(trajs, switch=False))
    hae = compute_hae(batch, HAEConfig(gamma=gamma, lam_turn=lam_turn, bootstrap_truncated=bootstrap, normalize=False), RAW)
    flat_on_v_low = TurnBatch(**{**batch.__dict__, "v_high": batch.v_low})
    gae = compute_gae(flat_on_v_low, GAEConfig(gamma=gamma, lam=lam_turn, bootstrap_truncated=bootstrap, normalize=False), RAW)
    torch.testing.assert_close(hae.low, gae.low, rtol=1e-5, atol=1e-5)


def _batch(rewards, switch, v_high, v_low, v_term=None, done=True, **extra):
    n = len(rewards)
    return TurnBatch(
        traj_id=torch.zeros(n, dtype=torch.long), turn_idx=torch.arange(n),
        reward=torch.tensor(rewards, dtype=torch.float32),
        done=torch.tensor([done and t == n - 1 for t in range(n)]),
        switch=torch.tensor(switch), v_high=torch.tensor(v_high), v_low=torch.tensor(v_low),
        v_term=torch.tensor(v_term if v_term is not None else [0.0] * n), **extra,
    )


NO_NORM = HAEConfig(gamma=0.9, lam_turn=1.0, lam_seg=0.5, normalize=False)


def test_single_turn_episode():
    out = compute_hae(_batch([1.0], [False], [0.25], [0.5], [0.75]), NO_NORM, RAW)
    assert out.low.tolist() == pytest.approx([0.5])  # r - V_low
    assert out.high.tolist() == pytest.approx([0.75])  # R - V_high
    assert out.switch.tolist() == pytest.approx([0.25])  # G - V_term
    assert out.segment_start.tolist() == [True]


def test_episode_that_ends_on_the_first_turn_of_a_new_segment():
    # segments [0, 1] and [2]; the episode ends at turn 2.
    b = _batch([0.0, 0.5, 1.0], [True, False, True], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], [0.0, 0.0, 0.0])
    out = compute_hae(b, NO_NORM, RAW)
    g = 0.9
    # low: turn 1 ends segment 0 and bootstraps from V_high(s_2) = 3.0; turn 2 ends the episode.
    a1 = 0.5 + g * 3.0 - 0.2
    a0 = 0.0 + g * 0.2 - 0.1 + g * a1
    assert out.low.tolist() == pytest.approx([a0, a1, 1.0 - 0.3])
    # high: delta_1 = 1 - 3; delta_0 = (0 + 0.9*0.5) + 0.81*3 - 1; A_0 = delta_0 + 0.81 * 0.5 * A_1
    d1 = 1.0 - 3.0
    d0 = 0.45 + g**2 * 3.0 - 1.0
    assert out.high.tolist() == pytest.approx([d0 + g**2 * 0.5 * d1, 0.0, d1])
    assert out.returns["term"].tolist() == pytest.approx([g * (0.5 + g * 3.0), 0.5 + g * 3.0, 1.0])
    assert out.value_mask["high"].tolist() == [True, False, True]


@pytest.mark.parametrize("bootstrap", [False, True])
def test_truncation_with_and_without_bootstrap(bootstrap):
    # one truncated trajectory, segments [0] and [1, 2]
    b = _batch([0.0, 0.0, 0.0], [True, True, False], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], [0.5, 0.5, 0.5], done=False)
    cfg = HAEConfig(gamma=1.0, lam_turn=1.0, lam_seg=1.0, bootstrap_truncated=bootstrap, normalize=False)
    out = compute_hae(b, cfg, RAW)
    low_boot = 0.3 if bootstrap else 0.0  # V_low(s_e)
    high_boot = 2.0 if bootstrap else 0.0  # V_high at the truncated segment's own start
    assert out.low[2].item() == pytest.approx(low_boot - 0.3)
    assert out.low[1].item() == pytest.approx(0.3 - 0.2 + low_boot - 0.3)
    assert out.high[1].item() == pytest.approx(high_boot - 2.0)
    assert out.switch[2].item() == pytest.approx(high_boot - 0.5)


def test_truncation_and_termination_agree_without_bootstrap():
    args = ([0.0, 1.0], [True, False], [1.0, 2.0], [0.1, 0.2], [0.0, 0.0])
    done = compute_hae(_batch(*args, done=True), NO_NORM, RAW)
    cut = compute_hae(_batch(*args, done=False), NO_NORM, RAW)
    for name in ("low", "high", "switch"):
        torch.testing.assert_close(getattr(done, name), getattr(cut, name))


def test_all_keep_after_turn_zero_is_one_segment():
    out = compute_hae(_batch([0.0] * 4, [True, False, False, False], [1.0] * 4, [0.5] * 4), NO_NORM, RAW)
    assert out.segment_start.tolist() == [True, False, False, False]
    assert out.carries_high.tolist() == [True, False, False, False]
    assert out.high[1:].abs().sum().item() == 0.0


def test_keep_on_turn_zero_opens_a_segment_and_is_penalised():
    shaping = RewardShaping(success_reward=None, invalid_penalty=0.0, keep_penalty=-0.3, consistency_penalty=0.0)
    out = compute_hae(_batch([0.0, 0.0, 0.0], [False, True, False], [0.0] * 3, [0.0] * 3), NO_NORM, shaping)
    assert out.segment_start.tolist() == [True, True, False]
    assert out.rewards.tolist() == pytest.approx([-0.1, 0.0, -0.1])  # -0.3 / T on each KEEP, turn 0 included


def test_fixed_keep_penalty_and_single_turn_gets_no_normalized_penalty():
    fixed = RewardShaping(success_reward=None, invalid_penalty=0.0, keep_penalty=-0.3, keep_penalty_mode="fixed")
    assert compute_hae(_batch([0.0, 0.0], [False, False], [0.0] * 2, [0.0] * 2), NO_NORM, fixed).rewards.tolist() == pytest.approx([-0.3, -0.3])
    normalized = RewardShaping(success_reward=None, invalid_penalty=0.0, keep_penalty=-0.3)
    assert compute_hae(_batch([0.0], [False], [0.0], [0.0]), NO_NORM, normalized).rewards.tolist() == [0.0]


def test_invalid_turns_and_consistency_penalty_and_success_reward():
    b = _batch([0.0, 0.0, 1.0], [True, False, False], [0.0] * 3, [0.0] * 3,
               valid=torch.tensor([False, True, True]), won=torch.tensor([False, False, True]),
               keep_subgoal_changed=torch.tensor([True, True, False]))
    out = compute_hae(b, NO_NORM, RewardShaping())
    # turn 0: invalid (-0.1), its consistency flag is ignored (turn 0); turn 1: KEEP with a changed subgoal
    # (-0.3); turn 2: won, the env's reward 1.0 is replaced by the success reward 10.
    assert out.rewards.tolist() == pytest.approx([-0.1, -0.3, 10.0])


def test_paper_switch_advantage_needs_switch_prob():
    with pytest.raises(ValueError, match="switch_prob"):
        compute_hae(_batch([0.0], [True], [0.0], [0.0]), HAEConfig(switch_advantage="paper"), RAW)
    b = _batch([0.0, 0.0], [True, False], [1.0, 2.0], [0.0, 0.0], [0.5, 0.5], switch_prob=torch.tensor([0.9, 0.2]))
    out = compute_hae(b, HAEConfig(switch_advantage="paper", normalize=False), RAW)
    assert out.switch.tolist() == pytest.approx([(1 - 0.9) * 0.5, (0 - 0.2) * 1.5])


def test_normalisation_per_level_over_carrying_turns():
    b = _batch([0.0, 1.0, 0.0, 2.0], [True, False, True, False], [0.0] * 4, [0.0] * 4)
    out = compute_hae(b, HAEConfig(), RAW)
    starts = out.carries_high
    assert out.high[starts].mean().item() == pytest.approx(0.0, abs=1e-6)
    assert out.high[starts].std(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    assert out.high[~starts].abs().sum().item() == 0.0
    assert out.low.mean().item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("change, message", [
    (dict(turn_idx=torch.tensor([0, 2])), "consecutive"),
    (dict(turn_idx=torch.tensor([1, 2])), "start at turn_idx 0"),
    (dict(done=torch.tensor([True, False])), "not its trajectory's last"),
    (dict(v_low=torch.tensor([float("nan"), 0.0])), "non-finite"),
    (dict(reward=torch.tensor([0.0])), "shape"),
])
def test_malformed_batches_are_rejected_with_a_clear_error(change, message):
    b = _batch([0.0, 0.0], [True, False], [0.0, 0.0], [0.0, 0.0])
    with pytest.raises(BatchError, match=message):
        compute_hae(TurnBatch(**{**b.__dict__, **change}), NO_NORM, RAW)


def test_bad_config_values_are_rejected():
    with pytest.raises(ValueError, match="switch_advantage"):
        HAEConfig(switch_advantage="bogus")
    with pytest.raises(ValueError, match="lam_seg"):
        HAEConfig(lam_seg=1.5)
    with pytest.raises(ValueError, match="keep_penalty_mode"):
        RewardShaping(keep_penalty_mode="sometimes")


def test_env_reward_source_scales_the_envs_own_reward():
    """reward_source=env gives success_reward x the env's reward (WebShop's partial score), penalties added on top."""
    batch = TurnBatch(
        traj_id=torch.tensor([0, 0, 1]), turn_idx=torch.tensor([0, 1, 0]),
        reward=torch.tensor([0.0, 0.8, 1.0]), done=torch.tensor([False, True, True]),
        truncated=torch.tensor([False, False, False]), switch=torch.tensor([True, True, True]),
        won=torch.tensor([False, False, True]), valid=torch.tensor([True, False, True]),
        v_high=torch.zeros(3), v_low=torch.zeros(3), v_term=torch.zeros(3),
    )
    lay = layout(batch)
    shaped = shape_rewards(lay, RewardShaping(success_reward=10.0, reward_source="env"))
    assert shaped.tolist() == pytest.approx([0.0, 8.0 - 0.1, 10.0])
    success_only = shape_rewards(lay, RewardShaping(success_reward=10.0))
    assert success_only.tolist() == pytest.approx([0.0, -0.1, 10.0])
    with pytest.raises(ValueError, match="reward_source"):
        RewardShaping(reward_source="score")


def test_milestone_reward_is_added_per_milestone_a_turn_completes():
    """algo.shaping.milestone_reward pays each milestone a turn completes (the env's subgoal-termination signal); off by default."""
    batch = TurnBatch(
        traj_id=torch.tensor([0, 0, 0]), turn_idx=torch.tensor([2, 0, 1]),  # unsorted on purpose
        reward=torch.zeros(3), done=torch.tensor([True, False, False]), switch=torch.tensor([True, True, False]),
        won=torch.tensor([True, False, False]), v_high=torch.zeros(3), v_low=torch.zeros(3), v_term=torch.zeros(3),
        milestones=torch.tensor([1, 0, 2]),
    )
    lay = layout(batch)  # sorted: turns 0, 1, 2 with 0, 2, 1 milestones
    assert shape_rewards(lay, RewardShaping(success_reward=10.0, milestone_reward=3.0)).tolist() == [0.0, 6.0, 13.0]
    assert shape_rewards(lay, RewardShaping(success_reward=10.0)).tolist() == [0.0, 0.0, 10.0]
