"""hiper/WebTask-v0 in headless Chromium: the experts solve every built-in task, user tasks register in one call,
the contract holds, a dead or hung browser ends the episode with env_error and the next reset works, and closing
leaves no process behind."""

from __future__ import annotations

import os
import signal
import socket

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hiper_gym  # noqa: F401  registers hiper/WebTask-v0
from hiper_gym.core import INFO_KEYS, EnvClosedError
from hiper_gym.web import register_web_task
from hiper_gym.web.browser import processes_with
from hiper_gym.web.task import BUILTIN_TASKS
from tests.hiper_gym.web.test_browser import alive

pytestmark = pytest.mark.browser

NEWSLETTER = {
    "/": (
        "<title>Newsletter</title><h1>{{shop}} news</h1>"
        '<form method="post" action="/"><label for="e">Email</label><input id="e" name="email">'
        '<label><input type="checkbox" name="terms"> I agree</label>'
        '<select name="freq" aria-label="Frequency"><option>Weekly</option><option>Monthly</option></select>'
        "<button>Subscribe</button></form><p>Subscribed: {{form.email}}</p>"
        '<a href="/about">About</a> <a href="http://example.com/partner">Our partner</a>'
    ),
    "/about": "<title>About</title><p>About {{shop}}.</p>",
}
register_web_task(
    name="test-newsletter",
    pages=NEWSLETTER,
    instruction="Subscribe {{email}} to the monthly newsletter of {{shop}}.",
    params={"email": ["ann@example.org", "bob@example.org"], "shop": ["Acme", "Globex"]},
    milestones=[("agreed", {"form": {"path": "/", "fields": {"terms": "on"}}}), ("read_about", {"url": "/about"})],
    success={"form": {"path": "/", "fields": {"email": "{{email}}", "freq": "Monthly", "terms": "on"}}},
    max_steps=8,
    replace=True,
)


def play_expert(env, options):
    """Reset to an instance and play the task's expert to the end; returns the last info and the step count."""
    _, info = env.reset(options=options)
    expert, steps = env.unwrapped.web_task.expert(), 0
    while True:
        action, subgoal = expert(env)
        assert action.split()[0] in ("click", "type", "select", "press", "back") and subgoal
        _, reward, terminated, truncated, info = env.step(action)
        steps += 1
        assert info["action_valid"], (action, info.get("action_error"))
        if terminated or truncated:
            return reward, terminated, info, steps


@pytest.mark.parametrize("task", sorted(BUILTIN_TASKS))
def test_the_scripted_expert_solves_every_builtin_task(task):
    env = gym.make("hiper/WebTask-v0", task=task)
    try:
        for index in range(2):
            reward, terminated, info, steps = play_expert(env, {"split": "test", "index": index})
            assert terminated and info["won"] and info["score"] == reward == 1.0, info
            assert all(m["done"] for m in info["milestones"]) and steps <= env.unwrapped.web_task.max_steps
            assert set(INFO_KEYS) <= set(info) and info["admissible_actions"] == []
    finally:
        env.close()


@pytest.fixture(scope="module")
def newsletter():
    env = gym.make("hiper/WebTask-v0", task="test-newsletter", render_mode="rgb_array")
    yield env
    env.close()


def test_a_user_task_registered_in_one_call_is_playable(newsletter):
    obs, info = newsletter.reset(options={"split": "test", "index": 0})
    params = newsletter.unwrapped.params
    assert obs.startswith(f"Instruction: Subscribe {params['email']} to the monthly newsletter of {params['shop']}.")
    assert "Page: Newsletter (/)" in obs and '[1] textbox "Email" value=""' in obs
    assert info["milestones"] == [{"name": "agreed", "done": False}, {"name": "read_about", "done": False}]
    for action in (f'type [1] "{params["email"]}"', "click [2]", 'select [3] "monthly"'):
        _, reward, terminated, _, info = newsletter.step(action)
        assert info["action_valid"] and not terminated
    assert "press Enter" not in info["admissible_actions"]  # the focus is on the drop-down list
    _, reward, terminated, truncated, info = newsletter.step("click [4]")
    assert (reward, terminated, truncated, info["won"], info["milestones_completed"]) == (
        1.0,
        True,
        False,
        True,
        ["agreed"],
    )


def test_invalid_actions_change_nothing_and_say_why(newsletter):
    obs, _ = newsletter.reset(options={"split": "test", "index": 1})
    for action, why in [("click [99]", "no element"), ("click [1]", "textbox"), ("fly away", "not an action"),
                        ("back", "no earlier page"), ('select [3] "Daily"', "no option")]:  # fmt: skip
        after, reward, terminated, _, info = newsletter.step(action)
        assert (after, reward, terminated, info["action_valid"]) == (obs, 0.0, False, False)
        assert why in info["action_error"]


def test_external_links_are_refused_and_back_returns(newsletter):
    newsletter.reset(options={"split": "test", "index": 0})
    server = newsletter.unwrapped.server
    obs, _, terminated, _, info = newsletter.step("click [6]")  # "Our partner" on example.com
    assert not terminated and info["blocked_url"] == "http://example.com/partner"
    assert "only the task's own site is reachable" in obs and "ERR_" in obs
    assert all("example" not in host for _, host, _ in server.requests)
    obs, _, _, _, info = newsletter.step("back")
    assert info["action_valid"] and "blocked_url" not in info and "Page: Newsletter (/)" in obs


def test_links_back_milestones_and_subgoal_judge(newsletter):
    newsletter.reset(options={"split": "test", "index": 0})
    _, _, _, _, info = newsletter.step("click [5]")
    assert (
        info["url"] == "/about"
        and info["milestones_completed"] == ["read_about"]
        and "back" in info["admissible_actions"]
    )
    assert newsletter.unwrapped.subgoal_done("read the about page") is True
    assert newsletter.unwrapped.subgoal_done("agree to the terms") is False
    assert newsletter.unwrapped.subgoal_done("dance") is None
    _, _, _, _, info = newsletter.step("back")
    assert info["url"] == "/" and "back" not in info["admissible_actions"]


def test_the_step_limit_truncates(newsletter):
    newsletter.reset(options={"split": "test", "index": 0})
    for step in range(8):
        _, _, terminated, truncated, _ = newsletter.step("click [2]")
        assert not terminated and truncated == (step == 7)


def test_rgb_array_render_is_a_screenshot(newsletter):
    newsletter.reset(options={"split": "test", "index": 0})
    frame = newsletter.render()
    assert frame.dtype == np.uint8 and frame.shape == (768, 1024, 3) and frame.std() > 0


def test_gymnasium_check_env_passes():
    env = gym.make("hiper/WebTask-v0", task="test-newsletter").unwrapped
    try:
        check_env(env, skip_render_check=True)
    finally:
        env.close()


@pytest.mark.parametrize("how", ["kill", "hang"])
def test_a_dead_or_hung_browser_ends_the_episode_and_the_next_reset_works(how):
    env = gym.make("hiper/WebTask-v0", task="account-settings", timeout=3.0)
    try:
        env.reset(options={"split": "test", "index": 0})
        env.step('type [1] "alice"')
        old = env.unwrapped.browser.pid
        os.kill(old, signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        obs, reward, terminated, truncated, info = env.step("click [3]")
        assert terminated and not info["won"] and reward == 0.0 and info["env_error"], info
        assert info["admissible_actions"] == [] and "browser failed" in obs
        assert not alive(old)
        reward, terminated, info, _ = play_expert(env, {"split": "test", "index": 1})
        assert info["won"] and "env_error" not in info and env.unwrapped.browser.pid != old
    finally:
        env.close()


def test_close_leaves_no_process_or_port_behind():
    env = gym.make("hiper/WebTask-v0", task="wiki-lookup")
    env.reset(options={"split": "test", "index": 0})
    browser, port = env.unwrapped.browser, env.unwrapped.server.port
    pids, workdir = (browser.driver_pid, browser.pid), browser.workdir
    assert all(alive(p) for p in pids) and processes_with(workdir)
    env.close()
    assert not any(alive(p) for p in pids) and processes_with(workdir) == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    # a closed env says so (it used to raise a bare AssertionError on step and a connection error on reset)
    for call in (lambda: env.step("click [1]"), lambda: env.reset(options={"split": "test", "index": 0})):
        with pytest.raises(EnvClosedError, match="the env is closed"):
            call()


def test_a_web_task_env_without_a_task_says_which_tasks_exist():
    with pytest.raises(TypeError, match="needs task=.*account-settings"):
        gym.make("hiper/WebTask-v0")
