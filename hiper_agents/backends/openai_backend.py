"""A backend for any OpenAI-compatible HTTP endpoint (a vLLM server, a hosted model): for evaluation, not training.

Two modes. `completions` (default for a vLLM server) sends our prompt token ids to `/completions` and, where the
server returns them (vLLM's `return_token_ids`), keeps the sampled ids and their log-probs. `chat` sends the user
message to `/chat/completions` (what hosted models offer); the server applies its own chat template, and the reply is
re-tokenized with our tokenizer, so ids are approximate and log-probs are None: never train on them (docs/design.md §4).
Only the standard library is used (urllib); requests run concurrently, with a timeout and retries on connection
errors, 429 and 5xx; a request that still fails raises one `BackendError`.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from hiper_agents.backends.base import (
    BackendError,
    Completion,
    SamplingParams,
    decode_response,
    end_of_turn_id,
    request_seeds,
    stop_token_ids,
)

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIBackend:
    """`OpenAIBackend(base_url, model, tokenizer, mode="completions"|"chat")`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        tokenizer: Any,
        mode: str = "completions",
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        max_concurrency: int = 8,
        backoff: float = 0.5,
    ):
        if mode not in ("completions", "chat"):
            raise ValueError(f"mode must be 'completions' or 'chat', got {mode!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.tokenizer = tokenizer
        self.mode = mode
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_concurrency = max_concurrency
        self.backoff = backoff

    @property
    def prefers_messages(self) -> bool:
        """Whether the policy should call `generate_messages` (chat mode) instead of `generate`."""
        return self.mode == "chat"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body).encode("utf-8")
        last_error = "no attempt made"
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=self.timeout) as reply:
                    return json.loads(reply.read().decode("utf-8"))
            except urllib.error.HTTPError as error:
                detail = error.read().decode("utf-8", "replace")[:300]
                last_error = f"HTTP {error.code}: {detail}"
                if error.code not in RETRYABLE_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
                last_error = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        raise BackendError(f"OpenAI-compatible endpoint {url} failed after {attempt + 1} attempt(s): {last_error}")

    def _sampling_body(self, sampling: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "n": 1,
        }
        if sampling.top_k:
            body["top_k"] = sampling.top_k  # a vLLM extension; standard servers ignore or reject it
        if sampling.seed is not None:  # generate() gives each request its own seed (base.request_seeds)
            body["seed"] = sampling.seed
        if sampling.stop_token_ids:
            body["stop_token_ids"] = list(sampling.stop_token_ids)  # a vLLM extension
        return body

    def _from_text(self, prompt_ids: list[int], text: str, finish: str | None) -> Completion:
        """Re-tokenize a reply that came back as text only (ids approximate, no log-probs)."""
        finish = "length" if finish == "length" else "stop"
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if finish == "stop":
            ids.append(end_of_turn_id(self.tokenizer))
        return Completion(list(prompt_ids), ids, None, text, finish)

    def _complete_ids(self, prompt_ids: list[int], sampling: SamplingParams) -> Completion:
        body = {**self._sampling_body(sampling), "prompt": list(prompt_ids), "logprobs": 0, "return_token_ids": True}
        choice = self._post("/completions", body)["choices"][0]
        token_ids = choice.get("token_ids")
        if not token_ids:
            return self._from_text(prompt_ids, choice.get("text", ""), choice.get("finish_reason"))
        ids = [int(i) for i in token_ids]
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        logprobs = (choice.get("logprobs") or {}).get("token_logprobs")
        if logprobs is not None and len(logprobs) != len(ids):
            logprobs = None
        text = decode_response(self.tokenizer, ids, stop_token_ids(self.tokenizer))
        return Completion(list(prompt_ids), ids, logprobs, text, finish)

    def _complete_chat(self, prompt_ids: list[int], messages: list[dict[str, str]], sampling: SamplingParams) -> Completion:
        choice = self._post("/chat/completions", {**self._sampling_body(sampling), "messages": messages})["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
        return self._from_text(prompt_ids, text, choice.get("finish_reason"))

    def _map(self, fn: Any, items: list[Any]) -> list[Completion]:
        if len(items) <= 1 or self.max_concurrency <= 1:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(items))) as pool:
            return list(pool.map(fn, items))

    def generate(self, prompts: list[list[int]], sampling: SamplingParams) -> list[Completion]:
        """One completion per prompt: ids to `/completions`, or in chat mode the decoded prompt as one user message."""
        if self.mode == "chat":
            messages = [[{"role": "user", "content": self.tokenizer.decode(p, skip_special_tokens=True)}] for p in prompts]
            return self.generate_messages(messages, sampling, prompts)
        per_request = [replace(sampling, seed=s) for s in request_seeds(sampling, len(prompts))]
        return self._map(lambda pair: self._complete_ids(pair[0], pair[1]), list(zip(prompts, per_request)))

    def generate_messages(
        self, messages: list[list[dict[str, str]]], sampling: SamplingParams, prompt_ids: list[list[int]] | None = None
    ) -> list[Completion]:
        """Chat mode: one completion per message list; `prompt_ids` (our tokenization) are recorded as given."""
        ids = prompt_ids if prompt_ids is not None else [[] for _ in messages]
        per_request = [replace(sampling, seed=s) for s in request_seeds(sampling, len(messages))]
        return self._map(lambda item: self._complete_chat(item[0], item[1], item[2]), list(zip(ids, messages, per_request)))
