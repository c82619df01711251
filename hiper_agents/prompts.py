"""Prompt templates per environment family (docs/design.md §2), fitted to a token budget.

A prompt is one user message through the tokenizer's chat template. It shows the task, the step count, the last
`history_length` observations with the actions taken on them (no subgoals), the current observation, the current
subgoal (what the model last wrote, "None" at turn 0), the admissible actions (without ALFWorld's `help`) and the
format instructions. Where the reference raises on a prompt over its limit, we cut the current observation from the
middle with a marker (a stated deviation); if that is not enough, older history and then the tail of the action list
go, and a budget too small for the instructions alone raises `PromptTooLongError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

FAMILIES = ("alfworld", "webshop", "web", "tools", "babyai")
# full: the intro and the format instructions, for pretrained models that read them; compact: the same state
# without them (a third of the tokens), for models trained from scratch, which learn the format from SFT alone.
STYLES = ("full", "compact")
CUT_MARKER = "\n[... middle of the observation cut ...]\n"
HIDDEN_ACTIONS = frozenset({"help"})

_INTRO = {
    "alfworld": (
        "You are an agent in a text-based household (ALFWorld). You move between rooms and receptacles and handle "
        "objects by typing commands."
    ),
    "webshop": (
        "You are a shopping agent on a web store (WebShop). You search for products, open them, choose options and "
        "buy the one that best matches the instruction."
    ),
    "babyai": (
        "You are an agent in a grid world (BabyAI). You see the cells in front of you and move one step at a time to "
        "accomplish the mission."
    ),
    "web": "You are a web agent operating a browser. You read the page and click, type or select to finish the task.",
    "tools": (
        "You are an agent that completes tasks by calling tools. Each action calls one tool with its arguments; the "
        "tool's result is your next observation."
    ),
}

FORMAT_INSTRUCTIONS = (
    "Work in subgoals: a subgoal is a short goal that a few actions can reach. Every turn, first decide whether to "
    "KEEP the current subgoal or SWITCH to a new one (switch when it is done, impossible or no longer useful), then "
    "write the subgoal you pursue now (on KEEP, repeat the current subgoal word for word), then choose one action.\n"
    "Answer with exactly these three blocks, in this order, and nothing else:\n"
    "<switch>KEEP or SWITCH</switch>\n"
    "<subgoal>the subgoal you pursue now</subgoal>\n"
    "<action>one admissible action, copied exactly</action>"
)


class PromptTooLongError(ValueError):
    """The prompt does not fit `max_prompt_tokens` even with the observation, history and action list cut."""


@dataclass(frozen=True)
class PromptInputs:
    """What one prompt shows; `history` is (observation, action taken on it) pairs, oldest first."""

    task: str
    step: int
    observation: str
    subgoal: str | None = None
    admissible: Sequence[str] = ()
    history: Sequence[tuple[str, str]] = ()


def _format_actions(actions: Sequence[str], hidden_more: int = 0) -> str:
    shown = [a for a in actions if a.strip().lower() not in HIDDEN_ACTIONS]
    lines = [f"- {a}" for a in shown]
    if hidden_more:
        lines.append(f"- ... and {hidden_more} more")
    return "\n".join(lines) if lines else "- (none listed: write any command)"


def render_user_message(family: str, inputs: PromptInputs, history_length: int = 2, hidden_actions: int = 0,
                        style: str = "full") -> str:
    """The user message for one turn, with exactly the content of docs/design.md §2 (`compact`: without the intro
    and the format instructions)."""
    if family not in FAMILIES:
        raise ValueError(f"env_family must be one of {FAMILIES}, got {family!r}")
    if style not in STYLES:
        raise ValueError(f"prompt style must be one of {STYLES}, got {style!r}")
    history = list(inputs.history)[-history_length:] if history_length > 0 else []
    actions = list(inputs.admissible)[: len(inputs.admissible) - hidden_actions]
    if style == "compact":
        parts = [f"Task: {inputs.task.strip()}", f"Step: {inputs.step + 1}"]
        for offset, (obs, action) in enumerate(history):
            parts += [f"[Step {inputs.step - len(history) + 1 + offset}] {obs.strip()}", f"Action: {action}"]
        parts += [
            "Observation:", inputs.observation.strip(),
            f"Subgoal: {inputs.subgoal.strip() if inputs.subgoal else 'None'}",
            "Actions:", _format_actions(actions, hidden_actions),
        ]
        return "\n".join(parts)
    parts = [_INTRO[family], "", f"Your task: {inputs.task.strip()}", f"Steps taken so far: {inputs.step}."]
    if history:
        parts.append(f"Your last {len(history)} observation(s) and the action you took after each:")
        first = inputs.step - len(history) + 1
        for offset, (obs, action) in enumerate(history):
            parts.append(f"[Step {first + offset}] Observation: {obs.strip()}")
            parts.append(f"[Step {first + offset}] Action: {action}")
    parts += [
        "",
        f"Current observation (step {inputs.step + 1}):",
        inputs.observation.strip(),
        "",
        f"Current subgoal: {inputs.subgoal.strip() if inputs.subgoal else 'None'}",
        "",
        "Admissible actions:",
        _format_actions(actions, hidden_actions),
        "",
        FORMAT_INSTRUCTIONS,
    ]
    return "\n".join(parts)


def chat_text(tokenizer: Any, user_message: str) -> str:
    """The full prompt string: one user message through the chat template, with the assistant header."""
    messages = [{"role": "user", "content": user_message}]
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def encode_prompt(tokenizer: Any, text: str) -> list[int]:
    """Token ids of a chat-templated prompt (the template already holds every special token)."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def cut_middle(text: str, keep_chars: int, marker: str = CUT_MARKER) -> str:
    """Keep the first and last `keep_chars // 2` characters of `text` around `marker`."""
    if len(text) <= keep_chars:
        return text
    head = keep_chars // 2
    return text[:head] + marker + text[len(text) - (keep_chars - head) :]


@dataclass(frozen=True)
class FittedPrompt:
    """A prompt that fits the budget: the user message, the templated text and its ids."""

    user_message: str
    text: str
    ids: list[int]
    observation_cut: bool


class PromptBuilder:
    """Renders and fits prompts for one env family; the policy and the SFT data use the same instance."""

    def __init__(self, tokenizer: Any, env_family: str, history_length: int = 2, max_prompt_tokens: int = 2048,
                 style: str = "full"):
        if env_family not in FAMILIES:
            raise ValueError(f"env_family must be one of {FAMILIES}, got {env_family!r}")
        if style not in STYLES:
            raise ValueError(f"prompt style must be one of {STYLES}, got {style!r}")
        self.style = style
        self.tokenizer = tokenizer
        self.env_family = env_family
        self.history_length = history_length
        self.max_prompt_tokens = max_prompt_tokens

    def _try(self, inputs: PromptInputs, hidden_actions: int = 0) -> tuple[str, str, list[int]]:
        message = render_user_message(self.env_family, inputs, self.history_length, hidden_actions, self.style)
        text = chat_text(self.tokenizer, message)
        return message, text, encode_prompt(self.tokenizer, text)

    def _count(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _cut_observation(self, inputs: PromptInputs, offsets: list[tuple[int, int]], budget: int) -> FittedPrompt | None:
        """Cut the observation's middle to about `budget` tokens, shrinking until the prompt fits; None if it cannot."""
        observation = inputs.observation
        keep = min(max(budget, 0), len(offsets))
        while True:
            head = keep // 2
            head_end = offsets[head - 1][1] if head else 0
            tail_start = offsets[len(offsets) - (keep - head)][0] if keep - head else len(observation)
            message, text, ids = self._try(replace(inputs, observation=observation[:head_end] + CUT_MARKER + observation[tail_start:]))
            excess = len(ids) - self.max_prompt_tokens
            if excess <= 0:
                return FittedPrompt(message, text, ids, True)
            if keep == 0:
                return None
            keep = max(0, keep - excess)  # merges at the marker can cost a token or two more than counted

    def build(self, inputs: PromptInputs) -> FittedPrompt:
        """Render the prompt and fit it to `max_prompt_tokens`: cut the observation's middle, then drop old history,
        then hide the tail of the action list."""
        message, text, ids = self._try(inputs)
        if len(ids) <= self.max_prompt_tokens:
            return FittedPrompt(message, text, ids, False)
        # Token counts of the parts are nearly additive (the byte-level pre-tokenizer splits at whitespace);
        # estimates pick the cut and every candidate is checked with a real encoding.
        offsets = self.tokenizer(inputs.observation, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        overhead = len(ids) - len(offsets) + self._count(CUT_MARKER)
        history = list(inputs.history)[-self.history_length :] if self.history_length > 0 else []
        while True:
            candidate = replace(inputs, history=tuple(history))
            if overhead <= self.max_prompt_tokens or not history:
                fitted = self._cut_observation(candidate, offsets, self.max_prompt_tokens - overhead)
                if fitted is not None:
                    return fitted
            if not history:
                break
            dropped_obs, dropped_action = history.pop(0)  # the current observation matters more than the oldest step
            overhead -= self._count(f"[Step 0] Observation: {dropped_obs.strip()}\n[Step 0] Action: {dropped_action}\n")
        bare = replace(inputs, observation=cut_middle(inputs.observation, 0), history=())
        for hidden in range(1, len(bare.admissible) + 1):
            message, text, ids = self._try(bare, hidden_actions=hidden)
            if len(ids) <= self.max_prompt_tokens:
                return FittedPrompt(message, text, ids, True)
        raise PromptTooLongError(
            f"max_prompt_tokens={self.max_prompt_tokens} is too small: the {self.env_family} prompt needs "
            f"{len(ids)} tokens with an empty observation, no history and no actions; raise max_prompt_tokens"
        )


def corpus_text() -> list[str]:
    """The fixed wording of every template (for training a tiny tokenizer on what prompts contain)."""
    texts = [*_INTRO.values(), FORMAT_INSTRUCTIONS, CUT_MARKER]
    sample = PromptInputs(task="t", step=3, observation="o", subgoal="g", admissible=("a",), history=(("o", "a"),))
    texts += [render_user_message(f, sample, style=style) for f in FAMILIES for style in STYLES]
    return texts
