"""`check_text_env(env)`: gymnasium's `check_env` plus the hiper TextEnv contract (info keys, tasks, expert)."""

from __future__ import annotations

from typing import Any

from hiper_gym.core import INFO_KEYS, TextEnv


class ContractError(AssertionError):
    """An env breaks the TextEnv contract; the message says which part."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ContractError(message)


def check_text_env(env: Any, expert_steps: int = 60, gym_check: bool = True) -> dict[str, Any]:
    """Check `env` (made by gym.make or not) against the contract of hiper_gym/core.py and return what it found.

    Runs gymnasium's `check_env` on the unwrapped env (unless `gym_check` is False), then: a prompt family is named;
    the default and evaluation splits list tasks whose reset options the env takes; the first task of each resets
    with every info key; the expert (if any) gives (action, subgoal) strings whose actions are valid, for up to
    `expert_steps` steps of one episode.
    """
    inner: TextEnv = env.unwrapped
    name = type(inner).__name__
    _require(isinstance(inner, TextEnv), f"{name} is not a hiper_gym TextEnv")
    if gym_check:
        from gymnasium.utils.env_checker import check_env

        check_env(inner, skip_render_check=True)
    _require(isinstance(inner.prompt_family, str) and bool(inner.prompt_family), f"{name}.prompt_family is not set")
    found: dict[str, Any] = {"prompt_family": inner.prompt_family}
    for split in dict.fromkeys((inner.default_split, inner.eval_split)):
        options = inner.split_options(split)
        _require(isinstance(options, list) and len(options) > 0, f"{name}.split_options({split!r}) lists no task")
        _require(all(isinstance(o, dict) for o in options), f"{name}.split_options({split!r}) holds a non-dict")
        if inner.reset_options is not None:
            unknown = {k for o in options[:100] for k in o} - set(inner.reset_options)
            _require(not unknown, f"{name}.split_options({split!r}) uses reset options it refuses: {sorted(unknown)}")
        _, info = env.reset(seed=0, options=options[0])
        missing = [k for k in INFO_KEYS if k not in info]
        _require(not missing, f"{name}.reset(options={options[0]!r}) info lacks {missing}")
        found[f"tasks/{split}"] = len(options)
    expert = inner.expert()
    found["expert"] = expert is not None
    if expert is not None:
        env.reset(seed=0, options=inner.split_options(inner.default_split)[0])
        for _ in range(expert_steps):
            step = expert(env)
            _require(isinstance(step, tuple) and len(step) == 2 and all(isinstance(x, str) for x in step),
                     f"{name}'s expert returned {step!r}, not (action, subgoal) strings")
            _, _, terminated, truncated, info = env.step(step[0])
            _require(info["action_valid"], f"{name}'s expert played an invalid action {step[0]!r}")
            if terminated or truncated:
                break
        found["expert_won"] = bool(info["won"])
    return found
