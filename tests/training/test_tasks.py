"""What the trainer reads from an env: WebShop's and ALFWorld's task subsets hold out tasks of the families they
train on, their experts win and name each decision, the careless expert guesses options."""

from __future__ import annotations

import gymnasium as gym
import pytest

import hiper_gym  # noqa: F401
from training.tasks import env_contract


@pytest.fixture(scope="module")
def webshop():
    return gym.make("hiper/WebShop-v0")


def test_subset_splits_goals_of_the_same_products_without_overlap(webshop):
    train, held_out = webshop.unwrapped.task_subset(150, 0)
    goals = webshop.unwrapped.world.goals
    train_idx = {o["goal_idx"] for o in train}
    held_idx = {o["goal_idx"] for o in held_out}
    assert not train_idx & held_idx and len(held_out) >= 200
    assert {goals[i].asin for i in held_idx} <= {goals[i].asin for i in train_idx | held_idx}
    assert max(len(goals[i].goal_options) for i in train_idx | held_idx) <= 1
    assert webshop.unwrapped.task_subset(150, 0) == (train, held_out)  # deterministic


def test_webshop_expert_wins_and_names_each_decision_in_its_subgoal(webshop):
    expert = webshop.unwrapped.expert()
    _, info = webshop.reset(options=webshop.unwrapped.split_options("test")[0])
    labels, actions = [], []
    for _ in range(15):
        action, subgoal = expert(webshop)
        labels.append(subgoal)
        actions.append(action)
        _, _, terminated, truncated, info = webshop.step(action)
        if terminated or truncated:
            break
    assert info["won"] and labels[-1] == "buy the product"
    assert actions[0] == f"search[{labels[0].removeprefix('search for ')}]"  # the query is in the subgoal
    opened = [(a, g) for a, g in zip(actions, labels) if g.startswith("open the ")]
    assert opened and all(g == f"open the {a[6:-1]} product" for a, g in opened)  # so is the product id
    assert webshop.unwrapped.subgoal_done(opened[-1][1]) is True


def test_unknown_env_id_is_refused_with_the_registered_ones():
    with pytest.raises(KeyError, match="hiper/WebShop-v0"):
        env_contract("hiper/Nope-v0")


@pytest.fixture(scope="module")
def alfworld():
    pytest.importorskip("textworld", reason="the alfworld extra is not installed")
    env = gym.make("hiper/ALFWorld-v0")
    yield env
    env.close()


def test_alfworld_subset_holds_out_other_trials_of_the_trained_tasks(alfworld):
    u = alfworld.unwrapped
    assert env_contract("hiper/ALFWorld-v0").prompt_family == "alfworld" and len(u.split_options("valid_unseen")) == 134
    assert u.split_options("valid_seen")[3] == {"split": "valid_seen", "game_idx": 3}
    train, held_out = u.task_subset(3, seed=0)
    assert train and held_out and not {o["game_idx"] for o in train} & {o["game_idx"] for o in held_out}
    games = u.index.games("train")
    task = {games[o["game_idx"]].task_folder for o in train}
    assert len(task) == 3 and {games[o["game_idx"]].task_folder for o in held_out} == task
    assert u.task_subset(3, seed=0) == (train, held_out) != u.task_subset(3, seed=1)


def test_alfworld_expert_wins_with_milestone_labels(alfworld):
    alfworld.reset(options={"split": "valid_unseen", "task_types": ["pick_cool"], "game_idx": 0})
    expert, labels, terminated, info = alfworld.unwrapped.expert(), [], False, {}
    while not terminated:
        action, subgoal = expert(alfworld)
        labels.append(subgoal)
        _, _, terminated, _, info = alfworld.step(action)
    assert info["won"] and labels[0] == labels[1] and any(label.startswith("cool the ") for label in labels)


def test_careless_webshop_expert_finds_the_product_but_guesses_the_options(webshop):
    from training.sft import expert_episodes

    train, _ = webshop.unwrapped.task_subset(50, 0)
    options = train[:40]

    def replay(episodes):
        wins, opened = 0, 0
        for k, (opts, episode) in enumerate(zip(options, episodes)):
            _, info = webshop.reset(seed=k, options=opts)
            u = webshop.unwrapped
            for turn in episode:
                if turn.subgoal.startswith("select "):  # the label names the value it clicks, right or wrong
                    assert turn.subgoal.endswith(turn.action[len("click[") : -1])
                _, _, _, _, info = webshop.step(turn.action)
            opened += u.session.product is not None and u.world.products[u.session.product].asin == u.goal.asin
            wins += info["won"]
        return wins, opened

    wins, opened = replay(expert_episodes(webshop, options, seed=0, noise=1.0))
    assert opened >= 36  # the product is found as the oracle finds it
    assert 2 <= wins <= 20  # the options are a guess: 8/40 measured (one option group of ~5 values)
    exact_wins, _ = replay(expert_episodes(webshop, options, seed=0, noise=0.0))
    assert exact_wins >= 38  # without noise it is the oracle


def test_expert_noise_needs_a_noisy_expert(alfworld):
    from training.sft import expert_episodes

    with pytest.raises(ValueError, match="expert_noise"):
        expert_episodes(alfworld, [{"split": "valid_unseen", "game_idx": 0}], seed=0, noise=0.5)
