"""The environment contract every hiper_gym env follows (docs/design.md §5): text spaces, the info keys, milestones."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium import spaces

INFO_KEYS = (
    "admissible_actions",
    "action_templates",
    "won",
    "score",
    "task",
    "milestones",
    "milestones_completed",
    "action_valid",
)
MAX_OBSERVATION_CHARS = 100_000
MAX_ACTION_CHARS = 1_000
NAMESPACE = "hiper"


@functools.cache
def text_charset() -> str:
    """Every character of the Basic Multilingual Plane but surrogates and control characters, plus `\n\t\r`.

    gymnasium's default `Text` charset is alphanumeric only, so real observations (spaces, punctuation,
    `›` in WebShop categories) would fail `contains`. Separators and format characters (a no-break space, a
    zero-width space, common in scraped product text) are kept, as the original pages show them. Characters
    outside this set (emoji and others beyond the BMP, control characters) are replaced by `sanitize_text`.
    """
    chars = [chr(c) for c in range(0x10000)
             if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cc"]
    return "".join(chars) + "\n\t\r"


@functools.cache
def _charset_frozen() -> frozenset[str]:
    return frozenset(text_charset())


def sanitize_text(text: str, max_length: int = MAX_OBSERVATION_CHARS) -> str:
    """Replace characters outside `text_charset()` with '?' and cut over-long text from the middle."""
    allowed = _charset_frozen()
    if not all(ch in allowed for ch in text):
        text = "".join(ch if ch in allowed else "?" for ch in text)
    if len(text) > max_length:
        marker = "\n...[cut]...\n"
        keep = max_length - len(marker)
        text = text[: keep // 2] + marker + text[len(text) - (keep - keep // 2) :]
    return text


class TextSpace(spaces.Text):
    """gymnasium's `Text` with a short repr: the default one prints all 55,000 characters of the charset."""

    def __repr__(self) -> str:
        return (f"Text({self.min_length}, {self.max_length}, charset=<BMP but controls and surrogates, + \\n\\t\\r, "
                f"{len(self.character_set)} characters>)")


def text_space(max_length: int) -> spaces.Text:
    """A gymnasium `Text` space over `text_charset()`."""
    return TextSpace(max_length=max_length, min_length=0, charset=text_charset())


@dataclass(frozen=True)
class Milestone:
    """One canonical subgoal of a task, in order; `done` once reached in this episode."""

    name: str
    done: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The info-dict form: {"name": str, "done": bool}."""
        return {"name": self.name, "done": self.done}


@dataclass
class StepOutcome:
    """What a concrete env reports for one action; `TextEnv.step` turns it into gymnasium's tuple."""

    observation: str
    reward: float
    terminated: bool
    action_valid: bool
    extra_info: dict[str, Any] | None = None
    truncated: bool = False  # the env's own time limit ended the episode (BabyAI levels have one)


# A scripted expert for one episode: env (after reset/step) -> (the next action, the subgoal it serves). Experts may
# keep state, so `TextEnv.expert` makes a fresh one per episode.
Expert = Callable[[Any], tuple[str, str]]


class EnvNotResetError(RuntimeError):
    """step() was called before reset() or after the episode terminated."""


class EnvClosedError(RuntimeError):
    """reset() or step() was called after close()."""


class TextEnv(gym.Env[str, str]):
    """Base class of every hiper_gym env: text observations and actions, and the docs/design.md §5 info contract.

    Subclasses implement `_reset_episode`, `_step_episode`, `admissible_actions`, `task`, `won`, `score` and
    `milestones`; this class builds the info dict and the subgoal-termination signal (`milestones_completed`:
    the milestones that turned done on this step) in one place.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    reset_options: tuple[str, ...] | None = None  # the reset options an env takes; others are refused (None: any)
    prompt_family: str | None = None  # the prompt template agents use for it (hiper_agents/prompts.py FAMILIES)
    default_split: str = "train"  # the split `reset()` draws from without options
    eval_split: str = "test"  # the held-out split evaluation plays by default

    def __init__(self, render_mode: str | None = None, max_observation_chars: int = MAX_OBSERVATION_CHARS):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.max_observation_chars = max_observation_chars
        self.observation_space = text_space(max_observation_chars)
        self.action_space = text_space(MAX_ACTION_CHARS)
        self._last_observation: str | None = None
        self._done_milestones: frozenset[str] = frozenset()
        self._episode_over = True

    # --- what a concrete env provides -------------------------------------------------------------------
    def _reset_episode(self, options: dict[str, Any]) -> str:
        """Start a new episode (self.np_random is seeded) and return its first observation."""
        raise NotImplementedError

    def _step_episode(self, action: str) -> StepOutcome:
        """Apply one action of the current episode."""
        raise NotImplementedError

    def admissible_actions(self) -> list[str]:
        """The concrete actions valid in the current state (each one can be sent to `step` as it is)."""
        raise NotImplementedError

    def action_templates(self) -> list[str]:
        """Action forms with a placeholder to fill in (`search[<query>]`); the literal placeholder is invalid."""
        return []

    @property
    def task(self) -> str:
        """The goal text of the current episode."""
        raise NotImplementedError

    @property
    def won(self) -> bool:
        """Whether the current episode's task is accomplished."""
        raise NotImplementedError

    @property
    def score(self) -> float:
        """The benchmark's own score of the episode so far."""
        raise NotImplementedError

    def milestones(self) -> list[Milestone]:
        """The task's canonical subgoals in order, with their current state."""
        return []

    def _reset_extra_info(self) -> dict[str, Any] | None:
        """Env-specific info keys on reset (beside the contract keys); none by default."""
        return None

    def subgoal_done(self, text: str) -> bool | None:
        """Judge a free-text subgoal against the current state; None when the env cannot tell."""
        return None

    # --- what the env says about its tasks (the trainer and the evaluator read these) ------------------
    def split_options(self, split: str) -> list[dict[str, Any]]:
        """Reset options of every task of `split`, in order (one per goal, game or seed)."""
        raise NotImplementedError(f"{type(self).__name__} does not list the tasks of a split: give it split_options()")

    def expert(self, noise: float = 0.0, rng: Any = None) -> Expert | None:
        """A fresh scripted expert for one episode (None: the env has none); with `noise` > 0 one that errs on
        purpose in an env-specific way, drawing from `rng` (a `random.Random`)."""
        return None

    def task_subset(self, n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        """Reset options of the tasks of `n` task families, each family's tasks split between training and held out
        (None: the env offers no such subset)."""
        return None

    # --- gymnasium API ----------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Start an episode; `options` are env-specific (split, goal or game index, ...)."""
        self._check_open()
        super().reset(seed=seed)
        observation = sanitize_text(self._reset_episode(self._checked_options(options)), self.max_observation_chars)
        self._episode_over = False
        self._done_milestones = frozenset(m.name for m in self.milestones() if m.done)
        self._last_observation = observation
        return observation, self._info(action_valid=True, completed=[], extra=self._reset_extra_info())

    def _checked_options(self, options: Any) -> dict[str, Any]:
        """`options` as a dict; a non-dict or an option the env does not take raises (a typo would play a random task)."""
        if options is None:
            return {}
        if not isinstance(options, dict):
            raise TypeError(f"reset options must be a dict, got {type(options).__name__}: {options!r}")
        unknown = sorted(set(options) - set(self.reset_options)) if self.reset_options is not None else []
        if unknown:
            raise ValueError(f"unknown reset option(s) {unknown} for {type(self).__name__}; it takes "
                             f"{list(self.reset_options or ())}")
        return dict(options)

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply a text action; truncation at the step limit comes from gymnasium's TimeLimit wrapper."""
        self._check_open()
        if self._episode_over:
            raise EnvNotResetError("call reset() before step(); the last episode is over or none was started")
        if not isinstance(action, str):
            raise TypeError(f"actions are str, got {type(action).__name__}: {action!r}")
        outcome = self._step_episode(action)
        observation = sanitize_text(outcome.observation, self.max_observation_chars)
        now_done = [m.name for m in self.milestones() if m.done]
        completed = [name for name in now_done if name not in self._done_milestones]
        self._done_milestones = frozenset(now_done)
        self._episode_over = outcome.terminated or outcome.truncated
        self._last_observation = observation
        info = self._info(action_valid=outcome.action_valid, completed=completed, extra=outcome.extra_info)
        if self.render_mode == "human":
            self.render()
        return observation, float(outcome.reward), bool(outcome.terminated), bool(outcome.truncated), info

    def close(self) -> None:
        """Release what the env holds; reset and step raise afterwards (subclasses call this last)."""
        self._closed = True
        super().close()

    def _check_open(self) -> None:
        if getattr(self, "_closed", False):  # getattr: a subclass may close before TextEnv.__init__ ran
            raise EnvClosedError(f"the env is closed ({type(self).__name__}.close() was called): make a new one")

    def render(self) -> str | None:
        """ansi: return the last observation; human: print it."""
        if self.render_mode == "ansi":
            return self._last_observation or ""
        if self.render_mode == "human":
            print(self._last_observation or "")
        return None

    def _info(self, action_valid: bool, completed: list[str], extra: dict[str, Any] | None) -> dict[str, Any]:
        info: dict[str, Any] = dict(extra or {})
        info.update(
            admissible_actions=list(self.admissible_actions()),
            action_templates=list(self.action_templates()),
            won=bool(self.won),
            score=float(self.score),
            task=str(self.task),
            milestones=[m.as_dict() for m in self.milestones()],
            milestones_completed=completed,
            action_valid=bool(action_valid),
        )
        return info


def offers(env: Any, name: str) -> bool:
    """Whether `env` (or the env it wraps) implements the contract method `name` instead of TextEnv's default."""
    cls = type(getattr(env, "unwrapped", env))
    return getattr(cls, name, None) not in (None, getattr(TextEnv, name, None))


def text_env_class(env_id: str) -> type[TextEnv]:
    """The TextEnv class registered under `env_id` (a "module:env-id" id imports the module first), without
    making an env; an unknown id or a class outside the contract raises KeyError with one line."""
    import importlib

    if ":" in env_id:
        module, _, env_id = env_id.partition(":")
        importlib.import_module(module)
    if env_id not in gym.registry:
        known = sorted(i for i in gym.registry if i.startswith(f"{NAMESPACE}/"))
        raise KeyError(f"env id {env_id!r} is not registered; registered {NAMESPACE}/ ids: {known}")
    entry = gym.registry[env_id].entry_point
    if isinstance(entry, str):
        from gymnasium.envs.registration import load_env_creator

        entry = load_env_creator(entry)
    if not (isinstance(entry, type) and issubclass(entry, TextEnv)):
        raise KeyError(f"env id {env_id!r} is not a hiper TextEnv (its entry point is {entry!r})")
    return entry


def env_id(name: str) -> str:
    """The registered id of an env name: `hiper/<name>`."""
    return f"{NAMESPACE}/{name}"


def register_text_env(name: str, entry_point: str, max_episode_steps: int | None, **kwargs: Any) -> str:
    """Register an env under the `hiper/` namespace (idempotent); returns its id."""
    full_id = env_id(name)
    if full_id not in gym.registry:
        gym.register(id=full_id, entry_point=entry_point, max_episode_steps=max_episode_steps, kwargs=kwargs)
    return full_id
