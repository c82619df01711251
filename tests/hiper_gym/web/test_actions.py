"""Parsing web actions, checking them against a page, and listing the admissible ones."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hiper_gym.web.actions import (
    WebAction,
    action_templates,
    admissible_actions,
    check_action,
    option_index,
    parse_action,
)
from hiper_gym.web.dom import Element, PageSnapshot

PAGE = PageSnapshot(
    url="http://127.0.0.1:8000/form",
    title="Form",
    lines=(),
    elements=(
        Element(1, "textbox", "Email", value=""),
        Element(2, "combobox", "Plan", value="Free", options=("Free", "Plus Plan")),
        Element(3, "button", "Send"),
        Element(4, "button", "Gone", disabled=True),
        Element(5, "link", "Help"),
    ),
    focused=1,
)


def test_every_action_form_parses_and_verbs_ignore_case():
    assert parse_action("click [3]") == WebAction("click", 3)
    assert parse_action("CLICK[3]") == WebAction("click", 3)
    assert parse_action('type [1] "Ann Lee"') == WebAction("type", 1, "Ann Lee")
    assert parse_action("type [1] ann") == WebAction("type", 1, "ann")
    assert parse_action('select [2] "plus plan"') == WebAction("select", 2, "plus plan")
    assert parse_action("press Enter") == WebAction("press", None, "enter")
    assert parse_action(" Back ") == WebAction("back")


def test_texts_that_are_no_action_parse_to_none():
    for text in ["", "click", "click [x]", "press F13", "search[shoes]", "go back", "type 1 hello"]:
        assert parse_action(text) is None


@given(st.text(max_size=40))
def test_parser_never_raises_on_any_text(text):
    parse_action(text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_typed_text_round_trips_through_the_quotes(text):
    assert parse_action(f'type [7] "{text}"') == WebAction("type", 7, text)


def test_actions_are_checked_against_the_page():
    assert check_action(WebAction("click", 3), PAGE, False) is None
    assert "no element [9]" in check_action(WebAction("click", 9), PAGE, False)
    assert "disabled" in check_action(WebAction("click", 4), PAGE, False)
    assert "textbox" in check_action(WebAction("click", 1), PAGE, False)
    assert "not a textbox" in check_action(WebAction("type", 3, "x"), PAGE, False)
    assert check_action(WebAction("select", 2, "PLUS  plan"), PAGE, False) is None
    assert "no option" in check_action(WebAction("select", 2, "Gold"), PAGE, False)
    assert check_action(WebAction("back"), PAGE, False) is not None
    assert check_action(WebAction("back"), PAGE, True) is None
    assert check_action(WebAction("type", 1, "x" * 1000), PAGE, False) is None
    assert "capped at 1000" in check_action(WebAction("type", 1, "x" * 10_000), PAGE, False)
    for text in ("a\ud800b", "camo \U0001f332"):  # a lone surrogate; an emoji (chromedriver types the BMP only)
        assert "cannot type" in check_action(WebAction("type", 1, text), PAGE, False)


def test_admissible_actions_list_each_element_once_and_enter_after_typing():
    assert action_templates(PAGE) == ['type [1] "<text>"']  # kept apart: a random agent would type "<text>"
    assert "placeholder" in check_action(WebAction("type", 1, "<text>"), PAGE, False)
    assert admissible_actions(PAGE, can_go_back=True) == [
        'select [2] "Free"',
        'select [2] "Plus Plan"',
        "click [3]",
        "click [5]",
        "press Enter",
        "back",
    ]
    unfocused = PageSnapshot(PAGE.url, PAGE.title, (), PAGE.elements, focused=None)
    assert "press Enter" not in admissible_actions(unfocused, can_go_back=False)


def test_option_index_ignores_case_and_spacing():
    assert option_index(("Light", "Dark mode"), " dark  MODE ") == 1
    assert option_index(("Light",), "Dark") is None
