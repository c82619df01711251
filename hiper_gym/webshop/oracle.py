"""Reference agents: an oracle expert (privileged: it reads the goal) for SFT data and a uniform random agent.

The expert searches with the instruction (without its price clause), opens the best product on the results (the
first whose best option choice would score 1.0, else the best scoring one; a second search with the target's title
when the first finds no perfect product), chooses the goal options and buys. `expert_trajectory` plays it and
returns each step with the subgoal it serves, for supervised fine-tuning.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from hiper_gym.webshop.catalogue import Product
from hiper_gym.webshop.fuzzy import fuzzy_match, normalize_color
from hiper_gym.webshop.reward import Goal, compute_reward
from hiper_gym.webshop.session import PRODUCT_WINDOW

_PRICE_CLAUSE = re.compile(r",? and price lower than [\d.]+ dollars$")


def goal_query(goal: Goal) -> str:
    """The expert's search query: the instruction, lowercased, without the price clause."""
    return _PRICE_CLAUSE.sub("", goal.instruction_text).lower().strip()


def best_options(product: Product, goal: Goal, matcher: str = "difflib") -> dict[str, str]:
    """Option values of `product` that satisfy the goal options (one per option group; goal's own group first)."""
    chosen: dict[str, str] = {}
    names = list(goal.goal_options) if isinstance(goal.goal_options, dict) else [None] * len(goal.goal_options)
    for name, wanted in zip(names, goal.option_items()):
        target = normalize_color(wanted)
        groups = sorted(product.options, key=lambda g: g != name)
        for group in groups:
            if group in chosen:
                continue
            value = next((v for v in product.options[group] if fuzzy_match(normalize_color(v), target, matcher)), None)
            if value is not None:
                chosen[group] = value
                break
    return chosen


@dataclass
class ExpertStep:
    """One step of an expert episode: what the agent saw, did, and which subgoal the action serves."""

    observation: str
    action: str
    subgoal: str
    milestones_completed: list[str] = field(default_factory=list)
    reward: float = 0.0
    done: bool = False


class OracleAgent:
    """Plays the expert plan from the env's current state; `act` returns (action, subgoal)."""

    def __init__(self, max_candidates: int = 50):
        self.max_candidates = max_candidates
        self._tried_title = False

    def reset(self) -> None:
        """Forget the previous episode."""
        self._tried_title = False

    def _candidate(self, env: Any) -> tuple[int | None, dict[str, str], float]:
        """(rank in the current results, options, reward) of the best product among the results."""
        world, session, goal = env.world, env.session, env.goal
        best: tuple[int | None, dict[str, str], float] = (None, {}, -1.0)
        for rank, index in enumerate(session.results[: self.max_candidates]):
            product = world.products[index]
            options = best_options(product, goal, env.fuzzy_matcher)
            total = compute_reward(product, goal, world.prices[index], options, env.fuzzy_matcher).total
            if total > best[2] or (total == best[2] and product.asin == goal.asin):
                best = (rank, options, total)
            if total == 1.0:
                break
        return best

    def act(self, env: Any) -> tuple[str, str]:
        """The next expert action and its subgoal label."""
        env = env.unwrapped
        session, goal = env.session, env.goal
        if session.kind == "start":
            return f"search[{goal_query(goal)}]", f"search for {goal_query(goal)}"
        if session.kind == "results":
            rank, _, total = self._candidate(env)
            if total < 1.0 and not self._tried_title:
                self._tried_title = True
                title = env.world.products[env.world.index_of[goal.asin]].title.lower()
                return f"search[{title}]", f"search for {title}"
            if rank is None:
                return "click[back to search]", "go back to the search page"
            page = rank // PRODUCT_WINDOW + 1
            if page > (session.page_num or 1):
                return "click[next >]", f"go to results page {(session.page_num or 1) + 1}"
            if page < (session.page_num or 1):
                return "click[< prev]", f"go to results page {(session.page_num or 1) - 1}"
            asin = env.world.products[session.results[rank]].asin
            return f"click[{asin.lower()}]", "open a matching product"
        if session.kind == "sub":
            return "click[< prev]", "go back to the product page"
        product = env.world.products[session.product]
        for group, value in best_options(product, goal, env.fuzzy_matcher).items():
            radio = session.page.clickables.get(value)
            if session.options.get(group) != value and radio is not None and radio.target == group:
                return f"click[{value}]", f"select {group} {value}"
        return "click[buy now]", "buy the product"


class RandomAgent:
    """Uniform over the admissible actions; on the start page it searches 1-5 random words of the instruction."""

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)

    def act(self, env: Any, admissible: list[str]) -> str:
        """A random admissible action (a search of random instruction words where only the template is offered)."""
        if not admissible:
            words = env.unwrapped.task.lower().split()
            return f"search[{' '.join(self.rng.sample(words, min(len(words), self.rng.randint(1, 5))))}]"
        return self.rng.choice(admissible)


def expert_trajectory(env: Any, split: str = "train", goal_idx: int = 0, seed: int | None = None) -> list[ExpertStep]:
    """Reset `env` to a goal and play the oracle to the end; each step with its subgoal label and milestones."""
    observation, _ = env.reset(seed=seed, options={"split": split, "goal_idx": goal_idx})
    agent, steps = OracleAgent(), []
    while True:
        action, subgoal = agent.act(env)
        next_observation, reward, terminated, truncated, info = env.step(action)
        steps.append(
            ExpertStep(observation, action, subgoal, list(info["milestones_completed"]), float(reward), terminated)
        )
        observation = next_observation
        if terminated or truncated:
            return steps
