"""Predicates of a web task: milestones, success and the episode's end, judged on the page, its URL or the site.

A check is any callable `Context -> bool`. The helpers below build the common ones, and `as_check` also accepts the
declarative form of YAML specs: a mapping whose keys all must hold, e.g.
`{"url": "/settings", "text": "Settings saved", "state": {"theme": "{{theme}}"}}`. `{{param}}` in a value is
filled with the episode's parameters; text comparisons ignore case and runs of spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hiper_gym.web.dom import PageSnapshot
from hiper_gym.web.site import Site, fill


@dataclass
class Context:
    """What a check sees after a step: the page, the site (server state) and the episode's parameters."""

    page: PageSnapshot
    site: Site
    params: dict[str, Any]
    steps: int = 0

    @property
    def url(self) -> str:
        """The page's path and query."""
        return self.page.path

    @property
    def text(self) -> str:
        """The page's visible text."""
        return self.page.text

    @property
    def state(self) -> dict[str, Any]:
        """The site's server state."""
        return self.site.state


Check = Callable[[Context], bool]


def norm(value: object) -> str:
    """Lowercased text with runs of whitespace made one space (how checks compare text)."""
    return " ".join(str(value).split()).lower()


def _value(template: object, ctx: Context) -> object:
    return fill(template, ctx.params) if isinstance(template, str) else template


def url_is(path: str) -> Check:
    """The page's path (without the query) equals `path`."""
    return lambda ctx: urlsplit(ctx.page.url).path == _value(path, ctx)


def url_matches(pattern: str) -> Check:
    """A regular expression matches the page's path and query."""
    return lambda ctx: re.search(str(_value(pattern, ctx)), ctx.url) is not None


def text_has(text: str) -> Check:
    """The page's visible text contains `text`."""
    return lambda ctx: norm(_value(text, ctx)) in norm(ctx.text)


def _lookup(state: Mapping[str, Any], dotted: str) -> Any:
    value: Any = state
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def state_is(key: str, value: object) -> Check:
    """The site's state at a dotted key equals `value` (strings compared as `norm` does)."""

    def check(ctx: Context) -> bool:
        found, wanted = _lookup(ctx.state, key), _value(value, ctx)
        if isinstance(found, str) or isinstance(wanted, str):
            return found is not None and norm(found) == norm(wanted)
        return found == wanted

    return check


def form_posted(path: str, fields: Mapping[str, object]) -> Check:
    """A `StaticSite` form was posted to `path` with these field values (as `norm` compares them)."""

    def check(ctx: Context) -> bool:
        posts = ctx.state.get("forms", {}).get(_value(path, ctx), [])
        return any(all(norm(p.get(k, "")) == norm(_value(v, ctx)) for k, v in fields.items()) for p in posts)

    return check


def element_present(role: str | None = None, name: str | None = None) -> Check:
    """The page has an element of `role` named `name`."""
    return lambda ctx: ctx.page.find(_value(name, ctx) if name else None, role) is not None


def all_of(*checks: Any) -> Check:
    """Every check holds."""
    built = [as_check(c) for c in checks]
    return lambda ctx: all(c(ctx) for c in built)


def any_of(*checks: Any) -> Check:
    """At least one check holds."""
    built = [as_check(c) for c in checks]
    return lambda ctx: any(c(ctx) for c in built)


def not_(check: Any) -> Check:
    """The check does not hold."""
    built = as_check(check)
    return lambda ctx: not built(ctx)


_KEYS: dict[str, Callable[[Any], Check]] = {
    "url": url_is,
    "url_matches": url_matches,
    "text": text_has,
    "state": lambda m: all_of(*(state_is(k, v) for k, v in m.items())),
    "form": lambda m: form_posted(m["path"], m.get("fields", {})),
    "element": lambda m: element_present(m.get("role"), m.get("name")),
    "all": lambda items: all_of(*items),
    "any": lambda items: any_of(*items),
    "not": not_,
}


def as_check(spec: Any) -> Check:
    """A check from a callable, or from a mapping of the declarative keys (url, url_matches, text, state, form,
    element, all, any, not), all of which must hold."""
    if callable(spec):
        return spec
    if isinstance(spec, Mapping):
        unknown = set(spec) - set(_KEYS)
        if unknown:
            raise ValueError(f"unknown check keys {sorted(unknown)}; known: {sorted(_KEYS)}")
        parts = [_KEYS[key](value) for key, value in spec.items()]
        return lambda ctx: all(p(ctx) for p in parts)
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        return all_of(*spec)
    raise TypeError(f"a check is a callable(Context) -> bool or a mapping of check keys, got {spec!r}")
