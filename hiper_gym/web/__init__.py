"""hiper/WebTask-v0: web tasks in a real headless Chromium (Selenium), on sites served by our own local server.

Modules: `site` (a web app per episode: routes, state, `StaticSite`), `layout` (HTML helpers), `server` (the HTTP
server on 127.0.0.1), `browser` (Chromium through chromedriver: start, act, read, restart, contained to loopback),
`dom` (the page as text with numbered elements), `actions` (parsing and admissible actions), `checks` (milestone and
success predicates), `task` (WebTask specs, the registry, YAML specs), `env` (WebTaskEnv) and `tasks/` (the
built-in tasks with their scripted experts). Importing this package needs neither Selenium nor a browser.
"""

from hiper_gym.web.checks import (
    Context,
    all_of,
    any_of,
    as_check,
    element_present,
    form_posted,
    not_,
    state_is,
    text_has,
    url_is,
    url_matches,
)
from hiper_gym.web.site import Request, Response, Site, StaticSite, redirect, route
from hiper_gym.web.task import WebTask, load_web_task, register_web_task, web_task, web_task_names

__all__ = [
    "Context",
    "Request",
    "Response",
    "Site",
    "StaticSite",
    "WebTask",
    "all_of",
    "any_of",
    "as_check",
    "element_present",
    "form_posted",
    "load_web_task",
    "not_",
    "redirect",
    "register_web_task",
    "route",
    "state_is",
    "text_has",
    "url_is",
    "url_matches",
    "web_task",
    "web_task_names",
]
