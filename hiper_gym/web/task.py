"""Web task specs and their registry: `register_web_task(...)`, then `gym.make("hiper/WebTask-v0", task=name)`.

A `WebTask` says which site serves the episode (a `Site` class, or plain HTML `pages`), the instruction (a template
filled with parameters drawn per episode from a seeded RNG), the start URL, ordered milestones, the success check,
when the episode ends, and the step limit. Specs may also come from YAML (`load_web_task`).

Instances: reset options `{"split": "train" | "test", "index": i}` pick one; its parameters are drawn from
`random.Random("<task>/<split>/<i>")`, so an instance is the same in every process. A task may map (split, index)
to parameters itself (`instance`, as the WebShop task maps them to WebShop goals).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hiper_gym.web.checks import Check, Context, as_check
from hiper_gym.web.site import Site, StaticSite, fill

Expert = Callable[[Any], tuple[str, str]]  # env -> (action, subgoal label)
DEFAULT_SPLITS = {"train": 1000, "test": 100}


@dataclass
class WebTask:
    """One kind of web task; see the module docstring.

    Args:
        name: the id users pass as `task=`.
        instruction: a `{{param}}` template, or a function of the parameters.
        site: a factory `params -> Site` (a Site subclass works); or give `pages` instead.
        pages: HTML per path for a `StaticSite` (`{{param}}` filled in).
        params: per-parameter choices (one drawn each), or a function `random.Random -> dict`.
        start_url: the path the episode opens.
        milestones: (name, check) pairs in their canonical order, latched once reached; or a function of the
            parameters giving them (when they differ per episode).
        success: the check that the task is accomplished (latched).
        done: the check that ends the episode (default: success).
        score: the task's own score (default 1.0 on success, else 0.0).
        max_steps: the step limit (the episode is truncated there).
        splits: instances per split.
        instance: `(split, index) -> params`, replacing the seeded draw.
        expert: a factory of a scripted expert `env -> (action, subgoal)` (a fresh one per episode).
        judge: `(subgoal text, Context) -> bool | None`, the task's own subgoal judge (before the milestone names).
        description: one line for listings.
    """

    name: str
    instruction: str | Callable[[dict[str, Any]], str]
    success: Any
    site: Callable[[dict[str, Any]], Site] | None = None
    pages: Mapping[str, str] | None = None
    params: Mapping[str, Sequence[Any]] | Callable[[random.Random], dict[str, Any]] | None = None
    start_url: str = "/"
    milestones: Sequence[tuple[str, Any]] | Callable[[dict[str, Any]], Sequence[tuple[str, Any]]] = ()
    done: Any = None
    score: Callable[[Context], float] | None = None
    max_steps: int = 20
    splits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    instance: Callable[[str, int], dict[str, Any]] | None = None
    expert: Callable[[], Expert] | None = None
    judge: Callable[[str, Context], bool | None] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if (self.site is None) == (self.pages is None):
            raise ValueError(
                f"task {self.name!r}: give exactly one of site= (a Site factory) or pages= (HTML per path)"
            )
        if self.max_steps < 1:
            raise ValueError(f"task {self.name!r}: max_steps must be >= 1, got {self.max_steps}")
        self.success_check: Check = as_check(self.success)
        self.done_check: Check = self.success_check if self.done is None else as_check(self.done)
        if not callable(self.milestones):
            self.milestone_checks({})  # a bad check spec fails at registration, not mid-episode

    def milestone_checks(self, params: dict[str, Any]) -> list[tuple[str, Check]]:
        """The episode's milestones as (name, check), in order."""
        pairs = self.milestones(params) if callable(self.milestones) else self.milestones
        return [(name, as_check(c)) for name, c in pairs]

    def count(self, split: str) -> int:
        """How many instances a split has."""
        if split not in self.splits:
            raise KeyError(f"task {self.name!r} has no split {split!r}; its splits: {sorted(self.splits)}")
        return int(self.splits[split])

    def draw(self, split: str, index: int) -> dict[str, Any]:
        """The parameters of instance `index` of `split` (the same in every process)."""
        if not 0 <= index < self.count(split):
            raise IndexError(
                f"task {self.name!r}: index {index} is outside split {split!r} (0..{self.count(split) - 1})"
            )
        if self.instance is not None:
            return dict(self.instance(split, index))
        rng = random.Random(f"{self.name}/{split}/{index}")
        if callable(self.params):
            return dict(self.params(rng))
        return {k: rng.choice(list(v)) for k, v in (self.params or {}).items()}

    def make_site(self, params: dict[str, Any]) -> Site:
        """A fresh site for one episode."""
        if self.pages is not None:
            return StaticSite(self.pages, params)
        assert self.site is not None
        return self.site(params)

    def instruction_text(self, params: dict[str, Any]) -> str:
        """The episode's instruction."""
        return self.instruction(params) if callable(self.instruction) else fill(self.instruction, params)

    def score_of(self, ctx: Context, won: bool) -> float:
        """The task's score now (`won` is the latched success)."""
        return float(self.score(ctx)) if self.score is not None else float(won)


_TASKS: dict[str, WebTask] = {}
# Built-in tasks load on first use, so importing hiper_gym.web needs neither the webshop extra nor the task code.
BUILTIN_TASKS: dict[str, str] = {
    "webshop": "hiper_gym.web.tasks.webshop_site:TASK",
    "account-settings": "hiper_gym.web.tasks.account:TASK",
    "store-checkout": "hiper_gym.web.tasks.store:TASK",
    "signup-form": "hiper_gym.web.tasks.signup:TASK",
    "clinic-booking": "hiper_gym.web.tasks.booking:TASK",
    "wiki-lookup": "hiper_gym.web.tasks.wiki:TASK",
}


def register_web_task(task: WebTask | None = None, *, replace: bool = False, **fields: Any) -> str:
    """Register a task (a WebTask, or its fields as keywords) for `gym.make("hiper/WebTask-v0", task=name)`."""
    if task is None:
        task = WebTask(**fields)
    elif fields:
        raise TypeError("pass either a WebTask or its fields as keywords, not both")
    if not replace and (task.name in _TASKS or task.name in BUILTIN_TASKS) and _TASKS.get(task.name) is not task:
        raise ValueError(f"a web task named {task.name!r} is already registered (pass replace=True to replace it)")
    _TASKS[task.name] = task
    return task.name


def web_task(name: str) -> WebTask:
    """The registered (or built-in) task of that name."""
    if name not in _TASKS and name in BUILTIN_TASKS:
        module, attr = BUILTIN_TASKS[name].split(":")
        _TASKS[name] = getattr(importlib.import_module(module), attr)
    if name not in _TASKS:
        raise KeyError(f"no web task {name!r}; known: {web_task_names()} (register_web_task adds one)")
    return _TASKS[name]


def web_task_names() -> list[str]:
    """Names of the built-in and registered tasks."""
    return sorted(set(BUILTIN_TASKS) | set(_TASKS))


def load_web_task(source: str | Path | Mapping[str, Any]) -> WebTask:
    """A WebTask from a YAML file (or its parsed mapping): name, instruction, pages (HTML text, or `{file: path}`
    relative to the YAML file), params, start_url, milestones (`[{name, check}]`), success, done, max_steps, splits."""
    import yaml

    base = Path(".")
    if not isinstance(source, Mapping):
        base = Path(source).parent
        source = yaml.safe_load(Path(source).read_text())
    spec = dict(source)
    known = {"name", "instruction", "pages", "params", "start_url", "milestones", "success", "done", "max_steps"}
    unknown = set(spec) - known - {"splits", "description"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in web task spec; known: {sorted(known | {'splits'})}")
    pages = {
        path: (base / page["file"]).read_text() if isinstance(page, Mapping) else str(page)
        for path, page in dict(spec.get("pages") or {}).items()
    }
    milestones = [(m["name"], m["check"]) for m in spec.get("milestones") or []]
    return WebTask(
        name=spec["name"],
        instruction=spec["instruction"],
        pages=pages,
        params=spec.get("params"),
        start_url=spec.get("start_url", "/"),
        milestones=milestones,
        success=spec["success"],
        done=spec.get("done"),
        max_steps=int(spec.get("max_steps", 20)),
        splits=spec.get("splits") or dict(DEFAULT_SPLITS),
        description=spec.get("description", ""),
    )
