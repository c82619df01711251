"""Which tasks an env offers per split, and its scripted expert for the SFT warm start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ExpertStep = tuple[str, str]  # (action, subgoal label)
Expert = Callable[[Any], ExpertStep]  # env (after reset/step) -> the next (action, subgoal)


@dataclass
class TaskSource:
    """Reset options for the tasks of each split, and an expert that labels its actions with subgoals."""

    env_family: str  # prompt family: webshop, alfworld or web
    count: Callable[[Any, str], int]  # (env, split) -> number of tasks
    options: Callable[[str, int], dict[str, Any]]  # (split, index) -> reset options
    expert: Callable[[], Expert] | None = None  # a fresh expert per episode (experts may keep state)
    # (env, n, seed) -> (train options, held-out options): the tasks of n task families (e.g. products), split
    subset: Callable[[Any, int, int], tuple[list[dict[str, Any]], list[dict[str, Any]]]] | None = None
    # (noise, rng) -> an expert that makes its task-specific choices at random with probability noise (sft.expert_noise)
    noisy_expert: Callable[[float, Any], Expert] | None = None


def _webshop_count(env: Any, split: str) -> int:
    from hiper_gym.webshop.goals import split_range

    return len(split_range(split, len(env.unwrapped.world.goals)))


def _webshop_expert() -> Expert:
    from hiper_gym.webshop.oracle import OracleAgent

    oracle = OracleAgent()

    def act(env: Any) -> ExpertStep:
        action, subgoal = oracle.act(env)
        # Subgoals name what the action needs: the query ("search for ..."), the product ("open the b0... product")
        # and the option value ("select color red"), so the planner makes each decision and the executor copies it.
        # HAE gives the planner's <subgoal> the segment's return (semi-MDP GAE) but the executor only
        # r + V_high(s') - V_low(s, g) when every segment is one turn, which is noise while the critic is weak
        # (measured on the tiny default: explained variance ~0 over 20 iterations).
        if subgoal == "open a matching product" and action.startswith("click["):
            subgoal = f"open the {action[len('click['):-1]} product"
        return action, subgoal

    return act


def _webshop_careless_expert(noise: float, rng: Any) -> Expert:
    """The oracle, except that on the product page it picks each option value at random with probability `noise`
    (one click per option group, labelled with the value it clicks), then buys: a demonstrator that finds the
    product but does not read the options from the instruction."""
    from hiper_gym.webshop.oracle import best_options

    oracle = _webshop_expert()
    chosen: set[str] = set()

    def act(env: Any) -> ExpertStep:
        u = env.unwrapped
        if u.session.kind != "item":
            return oracle(env)
        product = u.world.products[u.session.product]
        for group, value in best_options(product, u.goal, u.fuzzy_matcher).items():
            if group in chosen:
                continue
            chosen.add(group)
            if rng.random() < noise:
                guess = rng.choice(list(product.options[group]))
                radio = u.session.page.clickables.get(guess)
                value = guess if radio is not None and radio.target == group else value
            return f"click[{value}]", f"select {group} {value}"
        return "click[buy now]", "buy the product"

    return act


def split_families(
    families: dict[str, list[int]], n: int, key: Callable[[str], Any], seed: int
) -> tuple[list[int], list[int]]:
    """Task indices of the first n families (by `key`) with at least two tasks, each family's tasks split in half
    between training and held out (shuffled by `seed`), so every held-out task has siblings in training."""
    import random

    rng = random.Random(seed)
    train: list[int] = []
    held_out: list[int] = []
    for family in sorted((f for f in families if len(families[f]) >= 2), key=key)[:n]:
        members = list(families[family])
        rng.shuffle(members)
        half = len(members) // 2
        train += members[:half]
        held_out += members[half:]
    rng.shuffle(train)
    rng.shuffle(held_out)
    return train, held_out


def _webshop_subset(env: Any, n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Goals of n products with several goals each, those with the simplest goals first (one-word option values, then
    fewest options, then most goals); every product's goals split in half between training and held out, so each
    held-out goal asks for a product seen in training with other option values and price bounds."""
    import collections

    goals = env.unwrapped.world.goals
    per_product: dict[str, list[int]] = collections.defaultdict(list)
    for i, goal in enumerate(goals):
        per_product[goal.asin].append(i)

    def simplicity(asin: str) -> tuple[bool, int, int, str]:
        indices = per_product[asin]
        # One-word option values ("navy", "vanilla") first: a tiny model copies one token from the instruction
        # far sooner than a phrase ("60 x 80 inch").
        one_word = all(str(v).isalpha() for i in indices for v in goals[i].goal_options.values())
        return not one_word, max(len(goals[i].goal_options) for i in indices), -len(indices), asin

    train, held_out = split_families(per_product, n, simplicity, seed)
    return [{"split": "all", "goal_idx": i} for i in train], [{"split": "all", "goal_idx": i} for i in held_out]


def _web_count(env: Any, split: str) -> int:
    return env.unwrapped.web_task.count(split)


def _web_expert() -> Expert:
    """The scripted expert of the env's web task, made on the first call (the task is known from the env then)."""
    experts: list[Expert] = []

    def act(env: Any) -> ExpertStep:
        if not experts:
            task = env.unwrapped.web_task
            if task.expert is None:
                raise ValueError(f"web task {task.name!r} has no scripted expert: set sft.enabled=false")
            experts.append(task.expert())
        return experts[0](env)

    return act


def _alfworld_count(env: Any, split: str) -> int:
    return len(env.unwrapped.games(split))


def _alfworld_expert() -> Expert:
    """The engine's plan, each action labelled with the milestone it leads to ("heat the apple")."""
    from hiper_gym.alfworld.expert import PlanExpert

    return PlanExpert()


def _alfworld_subset(env: Any, n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The trials of n train tasks (a task: type, object, receptacle and room; its trials differ in where things
    lie), two-milestone task types first, then the tasks with most trials; each task's trials split in half between
    training and held out, so every held-out game is a task seen in training in a new layout."""
    import collections

    from hiper_gym.alfworld.games import TASK_TYPES

    games = env.unwrapped.index.games("train", TASK_TYPES)
    per_task: dict[str, list[int]] = collections.defaultdict(list)
    for i, game in enumerate(games):
        per_task[game.task_folder].append(i)
    two_milestones = ("pick_and_place_simple", "look_at_obj_in_light")

    def simplicity(folder: str) -> tuple[bool, int, str]:
        return not folder.startswith(two_milestones), -len(per_task[folder]), folder

    train, held_out = split_families(per_task, n, simplicity, seed)
    options = {"split": "train", "task_types": list(TASK_TYPES)}
    return [{**options, "game_idx": i} for i in train], [{**options, "game_idx": i} for i in held_out]


def _babyai_count(env: Any, split: str) -> int:
    from hiper_gym.babyai.splits import SPLIT_SIZE

    return SPLIT_SIZE


def _babyai_expert() -> Expert:
    """BabyAI's bot; each action labelled with the bot's current subgoal ("go to the red ball", "explore")."""
    from hiper_gym.babyai.expert import BotExpert

    return BotExpert()


def _babyai_noisy_expert(noise: float, rng: Any) -> Expert:
    """The bot, taking a random move (turn or forward) with probability `noise` and replanning from there."""
    from hiper_gym.babyai.expert import BotExpert

    return BotExpert(noise, rng)


_SOURCES: dict[str, TaskSource] = {
    "hiper/WebShop-v0": TaskSource(
        env_family="webshop",
        count=_webshop_count,
        options=lambda split, i: {"split": split, "goal_idx": i},
        expert=_webshop_expert,
        subset=_webshop_subset,
        noisy_expert=_webshop_careless_expert,
    ),
    "hiper/BabyAI-v0": TaskSource(
        env_family="babyai",
        count=_babyai_count,
        options=lambda split, i: {"split": split, "index": i},
        expert=_babyai_expert,
        noisy_expert=_babyai_noisy_expert,
    ),
    "hiper/WebTask-v0": TaskSource(
        env_family="web",
        count=_web_count,
        options=lambda split, i: {"split": split, "index": i},
        expert=_web_expert,
    ),
    "hiper/ALFWorld-v0": TaskSource(
        env_family="alfworld",
        count=_alfworld_count,
        options=lambda split, i: {"split": split, "game_idx": i},
        expert=_alfworld_expert,
        subset=_alfworld_subset,
    ),
}


def register_task_source(env_id: str, source: TaskSource) -> None:
    """Tell the trainer how to pick tasks (and an expert) for a custom env id."""
    _SOURCES[env_id] = source


def task_source(env_id: str) -> TaskSource:
    """The TaskSource of a registered env id; unknown ids raise with the known ones listed.

    A "module:env-id" id (gymnasium's form, so worker processes import the module that registers the env) imports
    the module first, which may register its task source.
    """
    if ":" in env_id:
        import importlib

        module, _, env_id = env_id.partition(":")
        importlib.import_module(module)
    if env_id not in _SOURCES:
        raise KeyError(f"no task source for {env_id!r}; known: {sorted(_SOURCES)} (register_task_source adds one)")
    return _SOURCES[env_id]
