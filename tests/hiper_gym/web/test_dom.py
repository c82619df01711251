"""Reading a page: visible text in order, numbered elements with names, values and states."""

from __future__ import annotations

import pytest

from hiper_gym.web.actions import parse_action
from hiper_gym.web.browser import Browser
from hiper_gym.web.dom import Element, PageSnapshot, parse_snapshot
from hiper_gym.web.server import SiteServer
from hiper_gym.web.site import StaticSite

PAGE = """<!doctype html><title>Fixture</title>
<h1>Account</h1>
<p>Read the <a href="/terms">terms</a> first.</p>
<div style="display:none"><button>Hidden button</button> secret text</div>
<p style="visibility:hidden">invisible text</p>
<form method="post" action="/">
  <label for="u">User name</label><input id="u" name="u" value="ann">
  <label for="p">Password</label><input id="p" type="password" name="p" value="abc">
  <input name="q" placeholder="Search here">
  <label><input type="checkbox" name="c" checked> Keep me signed in</label>
  <label for="s">Plan</label><select id="s" name="s"><option>Free</option><option selected>Pro plan</option></select>
  <input type="hidden" name="token" value="x">
  <button type="submit" aria-label="Save the form">Save</button>
  <button disabled>Locked</button>
</form>
<table><tr><th>Item</th><th>Price</th></tr><tr><td>Mug</td><td>$5</td><td><a href="/buy">Buy</a></td></tr></table>
<a href="/new" target="_blank">Opens a tab</a>
"""


def test_description_lines_show_role_name_value_and_state():
    assert Element(3, "button", "Buy Now").describe() == '[3] button "Buy Now"'
    assert (
        Element(4, "textbox", "Password", type="password", value="abc").describe()
        == '[4] textbox "Password" value="***"'
    )
    assert Element(5, "checkbox", "Keep", checked=False).describe() == '[5] checkbox "Keep" (not checked)'
    assert Element(6, "radio", "Red", checked=False).describe() == '[6] radio "Red"'
    combo = Element(7, "combobox", "Plan", value="Pro", options=("Free", "Pro"), disabled=True)
    assert combo.describe() == '[7] combobox "Plan" value="Pro" options: "Free", "Pro" (disabled)'


def test_snapshot_placeholders_become_element_lines():
    raw = {"url": "http://127.0.0.1:1/a%20b?q=red+mug", "title": "T", "lines": ["Go \x000\x00 now"],
           "elements": [{"id": 1, "role": "link", "name": "home"}], "focused": None, "mark": "m"}  # fmt: skip
    page = parse_snapshot(raw)
    assert page.lines == ('Go [1] link "home" now',)
    assert (page.path, page.host, page.mark) == ("/a b?q=red mug", "127.0.0.1", "m")
    assert page.find("HOME", "link").id == 1 and page.find(contains="om") is not None
    assert PageSnapshot("about:blank", "", ()).host == ""


@pytest.mark.browser
def test_the_live_page_reads_as_a_person_sees_it():
    server = SiteServer()
    server.serve(StaticSite({"/": PAGE}))
    browser = Browser()
    try:
        browser.open(server.url("/"))
        page = browser.snapshot()
    finally:
        browser.close()
        server.close()
    assert page.title == "Fixture"
    assert page.lines == (
        "Account",
        'Read the [1] link "terms" first.',
        '[2] textbox "User name" value="ann"',
        '[3] textbox "Password" value="***"',
        '[4] textbox "Search here" value=""',
        '[5] checkbox "Keep me signed in" (checked)',
        '[6] combobox "Plan" value="Pro plan" options: "Free", "Pro plan"',
        '[7] button "Save the form" [8] button "Locked" (disabled)',
        "Item | Price",
        'Mug | $5 | [9] link "Buy"',
        '[10] link "Opens a tab"',
    )
    assert page.element(8).disabled and page.element(10).href == "/new"


@pytest.mark.browser
def test_a_form_the_browser_refuses_to_submit_shows_why():
    server = SiteServer()
    site = StaticSite(
        {"/": '<form method="post"><input type="email" name="e" aria-label="Email"><button>Go</button></form>'}
    )
    server.serve(site)
    browser = Browser()
    try:
        browser.open(server.url("/"))
        page = browser.snapshot()
        browser.perform(parse_action('type [1] "nope"'), page)
        page = browser.snapshot()
        browser.perform(parse_action("click [2]"), page)
        page = browser.snapshot()
        assert page.element(1).invalid and "(invalid: " in page.lines[0] and not site.state["forms"]
        assert browser.snapshot().element(1).invalid is None  # shown once, as the tooltip is
    finally:
        browser.close()
        server.close()
