"""`HiperAgent`: a trained HiPER policy as a LangChain Runnable that plans subgoals and acts until the task is done.

Input: `{"task": str}` (plus optional `options` and `seed` for a gym env's reset), a plain string, a PromptValue or
messages (the task is the last human message). The environment is a list of LangChain tools (each action calls one;
see `tools_env`) or a hiper_gym env (an id, an env, or a factory). Output: an `AIMessage` whose content is the final
answer and whose `response_metadata` holds the trajectory, so `prompt | agent | StrOutputParser()` works.

Each turn dispatches custom events, in order: `hiper_subgoal` (when a segment starts: turn 0 or a SWITCH),
`hiper_action`, `hiper_observation`, and `hiper_episode_end` once; `astream_events(version="v2")` shows them as
`on_custom_event`, also inside a chain. `batch` plays every episode in lock-step with one backend call per round for
all of them (not a thread per episode). An episode ends on success, on `finish`, when the env ends it, at
`max_steps`, or after `episode_timeout` seconds; tool errors and hung tools become observations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import patch_config
from langchain_core.tools import BaseTool

from hiper_agents.policy import HierarchicalPolicy, PolicyStep
from hiper_agents.runner import LockStep
from integrations.langchain.chat_model import ChatHiper
from integrations.langchain.episode import (
    EVENT_END,
    EVENT_OBSERVATION,
    Episode,
    original_action,
    to_request,
)
from integrations.langchain.tools_env import ToolEnvironment


def _family_of_env(env: Any) -> str | None:
    return getattr(getattr(env, "unwrapped", env), "prompt_family", None)


class HiperAgent(Runnable[Any, AIMessage]):
    """A trained planner/executor that plays tasks on LangChain tools or a hiper_gym env.

    ```python
    agent = HiperAgent.from_checkpoint("runs/shop", tools=[check_stock, add_to_cart, checkout])
    chain = ChatPromptTemplate.from_template("Buy {n} {item}") | agent | StrOutputParser()
    chain.invoke({"n": 2, "item": "apple"})
    ```
    """

    def __init__(
        self,
        model: ChatHiper | str | Path | Any,
        *,
        tools: Sequence[BaseTool | Callable[..., Any]] | None = None,
        env: str | Any | Callable[[], Any] | None = None,
        env_kwargs: dict[str, Any] | None = None,
        success: Callable[[ToolEnvironment], bool] | None = None,
        env_family: str | None = None,
        max_steps: int | None = None,
        tool_timeout: float | None = 30.0,
        episode_timeout: float | None = None,
        temperature: float | None = None,
        max_new_tokens: int | None = None,
        history_length: int | None = None,
        max_prompt_tokens: int | None = None,
        seed: int | None = None,
        name: str = "HiperAgent",
    ):
        if isinstance(model, (str, Path)):
            model = ChatHiper(model=str(model))
        elif not isinstance(model, ChatHiper):
            model = ChatHiper(hiper_backend=model)
        self.chat = model
        settings = model.settings
        if tools is None and env is None:
            env = model.spec.env_id if model.spec is not None else None  # play what the checkpoint trained on
            if not env:
                raise ValueError("HiperAgent needs tools= (LangChain tools or functions) or env= (a hiper_gym env)")
        if tools is not None and env is not None:
            raise ValueError("give tools= or env=, not both")
        self.tools = list(tools) if tools is not None else None
        self.env = env
        self.env_kwargs = dict(env_kwargs or {})
        self.success = success
        self.max_steps = max_steps or settings.max_steps
        self.tool_timeout = tool_timeout
        self.episode_timeout = episode_timeout
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens or settings.max_new_tokens
        self.history_length = settings.history_length if history_length is None else history_length
        self.max_prompt_tokens = max_prompt_tokens or settings.max_prompt_tokens
        self.seed = seed
        self.name = name
        self._env_family = env_family
        self._idle_envs: list[Any] = []  # gym envs made from an id, reused across calls

    @classmethod
    def from_checkpoint(
        cls,
        run_dir_or_path: str | Path,
        *,
        device: str = "cpu",
        dtype: str = "float32",
        checkpoint: str = "latest",
        **kwargs: Any,
    ) -> HiperAgent:
        """An agent on what `training.run` saved (a run directory, a checkpoint or a model directory); weights load
        on first use. Without tools= or env=, it plays the env the run trained on."""
        chat = ChatHiper(model=str(run_dir_or_path), device=device, dtype=dtype, checkpoint=checkpoint)
        chat.spec  # noqa: B018  fail now on a wrong path, not at the first invoke
        return cls(chat, **kwargs)

    @property
    def InputType(self) -> type:  # noqa: N802  (LangChain's name)
        """Inputs: dict, str, PromptValue or messages."""
        return Any  # type: ignore[return-value]

    @property
    def OutputType(self) -> type[AIMessage]:  # noqa: N802
        """The final answer with the trajectory in its metadata."""
        return AIMessage

    # --- environments -------------------------------------------------------------------------------------------
    def env_family(self) -> str:
        """The prompt family: given, else the env's, else the checkpoint's, else 'web'."""
        if self._env_family:
            return self._env_family
        if self.tools is not None:
            return ToolEnvironment.prompt_family
        if isinstance(self.env, str):
            from integrations.langchain.checkpoint import _family_of

            family = _family_of(self.env)
        else:
            family = _family_of_env(self.env) if not callable(self.env) or hasattr(self.env, "step") else None
        return family or self.chat.settings.env_family or "web"

    def _make_env(self) -> Any:
        if self.tools is not None:
            return ToolEnvironment(self.tools, success=self.success, tool_timeout=self.tool_timeout, **self.env_kwargs)
        if isinstance(self.env, str):
            if self._idle_envs:
                return self._idle_envs.pop()
            import gymnasium as gym

            import hiper_gym  # noqa: F401  registers the hiper/ ids

            return gym.make(self.env, **{"max_episode_steps": self.max_steps, **self.env_kwargs})
        if hasattr(self.env, "step"):
            return self.env
        return self.env()

    def _capacity(self, n: int) -> int:
        return 1 if self.tools is None and hasattr(self.env, "step") else n

    def _release(self, env: Any) -> None:
        if isinstance(self.env, str):
            self._idle_envs.append(env)

    # --- the episode loop, independent of sync or async I/O ------------------------------------------------------
    def _policy(self, slots: int) -> HierarchicalPolicy:
        backend = self.chat.load()
        return HierarchicalPolicy(
            backend,
            backend.tokenizer,
            env_family=self.env_family(),
            history_length=self.history_length,
            max_prompt_tokens=self.max_prompt_tokens,
            max_new_tokens=self.max_new_tokens,
            num_slots=slots,
            prompt_style=self.chat.settings.prompt_style,
        )

    def _stepper(self, n: int) -> LockStep:
        """The runner's lock-step core for `n` requests over as many slots as the env allows."""
        slots = self._capacity(n)
        return LockStep(self._policy(slots), slots, n)

    def _sampling(self, round_index: int) -> Any:
        sampling = self.chat.sampling(
            max_tokens=self.max_new_tokens,
            **({"temperature": self.temperature} if self.temperature is not None else {}),
        )
        if self.seed is not None:
            sampling = replace(sampling, seed=(self.seed * 1_000_003 + round_index) % 2**31)
        return sampling

    def _remaining(self, episode: Episode) -> float | None:
        if self.episode_timeout is None:
            return None
        return self.episode_timeout - (time.monotonic() - episode.started)

    def _reset(self, episode: Episode) -> None:
        request = episode.request
        if self.tools is None and request.task.strip() and not request.options:
            # An env plays its own goals; a task text would be silently ignored (the env's goal played instead).
            raise ValueError(f"an env-backed HiperAgent plays the env's own tasks, so the text {request.task[:60]!r} "
                             "would be ignored: pass {'options': {...reset options...}, 'seed': N} instead, "
                             "or give tools= to play a task text")
        options = {"task": request.task} if self.tools is not None else request.options
        episode.observation, episode.info = episode.env.reset(seed=episode.request.seed, options=options)

    # --- sync ---------------------------------------------------------------------------------------------------
    def _play(self, inputs: list[Any], configs: list[RunnableConfig]) -> list[AIMessage]:
        requests = [to_request(value) for value in inputs]
        stepper = self._stepper(len(requests))
        live: dict[int, Episode] = {}
        done: dict[int, AIMessage] = {}

        def fill() -> None:
            for slot, k in stepper.assign():
                episode = live[slot] = Episode(k, requests[k], configs[k], self._make_env())
                self._reset(episode)
                stepper.begin(slot, episode.observation, episode.info)

        def close(slot: int) -> None:
            stepper.end(slot)
            episode = live.pop(slot)
            dispatch_custom_event(EVENT_END, episode.end_event(), config=episode.config)
            self._release(episode.env)
            done[episode.index] = episode.output(self.chat.model_name, self.name)

        fill()
        while live:
            for slot in self._timed_out(live):
                close(slot)
            fill()
            if not live:
                break
            with self.chat.generation_lock:
                steps = stepper.act(self._sampling(stepper.rounds))
            for step in steps:
                for name, data in live[step.slot].turn_events(step):
                    dispatch_custom_event(name, data, config=live[step.slot].config)
            for step, result in zip(steps, self._step_all([(live[s.slot], s) for s in steps])):
                episode = live[step.slot]
                data = episode.record(step, result, self.max_steps, self._remaining(episode))
                stepper.observe(step.slot, episode.observation, episode.info)
                dispatch_custom_event(EVENT_OBSERVATION, data, config=episode.config)
                if episode.stop_reason is not None:
                    close(step.slot)
            fill()
        return [done[k] for k in range(len(requests))]

    def _timed_out(self, live: dict[int, Episode]) -> list[int]:
        """The slots whose episode ran out of time (marked so); the caller closes them."""
        slots = [s for s, e in live.items() if (r := self._remaining(e)) is not None and r <= 0]
        for slot in slots:
            live[slot].stop_reason = "timeout"
        return slots

    def _step_one(self, episode: Episode, action: str) -> tuple[Any, ...] | BaseException:
        inner = getattr(episode.env, "unwrapped", episode.env)
        if isinstance(inner, ToolEnvironment):
            inner.tool_config = episode.config
            inner.deadline_timeout = self._remaining(episode)
        try:
            return episode.env.step(action)
        except Exception as error:  # a broken env ends its episode, not the batch
            return error

    def _step_all(self, pairs: list[tuple[Episode, PolicyStep]]) -> list[tuple[Any, ...] | BaseException]:
        if self.tools is not None and len(pairs) > 1:  # tool calls wait on I/O: run the round's calls together
            with ThreadPoolExecutor(max_workers=len(pairs), thread_name_prefix="hiper-step") as pool:
                return list(pool.map(lambda p: self._step_one(p[0], original_action(p[1])), pairs))
        return [self._step_one(e, original_action(s) if self.tools is not None else s.action) for e, s in pairs]

    def _invoke_one(self, value: Any, config: RunnableConfig, run_manager: Any) -> AIMessage:
        return self._play([value], [patch_config(config, callbacks=run_manager.get_child())])[0]

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AIMessage:  # noqa: A002
        """Play one episode and return the final answer as an AIMessage."""
        return self._call_with_config(self._invoke_one, input, config, run_type="chain")

    def _batch(self, inputs: list[Any], run_manager: list[Any], config: list[RunnableConfig]) -> list[AIMessage]:
        return self._play(inputs, config)

    def batch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """Play all episodes together: one backend call per round for every live episode."""
        return self._batch_with_config(
            self._batch, inputs, config, return_exceptions=return_exceptions, run_type="chain"
        )

    # --- async --------------------------------------------------------------------------------------------------
    async def _aplay(self, inputs: list[Any], configs: list[RunnableConfig]) -> list[AIMessage]:
        requests = [to_request(value) for value in inputs]
        stepper = self._stepper(len(requests))
        live: dict[int, Episode] = {}
        done: dict[int, AIMessage] = {}

        async def fill() -> None:
            for slot, k in stepper.assign():
                episode = live[slot] = Episode(k, requests[k], configs[k], self._make_env())
                await asyncio.to_thread(self._reset, episode)
                stepper.begin(slot, episode.observation, episode.info)

        async def close(slot: int) -> None:
            stepper.end(slot)
            episode = live.pop(slot)
            await adispatch_custom_event(EVENT_END, episode.end_event(), config=episode.config)
            self._release(episode.env)
            done[episode.index] = episode.output(self.chat.model_name, self.name)

        def act(sampling: Any) -> list[PolicyStep]:
            with self.chat.generation_lock:
                return stepper.act(sampling)

        await fill()
        while live:
            for slot in self._timed_out(live):
                await close(slot)
            await fill()
            if not live:
                break
            sampling = self._sampling(stepper.rounds)
            steps = await asyncio.get_running_loop().run_in_executor(None, act, sampling)
            for step in steps:
                for name, data in live[step.slot].turn_events(step):
                    await adispatch_custom_event(name, data, config=live[step.slot].config)
            results = await asyncio.gather(*(self._astep_one(live[s.slot], s) for s in steps))
            for step, result in zip(steps, results):
                episode = live[step.slot]
                data = episode.record(step, result, self.max_steps, self._remaining(episode))
                stepper.observe(step.slot, episode.observation, episode.info)
                await adispatch_custom_event(EVENT_OBSERVATION, data, config=episode.config)
                if episode.stop_reason is not None:
                    await close(step.slot)
            await fill()
        return [done[k] for k in range(len(requests))]

    async def _astep_one(self, episode: Episode, step: PolicyStep) -> tuple[Any, ...] | BaseException:
        inner = getattr(episode.env, "unwrapped", episode.env)
        try:
            if isinstance(inner, ToolEnvironment) and inner is episode.env:
                inner.tool_config = episode.config
                inner.deadline_timeout = self._remaining(episode)
                return await inner.astep(original_action(step))
            return await asyncio.to_thread(self._step_one, episode, step.action)
        except Exception as error:
            return error

    async def _ainvoke_one(self, value: Any, config: RunnableConfig, run_manager: Any) -> AIMessage:
        return (await self._aplay([value], [patch_config(config, callbacks=run_manager.get_child())]))[0]

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AIMessage:  # noqa: A002
        """Async `invoke`: generation in an executor thread, tools awaited, events dispatched on the loop."""
        return await self._acall_with_config(self._ainvoke_one, input, config, run_type="chain")

    async def _abatch(self, inputs: list[Any], run_manager: list[Any], config: list[RunnableConfig]) -> list[AIMessage]:
        return await self._aplay(inputs, config)

    async def abatch(
        self,
        inputs: list[Any],
        config: RunnableConfig | list[RunnableConfig] | None = None,
        *,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[AIMessage]:
        """Async `batch`: all episodes in lock-step, one backend call per round."""
        return await self._abatch_with_config(
            self._abatch, inputs, config, return_exceptions=return_exceptions, run_type="chain"
        )
