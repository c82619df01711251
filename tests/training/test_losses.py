"""Losses: the block-wise token advantages, the clipped surrogate, and a finite-difference gradient check."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from training.advantages import Advantages
from training.losses import (
    clipped_surrogate,
    kl_k3,
    policy_loss,
    token_advantages,
    token_logprobs_and_entropy,
    value_loss,
)


def _adv(low, high, switch, carries_high, flat=False):
    n = len(low)
    return Advantages(low=torch.tensor(low), high=torch.tensor(high), switch=torch.tensor(switch),
                      segment_start=torch.tensor(carries_high), carries_high=torch.tensor(carries_high),
                      carries_switch=torch.ones(n, dtype=torch.bool), rewards=torch.zeros(n), flat=flat)


def test_token_advantages_by_block_and_mask():
    spans = [{"switch": (0, 3), "subgoal": (4, 7), "action": (8, 11)},
             {"switch": (0, 3), "subgoal": (4, 7), "action": (8, 11)},
             {"switch": (0, 3)}]
    adv = _adv([1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [100.0, 200.0, 300.0], [True, False, True])
    values, mask = token_advantages(adv, spans, lengths=[12, 12, 6], width=12)
    # segment start: switch, subgoal and action blocks; the gaps (3, 7, 11: whitespace, end of turn) get nothing
    assert values[0].tolist() == [100] * 3 + [0] + [10] * 3 + [0] + [1] * 3 + [0]
    assert mask[0].tolist() == [True] * 3 + [False] + [True] * 3 + [False] + [True] * 3 + [False]
    # KEEP turn: its subgoal gets no gradient
    assert mask[1, 4:7].tolist() == [False] * 3 and values[1, 8].item() == 2.0
    # no <action> block: the whole response takes A^low (switch tokens add A^sw)
    assert values[2, :6].tolist() == [303.0] * 3 + [3.0] * 3 and mask[2, :6].all() and not mask[2, 6:].any()


def test_flat_advantage_covers_every_response_token():
    adv = _adv([1.5], [0.0], [0.0], [True], flat=True)
    values, mask = token_advantages(adv, [{"action": (2, 3)}], lengths=[4], width=6)
    assert values[0].tolist() == [1.5] * 4 + [0, 0] and mask[0].tolist() == [True] * 4 + [False] * 2


def test_clipped_surrogate_and_dual_clip():
    old = torch.zeros(4)
    logp = torch.log(torch.tensor([1.5, 0.5, 10.0, 1.0]))
    adv = torch.tensor([1.0, -1.0, -1.0, 2.0])
    loss = clipped_surrogate(logp, old, adv, clip_eps=0.2, dual_clip=3.0)
    # r=1.5, A>0: -min(1.5, 1.2) = -1.2; r=0.5, A<0: max(0.5, 0.8) = 0.8; r=10, A<0: min(10, 3) = 3; r=1: -2
    assert loss.tolist() == pytest.approx([-1.2, 0.8, 3.0, -2.0])


def test_kl_k3_is_zero_at_equality_and_positive_elsewhere():
    assert kl_k3(torch.zeros(3), torch.zeros(3)).abs().max().item() == 0.0
    assert (kl_k3(torch.tensor([-1.0, 0.5]), torch.tensor([0.0, 0.0])) > 0).all()


def test_value_loss_is_clipped_around_old_values():
    v, old, target = torch.tensor([2.0]), torch.tensor([0.0]), torch.tensor([2.0])
    # unclipped error 0, clipped prediction 0.5 -> error 1.5: the max is taken
    assert value_loss(v, old, target, torch.tensor([True]), clip=0.5).item() == pytest.approx(0.5 * 1.5**2)


def _rms_norm_in_input_dtype(self, hidden_states):
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    return self.weight * hidden_states * torch.rsqrt(variance + self.variance_epsilon)


def test_policy_loss_gradient_matches_finite_differences_of_the_hand_written_surrogate(monkeypatch):
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from transformers.models.qwen2 import modeling_qwen2

    # Qwen2's RMSNorm computes in float32 even in a float64 model, which drowns 1e-6 finite differences in
    # rounding noise; the same formula in the input dtype keeps the check exact to ~1e-9.
    monkeypatch.setattr(modeling_qwen2.Qwen2RMSNorm, "forward", _rms_norm_in_input_dtype)
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                      num_key_value_heads=1, max_position_embeddings=64)
    model = Qwen2ForCausalLM(cfg).double()
    ids = torch.randint(0, 40, (3, 10))
    prompt_len = 4
    adv = torch.randn(3, 6, dtype=torch.float64)
    mask = torch.rand(3, 6) > 0.3

    def response_logp() -> torch.Tensor:
        logits = model(input_ids=ids).logits[:, prompt_len - 1 : -1]
        return token_logprobs_and_entropy(logits, ids[:, prompt_len:], temperature=0.7)[0]

    old = response_logp().detach()
    logp, entropy = token_logprobs_and_entropy(model(input_ids=ids).logits[:, prompt_len - 1 : -1], ids[:, prompt_len:], 0.7)
    terms = policy_loss(logp, old, None, entropy, adv, mask, kl_coef=0.0, entropy_coef=0.0)
    terms.loss.backward()

    # At pi_theta = pi_old every ratio is 1 (inside the clip), so the loss is -mean_masked(A * exp(logp - old)).
    def surrogate() -> float:
        with torch.no_grad():
            ratio = torch.exp(response_logp() - old)
            return float(-(adv * ratio)[mask].sum() / mask.sum())

    params = dict(model.named_parameters())
    checked = 0
    for name in ("model.layers.0.mlp.down_proj.weight", "model.embed_tokens.weight", "lm_head.weight"):
        p = params[name]
        for flat_index in (0, 7, 13):
            index = torch.unravel_index(torch.tensor(flat_index), p.shape)
            eps = 1e-6
            with torch.no_grad():
                p[index] += eps
                up = surrogate()
                p[index] -= 2 * eps
                down = surrogate()
                p[index] += eps
            numeric = (up - down) / (2 * eps)
            assert p.grad[index].item() == pytest.approx(numeric, rel=1e-5, abs=1e-9), name
            checked += 1
    assert checked == 9


@given(rows=st.integers(1, 3), width=st.integers(1, 9), vocab=st.integers(2, 50), per_chunk=st.integers(1, 12),
       temperature=st.sampled_from([0.7, 1.0]), seed=st.integers(0, 1000))
@settings(max_examples=40, deadline=None)
def test_chunked_logprobs_equal_the_whole_computation_with_gradients(rows, width, vocab, per_chunk, temperature, seed):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(rows, width, vocab, generator=generator, dtype=torch.float64, requires_grad=True)
    targets = torch.randint(0, vocab, (rows, width), generator=generator)
    weights = torch.randn(2, rows, width, generator=generator, dtype=torch.float64)
    results = []
    for chunk in (vocab * per_chunk, 10**9):  # chunks of per_chunk positions, then one chunk
        logp, entropy = token_logprobs_and_entropy(logits, targets, temperature, chunk_elements=chunk)
        (grad,) = torch.autograd.grad((weights[0] * logp + weights[1] * entropy).sum(), logits)
        results.append((logp, entropy, grad))
    for chunked, whole in zip(*results):
        torch.testing.assert_close(chunked, whole)


def test_chunked_logprobs_keep_no_full_vocabulary_fp32_copy_for_backward():
    """What autograd saves for backward: the bf16 logits themselves, not fp32 [positions, V] log-softmax outputs."""
    logits = torch.randn(4, 64, 1000, dtype=torch.bfloat16, requires_grad=True)
    targets = torch.randint(0, 1000, (4, 64))

    def saved_bytes(chunk_elements: int) -> int:
        storages: dict[int, int] = {}

        def pack(tensor):
            storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            token_logprobs_and_entropy(logits, targets, chunk_elements=chunk_elements)
        return sum(storages.values())

    # the input's own storage and small per-position tensors: less than one fp32 copy (without the recomputation
    # autograd keeps the fp32 logits and log-softmax, 4x this)
    assert saved_bytes(16_000) <= logits.numel() * 2 + 64 * 1024


def test_no_positions_give_zeros_that_a_loss_can_back_propagate_through():
    logits = torch.randn(2, 0, 7, requires_grad=True)
    logp, entropy = token_logprobs_and_entropy(logits, torch.zeros(2, 0, dtype=torch.long))
    (logp.sum() + entropy.sum()).backward()
    assert logp.shape == entropy.shape == (2, 0) and logits.grad is not None
