"""End to end: a checkpoint from a short `python -m training.run` drives a LangChain pipeline through its tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from examples.shop_tools import ShopAPI
from integrations.langchain import EVENT_ACTION, EVENT_END, EVENT_OBSERVATION, EVENT_SUBGOAL, HiperAgent
from tests.integrations.langchain.conftest import REPO


def assert_turn_order(events: list[tuple[str, dict]]) -> None:
    """Per turn: an optional subgoal (always on turn 0), the action, then its observation; the end event last."""
    assert events and events[0][0] == EVENT_SUBGOAL and events[-1][0] == EVENT_END
    turn, i = 0, 0
    while events[i][0] != EVENT_END:
        if events[i][0] == EVENT_SUBGOAL:
            assert events[i][1]["turn"] == turn
            i += 1
        assert [events[i][0], events[i + 1][0]] == [EVENT_ACTION, EVENT_OBSERVATION]
        assert events[i][1]["turn"] == events[i + 1][1]["turn"] == turn
        turn, i = turn + 1, i + 2
    assert i == len(events) - 1 and events[-1][1]["steps"] == turn


async def test_trained_checkpoint_runs_in_a_chain_with_events_in_order(shop_run: Path):
    import torch

    shop = ShopAPI()
    agent = HiperAgent.from_checkpoint(shop_run, tools=shop.tools(), max_steps=4, temperature=0.0)
    spec = agent.chat.spec
    assert spec.weights == shop_run / "checkpoints" / "iter_000001" / "actor.pt"
    assert agent.env_family() == "tools" and spec.settings.max_new_tokens == 32
    saved = torch.load(spec.weights, weights_only=True)
    model = agent.chat.load().model
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())  # the trained actor, not model/

    chain = ChatPromptTemplate.from_messages([("human", "buy {quantity} {item}")]) | agent | StrOutputParser()
    answer = await chain.ainvoke({"item": "milk", "quantity": 2})
    assert isinstance(answer, str) and answer
    events = [
        (e["name"], e["data"])
        async for e in chain.astream_events({"item": "milk", "quantity": 2}, version="v2")
        if e["event"] == "on_custom_event"
    ]
    assert_turn_order(events)
    assert {name for name, _ in events} >= {EVENT_SUBGOAL, EVENT_ACTION, EVENT_OBSERVATION}
    sync_answer = chain.invoke({"item": "milk", "quantity": 2})
    assert sync_answer == answer  # greedy: the same episode through the sync and async paths


def test_from_checkpoint_loads_a_run_a_checkpoint_or_model_dir_without_training_code(shop_run: Path):
    paths = [shop_run, shop_run / "checkpoints" / "iter_000001", shop_run / "model"]
    script = f"""
import sys
for name in ("training", "tensorboard", "matplotlib", "peft"):
    sys.modules[name] = None  # any import of these now fails
from examples.shop_tools import ShopAPI
from integrations.langchain import HiperAgent
for path in {[str(p) for p in paths]!r}:
    agent = HiperAgent.from_checkpoint(path, tools=ShopAPI().tools(), max_steps=2)
    result = agent.invoke("buy 1 milk")
    print(result.response_metadata["steps"], agent.env_family(), agent.chat.spec.weights is not None)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[-4:-1] == ["2 tools True", "2 tools True", "2 tools False"]
