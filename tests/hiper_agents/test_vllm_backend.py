"""The vLLM backend: a clear ImportError without vllm; in the vllm venv (marker `vllm`) real generation from our ids,
log-probs equal to a transformers forward pass, LoRA version swaps and full-weight reloads changing outputs."""

from __future__ import annotations

import importlib.util
import os

import pytest

from hiper_agents.backends import SamplingParams
from tests.hiper_agents.logprob_check import forward_logprobs

HAS_VLLM = importlib.util.find_spec("vllm") is not None
LOGPROB_TOLERANCE = 1e-3  # fp32 on both sides; vLLM's CPU kernels differ from torch's in the last bits


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed")
def test_missing_vllm_raises_import_error_naming_the_extra(tiny_tokenizer):
    from hiper_agents.backends import VLLMBackend

    with pytest.raises(ImportError, match=r"pip install hiper\[vllm\]"):
        VLLMBackend("/nonexistent", tiny_tokenizer)


def test_merged_weights_of_a_peft_model_have_base_names(tiny_model, tmp_path):
    import copy

    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file

    from hiper_agents.backends.vllm_backend import save_merged_weights

    peft_model = get_peft_model(copy.deepcopy(tiny_model), LoraConfig(r=4, target_modules=["q_proj"], init_lora_weights=False))
    save_merged_weights(peft_model, tmp_path)
    state = load_file(str(tmp_path / "model.safetensors"))
    assert set(state) == set(tiny_model.state_dict())  # lm_head too: vLLM's CPU engine keeps its own copy of a tied head
    merged_q = state["model.layers.0.self_attn.q_proj.weight"]
    assert not merged_q.equal(tiny_model.state_dict()["model.layers.0.self_attn.q_proj.weight"])
    assert any("lora_A" in k for k in peft_model.state_dict())  # unmerged: the adapter is still separate


def test_syncing_lora_weights_leaves_a_bf16_base_untouched(tiny_model, tmp_path):
    """Ten syncs of a bf16 base with an fp32 adapter: the base stays bit-identical and the saved weights equal an fp32
    merge (PEFT's merge/unmerge round trip in bf16 drifted the base)."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model
    from safetensors.torch import load_file

    from hiper_agents.backends.vllm_backend import save_merged_weights

    base = copy.deepcopy(tiny_model).to(torch.bfloat16)
    peft_model = get_peft_model(base, LoraConfig(r=4, target_modules="all-linear", init_lora_weights=False))
    for p in peft_model.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    before = {k: v.clone() for k, v in peft_model.state_dict().items() if "lora_" not in k}
    for _ in range(10):
        save_merged_weights(peft_model, tmp_path)
    after = peft_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    reference = get_peft_model(copy.deepcopy(tiny_model).float(), LoraConfig(r=4, target_modules="all-linear"))
    reference.load_state_dict({k: v.float() for k, v in peft_model.state_dict().items()})
    expected = reference.merge_and_unload().state_dict()
    saved = load_file(str(tmp_path / "model.safetensors"))
    name = "model.layers.0.mlp.down_proj.weight"
    assert saved[name].dtype == torch.bfloat16
    torch.testing.assert_close(saved[name].float(), expected[name].to(torch.bfloat16).float())


needs_vllm = pytest.mark.skipif(not HAS_VLLM, reason="needs the vllm venv (docs/agents.md)")


@pytest.fixture(scope="module")
def engine(tmp_path_factory, tiny_tokenizer):
    """One engine for the module (start ~25 s): a tiny model with head size 64, LoRA on."""
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "0-1")
    from hiper_agents.backends.vllm_backend import VLLMBackend
    from hiper_agents.tiny import build_tiny_model, save_tiny

    model = build_tiny_model(tiny_tokenizer, hidden=128, layers=2, heads=2, kv_heads=1, seed=1)
    directory = save_tiny(tmp_path_factory.mktemp("vllm") / "tiny", model, tiny_tokenizer)
    backend = VLLMBackend(directory, tiny_tokenizer, enable_lora=True, max_lora_rank=8, max_loras=2,
                          enforce_eager=True, dtype="float32", max_model_len=1024)
    return backend, model, tmp_path_factory.mktemp("weights")


def _prompts(tokenizer):
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in ("You are in room 1.", "take key", "look around")]


@pytest.mark.vllm
@needs_vllm
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_vllm_logprobs_equal_a_transformers_forward_pass(engine, tiny_tokenizer, temperature):
    import torch

    backend, model, _ = engine
    completions = backend.generate(_prompts(tiny_tokenizer), SamplingParams(temperature=temperature, max_new_tokens=16, seed=0))
    for completion in completions:
        assert completion.response_ids and len(completion.logprobs) == len(completion.response_ids)
        expected = forward_logprobs(model, completion, temperature)
        assert (expected - torch.tensor(completion.logprobs)).abs().max().item() < LOGPROB_TOLERANCE


@pytest.mark.vllm
@needs_vllm
def test_vllm_generates_from_our_token_ids_and_decodes_with_our_tokenizer(engine, tiny_tokenizer):
    from hiper_agents.backends.transformers_backend import TransformersBackend

    backend, model, _ = engine
    greedy = SamplingParams(temperature=0.0, max_new_tokens=12)
    ours = backend.generate(_prompts(tiny_tokenizer), greedy)
    reference = TransformersBackend(model, tiny_tokenizer).generate(_prompts(tiny_tokenizer), greedy)
    assert [c.response_ids for c in ours] == [c.response_ids for c in reference]
    assert [c.text for c in ours] == [c.text for c in reference]


@pytest.mark.vllm
@needs_vllm
def test_lora_version_swap_changes_outputs(engine, tiny_tokenizer, tmp_path):
    from peft import LoraConfig, get_peft_model

    backend, model, _ = engine
    greedy = SamplingParams(temperature=0.0, max_new_tokens=12)
    base = [c.response_ids for c in backend.generate(_prompts(tiny_tokenizer), greedy)]
    import copy

    import torch

    outputs = []
    for version in range(2):
        torch.manual_seed(version)
        config = LoraConfig(r=8, lora_alpha=64, target_modules=["q_proj", "v_proj", "o_proj"], init_lora_weights=False)
        peft_model = get_peft_model(copy.deepcopy(model), config)
        peft_model.save_pretrained(tmp_path / f"v{version}")
        backend.load_adapter(tmp_path / f"v{version}", role="executor")
        outputs.append([c.response_ids for c in backend.generate(_prompts(tiny_tokenizer), greedy)])
    backend.use_adapter(None)
    assert outputs[0] != base and outputs[1] != outputs[0]
    assert [c.response_ids for c in backend.generate(_prompts(tiny_tokenizer), greedy)] == base


@pytest.mark.vllm
@needs_vllm
def test_full_weight_reload_changes_outputs(engine, tiny_tokenizer):
    import copy

    import torch

    from hiper_agents.backends.transformers_backend import TransformersBackend
    from hiper_agents.backends.vllm_backend import save_merged_weights

    backend, model, weights_dir = engine
    greedy = SamplingParams(temperature=0.0, max_new_tokens=12)
    before = [c.response_ids for c in backend.generate(_prompts(tiny_tokenizer), greedy)]
    updated = copy.deepcopy(model)
    with torch.no_grad():
        for p in updated.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    backend.reload_weights(save_merged_weights(updated, weights_dir))
    after = [c.response_ids for c in backend.generate(_prompts(tiny_tokenizer), greedy)]
    expected = [c.response_ids for c in TransformersBackend(updated, tiny_tokenizer).generate(_prompts(tiny_tokenizer), greedy)]
    assert after != before and after == expected



@pytest.mark.vllm
@needs_vllm
def test_vllm_copies_of_one_prompt_in_one_seeded_call_give_different_samples(engine, tiny_tokenizer):
    """vLLM seeds each request with its own seed: one seed shared by a GRPO group's copies gave identical samples."""
    backend, _, _ = engine
    prompt = _prompts(tiny_tokenizer)[0]
    sampling = SamplingParams(temperature=1.0, max_new_tokens=16, seed=3)
    completions = backend.generate([prompt] * 8, sampling)
    assert len({tuple(c.response_ids) for c in completions}) == 8
    again = backend.generate([prompt] * 8, sampling)  # and the same call reproduces them
    assert [c.response_ids for c in again] == [c.response_ids for c in completions]
