"""The GPU smoke check of the trainer: one script, about 7 minutes on one H100/H200, no network.

    python benchmarks/gpu_smoke.py --out benchmarks/gpu_smoke.json [--tokenizer DIR] [--shape qwen2.5-1.5b]

A model of Qwen2.5-1.5B-Instruct's shape (28 layers, hidden 1536, vocab 151,936, tied embeddings) with random
weights stands in for the real one (no weights can be downloaded there); its final norm is scaled so the next-token
distributions are peaked like a trained model's, not uniform. The tokenizer is SmolLM2's (`--tokenizer`, exported
offline), else a BPE tokenizer trained here on BabyAI's text. Stages run in order, each under its own time budget,
and the JSON is rewritten after every stage, so a crash or a timeout keeps what finished:

- versions: python, torch, CUDA, the GPU, transformers, peft, vllm (or why it is missing)
- generation: transformers throughput with the trainer's fp32 master weights and with a bf16 copy; vLLM when
  importable (the lent machines cannot install it: skipped with that reason)
- logprobs: the sampler's log-probs against the trainer's forward pass (autocast over fp32 weights)
- update_visibility: share of weights one AdamW step at lr 1e-6 changes, fp32 master weights + bf16 autocast (the
  trainer) against plain bf16 weights (what it did before)
- memory_probe: forward + backward of one micro-batch at the shipped 1.5B settings (8 turns of 2,048 + 512 tokens),
  with and without gradient checkpointing; peak memory or the OOM
- padded_backward: whether the actor's gradient is finite for a left-padded micro-batch, with the trainer's mask and
  with the plain 2-D one (fully masked pad rows gave NaN gradients in SDPA's backward on the first GPU run)
- iteration: one HiPER iteration of `python -m training.run` on hiper/BabyAI-v0 with this model (rollout and
  update with gradient checkpointing; no checkpoint, which would not fit that disk: its size by arithmetic), with the
  trainer's own timings and peak memory per phase; BabyAI, not WebShop, because WebShop's spaCy pipeline and its
  dependencies do not fit the 64 MiB that can be carried to the machine
- lora_iteration: the same with a LoRA actor after a short SFT warm start (the SFT adapter merged into the bf16 base,
  so the first RL step's KL is ~0) and the critic as a second adapter on that base
- fsdp: the same trainer under torchrun with one process on nccl and model.fsdp=true (a tiny model)
- lora_7b, only with `--only lora_7b` (about 4 more minutes): the 7B-on-one-GPU layout at Qwen2.5-7B's shape, one
  iteration, the update's peak against the memory plan

On a CPU, `--shape tiny` runs every stage on a small model in about a minute (what the test suite checks).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

SHAPES = {  # Qwen2.5-1.5B-Instruct's config.json, and a small one for CPU runs
    "qwen2.5-1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                         num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1e6,
                         rms_norm_eps=1e-6, tie_word_embeddings=True),
    "qwen2.5-7b": dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28, num_attention_heads=28,
                       num_key_value_heads=4, vocab_size=152064, max_position_embeddings=32768, rope_theta=1e6,
                       rms_norm_eps=1e-6, tie_word_embeddings=False),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 vocab_size=4096, max_position_embeddings=4096, rope_theta=1e6, rms_norm_eps=1e-6,
                 tie_word_embeddings=True),
}
NORM_SCALE = 8.0  # final RMSNorm weight: random embeddings give logits of std ~0.8 (near uniform); x8 gives ~6


class StageTimeout(Exception):
    """A stage ran past its budget."""


@contextmanager
def budget(seconds: int):
    """Raise StageTimeout in the main thread after `seconds` (SIGALRM; the stage's Python code is interrupted)."""
    def fire(*_: Any) -> None:
        raise StageTimeout(f"over its {seconds} s budget")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class Report:
    """The JSON written after every stage."""

    def __init__(self, path: Path):
        self.path, self.data = path, {"stages": {}, "started": time.strftime("%Y-%m-%d %H:%M:%S")}

    def run(self, name: str, seconds: int, fn: Callable[[], dict[str, Any]]) -> None:
        """Run one stage under its budget; record its result, its skip reason or its error, then write the file."""
        started = time.perf_counter()
        try:
            with budget(seconds):
                result = fn()
            status = "skipped" if "skipped" in result else "error" if result.get("rc", 0) != 0 else "ok"
        except StageTimeout as error:
            result, status = {"error": str(error)}, "timeout"
        except Exception as error:  # a stage's failure is a result: record it and go on
            result, status = {"error": f"{type(error).__name__}: {error}",
                              "traceback": traceback.format_exc()[-3000:]}, "error"
        result = {"status": status, "seconds": round(time.perf_counter() - started, 2), **result}
        self.data["stages"][name] = result
        self.write()
        summary = {k: v for k, v in result.items() if k != "traceback"}
        print(f"[{name}] {json.dumps(summary, default=str)[:1500]}", flush=True)
        free_cuda()

    def write(self) -> None:
        """Write the JSON (atomically)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, default=str) + "\n")
        tmp.replace(self.path)


def free_cuda() -> None:
    """Release cached blocks between stages."""
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def device() -> torch.device:
    """CUDA when present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def gib(n_bytes: float) -> float:
    """Bytes in GiB, rounded."""
    return round(n_bytes / 2**30, 3)


def peak() -> float | None:
    """Peak allocated CUDA memory in GiB since the last reset."""
    return gib(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None


def reset_peak() -> None:
    """Start a peak-memory count."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def sync() -> None:
    """Wait for queued CUDA work (before reading a clock)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


# --- the model ----------------------------------------------------------------------------------------------
def load_tokenizer(path: str | None) -> tuple[Any, str]:
    """SmolLM2's tokenizer from `path`, else a BPE tokenizer trained on BabyAI's expert text."""
    if path and Path(path, "tokenizer.json").exists():
        from hiper_agents.tiny import load_tokenizer as load

        return load(path), f"saved tokenizer at {path}"
    import gymnasium as gym

    import hiper_gym  # noqa: F401
    from hiper_agents.tiny import build_tiny_tokenizer
    from training.sft import expert_episodes, expert_texts

    env = gym.make("hiper/BabyAI-v0", level="GoToLocalSeq", max_episode_steps=20)
    texts = expert_texts(expert_episodes(env, [{"split": "train", "index": i} for i in range(20)], seed=0))
    return build_tiny_tokenizer(texts, vocab_size=2000), "BPE trained on 20 BabyAI expert episodes (no --tokenizer)"


def build_model(shape: str, tokenizer: Any, dtype: torch.dtype = torch.float32) -> Any:
    """A Qwen2 causal LM of `shape` with random weights on the device: rows past the tokenizer's vocabulary zeroed
    (their tokens then get ~no mass) and the final norm scaled so next-token distributions are peaked."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    # the tokenizer's ids must embed (a tiny shape with SmolLM2's 49,152-token vocabulary grows to it)
    shape_config = {**SHAPES[shape], "vocab_size": max(SHAPES[shape]["vocab_size"], len(tokenizer))}
    config = Qwen2Config(**shape_config, bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)
    torch.manual_seed(0)
    with torch.device(device()):
        model = Qwen2ForCausalLM(config).to(dtype)
    with torch.no_grad():
        model.model.embed_tokens.weight[len(tokenizer):] = 0
        model.model.norm.weight.mul_(NORM_SCALE)
    return model.eval()


def n_params(model: Any) -> int:
    """Parameter count."""
    return sum(p.numel() for p in model.parameters())


def prompts_of(tokenizer: Any, n: int, length: int) -> list[list[int]]:
    """`n` prompts of about `length` tokens: BabyAI-like text with the chat template, distinct per prompt."""
    body = ("You see a red ball 2 steps forward and 1 step left, a grey key 3 steps right, a wall 4 steps forward. "
            "Your mission: go to the red ball, then go to the grey key. ")
    out = []
    for i in range(n):
        text = tokenizer.apply_chat_template([{"role": "user", "content": f"Episode {i}. " + body * 40}],
                                             add_generation_prompt=True, tokenize=False)
        out.append(tokenizer.encode(text, add_special_tokens=False)[-length:])
    return out


def turn_ids(prompt_ids: list[int], response_ids: list[int], logprobs: list[float] | None = None) -> Any:
    """What the trainer's forward pass reads of a turn (a PolicyStep's ids)."""
    from types import SimpleNamespace

    return SimpleNamespace(prompt_ids=list(prompt_ids), response_ids=list(response_ids), logprobs=logprobs, token_spans={})


# --- stages -------------------------------------------------------------------------------------------------
def stage_versions(args: argparse.Namespace) -> dict[str, Any]:
    """What the machine and its libraries are."""
    import importlib.metadata as md
    import importlib.util

    info: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                            "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available()}
    for name in ("transformers", "peft", "gymnasium", "minigrid", "vllm"):
        try:
            info[name] = md.version(name)
        except md.PackageNotFoundError:
            info[name] = None
    if info["vllm"] is None or importlib.util.find_spec("vllm") is None:
        info["vllm_missing"] = "vllm is not installed (the lent GPU machines have no package registry)"
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gib=gib(props.total_memory), bf16=torch.cuda.is_bf16_supported())
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                        text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["commit"] = None
    return info


def stage_generation(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """Tokens/s of transformers generation: the trainer's fp32 live actor, and a bf16 copy; vLLM when present."""
    from hiper_agents.backends.base import SamplingParams
    from hiper_agents.backends.transformers_backend import TransformersBackend

    tokenizer, model = state["tokenizer"], state["model"]
    n, new = (64, 128) if args.shape != "tiny" else (8, 16)
    prompts = prompts_of(tokenizer, n, 512 if args.shape != "tiny" else 64)
    sampling = SamplingParams(temperature=1.0, max_new_tokens=new, seed=1)
    out: dict[str, Any] = {"prompts": n, "prompt_tokens": len(prompts[0]), "max_new_tokens": new}
    for label, dtype in (("fp32_master", torch.float32), ("bf16_copy", torch.bfloat16)):
        if dtype == torch.bfloat16 and device().type != "cuda":
            continue
        runner = model if dtype == torch.float32 else copy.deepcopy(model).to(torch.bfloat16)
        backend = TransformersBackend(runner, tokenizer, device=str(device()), batch_size=n)
        backend.generate(prompts[:2], SamplingParams(temperature=1.0, max_new_tokens=4, seed=0))  # warm-up
        sync()
        started = time.perf_counter()
        completions = backend.generate(prompts, sampling)
        sync()
        seconds = time.perf_counter() - started
        tokens = sum(len(c.response_ids) for c in completions)
        out[label] = {"seconds": round(seconds, 3), "tokens": tokens, "tokens_per_s": round(tokens / seconds, 1),
                      "distinct_responses": len({tuple(c.response_ids) for c in completions})}
        if dtype == torch.bfloat16:
            state["bf16_model"] = runner
            state["completions"] = completions
        else:
            state.setdefault("completions", completions)
    if "bf16_copy" in out:
        out["bf16_over_fp32"] = round(out["bf16_copy"]["tokens_per_s"] / out["fp32_master"]["tokens_per_s"], 2)
    out["vllm"] = {"skipped": "vllm is not importable here"} if not _has_vllm() else _vllm_generation(args, state, prompts,
                                                                                                       sampling)
    return out


def _has_vllm() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def _vllm_generation(args: argparse.Namespace, state: dict[str, Any], prompts: list[list[int]], sampling: Any) -> dict:
    """vLLM's throughput on the same prompts and its ratio to the bf16 transformers copy."""
    from hiper_agents.backends.vllm_backend import VLLMBackend

    directory = Path(tempfile.mkdtemp(prefix="smoke-vllm-"))
    state["model"].save_pretrained(directory)
    state["tokenizer"].save_pretrained(directory)
    backend = VLLMBackend(directory, state["tokenizer"], gpu_memory_utilization=0.3, seed=0)
    backend.generate(prompts[:2], sampling)
    started = time.perf_counter()
    completions = backend.generate(prompts, sampling)
    seconds = time.perf_counter() - started
    tokens = sum(len(c.response_ids) for c in completions)
    return {"tokens_per_s": round(tokens / seconds, 1)}


def stage_logprobs(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """The sampler's log-probs against the trainer's forward pass over the same ids (autocast, fp32 weights)."""
    from training.forward import response_logprobs
    from training.models import compute_context

    completions = [c for c in state["completions"] if c.response_ids][:16]
    steps = [turn_ids(c.prompt_ids, c.response_ids, c.logprobs) for c in completions]
    pad = state["tokenizer"].pad_token_id or state["tokenizer"].eos_token_id
    compute = torch.bfloat16 if device().type == "cuda" else torch.float32
    diffs: dict[str, Any] = {}
    sampler_dtype = "bf16 copy" if "bf16_model" in state else "fp32"
    for label, model, context in (("autocast_fp32_master", state["model"], compute_context(device(), compute)),
                                  ("fp32", state["model"], torch.autocast(device().type, enabled=False))):
        with torch.no_grad(), context:
            logp, _, mask = response_logprobs(model, steps, pad, device(), 1.0)
        ours = [logp[i, : len(s.response_ids)].float().cpu() for i, s in enumerate(steps)]
        delta = torch.cat([o - torch.tensor(s.logprobs) for o, s in zip(ours, steps)]).abs()
        diffs[label] = {"mean_abs": round(float(delta.mean()), 5), "max_abs": round(float(delta.max()), 5),
                        "tokens": int(delta.numel())}
    return {"sampler": sampler_dtype, "tolerance_note": "docs/agents.md: 1e-3 in fp32, more in bf16", **diffs}


def stage_update_visibility(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """Share of elements one AdamW step at lr 1e-6 changes: fp32 master weights under bf16 autocast vs bf16 weights."""
    state.pop("bf16_model", None)
    free_cuda()
    tokenizer = state["tokenizer"]
    ids = torch.tensor(prompts_of(tokenizer, 4, 256 if args.shape != "tiny" else 32), device=device())
    out: dict[str, Any] = {"lr": 1e-6}
    for label, weights in (("fp32_master_autocast", torch.float32), ("bf16_weights", torch.bfloat16)):
        model = state["model"] if weights == torch.float32 else build_model(args.shape, tokenizer, torch.bfloat16)
        model.train()
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6, weight_decay=0.0)
        context = torch.autocast(device().type, dtype=torch.bfloat16) if device().type == "cuda" else torch.autocast(
            "cpu", dtype=torch.bfloat16)
        with context:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        changed = {"linear": [0, 0], "norm": [0, 0], "embedding": [0, 0]}
        for name, p in model.named_parameters():
            kind = "norm" if "norm" in name else "embedding" if "embed" in name else "linear"
            changed[kind][0] += int((p.detach() != before[name]).sum())
            changed[kind][1] += p.numel()
        out[label] = {k: round(c / max(t, 1), 4) for k, (c, t) in changed.items()}
        del optimizer, before
        model.zero_grad(set_to_none=True)
        model.eval()
        if weights == torch.bfloat16:
            del model
        free_cuda()
    return out


def stage_memory_probe(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """Forward + backward of one micro-batch at the shipped 1.5B settings (8 turns of 2,048 prompt + 512 response
    tokens), fp32 master weights under bf16 autocast, with and without gradient checkpointing."""
    from training.forward import response_logprobs
    from training.models import compute_context, enable_gradient_checkpointing

    model, tokenizer = state["model"], state["tokenizer"]
    turns, prompt, response = (8, 2048, 512) if args.shape != "tiny" else (2, 128, 32)
    generator = torch.Generator().manual_seed(0)
    vocab = len(tokenizer)
    steps = [turn_ids(torch.randint(0, vocab, (prompt,), generator=generator).tolist(),
                      torch.randint(0, vocab, (response,), generator=generator).tolist()) for _ in range(turns)]
    pad = tokenizer.pad_token_id or tokenizer.eos_token_id
    out: dict[str, Any] = {"turns": turns, "prompt_tokens": prompt, "response_tokens": response,
                           "weights_gib": gib(sum(p.numel() * p.element_size() for p in model.parameters()))}
    compute = torch.bfloat16 if device().type == "cuda" else torch.float32
    for checkpointing in (False, True):
        label = "checkpointing" if checkpointing else "no_checkpointing"
        model.train()
        if checkpointing:
            enable_gradient_checkpointing(model)
        free_cuda()
        reset_peak()
        started = time.perf_counter()
        try:
            with compute_context(device(), compute):
                logp, entropy, mask = response_logprobs(model, steps, pad, device(), 1.0)
            (-(logp * mask).sum() / mask.sum()).backward()
            sync()
            out[label] = {"peak_gib": peak(), "seconds": round(time.perf_counter() - started, 3)}
        except torch.cuda.OutOfMemoryError as error:
            out[label] = {"oom": str(error).splitlines()[0][:300], "peak_gib": peak()}
        finally:
            model.zero_grad(set_to_none=True)
            if checkpointing:
                model.gradient_checkpointing_disable()
            model.eval()
            logp = entropy = mask = None  # noqa: F841  (free the graph before the next variant)
            free_cuda()
    out["note"] = ("the trainer adds Adam state (2 x fp32 weights), the reference (bf16) and the critic with its own "
                   "Adam state; see --dry-run")
    return out


def stage_padded_backward(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """Whether the actor's gradient is finite for a left-padded micro-batch (turns of different lengths), with the
    trainer's mask (pad positions attend to themselves) and with the plain 2-D padding mask."""
    import training.forward as forward
    from training.models import compute_context

    model, tokenizer = state["model"], state["tokenizer"]
    generator = torch.Generator().manual_seed(1)
    vocab = len(tokenizer)
    sizes = [(300, 40), (900, 96), (120, 12), (600, 64)] if args.shape != "tiny" else [(20, 4), (60, 9), (8, 3)]
    steps = [turn_ids(torch.randint(0, vocab, (p,), generator=generator).tolist(),
                      torch.randint(0, vocab, (r,), generator=generator).tolist()) for p, r in sizes]
    pad = tokenizer.pad_token_id or tokenizer.eos_token_id
    compute = torch.bfloat16 if device().type == "cuda" else torch.float32
    out: dict[str, Any] = {"turns": [list(s) for s in sizes]}
    original = forward.left_padded_mask
    for label, mask_fn in (("self_attending_pads", original), ("plain_2d_mask", lambda attention, eager=False: attention)):
        forward.left_padded_mask = mask_fn
        model.train()
        try:
            with compute_context(device(), compute):
                logp, _, mask = forward.response_logprobs(model, steps, pad, device(), 1.0)
            (-(logp * mask).sum() / mask.sum()).backward()
            norm = torch.sqrt(sum((p.grad.float() ** 2).sum() for p in model.parameters() if p.grad is not None))
            out[label] = {"loss_finite": bool(torch.isfinite(logp[mask]).all()), "grad_norm": float(norm),
                          "grad_finite": bool(torch.isfinite(norm))}
        finally:
            forward.left_padded_mask = original
            model.zero_grad(set_to_none=True)
            model.eval()
    return out


def run_trainer(args: argparse.Namespace, overrides: list[str], torchrun: bool = False) -> dict[str, Any]:
    """`python -m training.run` in a subprocess; its metrics rows and the tail of its output."""
    out_dir = Path(tempfile.mkdtemp(prefix="smoke-run-"))
    command = [sys.executable, "-m", "training.run", "--quiet", f"output_dir={out_dir}", "run_name=smoke", *overrides]
    if torchrun:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1", "-m",
                   "training.run", "--quiet", f"output_dir={out_dir}", "run_name=smoke", *overrides]
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=args.trainer_timeout)
    result: dict[str, Any] = {"rc": done.returncode, "wall_s": round(time.perf_counter() - started, 1),
                              "command": " ".join(command[1:]), "output_tail": (done.stdout + done.stderr)[-2500:]}
    if args.logs:
        Path(args.logs).mkdir(parents=True, exist_ok=True)
        Path(args.logs, f"{'torchrun' if torchrun else 'trainer'}.log").write_text(done.stdout + done.stderr)
    metrics = out_dir / "smoke" / "metrics.jsonl"
    if metrics.exists():
        result["rows"] = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    checkpoints = sorted((out_dir / "smoke" / "checkpoints").glob("iter_*")) if (out_dir / "smoke").exists() else []
    if checkpoints:
        result["checkpoint_gib"] = gib(sum(f.stat().st_size for f in checkpoints[-1].rglob("*") if f.is_file()))
    return result


def stage_iteration(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """One HiPER iteration of the trainer on BabyAI with the 1.5B-shaped model (full fine-tuning, critic, KL)."""
    model_dir = Path(tempfile.mkdtemp(prefix="smoke-model-"))
    started = time.perf_counter()
    actor_params = n_params(state["model"])
    critic_params = n_params(state["model"].model)
    state["model"].to(torch.bfloat16).save_pretrained(model_dir)  # half the bytes to write; the trainer loads fp32
    state["tokenizer"].save_pretrained(model_dir)
    from hiper_agents.tiny import TINY_MARKER  # load the saved fast tokenizer as it is (no AutoTokenizer swap)

    (model_dir / TINY_MARKER).write_text('{"tokenizer_class": "PreTrainedTokenizerFast"}\n')
    saved_s = time.perf_counter() - started
    state.pop("model")
    state["model_dir"] = model_dir
    free_cuda()
    envs, steps, new = (32, 4, 96) if args.shape != "tiny" else (4, 2, 16)
    overrides = [*iteration_overrides(args, model_dir), "sft.enabled=false"]
    result = run_trainer(args, overrides)
    result["plan_gib"] = planned_gib(overrides)
    result["model_save_s"] = round(saved_s, 1)
    result["settings"] = {"num_envs": envs, "max_steps": steps, "max_new_tokens": new}
    # checkpoint_keep=0: the 1.5B checkpoint would not fit the machine's disk beside the model; its size by arithmetic
    # (fp32 weights + two fp32 Adam moments, actor and critic)
    result["checkpoint_estimate_gib"] = gib(4 * 3 * (actor_params + critic_params))
    for row in result.get("rows", []):
        if row.get("iteration") == 1 and "time/update_s" in row:
            result["phases"] = {k: row[k] for k in row if k.startswith(("time/", "memory/", "throughput/"))}
            result["turns"] = row.get("turns")
    return result


def iteration_overrides(args: argparse.Namespace, model_dir: Path) -> list[str]:
    """The smoke's one-iteration run of the saved model on BabyAI (1.5B: 32 envs x 4 turns, 96 new tokens)."""
    envs, steps, new = (32, 4, 96) if args.shape != "tiny" else (4, 2, 16)
    return [f"model.name={model_dir}", "env.id=hiper/BabyAI-v0", "env.kwargs={level: GoToLocalSeq}",
            f"env.num_envs={envs}", f"env.max_steps={steps}", "iterations=1", "eval.every=0", "eval.episodes=8",
            f"rollout.max_new_tokens={new}", "rollout.max_prompt_tokens=1024", "rollout.history_length=2",
            "optim.mini_batch_turns=64", "optim.micro_batch_turns=8", "optim.micro_batch_tokens=8800",
            "optim.actor_lr=1e-6", "algo.name=hiper", "rollout.prompt_style=full", "model.gradient_checkpointing=true",
            "checkpoint_keep=0"]


def planned_gib(overrides: list[str]) -> float | None:
    """The memory plan's peak for the run these overrides make, on this GPU (to set against the measured peak)."""
    from training.config import load_config
    from training.memory import memory_plan

    total = torch.cuda.get_device_properties(0).total_memory / 2**30 if torch.cuda.is_available() else 80.0
    plan = memory_plan(load_config("default_cpu.yaml", overrides), gpu_gib=total)
    return gib(plan.peak()) if plan is not None else None


def stage_lora_iteration(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """A LoRA run with a short SFT warm start on the same model (bf16 base) and the critic as a second adapter on it
    (the 7B-on-one-GPU recipe's layout): the SFT adapter is merged and the KL of the first RL step must be ~0 (the
    reference is the SFT policy)."""
    model_dir = state.get("model_dir")
    if model_dir is None:
        return {"skipped": "no saved model (the iteration stage did not save one)"}
    overrides = [*iteration_overrides(args, model_dir), "model.lora=true", "critic.backbone=adapter", "sft.enabled=true",
                 "sft.episodes=16", "sft.epochs=1", "sft.lr=1e-4", "optim.mini_batch_turns=1000"]
    result = run_trainer(args, overrides)
    result["plan_gib"] = planned_gib(overrides)
    for row in result.pop("rows", []):
        if row.get("iteration") == 1 and "kl" in row:
            result["first_step"] = {k: row[k] for k in ("kl", "clip_frac", "update/skipped_steps", "grad_norm/actor",
                                                          "memory/update_peak_gib", "time/update_s") if k in row}
    return result


def stage_lora_7b(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """Opt-in (`--only lora_7b`; about 4 min, 15 GB written and read): the `*_7b_lora` recipe's layout at Qwen2.5-7B's
    shape with random bf16 weights (LoRA actor, the critic a second adapter on the same base), one iteration: the
    update's measured peak against the memory plan's."""
    shape = "qwen2.5-7b" if args.shape != "tiny" else "tiny"
    state.pop("model", None)  # the 1.5B model of the earlier stages: its GPU memory goes back first
    free_cuda()
    model_dir = Path(tempfile.mkdtemp(prefix="smoke-7b-"))
    started = time.perf_counter()
    model = build_model(shape, state["tokenizer"], dtype=torch.bfloat16)
    parameters = n_params(model)
    model.save_pretrained(model_dir)
    del model
    free_cuda()
    state["tokenizer"].save_pretrained(model_dir)
    from hiper_agents.tiny import TINY_MARKER

    (model_dir / TINY_MARKER).write_text('{"tokenizer_class": "PreTrainedTokenizerFast"}\n')
    saved_s = time.perf_counter() - started
    overrides = [*iteration_overrides(args, model_dir), "sft.enabled=false", "model.lora=true",
                 "critic.backbone=adapter", "optim.actor_lr=1e-5", "critic.lr=1e-4"]
    result = run_trainer(args, overrides)
    result.update(plan_gib=planned_gib(overrides), parameters=parameters, model_save_s=round(saved_s, 1))
    for row in result.pop("rows", []):
        if row.get("iteration") == 1 and "time/update_s" in row:
            result["phases"] = {k: row[k] for k in row if k.startswith(("time/", "memory/", "throughput/"))}
            result["first_step"] = {k: row[k] for k in ("kl", "update/skipped_steps", "grad_norm/actor",
                                                          "grad_norm/critic") if k in row}
    shutil.rmtree(model_dir, ignore_errors=True)
    return result


def stage_fsdp(args: argparse.Namespace, state: dict[str, Any]) -> dict[str, Any]:
    """The trainer under torchrun, one process, nccl, model.fsdp=true, a tiny model: does FSDP2 start and step."""
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device (nccl needs one)"}
    overrides = ["env.id=hiper/BabyAI-v0", "env.kwargs={level: GoToLocalSeq}", "env.num_envs=8", "env.max_steps=4",
                 "iterations=2", "eval.every=0", "eval.episodes=8", "sft.enabled=true", "sft.episodes=20",
                 "model.fsdp=true", "rollout.max_new_tokens=48", "rollout.prompt_style=compact",
                 "rollout.history_length=0", "optim.mini_batch_turns=16", "optim.micro_batch_turns=8"]
    result = run_trainer(args, overrides, torchrun=True)
    rows = result.pop("rows", [])
    result["iterations_logged"] = sum(1 for r in rows if "time/update_s" in r)
    return result


def summary_table(stages: dict[str, Any]) -> str:
    """One line per stage: its status, seconds and headline figure."""
    def headline(name: str, s: dict[str, Any]) -> str:
        if s.get("status") != "ok":
            return str(s.get("skipped") or s.get("error", ""))[:90]
        get = lambda *keys: _dig(s, keys)  # noqa: E731
        return {
            "generation": f"tokens/s fp32 master {get('fp32_master', 'tokens_per_s')}, bf16 copy {get('bf16_copy', 'tokens_per_s')}",
            "logprobs": f"mean |sampler - trainer| {get('autocast_fp32_master', 'mean_abs')} nats",
            "update_visibility": f"linear weights changed: fp32 master {get('fp32_master_autocast', 'linear')}, "
                                 f"bf16 {get('bf16_weights', 'linear')}",
            "memory_probe": f"peak GiB: {get('no_checkpointing', 'peak_gib')} plain, {get('checkpointing', 'peak_gib')} "
                            "with checkpointing",
            "padded_backward": f"grad finite: {get('self_attending_pads', 'grad_finite')} (plain mask "
                               f"{get('plain_2d_mask', 'grad_finite')})",
            "iteration": f"rollout {get('phases', 'time/rollout_s')} s, update {get('phases', 'time/update_s')} s, "
                         f"update peak {get('phases', 'memory/update_peak_gib')} GiB (plan {get('plan_gib')})",
            "lora_iteration": f"first step kl {get('first_step', 'kl')}, update peak "
                              f"{get('first_step', 'memory/update_peak_gib')} GiB (plan {get('plan_gib')})",
            "lora_7b": f"update {get('phases', 'time/update_s')} s, update peak "
                       f"{get('phases', 'memory/update_peak_gib')} GiB (plan {get('plan_gib')})",
        }.get(name, "")

    lines = ["| stage | status | seconds | figure |", "| --- | --- | ---: | --- |"]
    for name, s in stages.items():
        lines.append(f"| {name} | {s.get('status')} | {s.get('seconds', '')} | {headline(name, s)} |")
    return "\n".join(lines)


def _dig(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        data = data.get(key, {}) if isinstance(data, dict) else {}
    return round(data, 3) if isinstance(data, float) else (data if data != {} else "n/a")


def main(argv: list[str] | None = None) -> int:
    """Run every stage; the JSON at --out holds what finished."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "gpu_smoke.json"), help="JSON written after each stage")
    parser.add_argument("--shape", default="qwen2.5-1.5b" if torch.cuda.is_available() else "tiny", choices=list(SHAPES),
                        help="model shape (default: the 1.5B on CUDA, tiny on CPU)")
    parser.add_argument("--tokenizer", default=None, help="a saved tokenizer directory (SmolLM2's); else BPE built here")
    parser.add_argument("--trainer-timeout", type=int, default=170, help="seconds for each trainer subprocess")
    parser.add_argument("--logs", default=None, help="directory for the trainer subprocesses' whole output")
    parser.add_argument("--only", nargs="*", default=None, help="run only these stages (names as in the JSON)")
    args = parser.parse_args(argv)
    report = Report(Path(args.out))
    report.data["shape"] = args.shape
    state: dict[str, Any] = {}

    def setup() -> dict[str, Any]:
        tokenizer, source = load_tokenizer(args.tokenizer)
        started = time.perf_counter()
        state["tokenizer"], state["model"] = tokenizer, build_model(args.shape, tokenizer)
        sync()
        return {"tokenizer": source, "vocab_in_tokenizer": len(tokenizer), "parameters": n_params(state["model"]),
                "build_s": round(time.perf_counter() - started, 2), **SHAPES[args.shape]}

    stages: list[tuple[str, int, Callable[[], dict[str, Any]]]] = [
        ("versions", 30, lambda: stage_versions(args)),
        ("model", 90, setup),
        ("generation", 75, lambda: stage_generation(args, state)),
        ("logprobs", 30, lambda: stage_logprobs(args, state)),
        ("update_visibility", 45, lambda: stage_update_visibility(args, state)),
        ("memory_probe", 45, lambda: stage_memory_probe(args, state)),
        ("padded_backward", 30, lambda: stage_padded_backward(args, state)),
        ("iteration", args.trainer_timeout + 15, lambda: stage_iteration(args, state)),
        ("lora_iteration", args.trainer_timeout + 15, lambda: stage_lora_iteration(args, state)),
        ("fsdp", args.trainer_timeout + 15, lambda: stage_fsdp(args, state)),
        ("lora_7b", args.trainer_timeout + 90, lambda: stage_lora_7b(args, state)),
    ]
    opt_in = {"lora_7b"}  # longer than the 8-minute whole: run with --only
    needs_model = {"generation", "logprobs", "update_visibility", "memory_probe", "padded_backward", "iteration"}
    for name, seconds, fn in stages:
        if args.only is not None and name not in args.only and name not in ("versions", "model"):
            continue
        if name in opt_in and (args.only is None or name not in args.only):
            continue
        if name in needs_model and "model" not in state:
            report.data["stages"][name] = {"status": "skipped", "skipped": "no model (the model stage failed)"}
            report.write()
            continue
        report.run(name, seconds, fn)
    report.data["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    report.write()
    print(summary_table(report.data["stages"]))
    failed = [n for n, s in report.data["stages"].items() if s["status"] in ("error", "timeout")]
    print(f"wrote {args.out}; failed stages: {failed or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
