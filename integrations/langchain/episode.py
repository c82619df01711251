"""One agent episode: its input, its progress and its result; the custom events it dispatches."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, convert_to_messages
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import RunnableConfig

from hiper_agents.policy import PolicyStep
from integrations.langchain.tools_env import ToolEnvironment

EVENT_SUBGOAL, EVENT_ACTION, EVENT_OBSERVATION, EVENT_END = (
    "hiper_subgoal",
    "hiper_action",
    "hiper_observation",
    "hiper_episode_end",
)
STOP_TEXT = {
    "success": "the task is done",
    "finish": "the agent finished",
    "terminated": "the environment ended the episode",
    "step_limit": "the step limit was reached",
    "timeout": "the episode timed out",
    "env_error": "the environment failed",
}


@dataclass
class Request:
    """One episode's input: the task text, and reset options and seed for a gym env."""

    task: str
    options: dict[str, Any] | None = None
    seed: int | None = None


def _task_of_messages(messages: Sequence[BaseMessage]) -> str:
    humans = [m for m in messages if m.type == "human"]
    return (humans[-1] if humans else messages[-1]).text if messages else ""


def to_request(value: Any) -> Request:
    """Read an agent input: {"task": ...}, a string, a PromptValue, a message or messages."""
    if isinstance(value, Request):
        return value
    if isinstance(value, dict):
        task = next((value[k] for k in ("task", "input", "question") if k in value), "")
        inner = to_request(task) if not isinstance(task, str) else Request(task)
        return Request(inner.task, value.get("options"), value.get("seed"))
    if isinstance(value, str):
        return Request(value)
    if isinstance(value, PromptValue):
        return Request(_task_of_messages(value.to_messages()))
    if isinstance(value, BaseMessage):
        return Request(value.text)
    if isinstance(value, (list, tuple)):
        return Request(_task_of_messages(convert_to_messages(value)))
    raise TypeError(
        f"HiperAgent input must be {{'task': str}}, a str, a PromptValue or messages; got {type(value).__name__}"
    )


@dataclass
class Episode:
    """One episode being played."""

    index: int
    request: Request
    config: RunnableConfig
    env: Any
    observation: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    turns: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str | None = None
    success: bool = False
    score: float = 0.0
    answer: str | None = None

    @property
    def task(self) -> str:
        """The task the policy sees (the env's own for a gym env)."""
        return str(self.info.get("task") or self.request.task)

    def turn_events(self, step: PolicyStep) -> list[tuple[str, dict[str, Any]]]:
        """The subgoal (when a segment starts) and action events of one turn."""
        turn = step.turn
        base = {"episode": self.index, "turn": step.turn_index}
        events = []
        if step.starts_segment:
            events.append(
                (
                    EVENT_SUBGOAL,
                    {**base, "subgoal": turn.subgoal, "switch": turn.switch, "previous_subgoal": step.subgoal_shown},
                )
            )
        events.append(
            (
                EVENT_ACTION,
                {
                    **base,
                    "action": original_action(step),
                    "subgoal": turn.subgoal,
                    "valid": turn.valid,
                    "admissible": turn.admissible,
                },
            )
        )
        return events

    def record(
        self, step: PolicyStep, result: tuple[Any, ...] | BaseException, max_steps: int, remaining: float | None
    ) -> dict[str, Any]:
        """Apply one env step's result (or the env's exception); returns the observation event's data."""
        if isinstance(result, BaseException):
            observation, reward, terminated, truncated, info = (
                f"Error: the environment failed: {result!r}",
                0.0,
                True,
                False,
                self.info,
            )
            self.stop_reason = "env_error"
        else:
            observation, reward, terminated, truncated, info = result
        self.observation, self.info = observation, info
        self.turns.append(
            {
                "turn": step.turn_index,
                "switch": step.turn.switch,
                "subgoal": step.turn.subgoal,
                "starts_segment": step.starts_segment,
                "action": original_action(step),
                "observation": observation,
                "reward": float(reward),
                "valid": step.turn.valid,
                "action_valid": bool(info.get("action_valid", True)),
            }
        )
        self.success, self.score = bool(info.get("won", False)), float(info.get("score", 0.0))
        inner = getattr(self.env, "unwrapped", None)
        if isinstance(inner, ToolEnvironment) and inner.finished:
            self.answer = inner.answer
        if self.stop_reason is None:
            if self.answer is not None:
                self.stop_reason = "finish"
            elif self.success and terminated:
                self.stop_reason = "success"
            elif terminated:
                self.stop_reason = "terminated"
            elif truncated or len(self.turns) >= max_steps:
                self.stop_reason = "step_limit"
            elif remaining is not None and remaining <= 0:
                self.stop_reason = "timeout"
        return {
            "episode": self.index,
            "turn": step.turn_index,
            "observation": observation,
            "reward": float(reward),
            "done": self.stop_reason is not None,
        }

    def output(self, model_name: str, name: str) -> AIMessage:
        """The final AIMessage: the answer (or a summary) with the trajectory in its metadata."""
        turns, reason = self.turns, self.stop_reason or "step_limit"
        if self.answer is not None:
            content = self.answer or "Finished."
        else:
            verdict = "Task completed" if self.success else f"Task not completed: {STOP_TEXT.get(reason, reason)}"
            content = f"{verdict} after {len(turns)} step(s) (score {self.score:.2f}). Last observation: {self.observation[-500:]}"
        metadata = {
            "model_name": model_name,
            "task": self.task,
            "success": self.success,
            "score": self.score,
            "stop_reason": reason,
            "steps": len(turns),
            "switches": sum(t["starts_segment"] for t in turns[1:]),
            "subgoals": [t["subgoal"] for t in turns if t["starts_segment"]],
            "actions": [t["action"] for t in turns],
            "observations": [t["observation"] for t in turns],
            "trajectory": turns,
        }
        return AIMessage(content=content, response_metadata=metadata, name=name)

    def end_event(self) -> dict[str, Any]:
        """The data of the episode-end event."""
        return {
            "episode": self.index,
            "success": self.success,
            "score": self.score,
            "stop_reason": self.stop_reason,
            "steps": len(self.turns),
            "answer": self.answer,
        }


def original_action(step: PolicyStep) -> str:
    """The action as the model wrote it (the parser lowercases actions; tool arguments keep their case)."""
    span = step.turn.spans.get("action")
    if span is None:
        return step.action
    start, end = span
    text = step.response_text[start:end]
    inner = text[len("<action>") : len(text) - len("</action>")] if len(text) >= 17 else text
    return inner.strip() if inner.strip().lower() == step.action else step.action
