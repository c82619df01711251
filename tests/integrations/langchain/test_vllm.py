"""ChatHiper and HiperAgent on the vLLM backend (marker `vllm`: run in the vllm venv by `make test-vllm`)."""

from __future__ import annotations

import importlib.util

import pytest

pytestmark = [
    pytest.mark.vllm,
    pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="needs the vllm venv (make test-vllm)"),
]


def test_chat_and_agent_on_a_vllm_engine_match_transformers(tmp_path):
    from hiper_agents.tiny import build_tiny_model, save_tiny
    from integrations.langchain import ChatHiper, HiperAgent
    from tests.integrations.langchain.scripted import tokenizer
    from tests.integrations.langchain.test_agent import add_to_cart, check_stock

    # vLLM's CPU attention needs head_dim 32+ (the shared tiny checkpoint has 16)
    model = build_tiny_model(tokenizer(), hidden=128, layers=1, heads=2, kv_heads=1, seed=1)
    checkpoint = str(save_tiny(tmp_path / "tiny", model, tokenizer()))

    engine = {"enforce_eager": True, "max_model_len": 1024, "seed": 0, "dtype": "float32"}
    served = ChatHiper(model=checkpoint, backend="vllm", vllm_kwargs=engine, temperature=0, max_tokens=16)
    local = ChatHiper(model=checkpoint, temperature=0, max_tokens=16)
    result = served.invoke("Hello")
    assert result.content == local.invoke("Hello").content
    assert result.usage_metadata["output_tokens"] == local.invoke("Hello").usage_metadata["output_tokens"]
    assert "".join(c.content for c in served.stream("Hello")) == result.content  # one piece: vLLM offline
    agent = HiperAgent(served, tools=[check_stock, add_to_cart], max_steps=2)
    results = agent.batch(["buy 1 apple", "buy 2 milk"])
    assert [r.response_metadata["steps"] for r in results] == [2, 2]
