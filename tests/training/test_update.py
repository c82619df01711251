"""The update's mini-batching: equal-sized mini-batches, no short remainder taking a full optimiser step."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from training.update import mini_batches


@given(st.integers(1, 2000), st.integers(1, 300))
def test_mini_batches_cover_every_turn_once_in_near_equal_parts(n, size):
    parts = mini_batches(list(range(n)), size)
    assert [i for part in parts for i in part] == list(range(n))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert len(parts) == max(1, round(n / size))


def test_a_short_remainder_is_merged_not_stepped_alone():
    assert [len(p) for p in mini_batches(list(range(72)), 64)] == [72]
    assert [len(p) for p in mini_batches(list(range(100)), 64)] == [50, 50]


def test_a_non_finite_gradient_norm_skips_the_step():
    from training.update import _clipped_step

    layer = torch.nn.Linear(3, 2)
    before = [p.detach().clone() for p in layer.parameters()]
    optimizer = torch.optim.AdamW(layer.parameters(), lr=0.1)
    (layer(torch.full((1, 3), float("nan"))).sum()).backward()
    norm = _clipped_step(list(layer.parameters()), optimizer, 1.0)
    assert norm != norm  # NaN, reported as is
    assert all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))
    layer.zero_grad()
    layer(torch.ones(1, 3)).sum().backward()
    assert _clipped_step(list(layer.parameters()), optimizer, 1.0) > 0
    assert not all(torch.equal(a, b) for a, b in zip(before, layer.parameters()))


def test_a_token_budget_gives_the_same_update_as_counting_turns(tmp_path):
    """Micro-batches only split gradient accumulation: grouping by tokens must not change the step."""
    from tests.training.test_trainer import FAST
    from training.config import load_config
    from training.trainer import Trainer

    weights = {}
    for name, micro in (("turns", "optim.micro_batch_turns=3"), ("tokens", "optim.micro_batch_tokens=300")):
        cfg = load_config(overrides=[*FAST, micro, "iterations=1", "model.device=cpu"])
        with Trainer(cfg, tmp_path / name, progress=False) as trainer:
            row = trainer.iteration(1)
            weights[name] = torch.cat([p.detach().flatten() for p in trainer.models.actor.parameters()])
            assert row["update/skipped_steps"] == 0
    torch.testing.assert_close(weights["tokens"], weights["turns"], atol=2e-6, rtol=1e-5)
