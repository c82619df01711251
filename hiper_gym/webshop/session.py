"""One WebShop episode: the original SimServer's session state and its transitions, without HTML.

`Session.act(action)` applies `search[...]` or `click[...]` exactly as the original text env parses and routes them
(engine/engine.py parse_action, envs/web_agent_text_env.py step and SimServer.receive) and returns whether the
action was valid. Invalid actions change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hiper_gym.core import sanitize_text
from hiper_gym.webshop import pages as P
from hiper_gym.webshop.reward import Goal, Reward, compute_reward
from hiper_gym.webshop.world import WebShopWorld

PRODUCT_WINDOW = 10
_ACTION = re.compile(r"(.+)\[(.+)\]")


def parse_action(action: str) -> tuple[str, str | None]:
    """(name, argument) as the original: `re.match(r'(.+)\\[(.+)\\]')`, the whole text as name when it fails."""
    match = _ACTION.match(action)
    return (action, None) if match is None else (match.group(1), match.group(2))


@dataclass
class Session:
    """The state the original keeps per session: page, keywords, result page, product, options, visited ASINs."""

    world: WebShopWorld
    goal: Goal
    fuzzy_matcher: str = "difflib"
    kind: str = "start"
    keywords: list[str] | None = None
    page_num: int | None = None
    results: list[int] = field(default_factory=list)
    product: int | None = None
    sub_page: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    visited: set[str] = field(default_factory=set)
    queries: list[str] = field(default_factory=list)
    reward: Reward | None = None
    rng: Any = None  # the env's np_random: draws the `<r>` query's random products
    _page: P.Page | None = None

    # --- the current page -------------------------------------------------------------------------------
    @property
    def page(self) -> P.Page:
        """The current page, rendered on demand and kept until the state changes."""
        if self._page is None:
            self._page = self._render()
        return self._page

    def _render(self) -> P.Page:
        instruction = self.goal.instruction_text
        if self.kind == "start":
            return P.start_page(instruction)
        if self.kind == "results":
            assert self.page_num is not None
            start = (self.page_num - 1) * PRODUCT_WINDOW
            shown = [self.world.products[i] for i in self.results[start : start + PRODUCT_WINDOW]]
            return P.results_page(instruction, shown, self.page_num, len(self.results))
        assert self.product is not None
        product = self.world.products[self.product]
        if self.kind == "item":
            return P.item_page(instruction, product, self.keywords or [], self.page_num or 1, self.options)
        if self.kind == "sub":
            assert self.sub_page is not None
            return P.sub_page(instruction, product, self.sub_page)
        assert self.reward is not None
        return P.done_page(product.asin, self.options, self.reward.total)

    def _go(self, kind: str) -> None:
        self.kind, self._page = kind, None

    def clickables(self) -> list[str]:
        """Lowercased texts a click accepts now (the original's `text_to_clickable` keys, 'search' excluded)."""
        return [key for key in self.page.clickables if key != "search"]

    # --- transitions ----------------------------------------------------------------------------------------
    def act(self, action: str) -> bool:
        """Apply one action; False (and no change) when the original would ignore it."""
        name, arg = parse_action(action)
        if arg is not None:
            arg = arg.lower()
        if name == "search" and arg and arg != "<query>":  # the template's placeholder is not a query
            self.search(arg)
            return True
        if name == "click" and arg is not None and arg != "search":
            key = arg if arg in self.page.clickables else self._copied_from_observation(arg)
            if key is not None:
                self.click(key)
                return True
        return False

    def _copied_from_observation(self, arg: str) -> str | None:
        """The clickable whose observation text is `arg`: observations show characters beyond the BMP (emoji) as
        '?', so `click[camo ?]` copied from the page means `click[camo 🌲]`; None unless exactly one matches."""
        if "?" not in arg:
            return None
        matches = [key for key in self.page.clickables if key != "search" and sanitize_text(key) == arg]
        return matches[0] if len(matches) == 1 else None

    def search(self, query: str) -> None:
        """A new search from any page: results page 1, no product, options cleared."""
        self.keywords = query.split(" ")
        self.queries.append(query)
        self.results = self._special_query(self.keywords)
        if self.results is None:
            self.results = self.world.engine.search(" ".join(self.keywords))
        self._show_results(1)

    def _special_query(self, keywords: list[str]) -> list[int] | None:
        """The original's debugging queries, which bypass the search engine: `<r>` 50 random products, `<c> x` every
        product of category x, `<q> x` every product whose query is x (catalogue order); None for a plain query.

        `<a>` (by attribute) raises in the original text env (it has no attribute index), so it is a plain query here."""
        products = self.world.products
        if keywords[0] == "<r>":
            rng = self.rng if self.rng is not None else np.random.default_rng()
            return [int(i) for i in rng.choice(len(products), size=min(50, len(products)), replace=False)]
        if keywords[0] == "<c>" and len(keywords) > 1:
            return [i for i, p in enumerate(products) if p.category == keywords[1].strip()]
        if keywords[0] == "<q>":
            query = " ".join(keywords[1:]).strip()
            return [i for i, p in enumerate(products) if p.query == query]
        return None

    def _show_results(self, page_num: int) -> None:
        self.page_num, self.product, self.sub_page, self.options = page_num, None, None, {}
        self._go("results")

    def click(self, key: str) -> None:
        """Route a click as SimServer.receive does."""
        clickable = self.page.clickables[key]
        if key == P.BUY_NOW.lower():
            assert self.product is not None
            product = self.world.products[self.product]
            price = self.world.prices[self.product]
            self.reward = compute_reward(product, self.goal, price, self.options, self.fuzzy_matcher)
            self._go("done")
        elif key == P.BACK_TO_SEARCH.lower():
            self.keywords, self.page_num, self.product, self.sub_page = None, None, None, None
            self.options, self.visited, self.results = {}, set(), []
            self._go("start")
        elif key == P.NEXT_PAGE.lower() and self.kind == "results":
            self._show_results((self.page_num or 1) + 1)
        elif key == P.PREV_PAGE.lower() and self.kind == "results":
            self._show_results((self.page_num or 1) - 1)
        elif key == P.PREV_PAGE.lower() and self.kind == "sub":
            self.sub_page = None
            self._go("item")
        elif key == P.PREV_PAGE.lower() and self.kind == "item":
            self._show_results(self.page_num or 1)
        elif key in (s.lower() for s in P.SUB_PAGES):
            self.sub_page = next(s for s in P.SUB_PAGES if s.lower() == key)
            self._go("sub")
        elif clickable.role == "link":
            self.product = self.world.index_of[clickable.target]
            self.visited.add(clickable.target.upper())
            self._go("item")
        else:  # an option radio: the last option group holding this value wins (the original's dict)
            self.options[clickable.target] = key
            self._go("item")

    # --- what the env reports -----------------------------------------------------------------------------
    def observation(self, mode: str) -> str:
        """The current page as `text` or `text_rich`."""
        if mode == "text_rich":
            return P.render_text_rich(self.page, self.visited)
        return P.render_text(self.page)

    @property
    def done(self) -> bool:
        """Whether 'Buy Now' was clicked."""
        return self.kind == "done"
