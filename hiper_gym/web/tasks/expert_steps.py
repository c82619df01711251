"""The moves scripted experts are made of: fill a field, pick an option, tick a box, click a named element.

Each returns the action text for the current page, or None when the page already shows the wanted state, so an
expert reads as a list of "make this so" steps. They find elements by their names in the observation, as an agent
would.
"""

from __future__ import annotations

from hiper_gym.web.dom import Element, PageSnapshot


class ExpertStuck(RuntimeError):
    """The page does not have what the expert's plan needs (a task or site bug)."""


def _need(page: PageSnapshot, name: str | None, role: str | None, contains: str | None = None) -> Element:
    element = page.find(name, role, contains)
    if element is None:
        raise ExpertStuck(f"no {role or 'element'} {name or contains!r} on {page.path}:\n{page.text}")
    return element


def has(page: PageSnapshot, name: str | None = None, role: str | None = None, contains: str | None = None) -> bool:
    """Whether the page has that element."""
    return page.find(name, role, contains) is not None


def type_into(page: PageSnapshot, label: str, text: str) -> str | None:
    """`type [id] "text"` unless the textbox already holds exactly `text`."""
    element = _need(page, label, "textbox")
    return None if element.value == text else f'type [{element.id}] "{text}"'


def choose(page: PageSnapshot, label: str, option: str) -> str | None:
    """`select [id] "option"` unless the drop-down list already shows it."""
    element = _need(page, label, "combobox")
    return None if (element.value or "").lower() == option.lower() else f'select [{element.id}] "{option}"'


def tick(page: PageSnapshot, label: str, checked: bool = True) -> str | None:
    """`click [id]` on a checkbox or radio unless it is already in the wanted state."""
    element = _need(page, label, None)
    return None if bool(element.checked) == checked else f"click [{element.id}]"


def click(page: PageSnapshot, name: str | None = None, role: str | None = None, contains: str | None = None) -> str:
    """`click [id]` on the element with that name (or whose name contains `contains`)."""
    return f"click [{_need(page, name, role, contains).id}]"


def first(*steps: str | None) -> str | None:
    """The first step that is still to do."""
    return next((s for s in steps if s is not None), None)
