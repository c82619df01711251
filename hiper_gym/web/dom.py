"""Reading a page: a script that walks the live DOM, numbers its interactive elements, and returns visible text.

The script runs in the page (one `execute_script` per step). It keeps the visible text in reading order, one line
per block, and writes every interactive element in its place as `[12] button "Buy Now"`, marking the element with
`data-hiper-id="12"` so that `click [12]` finds it. Labels of form controls become the controls' names and are not
repeated as text. Hidden elements (display, visibility, zero size) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

ID_ATTRIBUTE = "data-hiper-id"
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")  # where the script put element i; replaced by its description

SNAPSHOT_JS = r"""
const ATTR = "data-hiper-id";
for (const el of document.querySelectorAll("[" + ATTR + "]")) el.removeAttribute(ATTR);
const lines = [], elements = [];
const invalid = window.__hiperInvalid || new Map();
window.__hiperInvalid = new Map();
let cur = [], next = 1;
const squash = s => (s || "").replace(/\s+/g, " ").trim();
const flush = () => {  // inline pieces joined by spaces, without a space before closing punctuation
  const t = squash(cur.join(" ")).replace(/ ([.,;:!?)])(?=\s|$)/g, "$1");
  if (t) lines.push(t);
  cur = [];
};
const INLINE = new Set(["inline", "inline-block", "inline-flex", "inline-grid", "contents", "table-cell"]);
function roleOf(el) {
  const tag = el.tagName.toLowerCase(), type = (el.getAttribute("type") || "text").toLowerCase();
  const aria = (el.getAttribute("role") || "").toLowerCase();
  if (["button", "link", "checkbox", "radio", "tab", "menuitem", "switch"].includes(aria)) return aria;
  if (tag === "a") return el.hasAttribute("href") ? "link" : null;
  if (tag === "button") return "button";
  if (tag === "select") return "combobox";
  if (tag === "textarea") return "textbox";
  if (tag === "input") {
    if (type === "hidden") return null;
    if (["submit", "button", "reset", "image"].includes(type)) return "button";
    if (type === "checkbox" || type === "radio") return type;
    return "textbox";
  }
  return null;
}
function nameOf(el, role) {
  const aria = el.getAttribute("aria-label");
  if (aria) return squash(aria);
  const by = el.getAttribute("aria-labelledby");
  if (by) return squash(by.split(/\s+/).map(i => (document.getElementById(i) || {}).innerText || "").join(" "));
  if (el.labels && el.labels.length) return squash([...el.labels].map(l => l.innerText).join(" "));
  if (role === "textbox" || role === "combobox") return squash(el.getAttribute("placeholder") || el.title || el.name);
  if (el.tagName === "INPUT") return squash(el.value || el.title || el.name);
  return squash(el.innerText || el.title || (el.querySelector("img[alt]") || {}).alt);
}
function emit(el, role) {
  // A link or button in a sentence or table row stays there; a form field always gets a line of its own.
  const inline = INLINE.has(getComputedStyle(el).display) && !["textbox", "combobox", "checkbox"].includes(role);
  if (!inline) flush();
  const id = next++;
  el.setAttribute(ATTR, String(id));
  const info = {id, role, name: nameOf(el, role), tag: el.tagName.toLowerCase(),
                type: (el.getAttribute("type") || "").toLowerCase(), disabled: !!el.disabled,
                value: null, checked: null, options: null, href: null};
  if (role === "textbox") info.value = el.value;
  if (role === "checkbox" || role === "radio")
    info.checked = el.checked === undefined ? el.getAttribute("aria-checked") === "true" : !!el.checked;
  if (role === "combobox") {
    info.options = [...el.options].map(o => squash(o.text));
    info.value = el.selectedIndex >= 0 ? squash(el.options[el.selectedIndex].text) : "";
  }
  if (role === "link") info.href = el.getAttribute("href");
  if (invalid.has(el)) info.invalid = invalid.get(el);  // the browser refused a submit: its tooltip, as text
  elements.push(info);
  if (inline) { cur.push("\u0000" + (id - 1) + "\u0000"); } else lines.push("\u0000" + (id - 1) + "\u0000");
}
function walk(node) {
  if (node.nodeType === Node.TEXT_NODE) { cur.push(node.nodeValue); return; }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  const el = node, tag = el.tagName.toLowerCase();
  if (["script", "style", "noscript", "template", "head"].includes(tag)) return;
  if (!el.checkVisibility({checkVisibilityCSS: true, checkOpacity: true})) return;
  const role = roleOf(el);
  if (role) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) emit(el, role);
    return;
  }
  if (tag === "br") { flush(); return; }
  if (tag === "img") { if (el.alt) cur.push("[image: " + squash(el.alt) + "]"); return; }
  const display = getComputedStyle(el).display;
  const block = !INLINE.has(display);
  if (block) flush();
  if (display === "table-cell" && cur.length && cur[cur.length - 1] !== "|") cur.push("|");
  const labelOwnsControl = tag === "label" && el.control;
  if (labelOwnsControl && !el.contains(el.control)) { if (block) flush(); return; }
  for (const child of el.childNodes) {
    if (labelOwnsControl && child.nodeType === Node.TEXT_NODE) continue;
    if (labelOwnsControl && child.nodeType === Node.ELEMENT_NODE && !child.contains(el.control)
        && !roleOf(child)) continue;
    walk(child);
  }
  if (block) flush();
}
if (document.body) walk(document.body);
flush();
// Navigation watch for the next action: a mark on this document, and a flag that a link click, form submission
// or unload sets (these fire during the click itself, so the action knows at once that a new page will come).
window.__hiperMark = Math.random().toString(36).slice(2);
window.__hiperNav = false;
if (!window.__hiperHooked) {
  window.__hiperHooked = true;
  window.addEventListener("submit", e => { if (!e.defaultPrevented) window.__hiperNav = true; });
  window.addEventListener("click", e => {
    const a = e.target.closest ? e.target.closest("a[href]") : null;
    const href = a ? a.getAttribute("href") : "";
    if (a && !e.defaultPrevented && !href.startsWith("#") && !href.startsWith("javascript:")) window.__hiperNav = true;
  });
  window.addEventListener("beforeunload", () => { window.__hiperNav = true; });
  window.addEventListener("invalid", e => { window.__hiperInvalid.set(e.target, e.target.validationMessage); }, true);
}
for (const el of document.querySelectorAll("a[target], form[target]")) el.removeAttribute("target");  // one tab
const active = document.activeElement && document.activeElement.getAttribute(ATTR);
return {url: location.href, title: document.title, lines, elements, focused: active ? Number(active) : null,
        mark: window.__hiperMark};
"""

# After an action: [still the marked document?, a navigation announced?, readyState].
SETTLE_JS = "return [window.__hiperMark === arguments[0], !!window.__hiperNav, document.readyState];"


@dataclass(frozen=True)
class Element:
    """One numbered interactive element of a page, as the snapshot read it."""

    id: int
    role: str  # link, button, textbox, checkbox, radio, combobox (or an ARIA role such as tab)
    name: str
    tag: str = ""
    type: str = ""
    disabled: bool = False
    value: str | None = None
    checked: bool | None = None
    options: tuple[str, ...] | None = None
    href: str | None = None
    invalid: str | None = None  # the browser's message when it refused to submit this field's form

    def describe(self) -> str:
        """The observation line: `[12] button "Buy Now"`, with value, state and options where they apply."""
        text = f'[{self.id}] {self.role} "{self.name}"'
        if self.role == "textbox" and self.value is not None:
            shown = "*" * len(self.value) if self.type == "password" else self.value
            text += f' value="{shown}"'
        if self.checked:
            text += " (checked)"
        elif self.checked is not None and self.role == "checkbox":  # an unchecked radio is just one of the choices
            text += " (not checked)"
        if self.options is not None:
            text += f' value="{self.value}" options: ' + ", ".join(f'"{o}"' for o in self.options)
        if self.disabled:
            text += " (disabled)"
        if self.invalid:
            text += f" (invalid: {self.invalid})"
        return text


@dataclass(frozen=True)
class PageSnapshot:
    """The page after an action: URL, title, visible text lines and numbered elements."""

    url: str
    title: str
    lines: tuple[str, ...]
    elements: tuple[Element, ...] = field(default_factory=tuple)
    focused: int | None = None
    mark: str = ""  # the token the snapshot left on the document (a new document has none)

    @property
    def path(self) -> str:
        """The URL's path and query, decoded (`/search?q=red mug`): what the observation and URL checks show."""
        parts = urlsplit(self.url)
        return unquote(parts.path) + (f"?{unquote_plus(parts.query)}" if parts.query else "")

    @property
    def query(self) -> dict[str, str]:
        """The URL's query fields, decoded (first value of each)."""
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}

    @property
    def host(self) -> str:
        """The URL's host name ('' for data: and about: pages)."""
        return urlsplit(self.url).hostname or ""

    @property
    def text(self) -> str:
        """The visible text and element lines, one per line."""
        return "\n".join(self.lines)

    def element(self, element_id: int) -> Element | None:
        """The element numbered `element_id`, if the page has it."""
        return next((e for e in self.elements if e.id == element_id), None)

    def find(self, name: str | None = None, role: str | None = None, contains: str | None = None) -> Element | None:
        """The first element whose name equals `name` (case-insensitive) or contains `contains`, of `role`."""
        for e in self.elements:
            if role is not None and e.role != role:
                continue
            if name is not None and e.name.lower() != name.lower():
                continue
            if contains is not None and contains.lower() not in e.name.lower():
                continue
            return e
        return None


def parse_snapshot(raw: dict[str, Any]) -> PageSnapshot:
    """Build a PageSnapshot from the script's result (element placeholders become their description lines)."""
    elements = tuple(
        Element(
            id=int(e["id"]),
            role=str(e["role"]),
            name=str(e["name"] or ""),
            tag=str(e.get("tag") or ""),
            type=str(e.get("type") or ""),
            disabled=bool(e.get("disabled")),
            value=None if e.get("value") is None else str(e["value"]),
            checked=e.get("checked"),
            options=None if e.get("options") is None else tuple(str(o) for o in e["options"]),
            href=e.get("href"),
            invalid=e.get("invalid"),
        )
        for e in raw.get("elements") or []
    )
    lines = tuple(
        _PLACEHOLDER.sub(lambda m: elements[int(m.group(1))].describe(), line) for line in raw.get("lines") or []
    )
    focused = raw.get("focused")
    url, title, mark = str(raw.get("url") or ""), str(raw.get("title") or ""), str(raw.get("mark") or "")
    return PageSnapshot(url, title, lines, elements, focused, mark)
