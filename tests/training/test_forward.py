"""Response log-probs from a padded batch equal one-sequence forward passes (the trainer's pi_old and pi_theta)."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from hiper_agents.policy import PolicyStep
from hiper_agents.turn import parse_turn
from training.forward import response_logprobs
from training.losses import token_logprobs_and_entropy


def _sample(prompt, response):
    return PolicyStep(slot=0, action="", turn=parse_turn(""), prompt_ids=prompt, response_ids=response, logprobs=None,
                      token_spans={}, starts_segment=True, keep_subgoal_changed=False, prompt_text="")


def test_padded_batch_logprobs_equal_single_sequence_forward():
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2)).eval()
    samples = [_sample([1, 2, 3, 4, 5], [6, 7]), _sample([8, 9], [10, 11, 12, 13]), _sample([3] * 7, [4])]
    with torch.no_grad():
        logp, entropy, mask = response_logprobs(model, samples, pad_id=0, device=torch.device("cpu"), temperature=0.7)
        for i, s in enumerate(samples):
            ids = torch.tensor([s.prompt_ids + s.response_ids])
            logits = model(input_ids=ids).logits[0, len(s.prompt_ids) - 1 : -1]
            expected, expected_entropy = token_logprobs_and_entropy(logits, torch.tensor(s.response_ids), 0.7)
            n = len(s.response_ids)
            torch.testing.assert_close(logp[i, :n], expected, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(entropy[i, :n], expected_entropy, atol=1e-5, rtol=1e-5)
            assert mask[i].tolist() == [True] * n + [False] * (4 - n)
            assert logp[i, n:].abs().sum() == 0


def test_left_padded_mask_lets_pad_positions_attend_only_to_themselves():
    from training.forward import left_padded_mask

    attention = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])
    mask = left_padded_mask(attention)[:, 0]  # [B, T, T], True = may attend
    assert mask.any(-1).all()  # no fully masked row: SDPA's CUDA backward turns those NaN
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    for b in range(3):
        real = attention[b].bool()
        for i in range(5):
            if real[i]:
                assert mask[b, i].tolist() == (causal[i] & real).tolist()  # what the 2-D mask allowed
            else:
                assert mask[b, i].nonzero().flatten().tolist() == [i]
    eager = left_padded_mask(attention, eager=True)[:, 0]
    assert ((eager == 0) == mask).all() and (eager[~mask] < -1e30).all()


def test_left_padded_backward_matches_one_sequence_gradients():
    """The gradient of a padded batch equals the sum of the rows' own gradients (pads contribute nothing)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2))
    samples = [_sample([1, 2, 3, 4, 5, 6, 7], [6, 7]), _sample([8, 9], [10, 11, 12])]

    def grads(batch):
        model.zero_grad()
        logp, _, mask = response_logprobs(model, batch, pad_id=0, device=torch.device("cpu"))
        (logp * mask).sum().backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    together = grads(samples)
    apart = grads(samples[:1]) + grads(samples[1:])
    assert torch.isfinite(together).all()
    torch.testing.assert_close(together, apart, atol=1e-5, rtol=1e-4)


@given(st.lists(st.integers(1, 300), max_size=40), st.integers(1, 8), st.integers(0, 1200))
def test_micro_batches_cover_every_turn_once_within_the_token_budget(lengths, turns, tokens):
    from training.forward import MicroBatching

    groups = MicroBatching(turns, tokens).split(lengths)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        padded = max(lengths[i] for i in group) * len(group)
        assert len(group) <= turns
        if tokens:
            assert padded <= tokens or len(group) == 1  # a turn longer than the budget goes alone
            assert lengths[group[0]] == max(lengths[i] for i in group)
        else:
            assert group == list(range(group[0], group[0] + len(group)))
    if tokens:  # packed greedily: each group is closed only when the next turn would not fit
        for group in groups[:-1]:
            assert lengths[group[0]] * (len(group) + 1) > tokens or len(group) == turns


def test_batched_logprobs_come_back_in_sample_order_under_a_token_budget():
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from training.forward import MicroBatching, batched_logprobs

    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=50, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, num_key_value_heads=2)).eval()
    samples = [_sample([1] * n, [2, 3, 4][: 1 + n % 3]) for n in (3, 9, 5, 12, 2, 7)]
    by_turns = batched_logprobs(model, samples, 0, torch.device("cpu"), 1.0, MicroBatching(2))
    by_tokens = batched_logprobs(model, samples, 0, torch.device("cpu"), 1.0, MicroBatching(2, tokens=20))
    for a, b in zip(by_turns, by_tokens):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
