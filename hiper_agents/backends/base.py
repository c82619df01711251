"""The backend interface: token ids in, sampled token ids, log-probs and text out.

Log-prob convention (every backend that returns log-probs): the log-probability of each sampled token under
`log_softmax(logits / T)` over the full vocabulary, T the sampling temperature (T = 1 for greedy decoding, T = 0).
With `top_k = 0` and `top_p = 1.0` (the rollout setting, docs/design.md §4) this is exactly the distribution the token was
drawn from; top-k/top-p truncation is not renormalised into it. The trainer recomputes pi_old itself (docs/design.md §4), so
these are a diagnostic: compare them with a forward pass in the same convention.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    """How to sample one response per prompt; every field is passed to the engine explicitly."""

    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    max_new_tokens: int = 64
    seed: int | None = None
    stop_token_ids: tuple[int, ...] = ()  # extra stops besides end-of-turn (e.g. `</subgoal>` for a planner pass)

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")

    @property
    def greedy(self) -> bool:
        """Whether this asks for greedy decoding (temperature 0)."""
        return self.temperature == 0.0

    @property
    def logprob_temperature(self) -> float:
        """The T of the log-prob convention: the sampling temperature, 1.0 when greedy."""
        return 1.0 if self.greedy else self.temperature


@dataclass
class Completion:
    """One sampled response.

    `response_ids` are the exact sampled ids, ending with the stop token when `finish_reason == "stop"`;
    `text` is their decoding without a final end-of-turn token (special tokens elsewhere are kept as text).
    """

    prompt_ids: list[int]
    response_ids: list[int]
    logprobs: list[float] | None
    text: str
    finish_reason: str  # "stop" (a stop token was sampled) or "length" (max_new_tokens reached)


def derive_seed(*parts: int) -> int:
    """A 31-bit seed mixed from integers (stable across processes): distinct parts give unrelated seeds.

    Used so that no two requests or rounds share sampling noise: a seed reused for identical prompts gives identical
    samples, which collapses a GRPO group to one rollout and makes a policy repeat itself turn after turn.
    """
    import hashlib

    data = b"".join(int(p).to_bytes(16, "little", signed=True) for p in parts)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little") % 2**31


def request_seeds(sampling: SamplingParams, n: int) -> list[int | None]:
    """One seed per request of a call: derived from `sampling.seed` and the request's index (None when unseeded)."""
    if sampling.seed is None:
        return [None] * n
    return [derive_seed(sampling.seed, i) for i in range(n)]


class BackendError(RuntimeError):
    """A backend could not generate (out of memory, server down, bad model): one clear error for the caller."""


@runtime_checkable
class Backend(Protocol):
    """Generates one completion per tokenized prompt."""

    tokenizer: Any

    def generate(self, prompts: list[list[int]], sampling: SamplingParams) -> list[Completion]:
        """Sample one response per prompt (prompts are token ids from `self.tokenizer`), in order."""
        ...


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The ids that end a turn: the tokenizer's eos plus `<|im_end|>` and `<|endoftext|>` when present."""
    ids: list[int] = []
    eos = getattr(tokenizer, "eos_token_id", None)
    if isinstance(eos, int):
        ids.append(eos)
    elif isinstance(eos, (list, tuple)):
        ids.extend(int(i) for i in eos)
    vocab = tokenizer.get_vocab()
    for token in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
        if token in vocab:
            ids.append(int(vocab[token]))
    return sorted(set(ids))


def end_of_turn_id(tokenizer: Any) -> int:
    """The token that closes an assistant message: `<|im_end|>` when the vocabulary has it, else eos."""
    vocab = tokenizer.get_vocab()
    if "<|im_end|>" in vocab:
        return int(vocab["<|im_end|>"])
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has neither <|im_end|> nor an eos token; cannot end a turn")
    return int(tokenizer.eos_token_id)


def split_at_stop(ids: list[int], stops: set[int]) -> tuple[list[int], str]:
    """Cut sampled ids after the first stop token (padding follows it); returns (ids, finish_reason)."""
    for i, token in enumerate(ids):
        if token in stops:
            return ids[: i + 1], "stop"
    return ids, "length"


def decode_response(tokenizer: Any, response_ids: list[int], end_ids: Collection[int]) -> str:
    """The response text: the ids without a final end-of-turn token (one of `end_ids`), special tokens kept as text,
    no space clean-up. An extra stop such as `</subgoal>` stays in the text."""
    body = response_ids[:-1] if response_ids and response_ids[-1] in end_ids else response_ids
    return tokenizer.decode(body, skip_special_tokens=False, clean_up_tokenization_spaces=False)
