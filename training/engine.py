"""Where rollouts are generated (docs/training.md, "Running on GPUs"): transformers with the live actor, or a vLLM
engine holding its own copy of the weights, refreshed after every update and asleep during it where vLLM can be."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import torch

from hiper_agents.backends.transformers_backend import TransformersBackend
from training.config import RunConfig
from training.distributed import DistInfo, barrier, engine_sees_only_this_rank_gpu
from training.fsdp import StreamedWeights, is_sharded
from training.models import Models, save_actor


class RolloutEngine:
    """The trainer's generation backend, and how its weights follow the actor's.

    A vLLM engine starts from whole weights, so it is started before the models are sharded; a transformers backend
    generates with the (sharded) actor itself, so it is started after."""

    def __init__(self, cfg: RunConfig, models: Models, dist: DistInfo, run_dir: Path):
        self.cfg, self.models, self.dist, self.run_dir = cfg, models, dist, run_dir
        self.sleeps = False  # whether the vLLM engine frees its memory during updates
        self.backend = self._start()

    @property
    def is_vllm(self) -> bool:
        """Whether a vLLM engine generates (else transformers, with the live actor)."""
        return self.cfg.rollout.backend == "vllm"

    def _start(self) -> Any:
        if not self.is_vllm:
            return TransformersBackend(self.models.actor, self.models.tokenizer, device=str(self.models.device))
        from hiper_agents.backends.vllm_backend import VLLMBackend

        weights_dir = self.run_dir / "vllm_weights"  # rank 0 writes, every rank's engine reads
        if self.dist.is_main:
            save_actor(self.models.actor, self.models.tokenizer, weights_dir, tiny=self.cfg.model.name == "tiny",
                       whole=True)
        barrier(self.dist)
        rollout = self.cfg.rollout
        # max_model_len from the budgets (prompts are cut to max_prompt_tokens): not the model's 32k context, which
        # vLLM would otherwise reserve room for
        kwargs = {"gpu_memory_utilization": 0.4, "seed": self.cfg.seed,
                  "max_model_len": rollout.max_prompt_tokens + rollout.max_new_tokens, **rollout.vllm_kwargs}
        available = VLLMBackend.sleep_mode_available()
        self.sleeps = rollout.engine_sleep == "always" or (rollout.engine_sleep == "auto" and available)
        if self.sleeps and available:
            kwargs.setdefault("enable_sleep_mode", True)
        elif self.sleeps and self.dist.is_main:
            print("rollout.engine_sleep=always: vLLM's sleep mode frees no memory on this platform (its workers ignore "
                  "it); the engine is still put to sleep and woken around every update")
        if not (self.dist.enabled and self.models.device.type == "cuda"):
            return VLLMBackend(weights_dir, self.models.tokenizer, **kwargs)
        # Several ranks on CUDA: each rank's engine in its own process that sees only this rank's GPU (not tested on
        # a GPU here: no lent machine could install vLLM).
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "1"
        with engine_sees_only_this_rank_gpu():
            return VLLMBackend(weights_dir, self.models.tokenizer, **kwargs)

    def generating_model(self) -> Any:
        """The model rollouts run through in this process: the actor for transformers, none for vLLM (the engine
        holds its own copy, so a sharded actor is not gathered for it)."""
        return None if self.is_vllm else self.models.actor

    def before_update(self) -> dict[str, float]:
        """Put a sleeping engine to sleep (the update gets its share of the GPU; `sync` wakes it); its seconds."""
        if not self.sleeps:
            return {}
        started = time.perf_counter()
        self.backend.sleep()
        return {"time/sleep_s": time.perf_counter() - started}

    def sync(self) -> None:
        """After an update, push the actor's weights (LoRA merged) into the vLLM engine (docs/agents.md)."""
        if not self.is_vllm:
            return  # the transformers backend generates with the live model
        from hiper_agents.backends.base import BackendError
        from hiper_agents.backends.vllm_backend import merged_weights

        if self.sleeps:  # asleep since the update began: weights first, the KV cache once they are loaded
            release_cached_memory(self.models.device)  # what the update's allocator caches, the engine can't use
            self.backend.wake_up(["weights"])
        if self.backend.in_process:  # streamed tensor by tensor into the engine's model, no disk round trip
            self.backend.load_weights(merged_weights(self.models.actor, self._streamed_weights()))
        else:
            self.backend.reload_weights(self.save_weights(self.run_dir / "vllm_sync"))
        if self.sleeps and self.backend.wake_up(["kv_cache"]) is False:  # None: this vLLM does not say
            raise BackendError("the vLLM engine is not fully awake after the weight sync (wake_up returned False)")

    def _streamed_weights(self) -> StreamedWeights | None:
        """A sharded actor's weights, gathered one tensor at a time as they are read (never whole); else None."""
        return StreamedWeights(self.models.actor) if is_sharded(self.models.actor) else None

    def save_weights(self, directory: Path) -> Path:
        """Write the actor's whole weights (adapters added) for the engines to load: rank 0 writes one file, the other
        ranks join each tensor's gather when the actor is sharded, and every rank returns once it is written."""
        from hiper_agents.backends.vllm_backend import save_merged_weights

        weights = self._streamed_weights()
        if self.dist.is_main:
            save_merged_weights(self.models.actor, directory, weights)
        elif weights is not None:
            for _ in weights.items():
                pass
        barrier(self.dist)
        return directory


def release_cached_memory(device: torch.device) -> None:
    """Give the blocks PyTorch's allocator caches back to the GPU (for a vLLM engine waking up beside it)."""
    if device.type == "cuda":
        import gc

        gc.collect()
        torch.cuda.empty_cache()
