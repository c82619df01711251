"""Data-parallel updates (gloo, 2 CPU processes), replicated (DDP) or sharded (FSDP2), equal one process on the same
global batch; a sharded run checkpoints and resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "training" / "ddp_worker.py"


def _torchrun(nproc: int, *args: str) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1",
           "--master-port", str(29_500 + nproc), *args]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


def _launch(out: Path, nproc: int, *flags: str) -> dict:
    _torchrun(nproc, str(WORKER), str(out), *flags)
    return json.loads((out / "row.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ddp", "fsdp", "adapter"])
def test_two_gloo_processes_match_one_process(tmp_path, mode):
    # fsdp without SFT: rank 1 builds on the meta device and receives its shards from rank 0 (a run with SFT builds
    # whole on every rank: test_sharded_run_checkpoints_and_resumes_exactly, whose resume takes the meta path)
    flags = {"ddp": [], "fsdp": ["fsdp", "nosft"], "adapter": ["adapter"]}[mode]
    one = _launch(tmp_path / "one", 1, *[f for f in flags if f != "fsdp"])
    two = _launch(tmp_path / "two", 2, *flags)
    assert (one["world"], two["world"]) == (1, 2) and one["turns"] == two["turns"]
    for key in ("loss/policy", "loss/value", "kl", "entropy", "reward/shaped_mean", "adv/low_abs_mean"):
        assert two[key] == pytest.approx(one[key], rel=1e-4, abs=1e-6), key
    w1 = torch.load(tmp_path / "one" / "weights.pt")
    w2 = torch.load(tmp_path / "two" / "weights.pt")
    for part in ("actor", "critic"):
        for name, tensor in w1[part].items():
            torch.testing.assert_close(w2[part][name], tensor, rtol=1e-4, atol=1e-6, msg=f"{part}.{name}")
    from safetensors.torch import load_file

    s1, s2 = (load_file(tmp_path / run / "sync" / "model.safetensors") for run in ("one", "two"))
    assert s1.keys() == s2.keys() and "lm_head.weight" in s1
    for name, tensor in s1.items():
        torch.testing.assert_close(s2[name], tensor, rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.slow
def test_sharded_run_checkpoints_and_resumes_exactly(tmp_path):
    """`torchrun -m training.run model.fsdp=true`: evaluation, rollouts and the update run sharded on 2 ranks; a run
    stopped after iteration 1 and resumed from its (whole-weights) checkpoint logs what an uninterrupted one does."""
    from tests.training.test_trainer import FAST

    run = ["-m", "training.run", "--quiet", "--plugin", "tests.training.toy_env"]
    common = [*FAST, "model.fsdp=true", f"output_dir={tmp_path}"]
    _torchrun(2, *run, *common, "iterations=2", "run_name=full")
    _torchrun(2, *run, *common, "iterations=1", "run_name=cut")
    _torchrun(2, *run, "--resume", str(tmp_path / "cut"), "iterations=2")
    keys = ("success", "turns", "loss/policy", "loss/value", "kl", "entropy", "valid_ratio")
    rows = {}
    for name in ("full", "cut"):
        lines = (tmp_path / name / "metrics.jsonl").read_text().splitlines()
        rows[name] = [json.loads(line) for line in lines if "loss/policy" in json.loads(line)]
    assert [r["iteration"] for r in rows["cut"]] == [1, 2] == [r["iteration"] for r in rows["full"]]
    for a, b in zip(rows["full"], rows["cut"]):
        assert {k: a[k] for k in keys} == pytest.approx({k: b[k] for k in keys}, rel=1e-5, abs=1e-7)
    saved = torch.load(tmp_path / "cut" / "checkpoints" / "iter_000002" / "actor.pt")
    assert all(type(t) is torch.Tensor for t in saved.values())  # whole weights, loadable without FSDP
    assert (tmp_path / "full" / "model" / "model.safetensors").is_file()


def test_each_ranks_vllm_engine_is_shown_only_its_own_gpu(monkeypatch):
    import os

    from training.distributed import engine_sees_only_this_rank_gpu, rank_gpu

    assert rank_gpu(0, None) == "0" and rank_gpu(3, "") == "3"
    assert rank_gpu(1, "4,5,6") == "5"  # the rank's entry of what the job was given
    with pytest.raises(ValueError, match="no GPU"):
        rank_gpu(3, "4,5")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    with engine_sees_only_this_rank_gpu():
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
        assert "LOCAL_RANK" not in os.environ and "WORLD_SIZE" not in os.environ  # not a member of our group
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "2,3" and os.environ["WORLD_SIZE"] == "2"
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setenv("LOCAL_RANK", "1")
    with engine_sees_only_this_rank_gpu():
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
