"""ChatHiper beyond the standard suites: lazy loading, streaming, stop strings, usage, timeouts, other backends."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessageChunk

from hiper_agents.backends.scripted import ScriptedBackend
from integrations.langchain import ChatHiper, HiperChatModel
from tests.integrations.langchain.scripted import tokenizer
from tests.integrations.langchain.tiny_checkpoint import tiny_checkpoint

SAMPLED = {"temperature": 1.0, "seed": 3, "max_tokens": 40}  # varied text from the random tiny model


@pytest.fixture(scope="module")
def chat() -> ChatHiper:
    return ChatHiper(model=tiny_checkpoint(), **SAMPLED)


def test_construction_reads_no_weights_until_first_use():
    chat = HiperChatModel(model_name=tiny_checkpoint(), temperature=0)
    assert isinstance(chat, ChatHiper) and chat._loaded is None and chat.model == tiny_checkpoint()
    chat.invoke("hi")
    assert chat._loaded is not None
    with pytest.raises(ValueError, match="needs model="):
        ChatHiper()


def test_stream_gives_the_invoke_text_in_pieces_with_usage_and_model_name_once(chat: ChatHiper):
    whole = chat.invoke("Hello there")
    chunks = list(chat.stream("Hello there"))
    assert len(chunks) > 3 and all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(c.content for c in chunks) == whole.content and whole.content.strip()
    assert [c.chunk_position for c in chunks].count("last") == 1 and chunks[-1].chunk_position == "last"
    assert [c for c in chunks if c.usage_metadata] == [chunks[-1]]
    assert chunks[-1].usage_metadata == whole.usage_metadata
    assert 0 < whole.usage_metadata["output_tokens"] <= 40 and whole.usage_metadata["input_tokens"] > 0
    assert whole.response_metadata["model_name"] == tiny_checkpoint()


async def test_astream_and_ainvoke_match_the_sync_calls(chat: ChatHiper):
    whole = await chat.ainvoke("Hello there")
    pieces = [c.content async for c in chat.astream("Hello there")]
    assert whole.content == chat.invoke("Hello there").content == "".join(pieces)


def test_stop_strings_cut_the_reply_and_end_generation_early(chat: ChatHiper):
    full = chat.invoke("Hello there")
    text = full.content
    stop = text[len(text) // 2 : len(text) // 2 + 3]
    cut = text[: text.index(stop)]
    result = chat.invoke("Hello there", stop=[stop])
    assert result.content == cut and result.response_metadata["finish_reason"] == "stop"
    assert result.usage_metadata["output_tokens"] < full.usage_metadata["output_tokens"]
    assert "".join(c.content for c in chat.stream("Hello there", stop=[stop])) == cut
    assert ChatHiper(model=tiny_checkpoint(), stop=[stop], **SAMPLED).invoke("Hello there").content == cut


def test_timeout_stops_local_generation():
    chat = ChatHiper(model=tiny_checkpoint(), timeout=1e-6, max_tokens=200, temperature=0)
    result = chat.invoke("Hello")
    assert result.response_metadata["finish_reason"] == "timeout"
    assert result.usage_metadata["output_tokens"] < 200


def test_a_given_backend_is_used_as_is_and_streams_its_completion_whole():
    backend = ScriptedBackend(tokenizer(), lambda ids: "<switch>SWITCH</switch><subgoal>a</subgoal><action>b</action>")
    chat = ChatHiper(hiper_backend=backend, temperature=0)
    assert chat.invoke("hi").content == "<switch>SWITCH</switch><subgoal>a</subgoal><action>b</action>"
    chunks = list(chat.stream("hi", stop=["<action>"]))
    assert "".join(c.content for c in chunks) == "<switch>SWITCH</switch><subgoal>a</subgoal>"
    assert chat.model_name == "ScriptedBackend"


def test_bind_tools_is_refused_with_the_way_to_use_tools():
    with pytest.raises(NotImplementedError, match=r"HiperAgent\(chat, tools="):
        ChatHiper(model=tiny_checkpoint()).bind_tools([])


def test_openai_compatible_endpoint_on_loopback_gives_the_local_result():
    from hiper_agents.backends.transformers_backend import TransformersBackend
    from tests.hiper_agents.openai_server import OpenAIServer

    local = ChatHiper(model=tiny_checkpoint(), temperature=0, max_tokens=12)
    served = TransformersBackend.from_pretrained(tiny_checkpoint())
    with OpenAIServer(served) as server:
        remote = ChatHiper(model="tiny", backend="openai", base_url=server.base_url, tokenizer_path=tiny_checkpoint(),
                           temperature=0, max_tokens=12, max_retries=0)  # fmt: skip
        result = remote.invoke("Hello")
        assert result.content == local.invoke("Hello").content
        assert result.response_metadata["model_name"] == "tiny" and result.usage_metadata["output_tokens"] == 12
    with pytest.raises(ValueError, match="needs base_url"):
        ChatHiper(model="tiny", backend="openai")
