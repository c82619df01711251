"""account-settings: log in, then change one setting and save it (the others must stay as they were).

The site is an account portal: a login form (wrong credentials are refused), a dashboard, a profile page (a
distractor), and a settings form with drop-down lists and a checkbox. Milestones: logged_in, opened_settings,
setting_saved.
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from hiper_gym.web.checks import Context
from hiper_gym.web.layout import checkbox, esc, form, messages, page, select_input, text_input
from hiper_gym.web.site import Request, Response, Site, redirect, route
from hiper_gym.web.task import WebTask
from hiper_gym.web.tasks.expert_steps import choose, click, first, tick, type_into

USERS = [
    ("alice", "Alice Moreno"),
    ("bruno", "Bruno Keller"),
    ("chen", "Chen Wei"),
    ("dara", "Dara Okafor"),
    ("emil", "Emil Lindqvist"),
    ("fatima", "Fatima Haddad"),
    ("gus", "Gus Romano"),
    ("hana", "Hana Sato"),
]
WORDS = ["maple", "river", "copper", "falcon", "meadow", "harbor", "pepper", "lantern", "orbit", "willow"]
SELECTS = {
    "theme": ("Theme", ["Light", "Dark", "System default"]),
    "language": ("Language", ["English", "Deutsch", "Español", "Français", "Italiano"]),
    "timezone": ("Time zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]),
}
NOTIFICATIONS = "Email notifications"
SITE_NAME = "Northwind Account"


def draw(rng: random.Random) -> dict[str, Any]:
    """A user, a password, starting settings and the one setting to change."""
    username, full_name = rng.choice(USERS)
    start = {key: rng.choice(options) for key, (_, options) in SELECTS.items()}
    start["notifications"] = rng.choice([True, False])
    key = rng.choice([*SELECTS, "notifications"])
    if key == "notifications":
        target: Any = not start["notifications"]
        change = f"turn email notifications {'on' if target else 'off'}"
    else:
        label, options = SELECTS[key]
        target = rng.choice([o for o in options if o != start[key]])
        change = f"set the {label.lower()} to {target}"
    password = f"{rng.choice(WORDS)}{rng.randint(10, 99)}"
    return dict(
        username=username, full_name=full_name, password=password, start=start, key=key, target=target, change=change
    )


class AccountSite(Site):
    """The account portal of one episode; state: logged_in, settings, saves."""

    def __init__(self, params: dict[str, Any]):
        super().__init__(params)
        self.state.update(logged_in=False, settings=dict(params["start"]), saves=0, failed_logins=0)
        self._sid = secrets.token_hex(8)

    def _page(self, title: str, body: str) -> Response:
        nav = [("Home", "/home"), ("Settings", "/settings"), ("Profile", "/profile"), ("Log out", "/logout")]
        return Response(page(title, body, SITE_NAME, nav if self.state["logged_in"] else [], "#3d5a80"))

    def _authed(self, request: Request) -> bool:
        return self.state["logged_in"] and request.cookies.get("sid") == self._sid

    @route("GET", "/")
    def root(self, request: Request) -> Response:
        return redirect("/home" if self._authed(request) else "/login")

    @route("GET", "/login")
    def login_page(self, request: Request) -> Response:
        errors = ["Wrong username or password."] if request.query.get("error") else []
        body = (
            "<h1>Sign in</h1>"
            + messages(errors)
            + form(
                "/login",
                text_input("username", "Username")
                + text_input("password", "Password", kind="password")
                + '<p><button type="submit">Log in</button></p>',
            )
            + '<p class="muted">Forgot your password? Contact support.</p>'
        )
        return self._page("Sign in", body)

    @route("POST", "/login")
    def login(self, request: Request) -> Response:
        if (
            request.get("username").strip().lower() == self.params["username"]
            and request.get("password") == self.params["password"]
        ):
            self.state["logged_in"] = True
            return Response("", 303, headers={"Location": "/home", "Set-Cookie": f"sid={self._sid}; Path=/"})
        self.state["failed_logins"] += 1
        return redirect("/login?error=1")

    @route("GET", "/home")
    def home(self, request: Request) -> Response:
        if not self._authed(request):
            return redirect("/login")
        body = (
            f"<h1>Welcome back, {esc(self.params['full_name'])}</h1>"
            '<div class="card"><h2>Recent activity</h2><ul><li>Password changed 32 days ago</li>'
            "<li>Signed in from a new device 5 days ago</li></ul></div>"
            '<div class="card"><h2>Your plan</h2><p>Standard plan, renews on the 1st of next month.</p></div>'
        )
        return self._page("Dashboard", body)

    @route("GET", "/settings")
    def settings_page(self, request: Request) -> Response:
        if not self._authed(request):
            return redirect("/login")
        s = self.state["settings"]
        fields = "".join(select_input(key, label, options, s[key]) for key, (label, options) in SELECTS.items())
        fields += "<p>" + checkbox("notifications", NOTIFICATIONS, s["notifications"]) + "</p>"
        notice = "Settings saved." if request.query.get("saved") else None
        body = (
            "<h1>Settings</h1>"
            + messages(notice=notice)
            + form("/settings", fields + '<p><button type="submit">Save settings</button></p>')
        )
        return self._page("Settings", body)

    @route("POST", "/settings")
    def save_settings(self, request: Request) -> Response:
        if not self._authed(request):
            return redirect("/login")
        settings = {key: request.get(key) for key in SELECTS}
        settings["notifications"] = request.get("notifications") == "on"
        self.state["settings"], self.state["saves"] = settings, self.state["saves"] + 1
        return redirect("/settings?saved=1")

    @route("GET", "/profile")
    def profile(self, request: Request) -> Response:
        if not self._authed(request):
            return redirect("/login")
        body = "<h1>Profile</h1>" + form(
            "/profile",
            text_input("display", "Display name", self.params["full_name"]) + "<p><button>Save profile</button></p>",
        )
        return self._page("Profile", body)

    @route("POST", "/profile")
    def save_profile(self, request: Request) -> Response:
        return redirect("/profile")

    @route("GET", "/logout")
    def logout(self, request: Request) -> Response:
        self.state["logged_in"] = False
        return redirect("/login")


def _saved(ctx: Context) -> bool:
    return ctx.state["saves"] > 0 and ctx.state["settings"][ctx.params["key"]] == ctx.params["target"]


def _success(ctx: Context) -> bool:
    wanted = {**ctx.params["start"], ctx.params["key"]: ctx.params["target"]}
    return ctx.state["saves"] > 0 and ctx.state["settings"] == wanted


def expert() -> Any:
    """Log in, open Settings, change the one setting, save."""

    def act(env: Any) -> tuple[str, str]:
        env = env.unwrapped
        page, p = env.page, env.params
        if page.path.startswith("/login"):
            step = first(type_into(page, "Username", p["username"]), type_into(page, "Password", p["password"]))
            return step or click(page, "Log in", "button"), "log in"
        if not page.path.startswith("/settings"):
            return click(page, "Settings", "link"), "open the settings page"
        if p["key"] == "notifications":
            step = tick(page, NOTIFICATIONS, p["target"])
        else:
            step = choose(page, SELECTS[p["key"]][0], p["target"])
        if step is not None:
            return step, p["change"]
        return click(page, "Save settings", "button"), "save the settings"

    return act


TASK = WebTask(
    name="account-settings",
    description="log in, then change one setting and save it",
    site=AccountSite,
    params=draw,
    instruction=lambda p: (
        f"Log in as {p['username']} (password: {p['password']}), then {p['change']} and save it. "
        "Leave the other settings as they are."
    ),
    start_url="/login",
    milestones=[
        ("logged_in", lambda ctx: ctx.state["logged_in"]),
        ("opened_settings", lambda ctx: ctx.state["logged_in"] and ctx.page.path.startswith("/settings")),
        ("setting_saved", _saved),
    ],
    success=_success,
    max_steps=15,
    expert=expert,
)
