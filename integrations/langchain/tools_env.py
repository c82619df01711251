"""LangChain tools as a hiper_gym environment: each action calls one tool, its result is the next observation.

Actions are written `name` (no arguments), `name[value]` (one argument) or `name[a=1, b=two]`; a JSON object
(`name[{"a": 1}]`) works too. The admissible actions are derived from the tools' names and argument schemas: a tool
whose required arguments all have a finite set of values (a `Literal`, an enum, a bool) is listed once per
combination (up to `max_choices`), so a policy can copy actions verbatim; any other tool is listed as a template
(`search[<query>]`). `finish[<answer>]` ends the episode with an answer. A tool that raises, gets bad arguments or
does not answer within `tool_timeout` seconds produces an `Error: ...` observation, never an exception: a hung tool
is left running in a daemon thread (Python cannot kill a thread), and the episode goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, Tool
from langchain_core.tools import tool as as_tool

from hiper_gym.core import Milestone, StepOutcome, TextEnv

FINISH = "finish"
_ACTION = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(?:\[(.*)\])?\s*$", re.DOTALL)
_TIMEOUTS = (TimeoutError, concurrent.futures.TimeoutError, asyncio.TimeoutError)


class ActionError(ValueError):
    """An action that names no tool or whose arguments do not parse; its message becomes the observation."""


@dataclass
class ToolCall:
    """One action as played: the tool, its arguments and what came back."""

    action: str
    tool: str
    args: dict[str, Any]
    output: str
    ok: bool


def _start_daemon(fn: Callable[[], Any]) -> concurrent.futures.Future:
    """Run `fn` (in a copy of the caller's context) on a daemon thread; a hung call never blocks interpreter exit."""
    import threading

    future: concurrent.futures.Future = concurrent.futures.Future()
    context = contextvars.copy_context()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(context.run(fn))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, name="hiper-tool", daemon=True).start()
    return future


def _is_async_only(tool: BaseTool) -> bool:
    return isinstance(tool, (StructuredTool, Tool)) and tool.func is None and tool.coroutine is not None


def _has_native_async(tool: BaseTool) -> bool:
    if isinstance(tool, (StructuredTool, Tool)):
        return tool.coroutine is not None
    return type(tool)._arun is not BaseTool._arun


def _arg_schemas(tool: BaseTool) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """(properties, required names) of a tool's arguments, from its JSON schema."""
    try:
        schema = (
            tool.tool_call_schema.model_json_schema() if hasattr(tool.tool_call_schema, "model_json_schema") else {}
        )
    except Exception:
        schema = {}
    if not schema:
        schema = {"properties": dict(tool.args), "required": list(tool.args)}
    props = schema.get("properties", {})
    defs = schema.get("$defs", {})
    resolved = {}
    for name, prop in props.items():
        if "$ref" in prop:  # an Enum class: its values live under $defs
            prop = {**defs.get(prop["$ref"].split("/")[-1], {}), **{k: v for k, v in prop.items() if k != "$ref"}}
        resolved[name] = prop
    return resolved, [n for n in schema.get("required", []) if n in resolved]


def _choices(prop: dict[str, Any]) -> list[Any] | None:
    """The finite set of values an argument takes, or None."""
    if "enum" in prop:
        return list(prop["enum"])
    if "const" in prop:
        return [prop["const"]]
    if prop.get("type") == "boolean":
        return [True, False]
    options = prop.get("anyOf") or prop.get("oneOf")
    if options:
        values = [_choices(option) for option in options if option.get("type") != "null"]
        if values and all(v is not None for v in values):
            return [x for v in values for x in v]
    return None


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def render_action(name: str, args: dict[str, Any]) -> str:
    """The action text for a call: `name`, `name[value]` or `name[a=1, b=two]`."""
    if not args:
        return name
    if len(args) == 1:
        return f"{name}[{_show(next(iter(args.values())))}]"
    return f"{name}[{', '.join(f'{k}={_show(v)}' for k, v in args.items())}]"


def _coerce(text: str, prop: dict[str, Any]) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    choices = _choices(prop) or []
    typed = prop.get("type") in ("integer", "number", "boolean") or any(not isinstance(c, str) for c in choices)
    if typed:
        try:
            return json.loads(text.lower() if text.lower() in ("true", "false") else text)
        except ValueError:
            return text
    for choice in choices:  # the policy lowercases actions; give a tool its own spelling back
        if isinstance(choice, str) and choice.lower() == text.lower():
            return choice
    return text


def parse_action(action: str, tools: dict[str, BaseTool]) -> tuple[str, dict[str, Any]]:
    """(tool name, arguments) of an action text; raises ActionError with a message fit for an observation."""
    match = _ACTION.match(action or "")
    names = sorted(tools)
    if match is None:
        raise ActionError(
            f"cannot read the action {action!r}; write name[arguments] with name one of: {', '.join(names)}"
        )
    name = {n.lower(): n for n in tools}.get(match.group(1).lower())
    if name is None:
        raise ActionError(f"{match.group(1)!r} is not a tool; the tools are: {', '.join(names)}")
    body = (match.group(2) or "").strip()
    props, required = _arg_schemas(tools[name])
    if not body:
        return name, {}
    if body.startswith("{"):
        try:
            args = json.loads(body)
        except ValueError as error:
            raise ActionError(f"{name}: the arguments {body!r} are not valid JSON ({error})") from error
        if not isinstance(args, dict):
            raise ActionError(f"{name}: JSON arguments must be an object, got {body!r}")
        return name, args
    pairs = [p for p in re.split(r",(?=\s*[A-Za-z_]\w*\s*=)", body)]
    keyed = [p.partition("=") for p in pairs]
    lowered = {k.lower(): k for k in props}
    if all(sep and key.strip().lower() in lowered for key, sep, _ in keyed):
        return name, {lowered[k.strip().lower()]: _coerce(v, props[lowered[k.strip().lower()]]) for k, _, v in keyed}
    single = required if len(required) == 1 else list(props) if len(props) == 1 else []
    if len(single) == 1:
        return name, {single[0]: _coerce(body, props[single[0]])}
    raise ActionError(
        f"{name} takes {', '.join(props) or 'no arguments'}; write {name}[{', '.join(f'{k}=...' for k in props)}]"
    )


def admissible_actions(tools: Sequence[BaseTool], max_choices: int = 64, finish: bool = True) -> list[str]:
    """Concrete actions for tools with finite argument values, templates for the others, then `finish[<answer>]`."""
    actions: list[str] = []
    for tool in tools:
        props, required = _arg_schemas(tool)
        values = [_choices(props[name]) for name in required]
        if (
            all(v is not None for v in values)
            and 0 < len(list(itertools.islice(itertools.product(*values), max_choices + 1))) <= max_choices
        ):
            actions += [render_action(tool.name, dict(zip(required, combo))) for combo in itertools.product(*values)]
        else:
            actions.append(render_action(tool.name, {name: f"<{name}>" for name in required}))
    if finish:
        actions.append(f"{FINISH}[<answer>]")
    return actions


def as_tools(tools: Sequence[BaseTool | Callable[..., Any]]) -> list[BaseTool]:
    """LangChain tools from tools or plain functions (a function's docstring becomes its description)."""
    out = [t if isinstance(t, BaseTool) else as_tool(t) for t in tools]
    names = [t.name for t in out]
    if len(set(n.lower() for n in names)) != len(names) or FINISH in (n.lower() for n in names):
        raise ValueError(f"tool names must be unique (case-insensitive) and not {FINISH!r}; got {names}")
    return out


def _text(output: Any) -> str:
    content = getattr(output, "content", output)  # a ToolMessage or a tool's raw output
    if isinstance(content, str):
        return content
    try:
        return json.dumps(content, default=str)
    except (TypeError, ValueError):
        return str(content)


def _error_text(name: str, error: BaseException) -> str:
    if type(error).__name__ == "ValidationError":
        first = str(error).splitlines()
        return f"Error: invalid arguments for {name}: {' '.join(first[:3])[:300]}"
    return f"Error: {name} failed: {type(error).__name__}: {str(error)[:300]}"


class ToolEnvironment(TextEnv):
    """A text env over LangChain tools (or plain functions); `success(env)` judges the task, if given.

    Without `success`, an episode is won when the policy calls `finish`. With it, the episode also ends (and is won)
    as soon as `success` holds, when `stop_on_success`. Reset with `options={"task": "..."}`.
    """

    prompt_family = "tools"

    def __init__(
        self,
        tools: Sequence[BaseTool | Callable[..., Any]] = (),
        task: str = "",
        success: Callable[[ToolEnvironment], bool] | None = None,
        milestones: Callable[[ToolEnvironment], list[Milestone]] | None = None,
        finish_action: bool = True,
        stop_on_success: bool = True,
        tool_timeout: float | None = 30.0,
        max_choices: int = 64,
        max_observation_chars: int = 4000,
        render_mode: str | None = None,
    ):
        super().__init__(render_mode=render_mode, max_observation_chars=max_observation_chars)
        self.tools = as_tools(tools)
        self.default_task = task
        self.success_fn = success
        self.milestones_fn = milestones
        self.finish_action = finish_action
        self.stop_on_success = stop_on_success
        self.tool_timeout = tool_timeout
        self.max_choices = max_choices
        self.tool_config: RunnableConfig | None = None  # set by HiperAgent: tool runs join its trace
        self.deadline_timeout: float | None = None  # set by HiperAgent: a tighter limit near the episode's deadline
        self._pending: tuple[str, ToolCall | None, str | None] | None = None
        self._reset_state(task)

    def _reset_state(self, task: str) -> None:
        self.task_text = task
        self.calls: list[ToolCall] = []
        self.answer: str | None = None
        self.finished = False

    # --- the TextEnv contract -------------------------------------------------------------------------------
    def _reset_episode(self, options: dict[str, Any]) -> str:
        self._reset_state(str(options.get("task", self.default_task)))
        lines = ["Tools you can call (one per action):"]
        for tool, action in zip(self.tools, admissible_actions(self.tools, max_choices=1, finish=False)):
            description = (tool.description or "").strip().splitlines()
            lines.append(f"- {action}: {description[0] if description else tool.name}")
        if self.finish_action:
            lines.append(f"- {FINISH}[<answer>]: end the task and give your answer")
        return "\n".join(lines)

    def _step_episode(self, action: str) -> StepOutcome:
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == action:
            _, call, finished_answer = pending
        else:
            call, finished_answer = self._call_sync(action)
        return self._outcome(call, finished_answer)

    def admissible_actions(self) -> list[str]:
        """Actions from the tools' names and argument schemas, plus finish."""
        return admissible_actions(self.tools, self.max_choices, self.finish_action)

    @property
    def task(self) -> str:
        """The current task text."""
        return self.task_text

    @property
    def won(self) -> bool:
        """`success(env)` when given, else whether the policy called finish."""
        return bool(self.success_fn(self)) if self.success_fn is not None else self.finished

    @property
    def score(self) -> float:
        """1.0 when won, else 0.0."""
        return float(self.won)

    def milestones(self) -> list[Milestone]:
        """The task's milestones, when a `milestones` function was given."""
        return self.milestones_fn(self) if self.milestones_fn is not None else []

    # --- calling tools --------------------------------------------------------------------------------------
    def _parse(self, action: str) -> tuple[BaseTool | None, dict[str, Any], str | None, str | None]:
        """(tool, args, answer if finish, error text)."""
        by_name = {t.name: t for t in self.tools}
        match = _ACTION.match(action or "")
        if self.finish_action and match is not None and match.group(1).lower() == FINISH:
            return None, {}, (match.group(2) or "").strip(), None
        try:
            name, args = parse_action(action, by_name)
        except ActionError as error:
            return None, {}, None, f"Error: {error}"
        return by_name[name], args, None, None

    def _timeout(self) -> float | None:
        limits = [t for t in (self.tool_timeout, self.deadline_timeout) if t is not None]
        return max(0.0, min(limits)) if limits else None

    def _call_sync(self, action: str) -> tuple[ToolCall | None, str | None]:
        tool, args, answer, error = self._parse(action)
        if answer is not None:
            return None, answer
        if tool is None:
            return ToolCall(action, "", {}, error or "Error: unknown action", False), None
        config = self.tool_config

        def call() -> Any:
            if _is_async_only(tool):
                return asyncio.run(tool.ainvoke(args, config=config))
            return tool.invoke(args, config=config)

        timeout = self._timeout()
        try:
            output = _start_daemon(call).result(timeout=timeout)
        except _TIMEOUTS:
            return ToolCall(action, tool.name, args, self._timeout_text(tool.name, timeout), False), None
        except Exception as failure:
            return ToolCall(action, tool.name, args, _error_text(tool.name, failure), False), None
        return ToolCall(action, tool.name, args, _text(output), True), None

    async def _call_async(self, action: str) -> tuple[ToolCall | None, str | None]:
        tool, args, answer, error = self._parse(action)
        if answer is not None:
            return None, answer
        if tool is None:
            return ToolCall(action, "", {}, error or "Error: unknown action", False), None
        config = self.tool_config
        timeout = self._timeout()
        try:
            if _has_native_async(tool):
                output = await asyncio.wait_for(tool.ainvoke(args, config=config), timeout)
            else:  # a sync tool on a daemon thread: a hung one cannot hold up the loop's shutdown
                output = await asyncio.wait_for(
                    asyncio.wrap_future(_start_daemon(lambda: tool.invoke(args, config=config))), timeout
                )
        except _TIMEOUTS:
            return ToolCall(action, tool.name, args, self._timeout_text(tool.name, timeout), False), None
        except Exception as failure:
            return ToolCall(action, tool.name, args, _error_text(tool.name, failure), False), None
        return ToolCall(action, tool.name, args, _text(output), True), None

    @staticmethod
    def _timeout_text(name: str, timeout: float | None) -> str:
        return f"Error: {name} did not answer within {timeout:g} s (timed out); try another action"

    def _outcome(self, call: ToolCall | None, answer: str | None) -> StepOutcome:
        was_won = self.won
        if call is None:  # finish
            self.finished, self.answer = True, answer or ""
            observation = f"Finished. Answer: {self.answer}"
            valid = True
        else:
            self.calls.append(call)
            observation, valid = call.output, call.ok
        won = self.won
        terminated = self.finished or (self.stop_on_success and self.success_fn is not None and won)
        return StepOutcome(observation, 1.0 if won and not was_won else 0.0, terminated, valid)

    async def astep(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """`step` with the tool awaited (async tools natively, sync tools on a daemon thread)."""
        call, answer = await self._call_async(action)
        self._pending = (action, call, answer)
        return self.step(action)
