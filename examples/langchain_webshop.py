"""A trained tiny HiPER agent plays hiper/WebShop-v0 inside a LangChain pipeline.

    python examples/langchain_webshop.py --run-dir RUN_DIR   # a run of `python -m training.run --config webshop_tiny.yaml`

Each input names a WebShop goal (split and index); the agent searches, clicks and buys until the episode ends, and
the chain returns its summary. `batch` plays all goals together, one generation call per round.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

if __package__ in (None, ""):  # run as a file from any directory: the repository root holds the packages
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.langchain import HiperAgent  # noqa: E402


def build_chain(run_dir: str | Path, **agent_kwargs: Any) -> tuple[Runnable, Runnable]:
    """(`goal | agent | StrOutputParser()`, `goal | agent`) on hiper/WebShop-v0."""
    agent = HiperAgent.from_checkpoint(run_dir, env="hiper/WebShop-v0", **agent_kwargs)
    goal = RunnableLambda(lambda g: {"options": {"split": g.get("split", "test"), "goal_idx": int(g["goal"])}})
    playing = goal | agent
    return playing | StrOutputParser(), playing


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Play a few test goals; returns the answers and the agent's trajectories, for tests."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="a run trained on hiper/WebShop-v0")
    parser.add_argument("--goals", type=int, default=3, help="how many test goals to play")
    parser.add_argument("--max-steps", type=int, default=15)
    args = parser.parse_args(argv)
    chain, playing = build_chain(args.run_dir, max_steps=args.max_steps, temperature=0.0)
    goals = [{"goal": i} for i in range(args.goals)]
    results = playing.batch(goals)  # one generation call per round for all goals
    answers = StrOutputParser().batch(results)
    print(f"chain.invoke(goal 0) -> {chain.invoke(goals[0])!r}")
    for goal, answer, result in zip(goals, answers, results):
        meta = result.response_metadata
        print(f"goal {goal['goal']}: {meta['task'][:80]}")
        print(f"  actions: {meta['actions']}")
        print(f"  -> {answer}")
    return {"answers": answers, "results": results}


if __name__ == "__main__":
    main()
