"""Mixed precision: fp32 master weights with bf16 compute, so an lr-1e-6 update lands as it does in fp32."""

from __future__ import annotations

import torch

from tests.training.test_trainer import FAST
from training.config import load_config
from training.trainer import Trainer


def _one_update(tmp_path, dtype):
    cfg = load_config(overrides=[*FAST, f"model.dtype={dtype}", "model.device=cpu", "optim.actor_lr=1e-6",
                                 "iterations=1", "critic.lr=1e-6"])
    with Trainer(cfg, tmp_path / dtype, progress=False) as trainer:
        before = {k: v.detach().clone() for k, v in trainer.models.actor.state_dict().items()}
        trainer.iteration(1)
        after = trainer.models.actor.state_dict()
        dtypes = {v.dtype for v in after.values() if v.is_floating_point()}
        reference = {p.dtype for p in trainer.models.reference.parameters()}
        delta = torch.cat([(after[k].float() - before[k].float()).flatten() for k in before if before[k].is_floating_point()])
    return delta, dtypes, reference


def test_bf16_compute_steps_fp32_master_weights_like_an_fp32_run(tmp_path):
    fp32, _, _ = _one_update(tmp_path, "float32")
    bf16, dtypes, reference = _one_update(tmp_path, "bfloat16")
    changed_fp32 = float((fp32 != 0).float().mean())
    changed_bf16 = float((bf16 != 0).float().mean())
    assert changed_fp32 > 0.5 and changed_bf16 > 0.9 * changed_fp32, (changed_fp32, changed_bf16)
    assert dtypes == {torch.float32} and reference == {torch.bfloat16}  # masters fp32, the frozen reference in bf16
    cosine = torch.nn.functional.cosine_similarity(fp32, bf16, dim=0)
    assert cosine > 0.9, float(cosine)
