"""The text actions of hiper/WebTask-v0 and their parser.

`click [12]`, `type [12] "text"`, `select [12] "option"`, `press Enter` and `back`. Verbs and key names are
case-insensitive (the policy lowercases its actions); the typed text is kept as written; the space before `[` is
optional and the quotes of `type` may be left out. A select option matches case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hiper_gym.core import MAX_ACTION_CHARS
from hiper_gym.web.dom import PageSnapshot

KEYS = ("enter", "tab", "escape")
CLICKABLE_ROLES = frozenset({"link", "button", "checkbox", "radio", "tab", "menuitem", "switch"})
PLACEHOLDER = "<text>"
MAX_TYPED_CHARS = MAX_ACTION_CHARS  # the action space's own limit
TYPE_TEMPLATE = 'type [{id}] "<text>"'

_CLICK = re.compile(r"^click\s*\[(\d+)\]$", re.IGNORECASE)
_TYPE = re.compile(r"^type\s*\[(\d+)\]\s*(.*)$", re.IGNORECASE | re.DOTALL)
_SELECT = re.compile(r"^select\s*\[(\d+)\]\s*(.*)$", re.IGNORECASE | re.DOTALL)
_PRESS = re.compile(r"^press\s+(\w+)$", re.IGNORECASE)


@dataclass(frozen=True)
class WebAction:
    """A parsed action: kind (click, type, select, press, back), the element id and the text or key."""

    kind: str
    element: int | None = None
    text: str = ""


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def parse_action(action: str) -> WebAction | None:
    """The action's parts, or None when the text is no action of this env."""
    text = action.strip()
    if text.lower() == "back":
        return WebAction("back")
    if m := _CLICK.match(text):
        return WebAction("click", int(m.group(1)))
    if m := _TYPE.match(text):
        return WebAction("type", int(m.group(1)), _unquote(m.group(2)))
    if m := _SELECT.match(text):
        return WebAction("select", int(m.group(1)), _unquote(m.group(2)))
    if (m := _PRESS.match(text)) and m.group(1).lower() in KEYS:
        return WebAction("press", None, m.group(1).lower())
    return None


def check_action(action: WebAction, page: PageSnapshot, can_go_back: bool) -> str | None:
    """Why the action cannot apply to this page (None when it can)."""
    if action.kind == "back":
        return None if can_go_back else "there is no earlier page in this episode"
    if action.kind == "press":
        return None
    assert action.element is not None
    element = page.element(action.element)
    if element is None:
        return f"the page has no element [{action.element}]"
    if element.disabled:
        return f"[{element.id}] is disabled"
    if action.kind == "click" and element.role not in CLICKABLE_ROLES:
        what = "type into" if element.role == "textbox" else "select an option of"
        return f"[{element.id}] is a {element.role}: {what} it instead"
    if action.kind == "type" and element.role != "textbox":
        return f"[{element.id}] is a {element.role}, not a textbox"
    if action.kind == "type":
        if action.text == PLACEHOLDER:
            return f'"{PLACEHOLDER}" is the template\'s placeholder: type the text itself'
        if len(action.text) > MAX_TYPED_CHARS:  # key by key, 10 KB took 21 s and 100 KB hung the driver
            return f"typed text is capped at {MAX_TYPED_CHARS} characters (got {len(action.text)})"
        if any(ord(ch) > 0xFFFF or 0xD800 <= ord(ch) <= 0xDFFF for ch in action.text):
            return "the text holds characters a browser cannot type (beyond the BMP, e.g. emoji, or a lone surrogate)"

    if action.kind == "select":
        if element.role != "combobox":
            return f"[{element.id}] is a {element.role}, not a drop-down list"
        if option_index(element.options or (), action.text) is None:
            return f"[{element.id}] has no option {action.text!r}"
    return None


def option_index(options: tuple[str, ...] | list[str], wanted: str) -> int | None:
    """The position of the option whose text equals `wanted`, ignoring case and surrounding spaces."""
    key = " ".join(wanted.split()).lower()
    return next((i for i, o in enumerate(options) if " ".join(o.split()).lower() == key), None)


def action_templates(page: PageSnapshot) -> list[str]:
    """`type [id] "<text>"` for every enabled textbox, in page order."""
    return [TYPE_TEMPLATE.format(id=e.id) for e in page.elements if e.role == "textbox" and not e.disabled]


def admissible_actions(page: PageSnapshot, can_go_back: bool) -> list[str]:
    """Every concrete action the page allows now, in page order (typing is a template: `action_templates`)."""
    actions = []
    for element in page.elements:
        if element.disabled:
            continue
        if element.role in CLICKABLE_ROLES:
            actions.append(f"click [{element.id}]")
        elif element.role == "combobox":
            actions += [f'select [{element.id}] "{option}"' for option in element.options or ()]
    focused = page.element(page.focused) if page.focused is not None else None
    if focused is not None and focused.role == "textbox":  # Enter submits the form of a text field
        actions.append("press Enter")
    if can_go_back:
        actions.append("back")
    return actions
