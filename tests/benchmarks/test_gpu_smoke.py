"""The GPU smoke check runs every stage on a CPU with a tiny model (the GPU-only stages skip with their reason)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _smoke():
    spec = importlib.util.spec_from_file_location("gpu_smoke", ROOT / "benchmarks" / "gpu_smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_stage_runs_on_a_cpu_and_the_json_says_what_happened(tmp_path, capsys):
    smoke = _smoke()
    out = tmp_path / "smoke.json"
    assert smoke.main(["--out", str(out), "--shape", "tiny", "--trainer-timeout", "300"]) == 0
    stages = json.loads(out.read_text())["stages"]
    assert list(stages) == ["versions", "model", "generation", "logprobs", "update_visibility", "memory_probe",
                            "padded_backward", "iteration", "lora_iteration", "fsdp"]
    for name, stage in stages.items():
        expected = "skipped" if name == "fsdp" else "ok"  # nccl needs CUDA
        assert stage["status"] == expected, (name, stage)
    assert stages["versions"]["vllm_missing"] or stages["versions"]["vllm"]
    assert stages["logprobs"]["fp32"]["max_abs"] < 1e-3  # sampler and trainer agree in fp32
    assert stages["update_visibility"]["fp32_master_autocast"]["linear"] > 0.99
    assert stages["padded_backward"]["self_attending_pads"]["grad_finite"]
    assert stages["iteration"]["rc"] == 0 and stages["iteration"]["phases"]["time/update_s"] > 0
    assert stages["iteration"]["plan_gib"] > 0
    assert stages["lora_iteration"]["first_step"]["kl"] < 1e-3  # the reference is the SFT policy
    assert "| iteration | ok |" in capsys.readouterr().out


def test_the_opt_in_7b_lora_stage_runs_only_when_asked(tmp_path):
    smoke = _smoke()
    out = tmp_path / "smoke.json"
    assert smoke.main(["--out", str(out), "--shape", "tiny", "--only", "lora_7b", "--trainer-timeout", "300"]) == 0
    stages = json.loads(out.read_text())["stages"]
    assert list(stages) == ["versions", "model", "lora_7b"]
    stage = stages["lora_7b"]
    assert stage["status"] == "ok" and stage["rc"] == 0 and stage["plan_gib"] > 0
    assert stage["first_step"]["update/skipped_steps"] == 0 and stage["first_step"]["grad_norm/critic"] > 0


def test_a_failing_stage_is_recorded_and_the_next_one_runs(tmp_path):
    smoke = _smoke()
    report = smoke.Report(tmp_path / "r.json")
    report.run("broken", 5, lambda: 1 / 0)
    report.run("fine", 5, lambda: {"value": 1})
    stages = json.loads((tmp_path / "r.json").read_text())["stages"]
    assert stages["broken"]["status"] == "error" and "ZeroDivisionError" in stages["broken"]["error"]
    assert stages["fine"]["status"] == "ok" and stages["fine"]["value"] == 1
