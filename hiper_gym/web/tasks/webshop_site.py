"""webshop: the WebShop site in the browser, on the same catalogue, goals, search engine and reward as
hiper/WebShop-v0, so scores compare between the text and browser versions.

The site holds the text env's own `Session` (hiper_gym.webshop.session): every click in the browser is applied to
it as the text action `click[<element text>]`, a search as `search[<query>]`, so the purchase is scored by the same
code. Each state gets its own URL (`/s/<n>`), as the original's URLs carry its state, so the browser's `back`
returns to the state it shows. The instruction is given by the env, not repeated on the pages. Milestones,
success (score 1.0), the score and the subgoal judge are the text env's (`Progress`, `judge_subgoal`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from hiper_gym.web.checks import Context
from hiper_gym.web.layout import esc, page
from hiper_gym.web.site import Request, Response, Site, redirect, route, url
from hiper_gym.web.task import WebTask
from hiper_gym.webshop import pages as P
from hiper_gym.webshop.goals import SPLITS, split_range
from hiper_gym.webshop.oracle import OracleAgent
from hiper_gym.webshop.progress import Progress, judge_subgoal
from hiper_gym.webshop.session import PRODUCT_WINDOW, Session
from hiper_gym.webshop.world import WebShopWorld, load_world

SITE_NAME = "WebShop"
BRAND = "#b45309"
MATCHER = "difflib"  # hiper/WebShop-v0's default


class WebShopSite(Site):
    """One episode's shop: a list of session states (one per URL), the current one, and the text env's Progress."""

    def __init__(self, params: dict[str, Any], world: WebShopWorld):
        super().__init__(params)
        self.world = world
        goal = world.goals[params["goal_index"]]
        self.states = [Session(world, goal, MATCHER)]
        self.current = 0
        self.progress = Progress(world, goal, MATCHER)
        self.state.update(actions=[])  # the text actions applied, in order (what the text env would replay)

    @property
    def session(self) -> Session:
        """The session state the browser shows now."""
        return self.states[self.current]

    def _apply(self, number: str, action: str) -> Response:
        if not number.isdigit() or int(number) >= len(self.states) or self.states[int(number)].done:
            return redirect(f"/s/{self.current}")
        base = self.states[int(number)]
        session = dataclasses.replace(
            base, results=list(base.results), options=dict(base.options), visited=set(base.visited),
            queries=list(base.queries),
        )  # fmt: skip
        if not session.act(action):
            return redirect(f"/s/{number}")
        self.state["actions"].append(action)
        self.progress.update(session)
        self.states.append(session)
        self.current = len(self.states) - 1
        return redirect(f"/s/{self.current}")

    @route("GET", "/")
    def root(self, request: Request) -> Response:
        return redirect("/s/0")

    @route("GET", "/s/<number>/search")
    def search(self, request: Request, number: str) -> Response:
        return self._apply(number, f"search[{request.get('q')}]")

    @route("GET", "/s/<number>/click")
    def click(self, request: Request, number: str) -> Response:
        return self._apply(number, f"click[{request.get('key')}]")

    @route("GET", "/s/<number>")
    def show(self, request: Request, number: str) -> Response:
        if not number.isdigit() or int(number) >= len(self.states):
            return redirect(f"/s/{self.current}")
        self.current = int(number)
        return Response(render(self.session, self.current))


def _button(number: int, text: str, secondary: bool = False) -> str:
    cls = ' class="secondary"' if secondary else ""
    return (
        f'<form method="get" action="/s/{number}/click" style="display:inline">'
        f'<input type="hidden" name="key" value="{esc(text.lower())}"><button{cls}>{esc(text)}</button></form>'
    )


def render(session: Session, number: int) -> str:
    """The HTML of a session's page: the text env's page nodes, with its buttons, links and option radios."""
    pg = session.page
    if pg.kind == "start":
        body = (
            f'<h1>Search the shop</h1><form method="get" action="/s/{number}/search" class="row">'
            '<input type="search" name="q" aria-label="Search" placeholder="What are you looking for?" '
            'style="flex:1">'
            '<button type="submit">Search</button></form>'
        )
        return page("WebShop", body, SITE_NAME, brand=BRAND)
    if pg.kind == "done":
        assert session.reward is not None and session.product is not None
        product = session.world.products[session.product]
        chosen = ", ".join(f"{k}: {v}" for k, v in session.options.items()) or "none"
        body = (
            "<h1>Thank you for shopping with us!</h1>"
            f"<p>Purchased: {esc(product.title)} ({esc(product.asin)})</p><p>Options: {esc(chosen)}</p>"
            f"<p><b>Your score (min 0.0, max 1.0): {session.reward.total}</b></p>"
        )
        return page("Purchase complete", body, SITE_NAME, brand=BRAND)
    back = _button(number, P.BACK_TO_SEARCH, True)
    if pg.kind == "results":
        assert session.page_num is not None
        paging = "".join(
            _button(number, name, True) for name in (P.PREV_PAGE, P.NEXT_PAGE) if name.lower() in pg.clickables
        )
        body = f"<p>{back}</p><h1>Page {session.page_num} (Total results: {len(session.results)})</h1><p>{paging}</p>"
        first = (session.page_num - 1) * PRODUCT_WINDOW
        for index in session.results[first : first + PRODUCT_WINDOW]:
            product = session.world.products[index]
            href = esc(url(f"/s/{number}/click", key=product.asin.lower()))
            body += (
                f'<div class="card"><a href="{href}">{esc(product.asin)}</a><div><b>{esc(product.title)}</b></div>'
                f'<div class="muted">{esc(product.price_text)}</div></div>'
            )
        return page("Search results", body, SITE_NAME, brand=BRAND)
    assert session.product is not None
    product = session.world.products[session.product]
    body = f"<p>{back}{_button(number, P.PREV_PAGE, True)}</p>"
    if pg.kind == "item":
        for name, values in product.options.items():
            links = "".join(
                f'<a class="button{"" if session.options.get(name) == v else " secondary"}" role="radio" '
                f'aria-checked="{str(session.options.get(name) == v).lower()}" '
                f'href="{esc(url(f"/s/{number}/click", key=v))}">{esc(v)}</a>'
                for v in values
            )
            body += f'<div style="margin:8px 0 12px"><b>{esc(name)}</b><div>{links}</div></div>'
        body += (
            f"<h1>{esc(product.title)}</h1><p>Price: {esc(product.price_text)}</p><p>Rating: N.A.</p><p>"
            + "".join(_button(number, name, True) for name in P.SUB_PAGES)
            + _button(number, P.BUY_NOW)
            + "</p>"
        )
        return page(product.title, body, SITE_NAME, brand=BRAND)
    if session.sub_page == "Description":
        texts = [product.description]
    elif session.sub_page == "Features":
        texts = list(product.bullet_points)
    else:
        texts = []  # Reviews: always empty in the original
    content = "".join(f"<p>{esc(t)}</p>" for t in texts if t.strip()) or '<p class="muted">Nothing to show.</p>'
    title = f"{session.sub_page}: {product.title}"
    return page(title, body + f"<h1>{esc(session.sub_page)}</h1>{content}", SITE_NAME, brand=BRAND)


def _browser_action(env: Any, text_action: str) -> str | None:
    """The browser action that applies a text action on the current page (None: not possible on this page)."""
    page_ = env.page
    if text_action.startswith("search["):
        box = page_.find("Search", "textbox")
        if box is None:
            return None
        query = text_action[len("search[") : -1]
        return f'type [{box.id}] "{query}"' if box.value != query else f"click [{page_.find('Search', 'button').id}]"
    key = text_action[len("click[") : -1]
    element = next((e for e in page_.elements if e.name.lower() == key and e.role != "textbox"), None)
    return None if element is None else f"click [{element.id}]"


class _OracleView:
    """What OracleAgent reads from a WebShopEnv, taken from the browser task's site."""

    def __init__(self, env: Any):
        site: WebShopSite = env.site
        self.unwrapped, self.world, self.session = self, site.world, site.session
        self.goal, self.fuzzy_matcher = site.session.goal, MATCHER


def expert() -> Any:
    """hiper/WebShop-v0's oracle, its text actions carried out in the browser (a search from the search page)."""
    oracle = OracleAgent()
    pending: list[tuple[str, str]] = []

    def act(env: Any) -> tuple[str, str]:
        env = env.unwrapped
        if not pending:
            action, subgoal = oracle.act(_OracleView(env))
            if action.startswith("search[") and env.site.session.kind != "start":
                pending.append(("click[back to search]", "go back to the search page"))
            pending.append((action, "search for the product" if action.startswith("search[") else subgoal))
        action, subgoal = pending[0]
        browser_action = _browser_action(env, action)
        if browser_action is None:
            raise RuntimeError(f"the page has no element for {action!r}:\n{env.page.text}")
        if not browser_action.startswith("type "):
            pending.pop(0)
        return browser_action, subgoal

    return act


def _milestones(world: WebShopWorld, params: dict[str, Any]) -> list[tuple[str, Any]]:
    names = Progress(world, world.goals[params["goal_index"]], MATCHER).done
    return [(name, lambda ctx, name=name: ctx.site.progress.done[name]) for name in names]


def _score(ctx: Context) -> float:
    session = ctx.site.session
    return session.reward.total if session.done and session.reward is not None else 0.0


def webshop_task(name: str = "webshop", max_steps: int = 20, **world: Any) -> WebTask:
    """The WebShop site as a WebTask; `world` takes load_world's arguments (data_dir, num_products, goals, ...)."""
    loaded = load_world(**world)
    n_goals = len(loaded.goals)
    return WebTask(
        name=name,
        description="the WebShop site (same goals and reward as hiper/WebShop-v0)",
        site=functools.partial(WebShopSite, world=loaded),
        instruction=lambda p: loaded.goals[p["goal_index"]].instruction_text,
        instance=lambda split, index: {"goal_index": split_range(split, n_goals)[index]},
        splits={split: len(split_range(split, n_goals)) for split in SPLITS},
        start_url="/s/0",
        milestones=functools.partial(_milestones, loaded),
        success=lambda ctx: _score(ctx) == 1.0,
        done=lambda ctx: ctx.site.session.done,
        score=_score,
        max_steps=max_steps,
        expert=expert,
        judge=lambda text, ctx: judge_subgoal(text, ctx.site.session, ctx.site.progress),
    )


TASK = webshop_task()
