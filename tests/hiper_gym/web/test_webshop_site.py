"""WebShop in the browser scores exactly as hiper/WebShop-v0 for the same goal and the same choices."""

from __future__ import annotations

import gymnasium as gym
import pytest

import hiper_gym  # noqa: F401
from tests.hiper_gym.web.test_env import play_expert

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def envs():
    browser_env = gym.make("hiper/WebTask-v0", task="webshop")
    text_env = gym.make("hiper/WebShop-v0")
    yield browser_env, text_env
    browser_env.close()
    text_env.close()


def replay_in_text_env(text_env, goal_idx: int, actions: list[str]) -> dict:
    """Play the text actions the browser site applied in the text env; returns the last info."""
    text_env.reset(options={"split": "test", "goal_idx": goal_idx})
    for action in actions:
        _, _, terminated, _, info = text_env.step(action)
        assert info["action_valid"], action
    assert terminated
    return info


def test_the_browser_shows_the_text_envs_goal_and_results(envs):
    browser_env, text_env = envs
    obs, info = browser_env.reset(options={"split": "test", "index": 3})
    _, text_info = text_env.reset(options={"split": "test", "goal_idx": 3})
    assert info["task"] == text_info["task"] and obs.startswith(f"Instruction: {text_info['task']}\n")
    query = "long lasting hair extension"
    browser_env.step(f'type [1] "{query}"')
    obs, _, _, _, info = browser_env.step("click [2]")
    _, _, _, _, text_info = text_env.step(f"search[{query}]")
    world, session = text_env.unwrapped.world, text_env.unwrapped.session
    asins = [world.products[i].asin for i in session.results[:10]]
    assert len(asins) == 10 and [e.name for e in browser_env.unwrapped.page.elements if e.role == "link"] == asins
    assert info["milestones"] == text_info["milestones"]


@pytest.mark.parametrize("goal_idx", [0, 1, 2, 5, 8])
def test_expert_purchase_scores_the_same_in_browser_and_text(envs, goal_idx):
    browser_env, text_env = envs
    reward, terminated, info, _ = play_expert(browser_env, {"split": "test", "index": goal_idx})
    actions = browser_env.unwrapped.site.state["actions"]
    text_info = replay_in_text_env(text_env, goal_idx, actions)
    assert terminated and info["score"] == reward == text_info["score"]
    assert info["won"] == text_info["won"] and info["milestones"] == text_info["milestones"]


@pytest.mark.parametrize("goal_idx", [4, 6, 7])
def test_a_careless_purchase_scores_the_same_in_browser_and_text(envs, goal_idx):
    """Search two words of the goal, open the first result, pick its first option, buy: partial scores agree."""
    browser_env, text_env = envs
    obs, info = browser_env.reset(options={"split": "test", "index": goal_idx})
    query = " ".join(info["task"].lower().split()[2:4])
    browser_env.step(f'type [1] "{query}"')
    _, _, _, _, info = browser_env.step("click [2]")
    page = browser_env.unwrapped.page
    first_product = next(e for e in page.elements if e.role == "link")
    browser_env.step(f"click [{first_product.id}]")
    page = browser_env.unwrapped.page
    radios = [e for e in page.elements if e.role == "radio"]
    if radios:
        browser_env.step(f"click [{radios[0].id}]")
    buy = browser_env.unwrapped.page.find("Buy Now", "button")
    _, reward, terminated, _, info = browser_env.step(f"click [{buy.id}]")
    actions = browser_env.unwrapped.site.state["actions"]
    assert actions[0] == f"search[{query}]" and actions[-1] == "click[buy now]"
    text_info = replay_in_text_env(text_env, goal_idx, actions)
    assert terminated and info["score"] == reward == text_info["score"] and info["won"] == text_info["won"]
    assert 0.0 < reward < 1.0  # a partial score: the comparison covers more than the all-or-nothing case
    assert "Thank you for shopping with us!" in browser_env.unwrapped.page.text
