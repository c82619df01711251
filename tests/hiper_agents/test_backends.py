"""The transformers backend: log-probs equal a forward pass, explicit sampling, stopping, seeds, PEFT, errors."""

from __future__ import annotations

import pytest
import torch

from hiper_agents.backends import BackendError, SamplingParams, TransformersBackend
from hiper_agents.backends.base import stop_token_ids
from tests.hiper_agents.logprob_check import forward_logprobs

# fp32 on CPU: generate's incremental (KV-cache, left-padded) logits vs one full forward pass.
LOGPROB_TOLERANCE = 1e-4


def _prompts(tokenizer):
    texts = ["You are in room 1. A key lies on the floor.", "look", "take key and then open the door please"]
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_logprobs_equal_a_forward_pass_of_logits_over_temperature(tiny_model, tiny_tokenizer, temperature):
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    completions = backend.generate(_prompts(tiny_tokenizer), SamplingParams(temperature=temperature, max_new_tokens=24, seed=3))
    worst = 0.0
    for completion in completions:
        assert len(completion.logprobs) == len(completion.response_ids) > 0
        expected = forward_logprobs(tiny_model, completion, temperature)
        worst = max(worst, (expected - torch.tensor(completion.logprobs)).abs().max().item())
    assert worst < LOGPROB_TOLERANCE


def test_greedy_logprobs_use_temperature_one_and_repeat(tiny_model, tiny_tokenizer):
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    greedy = SamplingParams(temperature=0.0, max_new_tokens=12)
    first, second = backend.generate(_prompts(tiny_tokenizer), greedy), backend.generate(_prompts(tiny_tokenizer), greedy)
    assert [c.response_ids for c in first] == [c.response_ids for c in second]
    for completion in first:
        expected = forward_logprobs(tiny_model, completion, 1.0)
        assert (expected - torch.tensor(completion.logprobs)).abs().max().item() < LOGPROB_TOLERANCE


def test_seed_reproduces_samples_and_leaves_global_rng_alone(tiny_model, tiny_tokenizer):
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    sampling = SamplingParams(temperature=1.0, max_new_tokens=16, seed=11)
    torch.manual_seed(0)
    before = torch.rand(1)
    torch.manual_seed(0)
    a = backend.generate(_prompts(tiny_tokenizer), sampling)
    after = torch.rand(1)
    b = backend.generate(_prompts(tiny_tokenizer), sampling)
    assert [c.response_ids for c in a] == [c.response_ids for c in b]
    assert torch.equal(before, after)


def test_unseeded_calls_draw_different_samples(tiny_model, tiny_tokenizer):
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    sampling = SamplingParams(temperature=1.0, max_new_tokens=16)
    a = backend.generate(_prompts(tiny_tokenizer), sampling)
    b = backend.generate(_prompts(tiny_tokenizer), sampling)
    assert [c.response_ids for c in a] != [c.response_ids for c in b]


def test_model_generation_config_cannot_change_sampling(tiny_model, tiny_tokenizer):
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    sampling = SamplingParams(temperature=1.0, max_new_tokens=16, seed=5)
    reference = backend.generate(_prompts(tiny_tokenizer), sampling)
    tiny_model.generation_config.top_k = 1
    tiny_model.generation_config.repetition_penalty = 3.0
    try:
        changed = backend.generate(_prompts(tiny_tokenizer), sampling)
    finally:
        tiny_model.generation_config.top_k = None
        tiny_model.generation_config.repetition_penalty = None
    assert [c.response_ids for c in changed] == [c.response_ids for c in reference]


def test_stops_on_im_end_and_text_excludes_it(tiny_model, tiny_tokenizer, monkeypatch):
    im_end = tiny_tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert im_end in stop_token_ids(tiny_tokenizer)
    original = tiny_model.forward
    calls = {"n": 0}

    def forward_ending_on_third_token(*args, **kwargs):
        out = original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] >= 3:  # prefill, two free tokens, then <|im_end|> wins
            out.logits[..., im_end] += 1e4
        return out

    monkeypatch.setattr(tiny_model, "forward", forward_ending_on_third_token)
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    [completion] = backend.generate(_prompts(tiny_tokenizer)[:1], SamplingParams(max_new_tokens=20, seed=0))
    assert completion.finish_reason == "stop" and completion.response_ids[-1] == im_end
    assert len(completion.response_ids) == 3 and "<|im_end|>" not in completion.text
    assert completion.text == tiny_tokenizer.decode(completion.response_ids[:-1])


def test_length_finish_when_max_new_tokens_reached(tiny_model, tiny_tokenizer):
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    stops = set(stop_token_ids(tiny_tokenizer))
    for completion in backend.generate(_prompts(tiny_tokenizer), SamplingParams(max_new_tokens=5, seed=1)):
        if completion.finish_reason == "length":
            assert len(completion.response_ids) == 5 and not stops & set(completion.response_ids)
        else:
            assert completion.response_ids[-1] in stops


def test_peft_model_generates_and_training_mode_is_restored(tiny_model, tiny_tokenizer):
    import copy

    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(copy.deepcopy(tiny_model), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.5))
    peft_model.train()
    backend = TransformersBackend(peft_model, tiny_tokenizer, batch_size=2)
    completions = backend.generate(_prompts(tiny_tokenizer), SamplingParams(temperature=0.7, max_new_tokens=10, seed=2))
    assert peft_model.training
    peft_model.eval()
    for completion in completions:
        expected = forward_logprobs(peft_model, completion, 0.7)
        assert (expected - torch.tensor(completion.logprobs)).abs().max().item() < LOGPROB_TOLERANCE


def test_backend_failure_raises_one_clear_error(tiny_model, tiny_tokenizer):
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    with pytest.raises(BackendError, match="transformers generation failed"):
        backend.generate([[len(tiny_tokenizer) + 50]], SamplingParams(max_new_tokens=2))
    with pytest.raises(BackendError, match="empty prompt"):
        backend.generate([[]], SamplingParams(max_new_tokens=2))


def test_sampling_params_validate():
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0.0)
    with pytest.raises(ValueError, match="temperature"):
        SamplingParams(temperature=-1)
    assert SamplingParams(temperature=0).logprob_temperature == 1.0


def _two_adapter_model(tiny_model):
    import copy

    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=4, lora_alpha=32, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    torch.manual_seed(0)
    model = get_peft_model(copy.deepcopy(tiny_model), config, adapter_name="planner")
    torch.manual_seed(1)
    model.add_adapter("executor", config)
    return model.eval()


def test_use_adapter_generates_with_the_named_adapter_or_the_base(tiny_model, tiny_tokenizer):
    model = _two_adapter_model(tiny_model)
    backend = TransformersBackend(model, tiny_tokenizer)
    sampling = SamplingParams(temperature=1.0, max_new_tokens=8, seed=0)
    for name in ("planner", "executor", None):
        backend.use_adapter(name)
        completions = backend.generate(_prompts(tiny_tokenizer), sampling)
        if name is None:
            with model.disable_adapter():
                expected = [forward_logprobs(model, c, 1.0) for c in completions]
        else:
            model.set_adapter(name)
            expected = [forward_logprobs(model, c, 1.0) for c in completions]
        for completion, logprobs in zip(completions, expected):
            assert (logprobs - torch.tensor(completion.logprobs)).abs().max().item() < LOGPROB_TOLERANCE
    with pytest.raises(KeyError, match="no adapter named"):
        backend.use_adapter("critic")


def test_extra_stop_token_ends_the_response_and_stays_in_the_text(tiny_model, tiny_tokenizer, monkeypatch):
    close = tiny_tokenizer.convert_tokens_to_ids("</subgoal>")
    original = tiny_model.forward

    def forward_closing_subgoal(*args, **kwargs):
        out = original(*args, **kwargs)
        out.logits[..., close] += 1e4
        return out

    monkeypatch.setattr(tiny_model, "forward", forward_closing_subgoal)
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    [completion] = backend.generate(_prompts(tiny_tokenizer)[:1], SamplingParams(max_new_tokens=8, stop_token_ids=(close,)))
    assert completion.response_ids == [close] and completion.finish_reason == "stop" and completion.text == "</subgoal>"


def test_copies_of_one_prompt_in_one_seeded_call_give_different_samples(tiny_model, tiny_tokenizer):
    """A GRPO group sends the same prompt group_n times with one seed: every copy must draw its own sample."""
    backend = TransformersBackend(tiny_model, tiny_tokenizer)
    prompt = _prompts(tiny_tokenizer)[0]
    completions = backend.generate([prompt] * 8, SamplingParams(temperature=1.0, max_new_tokens=16, seed=3))
    assert len({tuple(c.response_ids) for c in completions}) == 8


def test_request_seeds_are_distinct_and_stable():
    from hiper_agents.backends.base import derive_seed, request_seeds

    seeds = request_seeds(SamplingParams(seed=7), 64)
    assert len(set(seeds)) == 64 and seeds == request_seeds(SamplingParams(seed=7), 64)
    assert request_seeds(SamplingParams(), 3) == [None, None, None]
    assert derive_seed(7, 0) != derive_seed(7, 1) != derive_seed(8, 0) and 0 <= derive_seed(-5, 2**40) < 2**31
