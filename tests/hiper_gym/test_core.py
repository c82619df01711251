"""The TextEnv contract: check_env, the info keys, milestones_completed, registration."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import hiper_gym
from hiper_gym.core import (
    INFO_KEYS,
    EnvClosedError,
    EnvNotResetError,
    Milestone,
    StepOutcome,
    TextEnv,
    register_text_env,
)


class KeyDoorEnv(TextEnv):
    """Toy task: take the key, then open the door. Two milestones."""

    def _reset_episode(self, options):
        self._has_key = False
        self._open = False
        self._room = int(self.np_random.integers(1, 4))
        return f"You are in room {self._room}. A key lies on the floor. There is a locked door."

    def _step_episode(self, action):
        if action not in self.admissible_actions():
            return StepOutcome("Nothing happens.", 0.0, False, action_valid=False)
        if action == "take key":
            self._has_key = True
            return StepOutcome("You take the key.", 0.0, False, action_valid=True)
        if action == "open door":
            self._open = True
            return StepOutcome("The door opens. Ünïcödé › done.", 1.0, True, action_valid=True)
        return StepOutcome("You look around.", 0.0, False, action_valid=True)

    def admissible_actions(self):
        return ["look"] + (["open door"] if self._has_key else ["take key"])

    @property
    def task(self):
        return "open the door"

    @property
    def won(self):
        return self._open

    @property
    def score(self):
        return float(self._open)

    def milestones(self):
        return [Milestone("take key", self._has_key), Milestone("open door", self._open)]

    def subgoal_done(self, text):
        if "key" in text.lower():
            return self._has_key
        return None


def test_toy_env_passes_gymnasium_check_env():
    check_env(KeyDoorEnv(), skip_render_check=True)


def test_info_has_every_contract_key_on_reset_and_step():
    env = KeyDoorEnv()
    _, info = env.reset(seed=0)
    assert set(INFO_KEYS) <= set(info)
    _, _, _, _, info = env.step("look")
    assert set(INFO_KEYS) <= set(info)
    assert info["milestones"] == [{"name": "take key", "done": False}, {"name": "open door", "done": False}]


def test_milestones_completed_reports_only_the_step_that_reached_it():
    env = KeyDoorEnv()
    env.reset(seed=0)
    _, _, _, _, info = env.step("take key")
    assert info["milestones_completed"] == ["take key"]
    assert env.subgoal_done("pick up the key") is True
    _, _, _, _, info = env.step("look")
    assert info["milestones_completed"] == []
    _, reward, terminated, truncated, info = env.step("open door")
    assert info["milestones_completed"] == ["open door"]
    assert (reward, terminated, truncated, info["won"], info["score"]) == (1.0, True, False, True, 1.0)


def test_invalid_action_is_reported_not_raised():
    env = KeyDoorEnv()
    env.reset(seed=0)
    obs, reward, terminated, _, info = env.step("fly away")
    assert (obs, reward, terminated, info["action_valid"]) == ("Nothing happens.", 0.0, False, False)


def test_step_before_reset_and_after_termination_raise_clear_error():
    env = KeyDoorEnv()
    with pytest.raises(EnvNotResetError):
        env.step("look")
    env.reset(seed=1)
    env.step("take key")
    env.step("open door")
    with pytest.raises(EnvNotResetError):
        env.step("look")


def test_observations_with_unicode_are_inside_the_observation_space():
    env = KeyDoorEnv()
    env.reset(seed=0)
    env.step("take key")
    obs, *_ = env.step("open door")
    assert "›" in obs and env.observation_space.contains(obs)


def test_sanitize_replaces_astral_characters_and_cuts_long_text():
    assert hiper_gym.sanitize_text("ok \U0001f600") == "ok ?"
    cut = hiper_gym.sanitize_text("a" * 50 + "b" * 50, max_length=40)
    assert len(cut) == 40 and cut.startswith("a") and cut.endswith("b") and "[cut]" in cut


def test_render_ansi_returns_last_observation():
    env = KeyDoorEnv(render_mode="ansi")
    obs, _ = env.reset(seed=0)
    assert env.render() == obs
    with pytest.raises(ValueError, match="render_mode"):
        KeyDoorEnv(render_mode="rgb_array")


def test_register_under_hiper_namespace_and_make_both_ways():
    env_id = register_text_env("KeyDoorTest-v0", f"{__name__}:KeyDoorEnv", max_episode_steps=3)
    assert env_id == "hiper/KeyDoorTest-v0"
    env = gym.make(env_id)
    env.reset(seed=0)
    truncated = False
    for _ in range(3):
        *_, truncated, _ = env.step("look")
    assert truncated
    # "module:id" makes gymnasium import the module first (gymnasium 1.x has no plugin entry points).
    assert gym.make(f"hiper_gym:{env_id}").unwrapped.__class__ is KeyDoorEnv


def test_builtin_env_ids_are_registered_on_import():
    for name in ("WebShop-v0", "ALFWorld-v0", "WebTask-v0"):
        assert f"hiper/{name}" in gym.registry


def test_reset_refuses_a_non_dict_and_an_option_the_env_does_not_take():
    class Strict(KeyDoorEnv):
        reset_options = ("start",)

    with pytest.raises(TypeError, match="must be a dict"):
        Strict().reset(options="test")
    with pytest.raises(ValueError, match=r"unknown reset option\(s\) \['goal_index'\].*takes \['start'\]"):
        Strict().reset(options={"goal_index": 3})
    Strict().reset(options={})  # and nothing is refused by an env that declares none
    KeyDoorEnv().reset(options={"anything": 1})


def test_space_repr_is_short_and_the_space_is_still_gymnasiums_text():
    env = KeyDoorEnv()
    assert isinstance(env.observation_space, gym.spaces.Text) and len(repr(env.observation_space)) < 120
    assert env.observation_space.contains("a key\\n")


def test_reset_and_step_after_close_say_the_env_is_closed():
    env = KeyDoorEnv()
    env.reset(seed=0)
    env.close()
    for call in (lambda: env.reset(seed=0), lambda: env.step("take key")):
        with pytest.raises(EnvClosedError, match="the env is closed"):
            call()


def test_offers_tells_an_implemented_contract_method_from_the_default():
    from hiper_gym.core import offers

    env = gym.make("hiper/BabyAI-v0", level="GoToLocal")
    assert offers(env, "split_options") and offers(env, "expert") and not offers(env, "task_subset")
    assert not offers(KeyDoorEnv(), "split_options") and not offers(object(), "expert")
