"""Token streaming over a hiper_agents backend, with string stop sequences, for `ChatHiper`.

The transformers backend streams for real: `model.generate` runs in a background thread with a streamer that hands
each sampled token id to the consumer, and a stopping criterion ends generation as soon as the consumer has seen a
stop string (or gone away, or the time limit passed). Other backends (vLLM's offline engine, OpenAI-compatible
endpoints) have no token stream here: their whole completion arrives as one piece. Sampling parameters are the
backend's own explicit `GenerationConfig`, so streamed and non-streamed calls sample the same tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hiper_agents.backends.base import SamplingParams, decode_response, stop_token_ids

_DONE = object()


@dataclass
class StreamResult:
    """What a finished stream produced."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (end of turn or a stop string), "length", or "timeout"


class TextAssembler:
    """Turns growing decoded text into safe deltas: a delta never holds part of a stop string or half a character."""

    def __init__(self, stop: Sequence[str] = ()):
        self.stop = [s for s in stop if s]
        self.hold = max((len(s) for s in self.stop), default=1) - 1
        self.emitted = 0
        self.stopped = False
        self.text = ""

    def update(self, text: str) -> str:
        """The new safe delta given the whole text decoded so far."""
        if self.stopped:
            return ""
        cut = min((i for i in (text.find(s) for s in self.stop) if i != -1), default=-1)
        if cut != -1:
            self.stopped = True
            self.text = text[:cut]
            return self._emit(len(self.text))
        self.text = text
        safe = len(text) - self.hold
        while safe > self.emitted and text[safe - 1] == "\ufffd":  # a multi-byte character still arriving
            safe -= 1
        return self._emit(safe)

    def finish(self) -> str:
        """Whatever is left once generation has ended."""
        return self._emit(len(self.text))

    def _emit(self, upto: int) -> str:
        if upto <= self.emitted:
            return ""
        delta, self.emitted = self.text[self.emitted : upto], upto
        return delta


def _is_streamable(backend: Any) -> bool:
    """A transformers backend: a model with `generate` and the backend's explicit generation config."""
    return hasattr(backend, "model") and hasattr(backend.model, "generate") and hasattr(backend, "_generation_config")


class _Producer:
    """Runs one generation in a daemon thread and reports ids, then the finish, through `emit`."""

    def __init__(
        self,
        backend: Any,
        prompt_ids: list[int],
        sampling: SamplingParams,
        lock: threading.Lock,
        emit: Callable[[Any], None],
        timeout: float | None,
        messages: list[dict[str, str]] | None,
    ):
        self.backend, self.prompt_ids, self.sampling = backend, prompt_ids, sampling
        self.lock, self.emit, self.timeout, self.messages = lock, emit, timeout, messages
        self.halt = threading.Event()
        self.timed_out = False

    def start(self) -> None:
        """Start generating in the background."""
        threading.Thread(target=self._run, name="hiper-generate", daemon=True).start()

    def _run(self) -> None:
        try:
            with self.lock:
                if _is_streamable(self.backend):
                    self._stream_transformers()
                else:
                    self._whole_completion()
        except BaseException as error:  # handed to the consumer, which raises it
            self.emit(error)
        self.emit(_DONE)

    def _whole_completion(self) -> None:
        backend = self.backend
        if self.messages is not None and getattr(backend, "prefers_messages", False):
            completion = backend.generate_messages([self.messages], self.sampling, [self.prompt_ids])[0]
        else:
            completion = backend.generate([self.prompt_ids], self.sampling)[0]
        self.emit(("whole", completion))

    def _stream_transformers(self) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        producer = self

        class IdStreamer(BaseStreamer):
            def __init__(self) -> None:
                self.prompt_seen = False

            def put(self, value: Any) -> None:
                if not self.prompt_seen:  # generate() first passes the prompt
                    self.prompt_seen = True
                    return
                producer.emit(("ids", [int(i) for i in value.reshape(-1).tolist()]))

            def end(self) -> None:
                pass

        started = time.monotonic()

        class Halt(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                late = producer.timeout is not None and time.monotonic() - started > producer.timeout
                producer.timed_out = producer.timed_out or late
                stop = producer.halt.is_set() or late
                return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

        backend, sampling = self.backend, self.sampling
        device = getattr(backend, "device", None) or next(backend.model.parameters()).device
        input_ids = torch.tensor([self.prompt_ids], dtype=torch.long, device=device)
        seeded = sampling.seed is not None
        rng = (
            torch.random.fork_rng(devices=[device] if device.type == "cuda" else [])
            if seeded
            else contextlib.nullcontext()
        )
        with torch.no_grad(), rng:
            if seeded:
                torch.manual_seed(sampling.seed)
            backend.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                generation_config=backend._generation_config(sampling),  # the backend's explicit sampling settings
                streamer=IdStreamer(),
                stopping_criteria=StoppingCriteriaList([Halt()]),
            )


class TokenStream:
    """One completion as a stream of text deltas; iterate with `deltas()` or `adeltas()`, then read `result`."""

    def __init__(
        self,
        backend: Any,
        tokenizer: Any,
        prompt_ids: list[int],
        sampling: SamplingParams,
        lock: threading.Lock,
        stop: Sequence[str] = (),
        timeout: float | None = None,
        messages: list[dict[str, str]] | None = None,
    ):
        self.tokenizer = tokenizer
        self.prompt_ids = list(prompt_ids)
        self.sampling = sampling
        self.end_ids = set(stop_token_ids(tokenizer)) | set(sampling.stop_token_ids)
        self.assembler = TextAssembler(stop)
        self.ids: list[int] = []
        self.finish_reason = "length"
        self._whole: Any = None
        self._args = (backend, self.prompt_ids, sampling, lock, timeout, messages)
        self.producer: _Producer | None = None

    def _handle(self, item: Any) -> str:
        """Apply one item from the producer; returns the text delta it makes safe to show."""
        if isinstance(item, BaseException):
            raise item
        kind, payload = item
        if kind == "whole":
            self._whole = payload
            self.ids = list(payload.response_ids)
            return self.assembler.update(payload.text)
        self.ids += payload
        delta = self.assembler.update(decode_response(self.tokenizer, self.ids, self.end_ids))
        if self.assembler.stopped and self.producer is not None:
            self.producer.halt.set()
        return delta

    def _finish(self) -> str:
        producer = self.producer
        if self.assembler.stopped or (self.ids and self.ids[-1] in self.end_ids):
            self.finish_reason = "stop"
        elif producer is not None and producer.timed_out:
            self.finish_reason = "timeout"
        elif self._whole is not None:
            self.finish_reason = self._whole.finish_reason
        return self.assembler.finish()

    def deltas(self) -> Iterator[str]:
        """Text deltas, generated in a background thread while the caller consumes them."""
        items: queue.Queue[Any] = queue.Queue()
        self.producer = _Producer(*self._args[:4], items.put, *self._args[4:])
        self.producer.start()
        try:
            while (item := items.get()) is not _DONE:
                if delta := self._handle(item):
                    yield delta
            if delta := self._finish():
                yield delta
        finally:
            self.producer.halt.set()  # a consumer that stops early ends the generation too

    async def adeltas(self) -> AsyncIterator[str]:
        """Like `deltas`, without blocking the event loop: the thread hands items over with call_soon_threadsafe."""
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()

        def emit(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening any more
                loop.call_soon_threadsafe(items.put_nowait, item)

        self.producer = _Producer(*self._args[:4], emit, *self._args[4:])
        self.producer.start()
        try:
            while (item := await items.get()) is not _DONE:
                if delta := self._handle(item):
                    yield delta
            if delta := self._finish():
                yield delta
        finally:
            self.producer.halt.set()

    @property
    def result(self) -> StreamResult:
        """The final text and token counts (valid once the deltas are consumed)."""
        return StreamResult(self.assembler.text, len(self.prompt_ids), len(self.ids), self.finish_reason)
