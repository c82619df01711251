"""HTML building blocks shared by the built-in sites: escaping, one stylesheet, a page frame, form controls.

Pages are plain server-rendered HTML (no JavaScript needed to use them), so what the agent reads from the DOM is
what a person sees. Every control carries a visible `<label>` or text, which becomes its name in the observation.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

STYLE = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 "DejaVu Sans",Arial,sans-serif;color:#1f2933;background:#f4f6f8}
header{background:var(--brand,#2f5d8a);color:#fff;padding:10px 24px;display:flex;align-items:center;gap:24px}
header .brand{font-weight:bold;font-size:18px}
header nav a{color:#fff;margin-right:16px;text-decoration:none}
header nav a:hover{text-decoration:underline}
main{max-width:860px;margin:20px auto;background:#fff;padding:20px 28px;border-radius:6px;
  box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:22px;margin:0 0 12px}
h2{font-size:18px;margin:18px 0 8px}
.card h2{margin-top:0}
label{display:block;margin:10px 0 4px;font-weight:600}
label.inline{display:inline-flex;align-items:center;gap:6px;font-weight:normal;margin:4px 16px 4px 0}
input[type=text],input[type=password],input[type=email],input[type=search],input[type=tel],select,textarea{
  font:inherit;padding:6px 8px;border:1px solid #9aa5b1;border-radius:4px;min-width:260px}
button,.button{font:inherit;padding:6px 14px;border:1px solid #2f5d8a;background:#2f5d8a;color:#fff;
  border-radius:4px;cursor:pointer;text-decoration:none;display:inline-block;margin:4px 6px 4px 0}
button.secondary,.button.secondary{background:#fff;color:#2f5d8a}
button:disabled{background:#cbd2d9;border-color:#cbd2d9;color:#52606d;cursor:default}
.error{color:#b42318;background:#fef3f2;border:1px solid #fda29b;padding:6px 10px;border-radius:4px;margin:8px 0}
.notice{color:#05603a;background:#ecfdf3;border:1px solid #6ce9a6;padding:6px 10px;border-radius:4px;margin:8px 0}
.muted{color:#616e7c}
.row{display:flex;gap:12px;align-items:flex-end;flex-wrap:wrap}
.row input,.row select{min-width:200px}
.row button{margin:0}
.card{border:1px solid #e4e7eb;border-radius:6px;padding:10px 14px;margin:10px 0}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #e4e7eb;padding:6px 10px;text-align:left;vertical-align:top}
ul{padding-left:20px}
""".strip()


def esc(value: object) -> str:
    """HTML-escape any value's text (quotes included)."""
    return html.escape(str(value), quote=True)


def page(title: str, body: str, site_name: str, nav: Sequence[tuple[str, str]] = (), brand: str = "#2f5d8a") -> str:
    """A full HTML document: header with the site name and nav links (label, href), then `body` in a card."""
    links = "".join(f'<a href="{esc(href)}">{esc(label)}</a>' for label, href in nav)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f'<style>{STYLE}</style></head><body style="--brand:{esc(brand)}">'
        f'<header><span class="brand">{esc(site_name)}</span><nav>{links}</nav></header>'
        f"<main>{body}</main></body></html>"
    )


def text_input(name: str, label: str, value: str = "", kind: str = "text") -> str:
    """A labelled text field (`kind`: text, password, email, search, tel)."""
    return (
        f'<label for="f-{esc(name)}">{esc(label)}</label>'
        f'<input id="f-{esc(name)}" type="{esc(kind)}" name="{esc(name)}" value="{esc(value)}">'
    )


def select_input(name: str, label: str, options: Iterable[str], selected: str | None = None) -> str:
    """A labelled drop-down list."""
    items = "".join(
        f'<option value="{esc(o)}"{" selected" if o == selected else ""}>{esc(o)}</option>' for o in options
    )
    return (
        f'<label for="f-{esc(name)}">{esc(label)}</label><select id="f-{esc(name)}" name="{esc(name)}">{items}</select>'
    )


def checkbox(name: str, label: str, checked: bool = False) -> str:
    """A checkbox with its label beside it."""
    mark = " checked" if checked else ""
    return f'<label class="inline"><input type="checkbox" name="{esc(name)}" value="on"{mark}> {esc(label)}</label>'


def form(action: str, inner: str, method: str = "post") -> str:
    """A form around `inner`; the browser's own validation is off, so the site's error messages (page text the
    agent can read) are what a wrong field gets, not a tooltip outside the DOM."""
    return f'<form method="{esc(method)}" action="{esc(action)}" novalidate>{inner}</form>'


def messages(errors: Sequence[str] = (), notice: str | None = None) -> str:
    """Validation errors (one box each) and an optional success notice."""
    out = "".join(f'<div class="error" role="alert">{esc(e)}</div>' for e in errors)
    return out + (f'<div class="notice" role="status">{esc(notice)}</div>' if notice else "")
