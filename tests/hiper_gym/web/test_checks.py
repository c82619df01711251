"""Task checks: helpers, the declarative (YAML) form, templates from the episode's parameters."""

from __future__ import annotations

import pytest

from hiper_gym.web.checks import Context, as_check, form_posted, norm, state_is, text_has, url_is, url_matches
from hiper_gym.web.dom import Element, PageSnapshot
from hiper_gym.web.site import Site


def _ctx(url="http://127.0.0.1:1/settings?saved=1", lines=("Settings saved.",), state=None, params=None):
    site = Site()
    site.state.update(state or {})
    page = PageSnapshot(url, "Settings", tuple(lines), (Element(1, "button", "Save"),))
    return Context(page, site, params or {"theme": "Dark"})


def test_helpers_judge_url_text_and_state():
    ctx = _ctx(state={"settings": {"theme": "dark"}})
    assert url_is("/settings")(ctx) and not url_is("/home")(ctx)
    assert url_matches(r"saved=1$")(ctx)
    assert text_has("settings   SAVED")(ctx)
    assert state_is("settings.theme", "{{theme}}")(ctx)
    assert not state_is("settings.missing", "x")(ctx)


def test_declarative_checks_need_every_key_and_nest():
    ctx = _ctx(state={"logged_in": True, "forms": {"/": [{"email": "A@b.org "}]}})
    assert as_check({"url": "/settings", "state": {"logged_in": True}})(ctx)
    assert not as_check({"url": "/settings", "state": {"logged_in": False}})(ctx)
    assert as_check({"any": [{"url": "/x"}, {"text": "saved"}], "not": {"text": "error"}})(ctx)
    assert as_check({"form": {"path": "/", "fields": {"email": "a@b.org"}}})(ctx)
    assert as_check({"element": {"role": "button", "name": "save"}})(ctx)
    assert form_posted("/", {"email": "b@b.org"})(ctx) is False


def test_unknown_check_keys_are_refused():
    with pytest.raises(ValueError, match="unknown check keys"):
        as_check({"urll": "/x"})
    with pytest.raises(TypeError):
        as_check(42)


def test_norm_folds_case_and_spaces():
    assert norm("  Dark\n Mode ") == "dark mode"
