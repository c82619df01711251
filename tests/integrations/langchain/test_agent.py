"""HiperAgent with scripted policies: events in order, batching, errors, hung tools, limits, input forms."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool

from integrations.langchain import EVENT_ACTION, EVENT_END, EVENT_OBSERVATION, EVENT_SUBGOAL, HiperAgent
from tests.integrations.langchain.scripted import scripted_backend

SHOP_PLAN = [
    ("SWITCH", "check the stock", "check_stock[apple]"),
    ("SWITCH", "fill the cart", "add_to_cart[item=apple, quantity=2]"),
    ("KEEP", "fill the cart", "finish[bought 2 apple]"),
]


def check_stock(item: Literal["apple", "milk"]) -> str:
    """How many units of an item are in stock."""
    return f"{item}: 5 in stock"


def add_to_cart(item: Literal["apple", "milk"], quantity: Literal[1, 2, 3]) -> str:
    """Put items in the cart."""
    return f"added {quantity} {item}"


def _agent(plan: Any, tools: list[Any] | None = None, **kwargs: Any) -> HiperAgent:
    plans = plan if callable(plan) else (lambda task: plan)
    return HiperAgent(scripted_backend(plans), tools=tools or [check_stock, add_to_cart], temperature=0.0, **kwargs)


class Recorder(BaseCallbackHandler):
    """Collects custom events as a sync callback sees them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data))


def test_invoke_plays_until_finish_and_returns_the_answer_with_the_trajectory():
    result = _agent(SHOP_PLAN).invoke({"task": "buy 2 apple"})
    assert isinstance(result, AIMessage) and result.content == "bought 2 apple"
    meta = result.response_metadata
    assert meta["stop_reason"] == "finish" and meta["steps"] == 3 and meta["switches"] == 1
    assert meta["subgoals"] == ["check the stock", "fill the cart"]
    assert meta["actions"] == ["check_stock[apple]", "add_to_cart[item=apple, quantity=2]", "finish[bought 2 apple]"]
    assert meta["observations"][:2] == ["apple: 5 in stock", "added 2 apple"]
    assert meta["success"] is True  # no success judge: finishing counts


async def test_astream_events_show_subgoal_action_observation_in_order_inside_a_chain():
    chain = ChatPromptTemplate.from_template("buy {n} {item}") | _agent(SHOP_PLAN) | StrOutputParser()
    custom = [
        (e["name"], e["data"])
        async for e in chain.astream_events({"n": 2, "item": "apple"}, version="v2")
        if e["event"] == "on_custom_event"
    ]
    names = [name for name, _ in custom]
    assert names == [
        EVENT_SUBGOAL, EVENT_ACTION, EVENT_OBSERVATION,
        EVENT_SUBGOAL, EVENT_ACTION, EVENT_OBSERVATION,
        EVENT_ACTION, EVENT_OBSERVATION, EVENT_END,
    ]  # fmt: skip
    assert [d["subgoal"] for n, d in custom if n == EVENT_SUBGOAL] == ["check the stock", "fill the cart"]
    assert [d["turn"] for n, d in custom if n == EVENT_OBSERVATION] == [0, 1, 2]
    assert custom[-1][1]["stop_reason"] == "finish"
    assert await chain.ainvoke({"n": 2, "item": "apple"}) == "bought 2 apple"


def test_sync_invoke_dispatches_the_same_events_to_callbacks():
    recorder = Recorder()
    _agent(SHOP_PLAN).invoke("buy 2 apple", config={"callbacks": [recorder]})
    assert [name for name, _ in recorder.events][:3] == [EVENT_SUBGOAL, EVENT_ACTION, EVENT_OBSERVATION]
    assert recorder.events[-1][0] == EVENT_END


def test_stream_yields_the_output_and_a_chain_streams_the_answer():
    agent = _agent(SHOP_PLAN)
    chunks = list(agent.stream("buy 2 apple"))
    assert len(chunks) == 1 and chunks[0].content == "bought 2 apple"
    chain = ChatPromptTemplate.from_template("buy {n} {item}") | agent | StrOutputParser()
    assert "".join(chain.stream({"n": 2, "item": "apple"})) == "bought 2 apple"


def test_inputs_dict_string_prompt_value_and_messages_give_the_same_task():
    seen: list[str] = []

    def plan(task: str) -> list[tuple[str, str, str]]:
        seen.append(task)
        return [("SWITCH", "answer", "finish[ok]")]

    agent = _agent(plan)
    prompt = ChatPromptTemplate.from_messages([("system", "be brief"), ("human", "buy {n} milk")])
    agent.invoke({"task": "buy 1 milk"})
    agent.invoke("buy 1 milk")
    agent.invoke(prompt.invoke({"n": 1}))
    agent.invoke([SystemMessage("be brief"), HumanMessage("buy 1 milk")])
    agent.invoke({"input": "buy 1 milk"})
    assert seen == ["buy 1 milk"] * 5
    with pytest.raises(TypeError, match="HiperAgent input must be"):
        agent.invoke(42)


def _lengths_plan(task: str) -> list[tuple[str, str, str]]:
    n = int(task.split()[1])
    return [("SWITCH", "look", "check_stock[milk]")] * (n - 1) + [("SWITCH", "done", f"finish[{n} steps]")]


def test_batch_sends_every_live_episode_in_one_backend_call_per_round():
    agent = _agent(_lengths_plan)
    backend = agent.chat.hiper_backend
    results = agent.batch(["take 3 steps", "take 1 steps", "take 4 steps"])
    assert [r.content for r in results] == ["3 steps", "1 steps", "4 steps"]
    assert backend.calls == 4  # rounds = the longest episode, not the sum (8) of a thread per episode


async def test_abatch_and_ainvoke_match_the_sync_results():
    agent = _agent(_lengths_plan)
    results = await agent.abatch(["take 2 steps", "take 3 steps"])
    assert [r.content for r in results] == ["2 steps", "3 steps"]
    assert agent.chat.hiper_backend.calls == 3
    assert (await agent.ainvoke("take 2 steps")).response_metadata["steps"] == 2


def test_tool_errors_become_observations_and_the_episode_goes_on():
    def flaky(item: str) -> str:
        """A backend service that is down."""
        raise ConnectionError("inventory service unreachable")

    plan = [("SWITCH", "ask", "flaky[apple]"), ("SWITCH", "ask", "nonsense[1]"), ("SWITCH", "stop", "finish[gave up]")]
    result = _agent(plan, tools=[flaky]).invoke("buy 1 apple")
    observations = result.response_metadata["observations"]
    assert observations[0] == "Error: flaky failed: ConnectionError: inventory service unreachable"
    assert observations[1].startswith("Error: 'nonsense' is not a tool")
    assert [t["action_valid"] for t in result.response_metadata["trajectory"]] == [False, False, True]
    assert result.content == "gave up"


def _hung(seconds: float = 60.0) -> Any:
    @tool
    def slow_lookup(item: str) -> str:
        """A tool that hangs."""
        time.sleep(seconds)
        return "too late"

    return slow_lookup


HUNG_PLAN = [("SWITCH", "look up", "slow_lookup[apple]"), ("SWITCH", "stop", "finish[no answer]")]


def test_a_hung_tool_times_out_and_the_agent_returns():
    started = time.monotonic()
    result = _agent(HUNG_PLAN, tools=[_hung()], tool_timeout=0.3).invoke("buy 1 apple")
    assert time.monotonic() - started < 10
    assert "did not answer within 0.3 s (timed out)" in result.response_metadata["observations"][0]
    assert result.content == "no answer"


async def test_a_hung_async_tool_times_out_in_ainvoke():
    @tool
    async def slow_async(item: str) -> str:
        """An async tool that hangs."""
        await asyncio.sleep(60)
        return "too late"

    plan = [("SWITCH", "look up", "slow_async[apple]"), ("SWITCH", "look up", "slow_lookup[apple]"),
            ("SWITCH", "stop", "finish[none]")]  # fmt: skip
    started = time.monotonic()
    result = await _agent(plan, tools=[slow_async, _hung()], tool_timeout=0.3).ainvoke("buy 1 apple")
    assert time.monotonic() - started < 10
    assert all("timed out" in o for o in result.response_metadata["observations"][:2])


def test_step_limit_ends_an_agent_that_never_finishes():
    result = _agent([("SWITCH", "look", "check_stock[apple]")], max_steps=3).invoke("buy 1 apple")
    assert result.response_metadata["stop_reason"] == "step_limit" and result.response_metadata["steps"] == 3
    assert result.content.startswith("Task not completed: the step limit was reached after 3 step(s)")


def test_episode_timeout_bounds_the_wall_clock():
    started = time.monotonic()
    agent = _agent([("SWITCH", "look up", "slow_lookup[apple]")], tools=[_hung(0.4)], max_steps=50, episode_timeout=1.0)
    result = agent.invoke("buy 1 apple")
    assert time.monotonic() - started < 5
    assert result.response_metadata["stop_reason"] == "timeout" and result.response_metadata["steps"] < 5


def test_success_judge_ends_the_episode_when_the_task_is_done():
    orders: list[str] = []

    def order(item: Literal["apple", "milk"]) -> str:
        """Order an item."""
        orders.append(item)
        return f"ordered {item}"

    plan = [("SWITCH", "order", "order[milk]"), ("SWITCH", "order", "order[apple]")]
    result = _agent(plan, tools=[order], success=lambda env: "apple" in orders).invoke("order an apple")
    meta = result.response_metadata
    assert meta["success"] and meta["stop_reason"] == "success" and meta["steps"] == 2
    assert result.content.startswith("Task completed after 2 step(s)")


def test_a_gym_env_is_played_with_its_own_task_and_reset_options():
    import tests.training.toy_env as toy

    def plan(task: str) -> list[tuple[str, str, str]]:
        colour = task.split()[2]  # "open the blue door"
        return [("SWITCH", "get the key", f"take {colour} key"), ("SWITCH", "open it", f"open {colour} door")]

    agent = HiperAgent(scripted_backend(plan), env=toy.ENV_ID, env_family="web", temperature=0.0)
    results = agent.batch([{"options": {"task": 1}}, {"options": {"task": 2}}])
    assert [r.response_metadata["task"] for r in results] == ["open the blue door", "open the green door"]
    assert all(r.response_metadata["success"] and r.response_metadata["stop_reason"] == "success" for r in results)


def test_a_gym_env_refuses_a_task_text_it_would_ignore():
    import tests.training.toy_env as toy

    agent = HiperAgent(scripted_backend(lambda task: [("SWITCH", "a", "b")]), env=toy.ENV_ID, env_family="web")
    with pytest.raises(ValueError, match="plays the env's own tasks"):
        agent.invoke("open the red door")


def test_backend_failures_raise_or_come_back_with_return_exceptions():
    from hiper_agents.backends.base import BackendError

    agent = _agent(lambda task: (_ for _ in ()).throw(RuntimeError("model crashed")))
    with pytest.raises(BackendError, match="model crashed"):
        agent.invoke("buy 1 apple")
    results = agent.batch(["a", "b"], return_exceptions=True)
    assert all(isinstance(r, BackendError) for r in results)
