"""The tools-as-environment adapter: admissible actions from schemas, action parsing, errors, timeouts, async."""

from __future__ import annotations

import asyncio
import time
from enum import Enum
from typing import Literal

import pytest
from langchain_core.tools import tool

from integrations.langchain import ToolEnvironment, admissible_actions, parse_action, render_action
from integrations.langchain.tools_env import ActionError, as_tools


class Size(Enum):
    SMALL = "small"
    LARGE = "large"


def search(query: str) -> str:
    """Search the catalogue."""
    return f"3 results for {query}"


def pick(item: Literal["Apple", "Milk"], count: Literal[1, 2], gift: bool = False) -> str:
    """Pick items."""
    return f"{count} {item}{' (gift)' if gift else ''}"


def sized(size: Size) -> str:
    """Choose a size."""
    return f"size {size.value}"


def checkout() -> dict:
    """Pay."""
    return {"order": 1, "paid": True}


TOOLS = as_tools([search, pick, sized, checkout])
BY_NAME = {t.name: t for t in TOOLS}


def test_admissible_actions_expand_finite_arguments_and_template_the_rest():
    assert admissible_actions(TOOLS) == [
        "search[<query>]",
        "pick[item=Apple, count=1]", "pick[item=Apple, count=2]", "pick[item=Milk, count=1]", "pick[item=Milk, count=2]",
        "sized[small]", "sized[large]",
        "checkout",
        "finish[<answer>]",
    ]  # fmt: skip
    assert admissible_actions(TOOLS, max_choices=3, finish=False)[1] == "pick[item=<item>, count=<count>]"


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("search[red shoes, size 9]", ("search", {"query": "red shoes, size 9"})),
        ("pick[item=apple, count=2]", ("pick", {"item": "Apple", "count": 2})),
        ("PICK[count=1, item=milk, gift=true]", ("pick", {"count": 1, "item": "Milk", "gift": True})),
        ('pick[{"item": "Milk", "count": 2}]', ("pick", {"item": "Milk", "count": 2})),
        ("checkout", ("checkout", {})),
        ("checkout[]", ("checkout", {})),
        ("sized[LARGE]", ("sized", {"size": "large"})),
    ],
)
def test_parse_action_reads_every_written_form(action, expected):
    assert parse_action(action, BY_NAME) == expected


@pytest.mark.parametrize(
    ("action", "message"),
    [("buy[x]", "'buy' is not a tool"), ("pick[2]", "pick takes item, count, gift"), ("???", "cannot read the action"),
     ("pick[{bad json]", "not valid JSON")],
)  # fmt: skip
def test_parse_action_errors_say_what_to_write(action, message):
    with pytest.raises(ActionError, match=message.replace("[", r"\[").replace("?", r"\?")):
        parse_action(action, BY_NAME)


def test_render_and_parse_round_trip():
    for args in ({"item": "Milk", "count": 2}, {"query": "lamp"}, {}):
        name = "pick" if "item" in args else "search" if args else "checkout"
        assert parse_action(render_action(name, args), BY_NAME) == (name, args)


def test_steps_call_tools_and_report_the_info_contract():
    env = ToolEnvironment(TOOLS)
    observation, info = env.reset(options={"task": "buy milk"})
    assert "search[<query>]: Search the catalogue." in observation and info["task"] == "buy milk"
    assert set(info) >= {"admissible_actions", "won", "score", "milestones", "milestones_completed", "action_valid"}
    observation, reward, terminated, truncated, info = env.step("pick[item=milk, count=2]")
    assert (observation, reward, terminated, info["action_valid"]) == ("2 Milk", 0.0, False, True)
    assert env.step("checkout")[0] == '{"order": 1, "paid": true}'
    assert env.step("pick[item=pear, count=1]")[0].startswith("Error: invalid arguments for pick")
    observation, reward, terminated, _, info = env.step("finish[ordered 2 milk]")
    assert (reward, terminated, info["won"], env.answer) == (1.0, True, True, "ordered 2 milk")


def test_tool_names_must_be_unique_and_not_finish():
    def finish(answer: str) -> str:
        """Clash."""
        return answer

    with pytest.raises(ValueError, match="unique"):
        as_tools([finish])


def test_gymnasium_env_checker_accepts_the_adapter():
    from gymnasium.utils.env_checker import check_env

    check_env(ToolEnvironment(TOOLS, task="buy milk"), skip_render_check=True)


def test_async_only_tools_run_in_sync_steps_and_hung_ones_time_out_in_both():
    @tool
    async def lookup(item: str) -> str:
        """Async lookup."""
        await asyncio.sleep(0.01)
        return f"{item} found"

    @tool
    async def stuck(item: str) -> str:
        """Never answers."""
        await asyncio.sleep(60)
        return "late"

    env = ToolEnvironment([lookup, stuck], tool_timeout=0.2)
    env.reset(options={"task": "t"})
    assert env.step("lookup[pen]")[0] == "pen found"
    started = time.monotonic()
    assert "timed out" in env.step("stuck[pen]")[0]
    assert "timed out" in asyncio.run(env.astep("stuck[pen]"))[0]
    assert asyncio.run(env.astep("lookup[cup]"))[0] == "cup found"
    assert time.monotonic() - started < 5
