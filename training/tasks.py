"""Which tasks a run plays and what it learns from first, read from the env's own contract (hiper_gym/core.py:
`TextEnv.split_options`, `task_subset`, `expert`, `prompt_family`)."""

from __future__ import annotations

from typing import Any

from hiper_gym.core import TextEnv, text_env_class


def env_contract(env_id: str) -> type[TextEnv]:
    """The TextEnv class behind an env id, refused with one line when the trainer cannot play it.

    A "module:env-id" id (gymnasium's form, so worker processes import the module that registers the env) imports
    the module first.
    """
    cls = text_env_class(env_id)
    if cls.prompt_family is None:
        raise KeyError(f"{env_id!r} ({cls.__name__}) names no prompt_family: set the class attribute to one of "
                       "hiper_agents.prompts.FAMILIES")
    return cls


def make_expert(env: Any, noise: float, rng: Any) -> Any:
    """A fresh expert for one episode of `env` (noisy when noise > 0); refuses an env without one."""
    expert = env.unwrapped.expert(noise, rng)
    if expert is None:
        raise ValueError(f"{type(env.unwrapped).__name__} has no scripted expert: set sft.enabled=false")
    return expert
