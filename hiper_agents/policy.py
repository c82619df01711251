"""HierarchicalPolicy: per-episode history and current subgoal -> prompt -> backend -> parsed Turn (docs/design.md §2).

One policy object serves a batch of episodes ("slots"). `act` builds every live slot's prompt, calls the backend once
for all of them, parses each response into a `Turn` (never raises on model text) and returns a `PolicyStep` per slot
with what the env needs (the action) and what the trainer needs (exact prompt/response ids, the sampler's log-probs,
the token spans of each block, tags included, and the segment/KEEP flags). The history is updated inside `act` with
the action returned, so the caller only steps the env and calls `reset_slot` when an episode ends.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hiper_agents.backends.base import (
    Backend,
    BackendError,
    Completion,
    SamplingParams,
    decode_response,
    derive_seed,
    end_of_turn_id,
    stop_token_ids,
)
from hiper_agents.prompts import FittedPrompt, PromptBuilder, PromptInputs, chat_text, encode_prompt
from hiper_agents.turn import Turn, parse_turn

FALLBACK_CHARS = {"alfworld": 30, "webshop": 20, "web": 30, "tools": 30, "babyai": 12}


@dataclass
class PolicyStep:
    """One turn of one episode: the action to send and everything the trainer keeps about it."""

    slot: int
    action: str
    turn: Turn
    prompt_ids: list[int]
    response_ids: list[int]
    logprobs: list[float] | None
    token_spans: dict[str, tuple[int, int]]  # response-token ranges [start, end) of the blocks found, tags included
    starts_segment: bool  # turn 0 of the episode, or a switch other than KEEP
    keep_subgoal_changed: bool  # a KEEP turn whose subgoal differs from the current one (consistency penalty)
    prompt_text: str
    response_text: str = ""
    finish_reason: str = "stop"
    turn_index: int = 0
    subgoal_shown: str | None = None  # the current subgoal the prompt showed
    observation_cut: bool = False
    planner_tokens: int | None = None  # two-adapter mode: response_ids[:planner_tokens] came from the planner
    observation: str = ""  # the env observation this turn answered (before any cut for the prompt)

    def without_prompt_ids(self) -> PolicyStep:
        """The step without its prompt token ids, the bulk of its memory (a report keeps turns, not the prompts)."""
        return replace(self, prompt_ids=[])


@dataclass
class SlotState:
    """What the policy remembers about one episode."""

    history: list[tuple[str, str]] = field(default_factory=list)  # (observation, action taken on it)
    subgoal: str | None = None  # what the model last wrote in <subgoal>
    turn_index: int = 0


@functools.cache
def _byte_of_char() -> dict[str, int]:
    """The inverse of the byte-level BPE alphabet (GPT-2's printable stand-in character for each byte)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[chr(byte)] = byte
        else:
            chars[chr(256 + extra)] = byte
            extra += 1
    return chars


def _byte_level_offsets(tokenizer: Any, ids: Sequence[int], text: str) -> list[int | None] | None:
    """prefix_char_offsets in O(n) for byte-level BPE tokenizers; None when not applicable (caller falls back)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if type(getattr(backend, "decoder", None)).__name__ != "ByteLevel":
        return None
    added = {int(i): t.content for i, t in tokenizer.added_tokens_decoder.items()}
    byte_of = _byte_of_char()
    pieces, ends = [], [0]
    for token_id, token in zip(ids, tokenizer.convert_ids_to_tokens(list(ids))):
        if int(token_id) in added:
            piece = added[int(token_id)].encode("utf-8")
        elif token is None or any(ch not in byte_of for ch in token):
            return None
        else:
            piece = bytes(byte_of[ch] for ch in token)
        pieces.append(piece)
        ends.append(ends[-1] + len(piece))
    data = b"".join(pieces)
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None  # replacement characters: let the generic path measure them
    if not decoded.startswith(text):
        return None
    chars_before = [0] * (len(data) + 1)  # characters fully contained in data[:b]
    for b, byte in enumerate(data):
        chars_before[b + 1] = chars_before[b] + (not 0x80 <= byte <= 0xBF)
    offsets: list[int | None] = []
    for b in ends:
        inside_char = b < len(data) and 0x80 <= data[b] <= 0xBF
        offsets.append(None if inside_char or chars_before[b] > len(text) else chars_before[b])
    return offsets


def prefix_char_offsets(tokenizer: Any, ids: Sequence[int], text: str) -> list[int | None]:
    """For each boundary i in 0..len(ids), len(decode(ids[:i])) when that decoding is a prefix of `text`, else None.

    A boundary inside a multi-byte character (or any decoding that is not a prefix of `text`) gets None. Byte-level
    BPE tokenizers take an O(n) path; others decode every prefix (O(n^2), exact for any tokenizer).
    """
    fast = _byte_level_offsets(tokenizer, ids, text)
    if fast is not None:
        return fast
    prefixes = tokenizer.batch_decode(
        [list(ids[:i]) for i in range(len(ids) + 1)], skip_special_tokens=False, clean_up_tokenization_spaces=False
    )
    return [len(p) if text.startswith(p) else None for p in prefixes]


def response_token_spans(
    tokenizer: Any,
    response_ids: Sequence[int],
    text: str,
    char_spans: dict[str, tuple[int, int]] | None = None,
) -> dict[str, tuple[int, int]]:
    """Map char spans of blocks in `text` (the decoded response) to the smallest covering token ranges [start, end).

    Decode-prefix based: start is the last token boundary at or before the block's first char, end the first at or
    after its last char. With tags as single tokens (our tiny tokenizer) decoding a span gives exactly the block.
    `char_spans` defaults to `parse_turn(text).spans`.
    """
    if char_spans is None:
        char_spans = parse_turn(text).spans
    if not char_spans:
        return {}
    offsets = prefix_char_offsets(tokenizer, response_ids, text)
    valid = [(i, off) for i, off in enumerate(offsets) if off is not None]
    spans = {}
    for name, (char_start, char_end) in char_spans.items():
        start = max((i for i, off in valid if off <= char_start), default=0)
        end = min((i for i, off in valid if off >= char_end), default=len(response_ids))
        spans[name] = (start, max(start, end))
    return spans


def build_sft_example(tokenizer: Any, user_message: str, turn_text: str) -> tuple[list[int], list[int]]:
    """(prompt_ids, response_ids) for supervised training: the rollout prompt and the turn plus end-of-turn token."""
    prompt_ids = encode_prompt(tokenizer, chat_text(tokenizer, user_message))
    response_ids = list(tokenizer(turn_text, add_special_tokens=False)["input_ids"]) + [end_of_turn_id(tokenizer)]
    return prompt_ids, response_ids


class HierarchicalPolicy:
    """Plays a batch of episodes with one backend; planner and executor are one model (docs/design.md §2)."""

    def __init__(
        self,
        backend: Backend,
        tokenizer: Any = None,
        env_family: str = "alfworld",
        history_length: int = 2,
        max_prompt_tokens: int = 2048,
        max_new_tokens: int = 512,
        fallback_chars: int | None = None,
        num_slots: int = 1,
        adapters: tuple[str, str] | None = None,
        prompt_style: str = "full",
    ):
        self.backend = backend
        self.tokenizer = tokenizer if tokenizer is not None else backend.tokenizer
        self.env_family = env_family
        self.prompts = PromptBuilder(self.tokenizer, env_family, history_length, max_prompt_tokens, prompt_style)
        self.max_new_tokens = max_new_tokens
        self.fallback_chars = fallback_chars if fallback_chars is not None else FALLBACK_CHARS[env_family]
        self.slots: list[SlotState] = []
        self.reset(num_slots)
        self.adapters = adapters
        self._subgoal_close: int | None = None
        if adapters is not None:
            if not hasattr(backend, "use_adapter"):
                raise ValueError(f"two adapters need a backend with use_adapter(); {type(backend).__name__} has none")
            ids = self.tokenizer("</subgoal>", add_special_tokens=False)["input_ids"]
            if len(ids) != 1:
                raise ValueError("two-adapter mode stops the planner on </subgoal>, which must be one token")
            self._subgoal_close = ids[0]

    @property
    def history_length(self) -> int:
        """How many past observations and actions a prompt shows."""
        return self.prompts.history_length

    def reset(self, n: int) -> None:
        """Start `n` fresh episode slots."""
        self.slots = [SlotState() for _ in range(n)]

    def reset_slot(self, slot: int) -> None:
        """Forget slot `slot`'s episode (call on every env reset)."""
        self.slots[slot] = SlotState()

    def default_sampling(self) -> SamplingParams:
        """Rollout sampling (docs/design.md §4): temperature 1.0, top_p 1.0, the policy's max_new_tokens."""
        return SamplingParams(temperature=1.0, top_p=1.0, top_k=0, max_new_tokens=self.max_new_tokens)

    def prompt_inputs(self, slot: int, observation: str, info: dict[str, Any]) -> PromptInputs:
        """What slot `slot`'s next prompt shows, from its state and the env's current observation and info."""
        state = self.slots[slot]
        return PromptInputs(
            task=str(info.get("task", "")),
            step=state.turn_index,
            observation=observation,
            subgoal=state.subgoal,
            # the concrete actions, then the templates (`search[<query>]`): the prompt lists both
            admissible=tuple(info.get("admissible_actions") or ()) + tuple(info.get("action_templates") or ()),
            history=tuple(state.history[-self.history_length :]) if self.history_length > 0 else (),
        )

    def prompt_for(self, slot: int, observation: str, info: dict[str, Any]) -> FittedPrompt:
        """Slot `slot`'s prompt now (text and ids), without changing any state."""
        return self.prompts.build(self.prompt_inputs(slot, observation, info))

    def prompt_ids_for(self, slot: int, observation: str, info: dict[str, Any]) -> list[int]:
        """The exact prompt ids `act` would send for slot `slot` now."""
        return self.prompt_for(slot, observation, info).ids

    def _live(
        self, observations: Sequence[str], infos: Sequence[dict[str, Any]], active: Sequence[int] | None
    ) -> list[tuple[int, str, dict[str, Any]]]:
        active = list(range(len(self.slots))) if active is None else list(active)
        if len(observations) != len(infos):
            raise ValueError(f"got {len(observations)} observations but {len(infos)} infos")
        for slot in active:
            if not 0 <= slot < len(self.slots):
                raise IndexError(f"slot {slot} out of range: the policy has {len(self.slots)} slots (call reset(n))")
        if len(observations) == len(active):  # aligned with `active`
            return [(slot, observations[k], infos[k]) for k, slot in enumerate(active)]
        if len(observations) == len(self.slots):  # indexed by slot
            return [(slot, observations[slot], infos[slot]) for slot in active]
        raise ValueError(
            f"observations must align with active ({len(active)}) or cover every slot ({len(self.slots)}); "
            f"got {len(observations)}"
        )

    def act(
        self,
        observations: Sequence[str],
        infos: Sequence[dict[str, Any]],
        active: Sequence[int] | None = None,
        sampling: SamplingParams | None = None,
    ) -> list[PolicyStep]:
        """One turn for every slot in `active` (default: all), with one backend call for all of them.

        `observations`/`infos` either align with `active` or hold one entry per slot.
        """
        live = self._live(observations, infos, active)
        if not live:
            return []
        prompts = [self.prompt_for(slot, obs, info) for slot, obs, info in live]
        completions, planner = self._generate(prompts, sampling or self.default_sampling())
        return [self._advance(s, o, i, p, c, n) for (s, o, i), p, c, n in zip(live, prompts, completions, planner)]

    def act_with_responses(
        self,
        observations: Sequence[str],
        infos: Sequence[dict[str, Any]],
        responses: Sequence[str],
        active: Sequence[int] | None = None,
    ) -> list[PolicyStep]:
        """Like `act`, but with given response texts (expert turns for SFT, replays): same prompts, spans and state."""
        live = self._live(observations, infos, active)
        if len(responses) != len(live):
            raise ValueError(f"got {len(responses)} responses for {len(live)} live slots")
        eot = end_of_turn_id(self.tokenizer)
        steps = []
        for (slot, obs, info), response in zip(live, responses):
            prompt = self.prompt_for(slot, obs, info)
            ids = list(self.tokenizer(response, add_special_tokens=False)["input_ids"]) + [eot]
            text = decode_response(self.tokenizer, ids, {eot})
            completion = Completion(prompt.ids, ids, None, text, "stop")
            steps.append(self._advance(slot, obs, info, prompt, completion))
        return steps

    def _generate(
        self, prompts: list[FittedPrompt], sampling: SamplingParams
    ) -> tuple[list[Completion], list[int | None]]:
        """One backend call for all prompts (two with two adapters; chat endpoints get the user messages).

        Returns the completions and, per completion, how many response tokens the planner pass wrote (or None).
        Any backend exception becomes a BackendError.
        """
        name = type(self.backend).__name__
        planner: list[int | None] = [None] * len(prompts)
        try:
            if self.adapters is not None:
                completions, planner = self._generate_two_pass([p.ids for p in prompts], sampling)
            elif getattr(self.backend, "prefers_messages", False):
                messages = [[{"role": "user", "content": p.user_message}] for p in prompts]
                completions = self.backend.generate_messages(messages, sampling, [p.ids for p in prompts])
            else:
                completions = self.backend.generate([p.ids for p in prompts], sampling)
        except BackendError:
            raise
        except Exception as error:
            raise BackendError(f"{name}.generate failed: {type(error).__name__}: {error}") from error
        if len(completions) != len(prompts):
            raise BackendError(f"{name} returned {len(completions)} completions for {len(prompts)} prompts")
        return completions, planner

    def _generate_two_pass(
        self, prompt_ids: list[list[int]], sampling: SamplingParams
    ) -> tuple[list[Completion], list[int | None]]:
        """Planner adapter writes up to `</subgoal>`, executor adapter continues; each pass has max_new_tokens."""
        assert self.adapters is not None and self._subgoal_close is not None
        planner, executor = self.adapters
        self.backend.use_adapter(planner)
        plans = self.backend.generate(prompt_ids, replace(sampling, stop_token_ids=(self._subgoal_close,)))
        todo = [k for k, c in enumerate(plans) if c.response_ids and c.response_ids[-1] == self._subgoal_close]
        self.backend.use_adapter(executor)
        exec_sampling = replace(sampling, seed=None if sampling.seed is None else derive_seed(sampling.seed, -1))
        actions = self.backend.generate([prompt_ids[k] + plans[k].response_ids for k in todo], exec_sampling) if todo else []
        merged = list(plans)
        for k, action in zip(todo, actions):
            plan = plans[k]
            logprobs = None if plan.logprobs is None or action.logprobs is None else plan.logprobs + action.logprobs
            ids = plan.response_ids + action.response_ids
            text = decode_response(self.tokenizer, ids, stop_token_ids(self.tokenizer))
            merged[k] = Completion(list(prompt_ids[k]), ids, logprobs, text, action.finish_reason)
        return merged, [len(plan.response_ids) for plan in plans]

    def _advance(
        self,
        slot: int,
        observation: str,
        info: dict[str, Any],
        prompt: FittedPrompt,
        completion: Completion,
        planner_tokens: int | None = None,
    ) -> PolicyStep:
        """Parse a completion into a PolicyStep and move slot `slot`'s episode one turn on."""
        state = self.slots[slot]
        text = completion.text if isinstance(completion.text, str) else ""
        turn = parse_turn(text, admissible=info.get("admissible_actions"), fallback_chars=self.fallback_chars)
        spans = response_token_spans(self.tokenizer, completion.response_ids, text, turn.spans)
        first = state.turn_index == 0
        keep_changed = (
            not first and turn.is_keep and turn.subgoal is not None and state.subgoal is not None
            and turn.subgoal != state.subgoal
        )
        step = PolicyStep(
            slot=slot,
            action=turn.action,
            turn=turn,
            prompt_ids=list(completion.prompt_ids) if completion.prompt_ids else list(prompt.ids),
            response_ids=list(completion.response_ids),
            logprobs=None if completion.logprobs is None else list(completion.logprobs),
            token_spans=spans,
            starts_segment=first or turn.starts_segment,
            keep_subgoal_changed=keep_changed,
            prompt_text=prompt.text,
            response_text=text,
            finish_reason=completion.finish_reason,
            turn_index=state.turn_index,
            subgoal_shown=state.subgoal,
            observation_cut=prompt.observation_cut,
            planner_tokens=planner_tokens,
            observation=observation,
        )
        state.history.append((observation, turn.action))
        del state.history[: max(0, len(state.history) - max(self.history_length, 1))]
        if turn.subgoal is not None:
            state.subgoal = turn.subgoal
        state.turn_index += 1
        return step
