"""hiper/WebTask-v0: web tasks in a real headless Chromium, served by our own site server on 127.0.0.1.

    env = gym.make("hiper/WebTask-v0", task="account-settings")
    obs, info = env.reset(options={"split": "test", "index": 0})
    obs, reward, terminated, truncated, info = env.step('type [2] "alice"')

The observation is the instruction, then the page's title and path, then its visible text with numbered interactive
elements (`[12] button "Buy Now"`). Actions: `click [id]`, `type [id] "text"`, `select [id] "option"`,
`press Enter`, `back`. The reward is the task's score, given when the episode ends; milestones latch as the task's
checks turn true. A browser that dies or hangs ends the episode with `info["env_error"]`; it is restarted, and the
next reset works.
"""

from __future__ import annotations

import io
import re
from typing import Any, SupportsFloat

import numpy as np

from hiper_gym.core import Expert, Milestone, StepOutcome, TextEnv
from hiper_gym.web.actions import action_templates, admissible_actions, check_action, parse_action
from hiper_gym.web.browser import ActionFailed, Browser, BrowserError
from hiper_gym.web.checks import Context
from hiper_gym.web.dom import PageSnapshot
from hiper_gym.web.server import SiteServer
from hiper_gym.web.site import Site
from hiper_gym.web.task import WebTask, web_task

LOCAL_HOSTS = ("127.0.0.1", "localhost")


class WebTaskEnv(TextEnv):
    """A registered web task (`task=` its name, or a WebTask) played in headless Chromium.

    Args:
        task: the task name (`hiper_gym.web.web_task_names()`) or a WebTask; required.
        split: the split `reset()` draws from when its options name none.
        render_mode: "rgb_array" (screenshots as arrays), "ansi" or "human" (the text observation).
        timeout: seconds a browser command may take before the browser counts as hung.
        window: the browser window size (width, height) in pixels.
    """

    reset_options = ("split", "index", "goal_idx")
    prompt_family = "web"

    metadata: dict[str, Any] = {"render_modes": ["ansi", "human", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        task: str | WebTask | None = None,
        split: str = "train",
        render_mode: str | None = None,
        timeout: float = 20.0,
        window: tuple[int, int] = (1024, 768),
        **kwargs: Any,
    ):
        super().__init__(render_mode=render_mode, **kwargs)
        if task is None:  # it used to play account-settings silently
            from hiper_gym.web.task import web_task_names

            raise TypeError(f"hiper/WebTask-v0 needs task=: one of {web_task_names()} or a WebTask "
                            "(gym.make('hiper/WebTask-v0', task='account-settings'))")
        self.web_task: WebTask = web_task(task) if isinstance(task, str) else task
        self.web_task.count(split)  # validates the split name
        self.default_split = split
        self.timeout, self.window = timeout, window
        self.server = SiteServer()
        self.browser: Browser | None = None
        self.site: Site | None = None
        self.params: dict[str, Any] = {}
        self.instance: dict[str, Any] = {}
        self.instruction = ""
        self.page: PageSnapshot | None = None
        self._start_index = 0
        self._history_index = 0
        self._steps = 0
        self._milestones: list[tuple[str, Any]] = []
        self._latched: dict[str, bool] = {}
        self._won = self._ended = False
        self._score = 0.0

    def split_options(self, split: str) -> list[dict[str, Any]]:
        """Reset options for every instance of the task's `split`, in order."""
        return [{"split": split, "index": i} for i in range(self.web_task.count(split))]

    def expert(self, noise: float = 0.0, rng: Any = None) -> Expert | None:
        """The task's scripted expert (None when it has none)."""
        if noise > 0:
            raise ValueError(f"sft.expert_noise={noise}: web tasks' experts have no noisy variant; set it to 0")
        return self.web_task.expert() if self.web_task.expert is not None else None

    # --- episode ----------------------------------------------------------------------------------------------
    def _reset_episode(self, options: dict[str, Any]) -> str:
        split = options.get("split", self.default_split)
        index = options.get("index", options.get("goal_idx"))
        if index is None:
            index = int(self.np_random.integers(self.web_task.count(split)))
        self.params = self.web_task.draw(split, int(index))
        self.instance = {"split": split, "index": int(index)}
        self.instruction = self.web_task.instruction_text(self.params)
        self.site = self.web_task.make_site(self.params)
        self.server.serve(self.site)
        self._steps, self._won, self._ended, self._score = 0, False, False, 0.0
        self._milestones = self.web_task.milestone_checks(self.params)
        self._latched = {name: False for name, _ in self._milestones}
        try:
            self._open_start()
        except BrowserError:  # a browser that died between episodes: one fresh start, then give up loudly
            self._restart_browser()
            self._open_start()
        self._evaluate()
        return self._observation()

    def _open_start(self) -> None:
        if self.browser is None:
            self.browser = Browser(window=self.window, timeout=self.timeout)
        self.browser.clear_cookies()
        error = self.browser.open(self.server.url(self.web_task.start_url))
        if error is not None:
            raise BrowserError(f"the start page {self.web_task.start_url} did not load: {error}")
        self.page = self.browser.snapshot()
        self._start_index = self._history_index = self.browser.history_index()

    def _restart_browser(self) -> None:
        if self.browser is not None:
            self.browser.close()
        self.browser = Browser(window=self.window, timeout=self.timeout)

    def _step_episode(self, action: str) -> StepOutcome:
        assert self.page is not None and self.browser is not None
        self._steps += 1
        parsed = parse_action(action)
        reason = 'not an action of this env (click [id], type [id] "text", select [id] "option", press Enter, back)'
        if parsed is not None:
            reason = check_action(parsed, self.page, self._history_index > self._start_index)
        if reason is not None:
            return StepOutcome(self._observation(), 0.0, False, False, self._extra(action_error=reason))
        try:
            failure = None
            try:
                self.browser.perform(parsed, self.page)
            except ActionFailed as error:
                failure = str(error)
            self.page = self.browser.snapshot()
            self._history_index = self.browser.history_index()
        except BrowserError as error:
            return self._fail(error)
        self._evaluate()
        reward = self._score if self._ended else 0.0
        extra = self._extra() if failure is None else self._extra(action_error=failure)
        return StepOutcome(self._observation(), reward, self._ended, failure is None, extra)

    def _fail(self, error: Exception) -> StepOutcome:
        """The browser died or hung: restart it (the next reset uses the new one) and end the episode."""
        self._won, self._ended, self._score = False, True, 0.0
        try:
            self._restart_browser()
        except (BrowserError, OSError):
            self.browser = None  # the next reset starts one
        observation = f"Instruction: {self.instruction}\n\nThe browser failed ({error}). The episode is over."
        return StepOutcome(observation, 0.0, True, False, self._extra(env_error=str(error)))

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply an action; the episode is truncated at the task's step limit."""
        observation, reward, terminated, truncated, info = super().step(action)
        truncated = truncated or (not terminated and self._steps >= self.web_task.max_steps)
        return observation, reward, terminated, truncated, info

    def _evaluate(self) -> None:
        """Judge milestones, success, the end and the score on the current page and site state."""
        assert self.page is not None and self.site is not None
        with self.server.lock:
            ctx = Context(self.page, self.site, self.params, self._steps)
            for name, check in self._milestones:
                self._latched[name] = self._latched[name] or bool(check(ctx))
            self._won = self._won or bool(self.web_task.success_check(ctx))
            self._ended = self._won or bool(self.web_task.done_check(ctx))
            self._score = self.web_task.score_of(ctx, self._won)

    # --- what the agent sees -------------------------------------------------------------------------------
    def on_site(self) -> bool:
        """Whether the current page is served by the task's site."""
        return self.page is not None and self.page.host in LOCAL_HOSTS and f":{self.server.port}/" in self.page.url

    def _observation(self) -> str:
        assert self.page is not None
        head = f"Instruction: {self.instruction}\n\n"
        if not self.on_site():
            return head + (
                f"Page: {self.page.url} could not be loaded: only the task's own site is reachable.\n" + self.page.text
            )
        title = f"{self.page.title} ({self.page.path})" if self.page.title else self.page.path
        return head + f"Page: {title}\n" + self.page.text

    def _extra(self, **more: Any) -> dict[str, Any]:
        extra: dict[str, Any] = {"url": self.page.path if self.page else "", "instance": dict(self.instance)}
        if self.page is not None and not self.on_site():
            extra["blocked_url"] = self.page.url
        extra.update(more)
        return extra

    def render(self) -> Any:
        """rgb_array: a screenshot as an (H, W, 3) uint8 array; ansi/human: the text observation."""
        if self.render_mode != "rgb_array":
            return super().render()
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(self.screenshot())).convert("RGB"))

    def screenshot(self, path: str | None = None, full_page: bool = False) -> bytes:
        """A PNG of the current page (written to `path` when given)."""
        if self.browser is None:
            raise BrowserError("no browser: call reset() first")
        png = self.browser.screenshot_png(full_page=full_page)
        if path is not None:
            with open(path, "wb") as f:
                f.write(png)
        return png

    def close(self) -> None:
        """Stop the browser, its driver and the site server."""
        if self.browser is not None:
            self.browser.close()
            self.browser = None
        self.server.close()
        super().close()

    # --- the info contract -------------------------------------------------------------------------------
    def admissible_actions(self) -> list[str]:
        """The page's clicks, options, `press Enter` after typing, and `back` past the start page."""
        if self.page is None or self._ended:
            return []
        return admissible_actions(self.page, self._history_index > self._start_index)

    def action_templates(self) -> list[str]:
        """`type [id] "<text>"` for each textbox of the page."""
        if self.page is None or self._ended:
            return []
        return action_templates(self.page)

    @property
    def task(self) -> str:
        """The episode's instruction."""
        return self.instruction

    @property
    def won(self) -> bool:
        """Whether the task's success check has held."""
        return self._won

    @property
    def score(self) -> float:
        """The task's score (WebShop's reward for the WebShop task; 1.0 or 0.0 for the others)."""
        return self._score

    def milestones(self) -> list[Milestone]:
        """The task's milestones in order, latched once reached."""
        return [Milestone(name, done) for name, done in self._latched.items()]

    def subgoal_done(self, text: str) -> bool | None:
        """The state of the milestone the text names (most of its words appear), else the task's own judge."""
        judge = getattr(self.web_task, "judge", None)
        if judge is not None and self.page is not None and self.site is not None:
            verdict = judge(text, Context(self.page, self.site, self.params, self._steps))
            if verdict is not None:
                return verdict
        words = _words(text)
        best, best_share = None, 0.0
        for name, done in self._latched.items():
            wanted = _words(name)
            share = sum(any(_alike(w, x) for x in words) for w in wanted) / len(wanted) if wanted else 0.0
            if share > best_share:
                best, best_share = done, share
        return best if best_share >= 0.5 else None


_STOP_WORDS = frozenset(
    ["a", "an", "the", "to", "of", "in", "on", "at", "for", "and", "or", "with", "it", "my", "your", "this", "that"]
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")) if w not in _STOP_WORDS}


def _alike(a: str, b: str) -> bool:
    """Equal, or one a prefix of the other of 3+ letters (log / logged, agree / agreed)."""
    return a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)))
