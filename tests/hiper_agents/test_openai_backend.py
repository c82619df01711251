"""The OpenAI-compatible backend against a real local HTTP server in front of the tiny model."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import pytest

from hiper_agents.backends import BackendError, SamplingParams, TransformersBackend
from hiper_agents.backends.base import request_seeds
from hiper_agents.backends.openai_backend import OpenAIBackend
from hiper_agents.policy import HierarchicalPolicy
from hiper_agents.runner import run_episodes
from tests.hiper_agents.openai_server import OpenAIServer
from tests.hiper_gym.test_core import KeyDoorEnv


def _prompts(tokenizer):
    return [tokenizer(t, add_special_tokens=False)["input_ids"] for t in ("You are in room 1.", "take key", "look")]


def test_completions_mode_keeps_sampled_ids_and_logprobs(tiny_model, tiny_tokenizer):
    local = TransformersBackend(tiny_model, tiny_tokenizer)
    sampling = SamplingParams(temperature=0.7, max_new_tokens=12, seed=4)
    with OpenAIServer(local) as server:
        remote = OpenAIBackend(server.base_url, "tiny", tiny_tokenizer)
        completions = remote.generate(_prompts(tiny_tokenizer), sampling)
    # Each request carries its own seed (derived from the call's seed and its index), as the server sees it.
    seeds = request_seeds(sampling, 3)
    expected = [local.generate([p], replace(sampling, seed=s))[0] for p, s in zip(_prompts(tiny_tokenizer), seeds)]
    assert len(set(seeds)) == 3
    assert [c.response_ids for c in completions] == [e.response_ids for e in expected]
    assert [c.text for c in completions] == [e.text for e in expected]
    assert all(c.logprobs is not None and len(c.logprobs) == len(c.response_ids) for c in completions)


def test_chat_mode_plays_episodes_through_the_policy(tiny_model, tiny_tokenizer):
    with OpenAIServer(TransformersBackend(tiny_model, tiny_tokenizer)) as server:
        backend = OpenAIBackend(server.base_url, "tiny", tiny_tokenizer, mode="chat")
        policy = HierarchicalPolicy(backend, env_family="alfworld", max_new_tokens=12)
        report = run_episodes([KeyDoorEnv(), KeyDoorEnv()], policy, n=3, max_turns=2, progress=False)
    assert report.n == 3 and all(e.length >= 1 for e in report.episodes)
    step_text = report.episodes[0].turns[0].response
    assert isinstance(step_text, str)


def test_retries_on_503_then_succeeds(tiny_model, tiny_tokenizer):
    with OpenAIServer(TransformersBackend(tiny_model, tiny_tokenizer), fail_first=2) as server:
        remote = OpenAIBackend(server.base_url, "tiny", tiny_tokenizer, max_retries=3, backoff=0.01)
        [completion] = remote.generate(_prompts(tiny_tokenizer)[:1], SamplingParams(max_new_tokens=4, seed=0))
        assert server.requests == 3 and completion.response_ids


def test_server_down_raises_one_clear_error_quickly(tiny_tokenizer):
    with socket.socket() as sock:  # a port on loopback with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = OpenAIBackend(f"http://127.0.0.1:{port}/v1", "tiny", tiny_tokenizer, timeout=2, max_retries=1, backoff=0.01)
    started = time.perf_counter()
    with pytest.raises(BackendError, match="failed after 2 attempt"):
        remote.generate(_prompts(tiny_tokenizer), SamplingParams(max_new_tokens=4))
    assert time.perf_counter() - started < 10


def test_non_retryable_status_fails_at_once(tiny_model, tiny_tokenizer):
    with OpenAIServer(TransformersBackend(tiny_model, tiny_tokenizer)) as server:
        remote = OpenAIBackend(server.base_url.replace("/v1", "/v2"), "tiny", tiny_tokenizer, max_retries=3)
        with pytest.raises(BackendError, match="HTTP 404"):
            remote.generate(_prompts(tiny_tokenizer)[:1], SamplingParams(max_new_tokens=4))
        assert server.requests == 1
