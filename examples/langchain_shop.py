"""A LangChain pipeline in which a trained tiny HiPER agent drives a shop API's tools.

    python examples/langchain_shop.py                    # trains examples/shop_tiny.yaml into runs/shop-tiny first
    python examples/langchain_shop.py --run-dir RUN_DIR  # any run trained on hiper/ShopTools-v0

It runs from any directory (as `python -m examples.langchain_shop` from the repository root too). Training the
tiny agent takes several minutes on two cores; runs/ is made in the current directory.

The chain is `prompt | agent | StrOutputParser()`: the prompt turns {"item", "quantity"} into the task, the agent
plans subgoals and calls the tools (check_stock, add_to_cart, view_cart, checkout) until the order is placed, it
calls finish, or it runs out of steps, and the parser returns its final answer. `astream_events` shows each subgoal,
action and observation as it happens.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a file from any directory: the repository root holds `examples`
    sys.path.insert(0, str(ROOT))

from examples.shop_tools import ShopAPI  # noqa: E402
from integrations.langchain import EVENT_ACTION, EVENT_OBSERVATION, EVENT_SUBGOAL, HiperAgent, ToolEnvironment  # noqa: E402

CONFIG = Path(__file__).with_name("shop_tiny.yaml")


def train(run_dir: Path, *overrides: str) -> Path:
    """Train a tiny agent on the shop tools with `python -m training.run` (needs the `train` extra)."""
    command = [
        sys.executable,
        "-m",
        "training.run",
        "--plugin",
        "examples.shop_tools",
        "--config",
        str(CONFIG),
        "--quiet",
        f"output_dir={run_dir.parent}",
        f"run_name={run_dir.name}",
        *overrides,
    ]
    # the plugin `examples.shop_tools` must import in the child too, whatever directory this runs from
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": path})
    return run_dir


def order_placed(shop: ShopAPI) -> Any:
    """A success judge: the order the task asks for ("buy Q ITEM") was placed."""

    def judge(env: ToolEnvironment) -> bool:
        match = re.search(r"buy (\d+) (\w+)", env.task)
        return match is not None and shop.placed(match.group(2), int(match.group(1)))

    return judge


def build_chain(run_dir: str | Path, shop: ShopAPI, **agent_kwargs: Any) -> Runnable:
    """`prompt | agent | StrOutputParser()` over the shop's tools."""
    agent = HiperAgent.from_checkpoint(run_dir, tools=shop.tools(), success=order_placed(shop), **agent_kwargs)
    prompt = ChatPromptTemplate.from_messages([("human", "buy {quantity} {item}")])
    return prompt | agent | StrOutputParser()


async def show_events(chain: Runnable, order: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Run the chain once, printing the agent's subgoal, action and observation events as they arrive."""
    events = []
    async for event in chain.astream_events(order, version="v2"):
        if event["event"] == "on_custom_event" and event["name"] in (EVENT_SUBGOAL, EVENT_ACTION, EVENT_OBSERVATION):
            data = event["data"]
            text = {EVENT_SUBGOAL: data.get("subgoal"), EVENT_ACTION: data.get("action")}.get(event["name"])
            print(f"  [{event['name']}] {text if text is not None else data.get('observation')}")
            events.append((event["name"], data))
    return events


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the example; returns what it printed, for tests."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, default=None, help="a run trained on hiper/ShopTools-v0")
    parser.add_argument("--max-steps", type=int, default=6)
    args = parser.parse_args(argv)
    run_dir = args.run_dir or Path("runs/shop-tiny")
    if not (run_dir / "config.yaml").is_file():
        print(f"training a tiny agent into {run_dir} ...")
        train(run_dir)
    shop = ShopAPI()
    chain = build_chain(run_dir, shop, max_steps=args.max_steps, temperature=0.0)
    order = {"item": "apple", "quantity": 2}
    print(f"invoke {order}:")
    answer = chain.invoke(order)
    print(f"  answer: {answer}")
    print(f"astream_events {order}:")
    events = asyncio.run(show_events(chain, order))
    print(f"orders placed: {shop.orders}")
    return {"answer": answer, "events": events, "orders": shop.orders}


if __name__ == "__main__":
    main()
