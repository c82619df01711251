"""Envs in worker processes: crash containment and parallel stepping for many envs.

`ProcessEnv` runs one env in its own process and forwards `reset`/`step`. `step_async`/`step_wait` let a caller
start every env's step before waiting for any (the episode runner does), so envs step in parallel. A worker that
dies (an engine that segfaults or calls `sys.exit`) or raises does not take the caller down: the step returns a
terminated transition with `info["env_error"]`, and the next `reset` starts a fresh worker. Gymnasium's own vector
envs auto-reset, which a lock-step LLM rollout cannot use.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import traceback
from typing import Any

import gymnasium as gym

from hiper_gym.core import INFO_KEYS


def _worker(conn: Any, env_id: str, kwargs: dict[str, Any]) -> None:
    import hiper_gym  # noqa: F401  registers the hiper/ ids in the child

    try:
        env = gym.make(env_id, **kwargs)
    except Exception:  # report the failure instead of dying silently
        conn.send(("error", traceback.format_exc()))
        return
    conn.send(("ready", None))
    while True:
        try:
            command, payload = conn.recv()
        except EOFError:
            return
        try:
            if command == "reset":
                conn.send(("ok", env.reset(**payload)))
            elif command == "step":
                conn.send(("ok", env.step(payload)))
            elif command == "call":
                name, args = payload
                conn.send(("ok", getattr(env.unwrapped, name)(*args)))
            elif command == "close":
                env.close()
                conn.send(("ok", None))
                return
        except Exception:
            conn.send(("error", traceback.format_exc()))


class EnvWorkerError(RuntimeError):
    """The worker process could not start the env."""


UNGUARDED = ("worker processes are spawned and import your script again, so a script that starts process envs must "
             "keep its code under `if __name__ == \"__main__\":`")


def _refuse_unguarded_start() -> None:
    """Inside a spawned child that is still importing the parent's script, starting workers again would recurse."""
    if getattr(mp.current_process(), "_inheriting", False):
        raise RuntimeError(f"process envs started while a worker was importing the main script: {UNGUARDED}")


class ProcessEnv:
    """One env in a worker process, with the gymnasium reset/step API and step_async/step_wait."""

    def __init__(self, env_id: str, context: str = "spawn", **kwargs: Any):
        _refuse_unguarded_start()
        self.env_id, self.kwargs = env_id, kwargs
        self._ctx = mp.get_context(context)
        self._process: Any = None
        self._conn: Any = None
        self._pending = False
        self._last_info: dict[str, Any] = {}
        self.spec = gym.spec(env_id) if env_id in gym.registry else None
        self._start()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._process = self._ctx.Process(target=_worker, args=(child, self.env_id, self.kwargs), daemon=True)
        self._process.start()
        child.close()
        self._conn = parent
        status, payload = self._receive()
        if status != "ready":
            hint = f"\n(if it was started from a script: {UNGUARDED})" if status == "crashed" else ""
            raise EnvWorkerError(f"worker for {self.env_id} failed to start:\n{payload}{hint}")

    def _receive(self) -> tuple[str, Any]:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            if self._process is not None:
                self._process.join(timeout=5)  # the pipe closes before the exit code is reaped
            code = self._process.exitcode if self._process is not None else None
            return "crashed", f"worker process exited (exit code {code})"

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Reset in the worker; a dead worker is replaced first."""
        self.reset_async(seed=seed, options=options)
        return self.reset_wait()

    def reset_async(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Send a reset without waiting for it (a dead worker is replaced first)."""
        if self._process is None or not self._process.is_alive():
            self._start()
        self._conn.send(("reset", {"seed": seed, "options": options}))

    def reset_wait(self) -> tuple[str, dict[str, Any]]:
        """The result of the last reset_async; raises EnvWorkerError when the env failed to reset."""
        status, payload = self._receive()
        if status != "ok":
            if status == "crashed":
                self._process = None
            raise EnvWorkerError(f"{self.env_id} reset failed: {payload}")
        self._last_info = payload[1]
        return payload

    def step_async(self, action: str) -> None:
        """Send an action without waiting for the result."""
        try:
            self._conn.send(("step", action))
            self._pending = True
        except (BrokenPipeError, OSError):
            self._pending = False

    def step_wait(self) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """The result of the last step_async; a crash or exception ends the episode with info['env_error']."""
        status, payload = self._receive() if self._pending else ("crashed", "worker was not reachable")
        self._pending = False
        if status == "ok":
            self._last_info = payload[4]
            return payload
        info = {key: self._last_info.get(key) for key in INFO_KEYS}
        info.update(action_valid=False, milestones_completed=[], won=False, env_error=str(payload)[-2000:])
        if status == "crashed":
            self._process = None
        return "The environment failed; the episode ends.", 0.0, True, False, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Synchronous step."""
        self.step_async(action)
        return self.step_wait()

    def call(self, name: str, *args: Any) -> Any:
        """Call a method of the worker's unwrapped env (e.g. subgoal_done)."""
        self._conn.send(("call", (name, args)))
        status, payload = self._receive()
        if status != "ok":
            raise EnvWorkerError(f"{self.env_id}.{name} failed: {payload}")
        return payload

    def close(self) -> None:
        """Stop the worker."""
        if self._process is not None and self._process.is_alive():
            try:
                self._conn.send(("close", None))
                self._conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                pass
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
        self._process = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown may have torn down the pipe already
            self.close()


# --- batched stepping ---------------------------------------------------------------------------------------------
# gymnasium's VectorEnv autoresets and batches observations into arrays; a lock-step LLM rollout resets slots
# itself and keeps text as lists. These wrappers step many text envs at once with lists in and lists out, and turn a
# failing slot into a terminated transition with info["env_error"] instead of stopping the batch.

Transition = tuple[str, float, bool, bool, dict[str, Any]]
FAILED_OBSERVATION = "The environment failed; the episode ends."


def failed_info(error: str, last_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """An info dict with the contract keys (from the last info when known) and `env_error`."""
    last = last_info or {}
    info: dict[str, Any] = {key: last.get(key) for key in INFO_KEYS}
    info.update(
        admissible_actions=[],
        won=False,
        score=float(last.get("score") or 0.0),
        task=str(last.get("task") or ""),
        milestones=list(last.get("milestones") or []),
        milestones_completed=[],
        action_valid=False,
        env_error=str(error)[-2000:],
    )
    return info


def _per_slot(value: Any, indices: list[int], offset_seed: bool = False) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != len(indices):
            raise ValueError(f"expected {len(indices)} values (one per slot), got {len(value)}")
        return list(value)
    if offset_seed and value is not None:
        return [int(value) + i for i in indices]
    return [value for _ in indices]


class TextVectorEnv:
    """Many text envs in lock-step: `reset`/`step` take and return lists, one entry per slot; no autoreset.

    `reset(seed=s)` gives slot i the seed s + i (gymnasium's rule); `options` is one dict for all or a list. `indices`
    picks the slots to reset or step (default all). A slot whose env raises or dies gets a terminated transition
    with `info["env_error"]` (a failed reset: observation "" and the error); stepping it again repeats that until
    it is reset. Subclasses implement `_reset_slots` and `_step_slots`.
    """

    num_envs: int

    def __init__(self, num_envs: int):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = num_envs
        self._failed: dict[int, str] = {}
        self._last_infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]

    def reset(
        self,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | list[Any] | None = None,
        indices: list[int] | None = None,
    ) -> tuple[list[str], list[dict[str, Any]]]:
        """Reset the given slots (default all); returns their observations and infos."""
        slots = list(range(self.num_envs)) if indices is None else list(indices)
        results = self._reset_slots(slots, _per_slot(seed, slots, offset_seed=True), _per_slot(options, slots))
        observations, infos = [], []
        for slot, result in zip(slots, results):
            if isinstance(result, BaseException):
                self._failed[slot] = f"reset failed: {type(result).__name__}: {result}"
                observation, info = "", failed_info(self._failed[slot])
            else:
                self._failed.pop(slot, None)
                observation, info = result
            self._last_infos[slot] = info
            observations.append(observation)
            infos.append(info)
        return observations, infos

    def step(
        self, actions: list[str], indices: list[int] | None = None
    ) -> tuple[list[str], list[float], list[bool], list[bool], list[dict[str, Any]]]:
        """Step the given slots (default all) with one action each."""
        slots = list(range(self.num_envs)) if indices is None else list(indices)
        if len(actions) != len(slots):
            raise ValueError(f"expected {len(slots)} actions, got {len(actions)}")
        live = [(slot, action) for slot, action in zip(slots, actions) if slot not in self._failed]
        stepped = dict(zip([s for s, _ in live], self._step_slots([s for s, _ in live], [a for _, a in live])))
        out: list[Transition] = []
        for slot in slots:
            result = stepped.get(slot)
            if result is None:
                transition: Transition = (
                    FAILED_OBSERVATION,
                    0.0,
                    True,
                    False,
                    failed_info(self._failed[slot], self._last_infos[slot]),
                )
            elif isinstance(result, BaseException):
                self._failed[slot] = f"step failed: {type(result).__name__}: {result}"
                transition = (
                    FAILED_OBSERVATION,
                    0.0,
                    True,
                    False,
                    failed_info(self._failed[slot], self._last_infos[slot]),
                )
            else:
                transition = result
            self._last_infos[slot] = transition[4]
            out.append(transition)
        observations, rewards, terminated, truncated, infos = (
            (list(column) for column in zip(*out)) if out else ([], [], [], [], [])
        )
        return (
            observations,
            [float(r) for r in rewards],
            [bool(t) for t in terminated],
            [bool(t) for t in truncated],
            infos,
        )

    def call(self, name: str, *args: Any, indices: list[int] | None = None) -> list[Any]:
        """Call a method of each slot's unwrapped env (e.g. subgoal_done)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop every env."""

    def _reset_slots(self, slots: list[int], seeds: list[Any], options: list[Any]) -> list[Any]:
        raise NotImplementedError

    def _step_slots(self, slots: list[int], actions: list[str]) -> list[Any]:
        raise NotImplementedError

    def __enter__(self) -> TextVectorEnv:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SyncTextVectorEnv(TextVectorEnv):
    """The envs in this process, stepped one after another (exceptions contained, crashes not)."""

    def __init__(self, env_id: str, num_envs: int, **kwargs: Any):
        super().__init__(num_envs)
        import hiper_gym  # noqa: F401  registers the hiper/ ids

        self.envs = [gym.make(env_id, **kwargs) for _ in range(num_envs)]

    def _reset_slots(self, slots: list[int], seeds: list[Any], options: list[Any]) -> list[Any]:
        return [_guarded(self.envs[s].reset, seed=seed, options=opts) for s, seed, opts in zip(slots, seeds, options)]

    def _step_slots(self, slots: list[int], actions: list[str]) -> list[Any]:
        return [_guarded(self.envs[s].step, action) for s, action in zip(slots, actions)]

    def call(self, name: str, *args: Any, indices: list[int] | None = None) -> list[Any]:
        """Call a method of each slot's unwrapped env."""
        slots = range(self.num_envs) if indices is None else indices
        return [getattr(self.envs[s].unwrapped, name)(*args) for s in slots]

    def close(self) -> None:
        """Close every env."""
        for env in self.envs:
            with contextlib.suppress(Exception):
                env.close()


def _guarded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # one slot's failure must not stop the batch
        return exc


class ProcessTextVectorEnv(TextVectorEnv):
    """Each env in its own worker process (`ProcessEnv`): every slot's step runs in parallel; crashes contained."""

    def __init__(self, env_id: str, num_envs: int, context: str = "spawn", **kwargs: Any):
        super().__init__(num_envs)
        self.envs = [ProcessEnv(env_id, context=context, **kwargs) for _ in range(num_envs)]

    def _reset_slots(self, slots: list[int], seeds: list[Any], options: list[Any]) -> list[Any]:
        sent = [
            _guarded(self.envs[s].reset_async, seed=seed, options=opts) for s, seed, opts in zip(slots, seeds, options)
        ]
        return [
            result if isinstance(result, BaseException) else _guarded(self.envs[s].reset_wait)
            for s, result in zip(slots, sent)
        ]

    def _step_slots(self, slots: list[int], actions: list[str]) -> list[Any]:
        for slot, action in zip(slots, actions):
            self.envs[slot].step_async(action)  # every worker steps at once
        return [self.envs[slot].step_wait() for slot in slots]  # crashes come back as terminated transitions

    def call(self, name: str, *args: Any, indices: list[int] | None = None) -> list[Any]:
        """Call a method of each slot's unwrapped env in its worker."""
        slots = range(self.num_envs) if indices is None else indices
        return [self.envs[s].call(name, *args) for s in slots]

    def close(self) -> None:
        """Stop every worker."""
        for env in self.envs:
            env.close()


class _RayEnvActor:
    """One env inside a Ray actor (the class is wrapped with ray.remote on first use)."""

    def __init__(self, env_id: str, kwargs: dict[str, Any]):
        import hiper_gym  # noqa: F401  registers the hiper/ ids

        self.env = gym.make(env_id, **kwargs)

    def reset(self, seed: int | None, options: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> Transition:
        return self.env.step(action)

    def call(self, name: str, args: tuple[Any, ...]) -> Any:
        return getattr(self.env.unwrapped, name)(*args)


def init_ray(**kwargs: Any) -> Any:
    """Import Ray (the `ray` extra) and, unless one is running, start a local instance on 127.0.0.1 only.

    Ray resolves 127.0.0.1 to the machine's routable address on Linux unless its single-machine mode is on, so a
    local start sets RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before Ray is imported. Join a cluster with
    `init_ray(address=...)` (or call `ray.init` yourself first).
    """
    import sys

    if "address" not in kwargs and "ray" not in sys.modules:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as exc:
        raise ImportError("the Ray actor pool needs Ray: pip install 'hiper[ray]'") from exc
    if not ray.is_initialized():
        local = {} if "address" in kwargs else {"_node_ip_address": "127.0.0.1"}
        ray.init(**{"include_dashboard": False, "log_to_driver": False, **local, **kwargs})
    return ray


class RayTextVectorEnv(TextVectorEnv):
    """Each env in a Ray actor: a pool that can span the machines of a Ray cluster (`ray.init(address=...)` first)."""

    def __init__(self, env_id: str, num_envs: int, actor_options: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(num_envs)
        self._ray = init_ray()
        self.env_id, self.kwargs = env_id, kwargs
        self._actor_class = self._ray.remote(**(actor_options or {"num_cpus": 0}))(_RayEnvActor)
        self.actors: list[Any] = [self._new_actor() for _ in range(num_envs)]
        self._dead: set[int] = set()

    def _new_actor(self) -> Any:
        return self._actor_class.remote(self.env_id, self.kwargs)

    def _get(self, slots: list[int], refs: list[Any]) -> list[Any]:
        results = []
        for slot, ref in zip(slots, refs):
            try:
                results.append(self._ray.get(ref))
            except self._ray.exceptions.RayActorError as exc:  # the actor's process died: replace it on reset
                self._dead.add(slot)
                results.append(exc)
            except Exception as exc:  # the env raised (RayTaskError wraps it)
                results.append(exc)
        return results

    def _reset_slots(self, slots: list[int], seeds: list[Any], options: list[Any]) -> list[Any]:
        for slot in slots:
            if slot in self._dead:
                self.actors[slot] = self._new_actor()
                self._dead.discard(slot)
        return self._get(
            slots, [self.actors[s].reset.remote(seed, opts) for s, seed, opts in zip(slots, seeds, options)]
        )

    def _step_slots(self, slots: list[int], actions: list[str]) -> list[Any]:
        return self._get(slots, [self.actors[s].step.remote(action) for s, action in zip(slots, actions)])

    def call(self, name: str, *args: Any, indices: list[int] | None = None) -> list[Any]:
        """Call a method of each slot's unwrapped env in its actor."""
        slots = range(self.num_envs) if indices is None else indices
        return self._ray.get([self.actors[s].call.remote(name, args) for s in slots])

    def close(self) -> None:
        """Kill the actors (the Ray instance stays up for the caller)."""
        for actor in self.actors:
            with contextlib.suppress(Exception):
                self._ray.kill(actor)
        self.actors = []


def make_vector_env(env_id: str, num_envs: int, mode: str = "process", **kwargs: Any) -> TextVectorEnv:
    """A TextVectorEnv of `num_envs` copies of `env_id`: mode "sync", "process" or "ray"."""
    classes = {"sync": SyncTextVectorEnv, "process": ProcessTextVectorEnv, "ray": RayTextVectorEnv}
    if mode not in classes:
        raise ValueError(f"mode must be one of {sorted(classes)}, got {mode!r}")
    return classes[mode](env_id, num_envs, **kwargs)
