"""wiki-lookup: find a fact two links away in a small wiki and submit it on the answer page.

Each episode draws a wiki of fictional companies, their founders and cities. The question names a company; the
answer is on the page its article links to (the founder's birth year, or the country of its headquarters city).
Milestones: opened_first_article, opened_second_article, answer_submitted. Success: the submitted answer is right
(the first one counts: the episode ends on submission).
"""

from __future__ import annotations

import random
from typing import Any

from hiper_gym.web.checks import Context, norm
from hiper_gym.web.layout import esc, form, messages, page, text_input
from hiper_gym.web.site import Request, Response, Site, redirect, route
from hiper_gym.web.task import WebTask
from hiper_gym.web.tasks.expert_steps import click, type_into

SITE_NAME = "Atlas Wiki"
STEMS = ["Vel", "Quor", "Bri", "Tan", "Oru", "Lum", "Zen", "Kast", "Mira", "Dov", "Pel", "Sor"]
ENDS = ["trona", "ix", "sol", "vera", "dyne", "mark", "ora", "lith"]
SUFFIXES = ["Labs", "Industries", "Systems", "Works", "Group"]
INDUSTRIES = ["solar panels", "bicycles", "tea", "robotics", "textiles", "board games", "ceramics", "maps"]
FIRST = ["Alma", "Boris", "Celia", "Dmitri", "Edda", "Farid", "Greta", "Hugo", "Ilse", "Jun", "Kofi", "Lotte"]
LAST = ["Arkwright", "Bellamy", "Castellan", "Dunmore", "Everhart", "Fairbanks", "Greaves", "Holloway"]
CITIES = ["Port Avila", "Nordhaven", "San Teodoro", "Kellmouth", "Ostrava Nova", "Lindby", "Marrowgate", "Solace"]
COUNTRIES = ["Norway", "Portugal", "Chile", "Canada", "Czechia", "Sweden", "Ireland", "Japan", "Kenya", "Peru"]
QUESTIONS = ("founder_born", "hq_country")


def slug(title: str) -> str:
    """The article path name of a title."""
    return title.lower().replace(" ", "_").replace(".", "")


def draw(rng: random.Random) -> dict[str, Any]:
    """A wiki of 8 companies, 8 founders and 8 cities, and one question about a company."""
    names = rng.sample([s + e for s in STEMS for e in ENDS], 8)
    people = rng.sample([f"{f} {ln}" for f in FIRST for ln in LAST], 8)
    cities = [
        {"title": c, "country": rng.choice(COUNTRIES), "population": rng.randrange(40_000, 2_000_000, 1000)}
        for c in CITIES
    ]
    persons = [{"title": p, "born": rng.randint(1931, 1988), "birthplace": rng.choice(CITIES)} for p in people]
    companies = [
        {
            "title": f"{n} {rng.choice(SUFFIXES)}",
            "founded": rng.randint(1960, 2015),
            "founder": persons[i]["title"],
            "hq": rng.choice(CITIES),
            "industry": rng.choice(INDUSTRIES),
        }
        for i, n in enumerate(names)
    ]
    target, kind = rng.choice(companies), rng.choice(QUESTIONS)
    if kind == "founder_born":
        question = f"In what year was the founder of {target['title']} born?"
        second = target["founder"]
        answer = str(next(p["born"] for p in persons if p["title"] == second))
    else:
        question = f"In which country is the headquarters of {target['title']}?"
        second = target["hq"]
        answer = next(c["country"] for c in cities if c["title"] == second)
    return dict(
        companies=companies,
        people=persons,
        cities=cities,
        question=question,
        company=target["title"],
        second=second,
        answer=answer,
        featured=rng.sample([c["title"] for c in companies], 3),
    )


def _link(title: str) -> str:
    return f'<a href="/wiki/{esc(slug(title))}">{esc(title)}</a>'


class WikiSite(Site):
    """The wiki of one episode; state: visited article titles, searches, submitted answers."""

    def __init__(self, params: dict[str, Any]):
        super().__init__(params)
        kinds = (("company", params["companies"]), ("person", params["people"]), ("city", params["cities"]))
        self.articles = {slug(a["title"]): (kind, a) for kind, items in kinds for a in items}
        self.state.update(visited=[], searches=[], answers=[])

    def _page(self, title: str, body: str) -> Response:
        nav = [("Home", "/"), ("All articles", "/wiki"), ("Submit an answer", "/answer")]
        return Response(page(title, body, SITE_NAME, nav, "#5b5f97"))

    def _search_box(self, q: str = "") -> str:
        inner = '<div class="row"><div>' + text_input("q", "Search the wiki", q, "search")
        return form("/search", inner + '</div><div><button type="submit">Search</button></div></div>', "get")

    @route("GET", "/")
    def home(self, request: Request) -> Response:
        featured = "".join(f"<li>{_link(t)}</li>" for t in self.params["featured"])
        body = "<h1>Welcome to Atlas Wiki</h1><p>The free encyclopedia of companies, people and places.</p>"
        body += self._search_box() + f"<h2>Featured articles</h2><ul>{featured}</ul>"
        return self._page("Atlas Wiki", body)

    @route("GET", "/wiki")
    def index(self, request: Request) -> Response:
        body = "<h1>All articles</h1>"
        for heading, key in (("Companies", "companies"), ("People", "people"), ("Cities", "cities")):
            items = "".join(f"<li>{_link(a['title'])}</li>" for a in sorted(self.params[key], key=lambda a: a["title"]))
            body += f"<h2>{heading}</h2><ul>{items}</ul>"
        return self._page("All articles", body)

    @route("GET", "/search")
    def search(self, request: Request) -> Response:
        q = request.get("q").strip()
        self.state["searches"].append(q)
        hits = [a["title"] for _, a in self.articles.values() if q and norm(q) in norm(a["title"])]
        body = self._search_box(q) + f"<h2>Results for “{esc(q)}”</h2>"
        body += (
            f"<ul>{''.join(f'<li>{_link(t)}</li>' for t in sorted(hits))}</ul>" if hits else "<p>No articles match.</p>"
        )
        return self._page(f"Search: {q}", body)

    @route("GET", "/wiki/<name>")
    def article(self, request: Request, name: str) -> Response:
        if name not in self.articles:
            return self._page("Not found", "<h1>No such article</h1>" + self._search_box())
        kind, a = self.articles[name]
        self.state["visited"].append(a["title"])
        if kind == "company":
            facts = [("Industry", esc(a["industry"])), ("Founded", a["founded"]), ("Founder", _link(a["founder"])),
                     ("Headquarters", _link(a["hq"]))]  # fmt: skip
            text = (
                f"<p><b>{esc(a['title'])}</b> is a maker of {esc(a['industry'])}, founded in {a['founded']} by "
                f"{_link(a['founder'])}. Its headquarters are in {_link(a['hq'])}.</p>"
            )
        elif kind == "person":
            company = next(c for c in self.params["companies"] if c["founder"] == a["title"])
            facts = [
                ("Born", a["born"]),
                ("Birthplace", _link(a["birthplace"])),
                ("Known for", _link(company["title"])),
            ]
            text = (
                f"<p><b>{esc(a['title'])}</b> (born {a['born']} in {_link(a['birthplace'])}) is an entrepreneur, "
                f"best known as the founder of {_link(company['title'])}.</p>"
            )
        else:
            facts = [("Country", esc(a["country"])), ("Population", f"{a['population']:,}")]
            text = f"<p><b>{esc(a['title'])}</b> is a city in {esc(a['country'])}.</p>"
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
        return self._page(a["title"], f"<h1>{esc(a['title'])}</h1>{text}<table>{rows}</table>")

    @route("GET", "/answer")
    def answer_page(self, request: Request) -> Response:
        if self.state["answers"]:
            notice = f"Your answer has been recorded: {self.state['answers'][0]}"
            return self._page("Answer", "<h1>Thank you</h1>" + messages(notice=notice))
        inner = text_input("answer", "Answer") + '<p><button type="submit">Submit answer</button></p>'
        body = "<h1>Submit your answer</h1>" + form("/answer", inner)
        return self._page("Submit an answer", body)

    @route("POST", "/answer")
    def answer(self, request: Request) -> Response:
        if request.get("answer").strip():
            self.state["answers"].append(request.get("answer").strip())
        return redirect("/answer")


def _correct(ctx: Context) -> bool:
    answers = ctx.state["answers"]
    return bool(answers) and norm(answers[0]).strip(" .") == norm(ctx.params["answer"])


def expert() -> Any:
    """Search the company, open its article, follow the link to the answer's article, submit the fact."""

    def act(env: Any) -> tuple[str, str]:
        env = env.unwrapped
        page, p, visited = env.page, env.params, env.site.state["visited"]
        if p["second"] in visited:
            if not page.path.startswith("/answer"):
                return click(page, "Submit an answer", "link"), "submit the answer"
            return type_into(page, "Answer", p["answer"]) or click(page, "Submit answer", "button"), "submit the answer"
        if page.path == f"/wiki/{slug(p['company'])}":
            return click(page, p["second"], "link"), f"open the article on {p['second']}"
        if page.find(p["company"], "link") is not None:
            return click(page, p["company"], "link"), f"open the article on {p['company']}"
        step = type_into(page, "Search the wiki", p["company"])
        return step or click(page, "Search", "button"), f"search for {p['company']}"

    return act


TASK = WebTask(
    name="wiki-lookup",
    description="find a fact across linked wiki pages and submit it",
    site=WikiSite,
    params=draw,
    instruction=lambda p: f"Use the wiki to answer: {p['question']} Submit your answer on the answer page.",
    start_url="/",
    milestones=[
        ("opened_first_article", lambda ctx: ctx.params["company"] in ctx.state["visited"]),
        ("opened_second_article", lambda ctx: ctx.params["second"] in ctx.state["visited"]),
        ("answer_submitted", lambda ctx: bool(ctx.state["answers"])),
    ],
    success=_correct,
    done=lambda ctx: bool(ctx.state["answers"]),
    max_steps=15,
    expert=expert,
)
