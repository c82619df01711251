"""Scripted policies for agent tests: the response depends on the task and step the prompt shows."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from hiper_agents.backends.scripted import ScriptedBackend
from hiper_agents.turn import render_turn
from tests.integrations.langchain.tiny_checkpoint import tiny_checkpoint

Turns = list[tuple[str, str, str]]  # (switch, subgoal, action) per step


@functools.cache
def tokenizer() -> Any:
    """The tiny checkpoint's tokenizer."""
    from hiper_agents.tiny import load_tokenizer

    return load_tokenizer(tiny_checkpoint())


def scripted_backend(plans: Callable[[str], Turns]) -> ScriptedBackend:
    """A backend that answers step k of task T with plans(T)[k] (the last turn repeats past the end)."""

    def respond(prompt_ids: list[int]) -> str:
        text = tokenizer().decode(prompt_ids, skip_special_tokens=True)
        task = re.search(r"Your task: (.*)", text).group(1).strip()
        step = int(re.search(r"Steps taken so far: (\d+)", text).group(1))
        turns = plans(task)
        return render_turn(*turns[min(step, len(turns) - 1)])

    return ScriptedBackend(tokenizer(), respond)
