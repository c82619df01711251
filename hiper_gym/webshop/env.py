"""hiper/WebShop-v0: the WebShop benchmark (Yao et al. 2022) as a hiper_gym TextEnv, offline and without Java.

    env = gym.make("hiper/WebShop-v0", observation_mode="text", goals="synthetic")
    obs, info = env.reset(options={"split": "test", "goal_idx": 0})
    obs, reward, terminated, truncated, info = env.step("search[red running shoes]")

Observations, actions, search results and the reward follow the original text env (docs/environments.md, WebShop); the reward is the
benchmark score, given once on 'Buy Now' (the trainer rescales success itself).
"""

from __future__ import annotations

from typing import Any

from hiper_gym.core import Expert, Milestone, StepOutcome, TextEnv
from hiper_gym.webshop.fuzzy import MATCHERS
from hiper_gym.webshop.generate import DEFAULT_SEED
from hiper_gym.webshop.goals import split_range
from hiper_gym.webshop.progress import Progress, judge_subgoal
from hiper_gym.webshop.reward import Goal
from hiper_gym.webshop.session import Session
from hiper_gym.webshop.world import DEFAULT_PRICE_SEED, WebShopWorld, load_world

OBSERVATION_MODES = ("text", "text_rich")
SEARCH_TEMPLATE = "search[<query>]"


class WebShopEnv(TextEnv):
    """WebShop with `search[query]` / `click[element]` actions and the original's text observations and reward.

    Args:
        observation_mode: "text" (nodes joined by ' [SEP] ') or "text_rich" (buttons and clicked options marked).
        goals: "synthetic" (instruction data, one goal per option combination) or "human" (items_human_ins.json).
        num_products: catalogue size; the generated catalogue is built for any size (1000 from the real goal data,
            the rest generated distractors); with `data_dir`, the first N products of the file, as the original.
        data_dir: a folder with the official files (items_shuffle*.json, items_ins_v2*.json, items_human_ins.json).
        split: default split of `reset()` without options: "train", "test", "dev" or "all".
        price_seed: seed of the hidden-price and price-bound draws (unseeded in the original).
        catalogue_seed: seed of the generated catalogue.
        fuzzy_matcher: "difflib" (thefuzz 0.19 as the original installs it) or "rapidfuzz" (thefuzz with
            python-Levenshtein); they agree on every match decision we have seen.
    """

    reset_options = ("split", "goal_idx")
    prompt_family = "webshop"

    def __init__(
        self,
        observation_mode: str = "text",
        goals: str = "synthetic",
        num_products: int | None = None,
        data_dir: str | None = None,
        split: str = "train",
        price_seed: int = DEFAULT_PRICE_SEED,
        catalogue_seed: int = DEFAULT_SEED,
        fuzzy_matcher: str = "difflib",
        render_mode: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(render_mode=render_mode, **kwargs)
        if observation_mode not in OBSERVATION_MODES:
            raise ValueError(f"observation_mode must be one of {OBSERVATION_MODES}, got {observation_mode!r}")
        if fuzzy_matcher not in MATCHERS:
            raise ValueError(f"fuzzy_matcher must be one of {MATCHERS}, got {fuzzy_matcher!r}")
        self.observation_mode = observation_mode
        self.fuzzy_matcher = fuzzy_matcher
        self.default_split = split
        self.world: WebShopWorld = load_world(
            str(data_dir) if data_dir is not None else None, num_products, goals, price_seed, catalogue_seed
        )
        split_range(split, len(self.world.goals))  # validates the name
        self.goal_index: int | None = None
        self._session: Session | None = None
        self._progress: Progress | None = None

    # --- episode ----------------------------------------------------------------------------------------------
    def _reset_episode(self, options: dict[str, Any]) -> str:
        split = options.get("split", self.default_split)
        indices = split_range(split, len(self.world.goals))
        if len(indices) == 0:
            counts = {name: len(split_range(name, len(self.world.goals))) for name in ("test", "train", "all")}
            raise ValueError(f"split {split!r} has no goals: the first 500 goals are 'test', the rest 'train', and this "
                             f"catalogue has {len(self.world.goals)} ({counts}); pass split='test' or split='all' "
                             "(gym.make(..., split=...) or reset options)")
        if "goal_idx" in options and options["goal_idx"] is not None:
            position = int(options["goal_idx"])
            if not 0 <= position < len(indices):
                raise IndexError(f"goal_idx {position} is outside split {split!r} (0..{len(indices) - 1})")
            self.goal_index = indices[position]
        else:
            weights = [self.world.goals[i].weight for i in indices]
            total = sum(weights)
            self.goal_index = indices[int(self.np_random.choice(len(indices), p=[w / total for w in weights]))]
        goal = self.world.goals[self.goal_index]
        self._session = Session(self.world, goal, self.fuzzy_matcher, rng=self.np_random)
        self._progress = Progress(self.world, goal, self.fuzzy_matcher)
        return self._session.observation(self.observation_mode)

    def _step_episode(self, action: str) -> StepOutcome:
        session = self._require_session()
        valid = session.act(action)
        assert self._progress is not None
        if valid:
            self._progress.update(session)
        extra: dict[str, Any] = {"page": session.kind, "goal_index": self.goal_index}
        reward = 0.0
        if valid and session.done:
            assert session.reward is not None
            reward = session.reward.total
            r = session.reward
            extra["reward_info"] = {
                "r_type": r.r_type.r_type,
                "query_match": r.r_type.query_match,
                "category_match": r.r_type.category_match,
                "title_score": r.r_type.title_score,
                "attribute_matches": r.attribute_matches,
                "option_matches": r.option_matches,
                "r_price": bool(r.r_price),
                "asin": self.world.products[session.product or 0].asin,
                "options": dict(session.options),
            }
        return StepOutcome(session.observation(self.observation_mode), reward, session.done, valid, extra)

    def _require_session(self) -> Session:
        if self._session is None:
            raise RuntimeError("call reset() first")
        return self._session

    def split_options(self, split: str) -> list[dict[str, Any]]:
        """Reset options for every goal of a split, in order (what evaluation loops over)."""
        return [{"split": split, "goal_idx": i} for i in range(len(split_range(split, len(self.world.goals))))]

    def expert(self, noise: float = 0.0, rng: Any = None) -> Expert:
        """The oracle (privileged: it reads the goal), its subgoals naming the query, product and option value;
        with `noise`, a careless one that picks each option value at random with that probability."""
        from hiper_gym.webshop.experts import careless_expert, oracle_expert

        return careless_expert(noise, rng) if noise > 0 else oracle_expert()

    def task_subset(self, n: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Goals of n products (simplest goals first), each product's goals split between training and held out."""
        from hiper_gym.webshop.experts import product_subset

        train, held_out = product_subset(self.world.goals, n, seed)
        return [{"split": "all", "goal_idx": i} for i in train], [{"split": "all", "goal_idx": i} for i in held_out]

    # --- the info contract -----------------------------------------------------------------------------------
    def admissible_actions(self) -> list[str]:
        """The page's clicks (none on the start page: a search is a template, see `action_templates`)."""
        session = self._require_session()
        if session.done or session.kind == "start":
            return []
        return [f"click[{key}]" for key in session.clickables()]

    def action_templates(self) -> list[str]:
        """'search[<query>]' on the start page (as agent papers list it; any query is accepted on every page)."""
        session = self._require_session()
        return [SEARCH_TEMPLATE] if session.kind == "start" and not session.done else []

    @property
    def task(self) -> str:
        """The instruction of the current goal."""
        return self._require_session().goal.instruction_text

    @property
    def score(self) -> float:
        """The WebShop score: the reward of the purchase, 0 before 'Buy Now'."""
        session = self._require_session()
        return session.reward.total if session.reward is not None else 0.0

    @property
    def won(self) -> bool:
        """Success as the papers count it: a purchase with score 1.0."""
        return self.score == 1.0

    @property
    def goal(self) -> Goal:
        """The current goal (target ASIN, attributes, options, price bound)."""
        return self._require_session().goal

    @property
    def session(self) -> Session:
        """The current episode's state (page, results, product, options)."""
        return self._require_session()

    def milestones(self) -> list[Milestone]:
        """searched, opened_matching_product, option:<name> per goal option, bought (latched once reached)."""
        if self._progress is None:
            return []
        return self._progress.milestones()

    def subgoal_done(self, text: str) -> bool | None:
        """Judge 'search for ...', 'open/click the ... product', 'select size 16 oz', 'buy ...'; None otherwise."""
        if self._session is None or self._progress is None:
            return None
        return judge_subgoal(text, self._session, self._progress)
