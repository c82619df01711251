"""The scripted experts `WebShopEnv.expert` makes for SFT data, and the product subset of quick runs."""

from __future__ import annotations

import collections
import random
from typing import Any

from hiper_gym.core import Expert
from hiper_gym.subsets import split_families
from hiper_gym.webshop.oracle import OracleAgent, best_options


def oracle_expert() -> Expert:
    """The oracle, its subgoals naming what each action needs: the query ("search for ..."), the product ("open the
    b0... product") and the option value ("select color red"), so the planner makes each decision and the executor
    copies it."""
    oracle = OracleAgent()

    def act(env: Any) -> tuple[str, str]:
        action, subgoal = oracle.act(env)
        # HAE gives the planner's <subgoal> the segment's return (semi-MDP GAE) but the executor only
        # r + V_high(s') - V_low(s, g) when every segment is one turn, which is noise while the critic is weak
        # (measured on the tiny default: explained variance ~0 over 20 iterations); naming the product puts the
        # decision in the planner's tokens.
        if subgoal == "open a matching product" and action.startswith("click["):
            subgoal = f"open the {action[len('click['):-1]} product"
        return action, subgoal

    return act


def careless_expert(noise: float, rng: random.Random) -> Expert:
    """The oracle, except that on the product page it picks each option value at random with probability `noise`
    (one click per option group, labelled with the value it clicks), then buys: a demonstrator that finds the
    product but does not read the options from the instruction."""
    oracle = oracle_expert()
    chosen: set[str] = set()

    def act(env: Any) -> tuple[str, str]:
        u = env.unwrapped
        if u.session.kind != "item":
            return oracle(env)
        product = u.world.products[u.session.product]
        for group, value in best_options(product, u.goal, u.fuzzy_matcher).items():
            if group in chosen:
                continue
            chosen.add(group)
            if rng.random() < noise:
                guess = rng.choice(list(product.options[group]))
                radio = u.session.page.clickables.get(guess)
                value = guess if radio is not None and radio.target == group else value
            return f"click[{value}]", f"select {group} {value}"
        return "click[buy now]", "buy the product"

    return act


def product_subset(goals: list[Any], n: int, seed: int) -> tuple[list[int], list[int]]:
    """Goal indices of n products with several goals each, those with the simplest goals first (one-word option
    values, then fewest options, then most goals); every product's goals split in half between training and held
    out, so each held-out goal asks for a product seen in training with other option values and price bounds."""
    per_product: dict[str, list[int]] = collections.defaultdict(list)
    for i, goal in enumerate(goals):
        per_product[goal.asin].append(i)

    def simplicity(asin: str) -> tuple[bool, int, int, str]:
        indices = per_product[asin]
        # One-word option values ("navy", "vanilla") first: a tiny model copies one token from the instruction
        # far sooner than a phrase ("60 x 80 inch").
        one_word = all(str(v).isalpha() for i in indices for v in goals[i].goal_options.values())
        return not one_word, max(len(goals[i].goal_options) for i in indices), -len(indices), asin

    return split_families(per_product, n, simplicity, seed)
