"""LangChain's standard chat-model suites on ChatHiper, offline on a tiny local model.

`ChatModelUnitTests` never calls the model; `ChatModelIntegrationTests` does (invoke, stream, batch, async, usage
metadata, stop sequences, stream events). ChatHiper cannot call tools (`has_tool_calling = False`), so the tool-calling
and structured-output tests skip themselves, as do those for inputs a text-only model does not take.
"""

from __future__ import annotations

from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from integrations.langchain import ChatHiper
from tests.integrations.langchain.tiny_checkpoint import tiny_checkpoint


class TestChatHiperUnit(ChatModelUnitTests):
    """Construction, standard params, serialization (the model is never called)."""

    @property
    def chat_model_class(self) -> type[ChatHiper]:
        return ChatHiper

    @property
    def chat_model_params(self) -> dict:
        return {"model": tiny_checkpoint()}

    @property
    def has_tool_calling(self) -> bool:
        return False


class TestChatHiperIntegration(ChatModelIntegrationTests):
    """The model really generates: a tiny Qwen2 checkpoint on the CPU, greedy, 100 tokens at most."""

    @property
    def chat_model_class(self) -> type[ChatHiper]:
        return ChatHiper

    @property
    def chat_model_params(self) -> dict:
        return {"model": tiny_checkpoint(), "temperature": 0, "max_tokens": 100}

    @property
    def has_tool_calling(self) -> bool:
        return False
