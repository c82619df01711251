"""WebShopEnv: gymnasium contract, action parsing, navigation and option state, milestones and subgoal judging."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import hiper_gym
from hiper_gym.core import INFO_KEYS
from hiper_gym.webshop.env import WebShopEnv
from hiper_gym.webshop.oracle import goal_query


@pytest.fixture
def env(world):
    env = gym.make("hiper/WebShop-v0")
    env.reset(options={"split": "test", "goal_idx": 0})
    return env


def open_target(env):
    """Search with the goal's instruction and open the goal's product; return the item page observation."""
    goal = env.unwrapped.goal
    env.step(f"search[{goal.instruction_text}]")
    page = env.unwrapped.session.page_num
    while goal.asin.lower() not in env.unwrapped.session.page.clickables:
        env.step("click[next >]")
        assert env.unwrapped.session.page_num <= page + 5
    return env.step(f"click[{goal.asin.lower()}]")


def test_check_env_passes(world):
    check_env(gym.make("hiper/WebShop-v0").unwrapped, skip_render_check=True)


def test_both_registration_styles_and_kwargs_reach_the_constructor(world):
    env = gym.make("hiper_gym:hiper/WebShop-v0", observation_mode="text_rich", max_episode_steps=50)
    assert isinstance(env.unwrapped, WebShopEnv) and env.unwrapped.observation_mode == "text_rich"
    assert env.spec.max_episode_steps == 50 and hiper_gym.env_id("WebShop-v0") == "hiper/WebShop-v0"
    assert gym.make("hiper/WebShop-v0").spec.max_episode_steps == 15
    with pytest.raises(ValueError, match="observation_mode"):
        gym.make("hiper/WebShop-v0", observation_mode="html")


def test_reset_picks_the_goal_of_the_split(env):
    obs, info = env.reset(options={"split": "test", "goal_idx": 3})
    assert env.unwrapped.goal_index == 3 and info["task"] in obs and set(INFO_KEYS) <= set(info)
    env.reset(options={"split": "train", "goal_idx": 3})
    assert env.unwrapped.goal_index == 503
    env.reset(seed=1)
    assert env.unwrapped.goal_index >= 500  # the default split is train, sampled by goal weight
    with pytest.raises(IndexError):
        env.reset(options={"split": "test", "goal_idx": 500})
    options = env.unwrapped.split_options("test")
    assert len(options) == 500 and options[7] == {"split": "test", "goal_idx": 7}


@pytest.mark.parametrize(
    "action", ["Search[shoes]", " search[shoes]", "search[]", "click[search]", "click[nope]", "shoes", "click[buy now]"]
)
def test_invalid_actions_change_nothing(env, action):
    before = env.unwrapped.session.observation("text")
    obs, reward, terminated, truncated, info = env.step(action)
    assert (obs, reward, terminated, info["action_valid"]) == (before, 0.0, False, False)


def test_action_argument_is_lowercased_and_text_after_the_bracket_ignored(env):
    _, _, _, _, info = env.step("search[Red SHOES] please")
    assert info["action_valid"] and env.unwrapped.session.keywords == ["red", "shoes"]
    _, _, _, _, info = env.step("click[NEXT >]")
    assert info["action_valid"] and env.unwrapped.session.page_num == 2


def test_navigation_and_option_state(env):
    obs, *_ = open_target(env)
    session = env.unwrapped.session
    results_page = session.page_num
    value = next(
        iter(
            session.page.clickables.keys()
            - {"back to search", "< prev", "description", "features", "reviews", "buy now"}
        ),
        None,
    )
    if value is not None:
        env.step(f"click[{value}]")
        chosen = dict(session.options)
        env.step("click[description]")
        assert session.kind == "sub" and env.unwrapped.admissible_actions() == [
            "click[back to search]",
            "click[< prev]",
        ]
        env.step("click[< prev]")
        assert session.kind == "item" and session.options == chosen  # kept across sub-pages
    env.step("click[< prev]")
    assert (session.kind, session.page_num, session.options) == ("results", results_page, {})
    env.step("search[anything at all]")  # a search works from any page
    assert (session.kind, session.page_num) == ("results", 1)
    env.step("click[back to search]")
    assert session.kind == "start" and session.visited == set()
    assert env.unwrapped.admissible_actions() == [] and env.unwrapped.action_templates() == ["search[<query>]"]


def test_the_search_template_is_kept_apart_and_its_placeholder_is_not_a_query(env):
    # a random agent over admissible_actions used to search for "<query>", and the env took it as valid
    _, _, _, _, info = env.step("search[<query>]")
    assert not info["action_valid"] and env.unwrapped.session.kind == "start"
    assert info["admissible_actions"] == [] and info["action_templates"] == ["search[<query>]"]


def test_pages_past_the_last_are_empty_but_keep_next(env):
    env.step("search[zzzz qqqq shoe]")
    for _ in range(6):
        obs, *_ = env.step("click[next >]")
    assert obs.endswith("(Total results: " + str(len(env.unwrapped.session.results)) + ") [SEP] < Prev [SEP] Next >")


def test_buying_the_goal_product_with_the_goal_options_scores_one(env):
    open_target(env)
    for name, value in env.unwrapped.goal.goal_options.items():
        _, _, _, _, info = env.step(f"click[{value}]")
        assert f"option:{name}" in info["milestones_completed"]
    obs, reward, terminated, truncated, info = env.step("click[buy now]")
    assert (reward, terminated, info["score"], info["won"]) == (1.0, True, 1.0, True)
    assert info["milestones_completed"] == ["bought"] and all(m["done"] for m in info["milestones"])
    assert obs.startswith("Thank you for shopping with us!") and info["admissible_actions"] == []
    assert info["reward_info"]["r_type"] == 1.0


def test_milestones_in_order_and_signalled_once(env):
    _, info = env.reset(options={"split": "test", "goal_idx": 0})
    names = [m["name"] for m in info["milestones"]]
    options = [f"option:{n}" for n in env.unwrapped.goal.goal_options]
    assert names == ["searched", "opened_matching_product", *options, "bought"]
    _, _, _, _, info = env.step("search[shoes]")
    assert info["milestones_completed"] == ["searched"]
    _, _, _, _, info = env.step("search[shirts]")
    assert info["milestones_completed"] == []
    _, _, _, _, info = open_target(env)
    assert info["milestones_completed"] == ["opened_matching_product"]


def test_subgoal_judge(env):
    u = env.unwrapped
    goal = u.goal
    assert u.subgoal_done(f"search for {goal_query(goal)}") is False
    env.step(f"search[{goal_query(goal)}]")
    assert u.subgoal_done(f"search for {goal_query(goal)}") is True
    assert u.subgoal_done("search for a garden hose with brass fittings") is False
    assert u.subgoal_done("open a matching product") is False
    assert u.subgoal_done(f"click the {goal.asin} product") is False
    open_target(env)
    assert u.subgoal_done("open a matching product") is True
    assert u.subgoal_done(f"click on {goal.asin.lower()}") is True
    name, value = next(iter(goal.goal_options.items()))
    assert u.subgoal_done(f"select {name} {value}") is False
    env.step(f"click[{value}]")
    assert u.subgoal_done(f"select {name} {value}") is True
    assert u.subgoal_done(f"choose {value}") is True
    assert u.subgoal_done("buy the product") is False
    env.step("click[buy now]")
    assert u.subgoal_done("buy it") is True
    assert u.subgoal_done("think about life") is None
