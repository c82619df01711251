"""`ChatHiper`: a LangChain chat model over any hiper_agents backend (messages in, an AI message out).

The model is a run directory or checkpoint written by `python -m training.run`, a model directory, a short name
(`smollm2-135m`) or, with `backend="openai"`, the name an OpenAI-compatible server knows. Weights load on first use
(LangChain constructs models often, e.g. once per standard test). Messages go through the tokenizer's chat
template; string stop sequences cut the text (and end local generation early); usage metadata counts the prompt
and generated tokens. `bind_tools` is not offered: a HiPER policy writes turns, not tool calls. To let a trained
policy drive tools, use `HiperAgent`.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ChatMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from hiper_agents.backends.base import SamplingParams
from hiper_agents.prompts import encode_prompt
from integrations.langchain.checkpoint import CheckpointSpec, PromptSettings, load_model, resolve_checkpoint
from integrations.langchain.generation import StreamResult, TokenStream

ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}


def to_chat_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as chat-template dicts (role, content text); a message's `name` is ignored."""
    out = []
    for message in messages:
        role = message.role if isinstance(message, ChatMessage) else ROLES.get(message.type, "user")
        out.append({"role": role, "content": message.text})
    return out


def chat_prompt_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of a conversation through the tokenizer's chat template, with the assistant header added."""
    try:
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    except Exception:  # no template, or one that refuses a role order: plain "role: content" lines
        text = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
    return encode_prompt(tokenizer, text)


class ChatHiper(BaseChatModel):
    """A trained HiPER policy (or any model a hiper_agents backend serves) as a LangChain chat model.

    ```python
    chat = ChatHiper(model="runs/hiper-WebShop-v0-20261125-101500", temperature=0)
    chat.invoke("hello").content
    ```
    """

    model: str | None = Field(default=None, alias="model_name")
    """Run directory, checkpoint, model directory, short name or hub id (or the served name with `openai`)."""
    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    """Which hiper_agents backend generates (ignored when `hiper_backend` is given)."""
    hiper_backend: Any = Field(default=None, exclude=True)
    """An already-built hiper_agents backend to use instead of loading one."""
    checkpoint: Literal["latest", "final"] = "latest"
    """For a run directory: its newest checkpoint, or the `model/` directory only."""
    base_url: str | None = None
    """`openai`: the endpoint, e.g. http://127.0.0.1:8000/v1."""
    api_key: SecretStr | None = None
    """`openai`: the bearer token, if the endpoint wants one."""
    openai_mode: Literal["completions", "chat"] = "completions"
    """`openai`: send token ids to /completions (vLLM servers) or messages to /chat/completions."""
    tokenizer_path: str | None = None
    """`openai`: where the tokenizer is (default: `model`, when it is a local checkpoint)."""
    device: str = "cpu"
    dtype: str = "float32"
    temperature: float | None = None
    """Sampling temperature (0: greedy); default: the run's evaluation temperature, else 0.4."""
    top_p: float = 1.0
    top_k: int = 0
    max_tokens: int | None = None
    """Most tokens to generate; default: the run's `rollout.max_new_tokens`, else 512."""
    seed: int | None = None
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Strings that end the reply (not included in it)."""
    timeout: float | None = None
    """Seconds: local generation stops there (finish_reason "timeout"); `openai`: the request timeout."""
    max_retries: int = 2
    """`openai`: retries on connection errors, 429 and 5xx."""
    streaming: bool = False
    """Whether `invoke` streams internally (callbacks see each token)."""
    vllm_kwargs: dict[str, Any] = Field(default_factory=dict)
    """`vllm`: extra `vllm.LLM` arguments."""

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, protected_namespaces=())

    _spec: CheckpointSpec | None = PrivateAttr(default=None)
    _loaded: Any = PrivateAttr(default=None)
    _load_lock: Any = PrivateAttr(default_factory=threading.Lock)
    _generate_lock: Any = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="after")
    def _needs_a_model(self) -> ChatHiper:
        if self.model is None and self.hiper_backend is None:
            raise ValueError("ChatHiper needs model= (a run directory, checkpoint or model id) or hiper_backend=")
        if self.backend == "openai" and self.hiper_backend is None and not self.base_url:
            raise ValueError("backend='openai' needs base_url= (e.g. http://127.0.0.1:8000/v1)")
        return self

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        """Refused with the way to use tools: the policy writes plan-execute turns, not tool calls."""
        raise NotImplementedError(
            "ChatHiper does not emit tool calls: its policy writes <subgoal>/<action> turns. To run it over tools, "
            "use HiperAgent(chat, tools=[...]) (integrations.langchain), which turns each action into a tool call")

    # --- identity -------------------------------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "hiper"

    @property
    def model_name(self) -> str:
        """The name reported in response metadata and traces."""
        return self.model or type(self.hiper_backend).__name__

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "backend": self.backend,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "top_p": self.top_p,
            "top_k": self.top_k,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="hiper", ls_model_name=kwargs.get("model", self.model_name), ls_model_type="chat"
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        if max_tokens := kwargs.get("max_tokens", self.max_tokens):
            params["ls_max_tokens"] = max_tokens
        if stop := stop or self.stop:
            params["ls_stop"] = stop
        return params

    # --- lazy loading ---------------------------------------------------------------------------------------
    @property
    def spec(self) -> CheckpointSpec | None:
        """Where the checkpoint's pieces are (None for a given backend or a remote model); reads no weights."""
        if self._spec is None and self.model is not None and self.hiper_backend is None and self.backend != "openai":
            self._spec = resolve_checkpoint(self.model, self.checkpoint)
        return self._spec

    @property
    def settings(self) -> PromptSettings:
        """The run's prompt and sampling settings (defaults when the model is not a run)."""
        spec = self.spec
        return spec.settings if spec is not None else PromptSettings()

    def load(self) -> Any:
        """Load the weights (once) and return the hiper_agents backend."""
        if self.hiper_backend is not None:
            return self.hiper_backend
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._build_backend()
        return self._loaded

    @property
    def generation_lock(self) -> threading.Lock:
        """Held while the backend generates: concurrent callers take turns instead of oversubscribing the CPU."""
        return self._generate_lock

    @property
    def tokenizer(self) -> Any:
        """The backend's tokenizer (loads the model)."""
        return self.load().tokenizer

    def _build_backend(self) -> Any:
        if self.backend == "openai":
            from hiper_agents.backends.openai_backend import OpenAIBackend
            from hiper_agents.tiny import load_tokenizer

            source = self.tokenizer_path or self.model
            if source is None:
                raise ValueError("backend='openai' needs tokenizer_path= (a local tokenizer or checkpoint)")
            spec = resolve_checkpoint(source, self.checkpoint)
            return OpenAIBackend(
                self.base_url or "",
                self.model or "",
                load_tokenizer(spec.model),
                mode=self.openai_mode,
                api_key=self.api_key.get_secret_value() if self.api_key else None,
                timeout=self.timeout or 60.0,
                max_retries=self.max_retries,
            )
        spec = self.spec
        assert spec is not None
        if self.backend == "vllm":
            from hiper_agents.backends.vllm_backend import VLLMBackend

            # vLLM serves saved directories: a run's model/ holds its final actor (a finished run's last checkpoint).
            if spec.is_adapter:
                if spec.base_model in (None, "tiny"):
                    raise ValueError(
                        f"{spec.model}: LoRA adapters on a tiny base have no base on disk for vLLM; "
                        "use backend='transformers'"
                    )
                return VLLMBackend.from_pretrained(spec.base_model or "", adapter=spec.model, **self.vllm_kwargs)
            return VLLMBackend.from_pretrained(spec.model, **self.vllm_kwargs)
        from hiper_agents.backends.transformers_backend import TransformersBackend

        model, tokenizer = load_model(spec, device=self.device, dtype=self.dtype)
        return TransformersBackend(model, tokenizer, device=self.device)

    # --- generation -----------------------------------------------------------------------------------------
    def sampling(self, **kwargs: Any) -> SamplingParams:
        """The sampling parameters of one call: per-call kwargs over fields over the run's settings."""
        settings = self.settings
        temperature = kwargs.get("temperature", self.temperature)
        return SamplingParams(
            temperature=settings.temperature if temperature is None else float(temperature),
            top_p=float(kwargs.get("top_p", self.top_p)),
            top_k=int(kwargs.get("top_k", self.top_k)),
            max_new_tokens=int(kwargs.get("max_tokens") or self.max_tokens or settings.max_new_tokens),
            seed=kwargs.get("seed", self.seed),
        )

    def _token_stream(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> TokenStream:
        backend = self.load()
        chat = to_chat_messages(messages)
        prompt_ids = chat_prompt_ids(backend.tokenizer, chat)
        stops = list(stop if stop is not None else (self.stop or []))
        return TokenStream(
            backend,
            backend.tokenizer,
            prompt_ids,
            self.sampling(**kwargs),
            self._generate_lock,
            stops,
            self.timeout if self.backend != "openai" else None,
            chat,
        )

    def _final_metadata(self, result: StreamResult) -> tuple[UsageMetadata, dict[str, Any]]:
        usage = UsageMetadata(
            input_tokens=result.prompt_tokens,
            output_tokens=result.completion_tokens,
            total_tokens=result.prompt_tokens + result.completion_tokens,
        )
        return usage, {"model_name": self.model_name, "finish_reason": result.finish_reason, "model_provider": "hiper"}

    def _result(self, stream: TokenStream) -> ChatResult:
        usage, metadata = self._final_metadata(stream.result)
        message = AIMessage(content=stream.result.text, usage_metadata=usage, response_metadata=metadata)
        return ChatResult(generations=[ChatGeneration(message=message, generation_info=dict(metadata))])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        stream = self._token_stream(messages, stop, **kwargs)
        for _ in stream.deltas():
            pass
        return self._result(stream)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        stream = self._token_stream(messages, stop, **kwargs)
        async for _ in stream.adeltas():
            pass
        return self._result(stream)

    def _last_chunk(self, stream: TokenStream) -> ChatGenerationChunk:
        usage, metadata = self._final_metadata(stream.result)
        message = AIMessageChunk(content="", usage_metadata=usage, response_metadata=metadata, chunk_position="last")
        return ChatGenerationChunk(message=message, generation_info=dict(metadata))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        stream = self._token_stream(messages, stop, **kwargs)
        for delta in stream.deltas():
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
            if run_manager is not None:
                run_manager.on_llm_new_token(delta, chunk=chunk)
            yield chunk
        yield self._last_chunk(stream)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        stream = self._token_stream(messages, stop, **kwargs)
        async for delta in stream.adeltas():
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
            if run_manager is not None:
                await run_manager.on_llm_new_token(delta, chunk=chunk)
            yield chunk
        yield self._last_chunk(stream)


HiperChatModel = ChatHiper
