"""Gymnasium text environments with admissible actions and subgoal-termination signals.

Importing this package registers the envs under the `hiper/` namespace:
`import hiper_gym; gym.make("hiper/WebShop-v0")`, or `gym.make("hiper_gym:hiper/WebShop-v0")`, which imports it.
"""

from hiper_gym.core import (
    INFO_KEYS,
    EnvClosedError,
    EnvNotResetError,
    Milestone,
    StepOutcome,
    TextEnv,
    env_id,
    register_text_env,
    sanitize_text,
    text_charset,
)

REGISTERED = (  # the ids this package registers (tests run check_text_env over each)
    register_text_env("WebShop-v0", "hiper_gym.webshop.env:WebShopEnv", max_episode_steps=15),
    register_text_env("ALFWorld-v0", "hiper_gym.alfworld.env:ALFWorldEnv", max_episode_steps=50),
    register_text_env("WebTask-v0", "hiper_gym.web.env:WebTaskEnv", max_episode_steps=None),
    register_text_env("BabyAI-v0", "hiper_gym.babyai.env:BabyAIEnv", max_episode_steps=None),  # levels have a limit
)

__all__ = [
    "INFO_KEYS",
    "REGISTERED",
    "EnvClosedError",
    "EnvNotResetError",
    "Milestone",
    "StepOutcome",
    "TextEnv",
    "env_id",
    "register_text_env",
    "sanitize_text",
    "text_charset",
]
