"""A user's own catalogue: text the original shows is shown, an action copied from the page works, and a catalogue
too small for the train split says which split to use."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import hiper_gym  # noqa: F401  registers hiper/WebShop-v0
from tests.hiper_gym.webshop.test_catalogue import record


@pytest.fixture()
def shop(tmp_path):
    products = [
        record("B000000001", name="Trail\u00a0Jacket\u200b Pro", query="jacket",
               customization_options={"Color": [{"value": "camo \U0001f332", "image": None},
                                                {"value": "navy", "image": None}], "Size": None}),
        record("B000000002", name="City Umbrella", query="umbrella"),
    ]
    (tmp_path / "items_shuffle_1000.json").write_text(json.dumps(products))
    goals = {p["asin"]: {"attributes": ["machine wash"], "instruction": f"i need a {p['query']}",
                         "instruction_attributes": ["machine wash"]} for p in products}
    (tmp_path / "items_ins_v2_1000.json").write_text(json.dumps(goals))
    return tmp_path


def test_a_small_catalogue_names_the_split_to_use(shop):
    env = gym.make("hiper/WebShop-v0", data_dir=str(shop))
    with pytest.raises(ValueError, match="split='test' or split='all'"):
        env.reset(seed=0)
    env = gym.make("hiper/WebShop-v0", data_dir=str(shop), split="all")
    obs, info = env.reset(seed=0)
    assert info["action_templates"] == ["search[<query>]"]


def test_no_break_and_zero_width_spaces_are_shown_and_an_emoji_option_copied_from_the_page_works(shop):
    env = gym.make("hiper/WebShop-v0", data_dir=str(shop), split="all")
    env.reset(seed=0)
    obs, *_ = env.step("search[trail jacket]")
    assert "Trail\u00a0Jacket\u200b Pro" in obs  # kept as the original shows them (they used to become '?')
    obs, _, _, _, info = env.step("click[b000000001]")
    assert "camo ?" in obs and "click[camo \U0001f332]" in info["admissible_actions"]  # beyond the BMP: '?'
    obs, _, _, _, info = env.step("click[camo ?]")  # what a policy reading the page writes
    assert info["action_valid"] and env.unwrapped.session.options == {"color": "camo \U0001f332"}


def test_the_originals_debugging_queries_bypass_the_search_engine(shop):
    env = gym.make("hiper/WebShop-v0", data_dir=str(shop), split="all")
    env.reset(seed=0)
    session = env.unwrapped.session
    env.step("search[<q> umbrella]")
    assert [env.unwrapped.world.products[i].asin for i in session.results] == ["B000000002"]
    env.step("search[<c> fashion]")
    assert len(session.results) == 2  # both products are in category "fashion", in catalogue order
    env.step("search[<r>]")
    first = list(session.results)
    env.reset(seed=0)
    env.step("search[<r>]")
    assert sorted(first) == [0, 1] and env.unwrapped.session.results == first  # seeded by reset
