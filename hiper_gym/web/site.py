"""A web app for one episode: requests in, responses out, server state kept on the object.

A task's site is a `Site` subclass whose methods are routed with `@route("GET", "/item/<id>")`; a fresh instance
serves each episode (its `params` are the episode's drawn parameters, `state` is what predicates read). Users with
plain pages use `StaticSite`: HTML templates per path, `{{name}}` filled from the params, form posts recorded in
`state["forms"]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hiper_gym.web.layout import esc

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


@dataclass
class Request:
    """One HTTP request as a site sees it: fields of the query string and of a posted form, first values only."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        """A field from the posted form, else the query string, else `default`."""
        return self.form.get(name, self.query.get(name, default))


@dataclass
class Response:
    """What a site answers: status, body, content type and extra headers."""

    body: str | bytes = ""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def redirect(location: str) -> Response:
    """303 See Other: the post/redirect/get pattern, so `back` never re-posts a form."""
    return Response("", 303, headers={"Location": location})


def not_found(path: str) -> Response:
    """A plain 404 page."""
    return Response(f"<!doctype html><title>Not found</title><h1>Not found</h1><p>{esc(path)}</p>", 404)


def url(path: str, **params: object) -> str:
    """`path?k=v&...` with values quoted; None values left out."""
    parts = [f"{k}={quote(str(v), safe='')}" for k, v in params.items() if v is not None]
    return path + ("?" + "&".join(parts) if parts else "")


def route(method: str, pattern: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a Site method as the handler of `method pattern`; `<name>` in the pattern captures one path segment."""

    def mark(handler: Callable[..., Response]) -> Callable[..., Response]:
        handler._route = (method.upper(), pattern)  # type: ignore[attr-defined]
        return handler

    return mark


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", pattern) + "/?$")


class Site:
    """Base class of an episode's web app: dispatches to `@route` methods, keeps `state` for the task's checks."""

    name = "site"
    _routes: list[tuple[str, re.Pattern[str], str]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes = []
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if hasattr(value, "_route"):
                    method, pattern = value._route
                    routes.append((method, _compile(pattern), attr))
        cls._routes = routes

    def __init__(self, params: Mapping[str, Any] | None = None):
        self.params: dict[str, Any] = dict(params or {})
        self.state: dict[str, Any] = {}

    def handle(self, request: Request) -> Response:
        """Answer one request (called by the server under its lock)."""
        for method, pattern, attr in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return getattr(self, attr)(request, **match.groupdict())
        return not_found(request.path)


def fill(template: str, values: Mapping[str, Any], escape: bool = False) -> str:
    """Replace `{{name}}` (or `{{form.field}}`-style dotted names) with values; unknown names become ''."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = values
        for part in match.group(1).split("."):
            value = value.get(part, "") if isinstance(value, Mapping) else ""
        return esc(value) if escape else str(value)

    return _PLACEHOLDER.sub(lookup, template)


class StaticSite(Site):
    """Pages given as HTML per path (`{{param}}` filled, escaped); a form post to a path is recorded, then redirected.

    `state["forms"]` maps a path to the list of field dicts posted to it, in order; `state["visits"]` lists the
    paths served. A page reads the last post to its own path as `{{form.<field>}}`.
    """

    def __init__(self, pages: Mapping[str, str], params: Mapping[str, Any] | None = None):
        super().__init__(params)
        self.pages = dict(pages)
        self.state.update(forms={}, visits=[])

    def handle(self, request: Request) -> Response:
        """GET serves the page at the path; POST records the form fields and redirects to the same path."""
        if request.path not in self.pages:
            return not_found(request.path)
        if request.method == "POST":
            self.state["forms"].setdefault(request.path, []).append(dict(request.form))
            return redirect(request.path)
        self.state["visits"].append(request.path)
        last = (self.state["forms"].get(request.path) or [{}])[-1]
        return Response(fill(self.pages[request.path], {**self.params, "form": last}, escape=True))
