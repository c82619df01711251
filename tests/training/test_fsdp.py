"""FSDP helpers in one process: unsharded models pass through untouched; sharding needs transformer blocks.

The sharded paths themselves run on 2 gloo processes in test_distributed.py (slow)."""

from __future__ import annotations

import pytest
import torch

from training.distributed import DistInfo
from training.fsdp import gathered, is_sharded, lockstep_count, shard_model


def test_unsharded_model_is_left_alone():
    model = torch.nn.Linear(3, 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert not is_sharded(model) and not is_sharded(None)
    with gathered(model, None):
        out = model(torch.ones(1, 3))
    assert out.shape == (1, 2)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert lockstep_count(4, DistInfo()) == 4


def test_a_model_without_transformer_blocks_is_refused():
    with pytest.raises(ValueError, match="no transformer blocks"):
        shard_model(torch.nn.Sequential(torch.nn.Linear(3, 2)))
