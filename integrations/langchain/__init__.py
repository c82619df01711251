"""LangChain integration: a trained HiPER policy as a chat model (`ChatHiper`) and as a plan-execute agent
(`HiperAgent`, a Runnable) whose environment is a set of LangChain tools or a hiper_gym env.

Needs the `langchain` extra: `pip install 'hiper[langchain]'` (langchain-core >= 1.4, < 2).
"""

try:
    import langchain_core  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the install
    raise ImportError(
        "integrations.langchain needs langchain-core: pip install 'hiper[langchain]' (langchain-core>=1.4,<2)"
    ) from error

from integrations.langchain.agent import HiperAgent
from integrations.langchain.chat_model import ChatHiper, HiperChatModel
from integrations.langchain.checkpoint import CheckpointError, CheckpointSpec, PromptSettings, resolve_checkpoint
from integrations.langchain.episode import (
    EVENT_ACTION,
    EVENT_END,
    EVENT_OBSERVATION,
    EVENT_SUBGOAL,
    Request,
    to_request,
)
from integrations.langchain.tools_env import ToolEnvironment, admissible_actions, parse_action, render_action

__all__ = [
    "EVENT_ACTION",
    "EVENT_END",
    "EVENT_OBSERVATION",
    "EVENT_SUBGOAL",
    "ChatHiper",
    "CheckpointError",
    "CheckpointSpec",
    "HiperAgent",
    "HiperChatModel",
    "PromptSettings",
    "Request",
    "ToolEnvironment",
    "admissible_actions",
    "parse_action",
    "render_action",
    "resolve_checkpoint",
    "to_request",
]
