"""signup-form: a three-page sign-up form whose validation errors must be read and fixed.

Page 1 (account: name, email, password twice), page 2 (contact: phone, city, ZIP code, country), page 3 (review:
plan, terms). The instruction gives the phone number as people write it, "(555) 014-2368"; the form takes digits
only and says so after the first try, so the agent has to read the error and type it again. Unticked terms are
refused too. Milestones: account_details_accepted, contact_details_accepted, account_created. Success: an account
with every given value (the phone as its digits).
"""

from __future__ import annotations

import random
import re
from typing import Any

from hiper_gym.web.checks import Context, norm
from hiper_gym.web.layout import checkbox, esc, form, messages, page, select_input, text_input
from hiper_gym.web.site import Request, Response, Site, redirect, route
from hiper_gym.web.task import WebTask
from hiper_gym.web.tasks.expert_steps import choose, click, first, tick, type_into

SITE_NAME = "Brightside Club"
FIRST = ["Maya", "Omar", "Lena", "Jonas", "Priya", "Tomas", "Keiko", "Sofia", "Idris", "Nora"]
LAST = ["Fischer", "Mensah", "Kowalski", "Duarte", "Nakamura", "Olsen", "Haddad", "Brennan"]
CITIES = ["Springfield", "Riverton", "Lakeside", "Fairview", "Georgetown", "Ashland", "Milford"]
COUNTRIES = ["United States", "Canada", "United Kingdom", "Ireland", "Australia", "New Zealand"]
PLANS = ["Free", "Plus", "Pro"]
TERMS = "I accept the terms of service"
STEPS = ("account", "contact", "review")


def draw(rng: random.Random) -> dict[str, Any]:
    """A person's details; the phone is written with punctuation, as people write it."""
    first_name, last_name = rng.choice(FIRST), rng.choice(LAST)
    digits = "555" + "".join(str(rng.randint(0, 9)) for _ in range(7))
    return dict(
        name=f"{first_name} {last_name}",
        email=f"{first_name.lower()}.{last_name.lower()}@example.org",
        password=f"{rng.choice(['sunny', 'cobalt', 'tiger', 'quartz'])}{rng.randint(100, 999)}x",
        phone_digits=digits,
        phone_written=f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
        city=rng.choice(CITIES),
        zip=f"{rng.randint(10000, 99999)}",
        country=rng.choice(COUNTRIES),
        plan=rng.choice(PLANS),
    )


def account_errors(f: dict[str, str]) -> list[str]:
    """Validation of page 1."""
    errors = []
    if not f.get("name", "").strip():
        errors.append("Full name: please enter your name.")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", f.get("email", "").strip().lower()):
        errors.append("Email: enter an address like name@example.org.")
    password = f.get("password", "")
    if len(password) < 8 or not re.search(r"\d", password) or not re.search(r"[a-zA-Z]", password):
        errors.append("Password: use at least 8 characters with a letter and a digit.")
    elif f.get("confirm", "") != password:
        errors.append("Confirm password: the two passwords differ.")
    return errors


def contact_errors(f: dict[str, str]) -> list[str]:
    """Validation of page 2."""
    errors = []
    if not re.fullmatch(r"\d{10}", f.get("phone", "").strip()):
        errors.append("Phone: enter 10 digits, numbers only (no spaces, brackets or dashes).")
    if not f.get("city", "").strip():
        errors.append("City: please enter your city.")
    if not re.fullmatch(r"\d{5}", f.get("zip", "").strip()):
        errors.append("ZIP code: enter 5 digits.")
    return errors


class SignupSite(Site):
    """The sign-up wizard of one episode; state: the draft per page, attempts, accepted pages, the account."""

    def __init__(self, params: dict[str, Any]):
        super().__init__(params)
        self.state.update(draft={}, errors={}, accepted=[], attempts=0, account=None)

    def _page(self, title: str, step: int, body: str) -> Response:
        crumbs = " &rsaquo; ".join(
            f"<b>{i + 1}. {s.title()}</b>" if i == step else f"{i + 1}. {s.title()}" for i, s in enumerate(STEPS)
        )
        body = f'<p class="muted">Step {step + 1} of 3: {crumbs}</p>' + body
        return Response(page(title, body, SITE_NAME, [], "#7a4b9c"))

    @route("GET", "/")
    def root(self, request: Request) -> Response:
        return redirect("/signup/account")

    @route("GET", "/signup/<step>")
    def show(self, request: Request, step: str) -> Response:
        if step == "done" and self.state["account"] is not None:
            body = f"<h1>Welcome aboard, {esc(self.state['account']['name'])}!</h1>"
            body += messages(notice="Your account is ready. A confirmation email is on its way.")
            return Response(page("Welcome", body, SITE_NAME, [], "#7a4b9c"))
        if step not in STEPS:
            return redirect("/signup/account")
        index = STEPS.index(step)
        if index > len(self.state["accepted"]):  # pages are taken in order
            return redirect(f"/signup/{STEPS[len(self.state['accepted'])]}")
        d = self.state["draft"]
        back = f'<a class="button secondary" href="/signup/{STEPS[index - 1]}">Back</a> ' if index else ""
        if step == "account":
            inner = (
                text_input("name", "Full name", d.get("name", ""))
                + text_input("email", "Email", d.get("email", ""), "email")
                + text_input("password", "Password", kind="password")
                + text_input("confirm", "Confirm password", kind="password")
            )
            title = "Create your account"
        elif step == "contact":
            inner = (
                text_input("phone", "Phone", d.get("phone", ""), "tel")
                + text_input("city", "City", d.get("city", ""))
                + text_input("zip", "ZIP code", d.get("zip", ""))
                + select_input("country", "Country", COUNTRIES, d.get("country", COUNTRIES[0]))
            )
            title = "Contact details"
        else:
            summary = "".join(
                f"<tr><th>{label}</th><td>{esc(d.get(key, ''))}</td></tr>"
                for key, label in [
                    ("name", "Name"),
                    ("email", "Email"),
                    ("phone", "Phone"),
                    ("city", "City"),
                    ("zip", "ZIP code"),
                    ("country", "Country"),
                ]  # fmt: skip
            )
            inner = (
                f"<table>{summary}</table>"
                + select_input("plan", "Plan", PLANS, d.get("plan", PLANS[0]))
                + "<p>"
                + checkbox("terms", TERMS)
                + "</p>"
            )
            title = "Review and confirm"
        label = "Create account" if step == "review" else "Continue"
        inner += f'<p>{back}<button type="submit">{label}</button></p>'
        body = f"<h1>{title}</h1>" + messages(self.state["errors"].get(step, [])) + form(f"/signup/{step}", inner)
        return self._page(title, index, body)

    @route("POST", "/signup/<step>")
    def submit(self, request: Request, step: str) -> Response:
        if step not in STEPS or STEPS.index(step) > len(self.state["accepted"]):
            return redirect("/signup/account")
        self.state["attempts"] += 1
        fields = dict(request.form)
        if step == "account":
            errors = account_errors(fields)
            keep = {k: fields.get(k, "") for k in ("name", "email", "password")}
        elif step == "contact":
            errors = contact_errors(fields)
            keep = {k: fields.get(k, "") for k in ("phone", "city", "zip", "country")}
        else:
            errors = [] if fields.get("terms") == "on" else ["Please accept the terms of service to continue."]
            keep = {"plan": fields.get("plan", PLANS[0])}
        self.state["draft"].update({k: v.strip() if k != "password" else v for k, v in keep.items()})
        self.state["errors"][step] = errors
        if errors:
            return redirect(f"/signup/{step}")
        index = STEPS.index(step)
        self.state["accepted"] = list(STEPS[: index + 1])
        if step == "review":
            self.state["account"] = dict(self.state["draft"])
            return redirect("/signup/done")
        return redirect(f"/signup/{STEPS[index + 1]}")


def _success(ctx: Context) -> bool:
    account, p = ctx.state["account"], ctx.params
    if account is None:
        return False
    wanted = dict(name=p["name"], email=p["email"], phone=p["phone_digits"], city=p["city"], zip=p["zip"])
    wanted.update(country=p["country"], plan=p["plan"])
    return account.get("password") == p["password"] and all(
        norm(account.get(k, "")) == norm(v) for k, v in wanted.items()
    )


def expert() -> Any:
    """Fill each page as instructed; when the phone is refused, type its digits only."""

    def act(env: Any) -> tuple[str, str]:
        env = env.unwrapped
        page, p = env.page, env.params
        if page.path.startswith("/signup/account"):
            step = first(
                type_into(page, "Full name", p["name"]),
                type_into(page, "Email", p["email"]),
                type_into(page, "Password", p["password"]),
                type_into(page, "Confirm password", p["password"]),
            )
            return step or click(page, "Continue", "button"), "fill in the account details"
        if page.path.startswith("/signup/contact"):
            refused = "Phone: enter 10 digits" in page.text
            phone = p["phone_digits"] if refused else p["phone_written"]
            label = "fix the phone number" if refused else "fill in the contact details"
            step = first(
                type_into(page, "Phone", phone),
                type_into(page, "City", p["city"]),
                type_into(page, "ZIP code", p["zip"]),
                choose(page, "Country", p["country"]),
            )
            return step or click(page, "Continue", "button"), label
        step = first(choose(page, "Plan", p["plan"]), tick(page, TERMS, True))
        return step or click(page, "Create account", "button"), "choose the plan and create the account"

    return act


TASK = WebTask(
    name="signup-form",
    description="a three-page sign-up form with validation errors to fix",
    site=SignupSite,
    params=draw,
    instruction=lambda p: (
        f"Sign up for the club as {p['name']} with the email {p['email']} and the password {p['password']}. "
        f"Your phone number is {p['phone_written']}, you live in {p['city']}, {p['country']}, ZIP code {p['zip']}. "
        f"Choose the {p['plan']} plan and accept the terms."
    ),
    start_url="/signup/account",
    milestones=[
        ("account_details_accepted", lambda ctx: "account" in ctx.state["accepted"]),
        ("contact_details_accepted", lambda ctx: "contact" in ctx.state["accepted"]),
        ("account_created", lambda ctx: ctx.state["account"] is not None),
    ],
    success=_success,
    done=lambda ctx: ctx.state["account"] is not None,
    max_steps=25,
    expert=expert,
)
