"""The TextWorld engine in a child process: crashes, `sys.exit` and leaks stay there.

TextWorld's PDDL engine keeps per-game memory and fast-downward is a C library with process-global state, so each
`EngineProcess` owns one child process (`python -m hiper_gym.alfworld.engine_process`) holding one reused engine, and
replaces it every `recycle_every` game loads. The child is a plain subprocess, not a `multiprocessing` one, so it
can be started from daemonic workers (`hiper_gym.vector.ProcessEnv`) and Ray actors. When the parent goes away the
child reads end-of-file and exits.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import traceback
from multiprocessing.connection import Connection
from typing import Any

from hiper_gym.alfworld.engine import EngineState, GameLoadError

DEFAULT_ENGINE = "hiper_gym.alfworld.engine:TextWorldEngine"


class EngineError(RuntimeError):
    """The engine raised, exited or stopped answering; the episode it was playing cannot go on."""


def _load_factory(spec: str) -> Any:
    import importlib

    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def serve(read_fd: int, write_fd: int, engine_spec: str = DEFAULT_ENGINE) -> None:
    """Child side: answer (command, argument) requests with ("ok" | "load_error" | "error", payload)."""
    requests, replies = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    try:
        engine = _load_factory(engine_spec)()
    except BaseException:
        replies.send(("error", traceback.format_exc()))
        return
    replies.send(("ok", "ready"))
    while True:
        try:
            command, argument = requests.recv()
        except (EOFError, OSError):
            return
        if command == "close":
            replies.send(("ok", None))
            return
        try:
            if command == "start":
                result: Any = engine.start(argument)
            elif command == "step":
                result = engine.step(argument)
            elif command == "plan":
                result = engine.plan()
            else:
                raise ValueError(f"unknown engine command {command!r}")
            replies.send(("ok", result))
        except GameLoadError as exc:
            replies.send(("load_error", str(exc)))
        except Exception:
            replies.send(("error", traceback.format_exc()))


class EngineProcess:
    """The engine in a child process, with the engine's start/step/plan API; raises EngineError on any failure."""

    def __init__(
        self,
        recycle_every: int = 100,
        timeout: float = 120.0,
        engine: str = DEFAULT_ENGINE,
    ):
        if recycle_every < 1:
            raise ValueError(f"recycle_every must be >= 1, got {recycle_every}")
        self.recycle_every, self.timeout, self.engine = recycle_every, timeout, engine
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None
        self._loads = 0  # game loads by the current child
        self._loaded: str | None = None
        self.spawns = 0  # children started so far (recycling and crashes start new ones)

    @property
    def pid(self) -> int | None:
        """The child's process id (None before the first game)."""
        return self._process.pid if self._process is not None else None

    def start(self, path: str) -> EngineState:
        """Load (if new) and reset a game; a corrupt game raises GameLoadError, any other failure EngineError."""
        if path != self._loaded and self._loads >= self.recycle_every:
            self.close()  # recycle: the old child's per-game memory goes with it
        if self._process is None:
            self._spawn()
        if path != self._loaded:
            self._loads += 1
        self._loaded = None
        state = self._call("start", path)
        self._loaded = path
        return state

    def step(self, command: str) -> EngineState:
        """One command of the current game."""
        return self._call("step", command)

    def plan(self) -> list[str]:
        """The engine's plan from the current state."""
        return self._call("plan", None)

    def _spawn(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        code = (
            f"from hiper_gym.alfworld.engine_process import serve; serve({child_read}, {child_write}, {self.engine!r})"
        )
        env = dict(os.environ, PYTHONWARNINGS="ignore")
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-c", code],
                pass_fds=(child_read, child_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
                cwd=os.getcwd(),
            )
        finally:
            os.close(child_read)
            os.close(child_write)
        self._requests, self._replies = (
            Connection(parent_write, readable=False),
            Connection(parent_read, writable=False),
        )
        self._loads, self._loaded = 0, None
        self.spawns += 1
        status, payload = self._receive("start-up")
        if status != "ok":
            self.close()
            raise EngineError(f"the ALFWorld engine process failed to start:\n{payload}")

    def _call(self, command: str, argument: Any) -> Any:
        if self._process is None:
            raise EngineError("the engine process is not running (it failed earlier); start() a game to restart it")
        try:
            assert self._requests is not None
            self._requests.send((command, argument))
        except OSError as exc:
            self._kill()
            raise EngineError(f"the engine process is gone ({exc})") from exc
        status, payload = self._receive(command)
        if status == "ok":
            return payload
        if status == "load_error":
            self._loaded = None
            raise GameLoadError(payload)
        if status == "error":  # the engine raised: its game state is unknown, so no further step of this game
            self._loaded = None
            raise EngineError(f"the ALFWorld engine raised during {command}:\n{payload}")
        raise EngineError(payload)

    def _receive(self, what: str) -> tuple[str, Any]:
        assert self._replies is not None and self._process is not None
        try:
            if not self._replies.poll(self.timeout):
                self._kill()
                return "dead", f"the engine process did not answer {what} within {self.timeout:.0f} s and was stopped"
            return self._replies.recv()
        except (EOFError, OSError):
            code = self._process.wait(timeout=5)
            self._kill()
            return "dead", f"the engine process exited during {what} (exit code {code})"

    def _kill(self) -> None:
        process, self._process = self._process, None
        for conn in (self._requests, self._replies):
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.close()
        self._requests = self._replies = None
        self._loaded = None
        if process is not None:
            if process.poll() is None:
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def close(self) -> None:
        """Stop the child (politely, then by force)."""
        if self._process is not None and self._process.poll() is None and self._requests is not None:
            with contextlib.suppress(OSError, EOFError):
                self._requests.send(("close", None))
                if self._replies is not None and self._replies.poll(5):
                    self._replies.recv()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
        self._kill()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


class InProcessEngine:
    """The engine in this process (faster start, no isolation from crashes); exceptions become EngineError."""

    def __init__(self, engine: str = DEFAULT_ENGINE):
        self._engine = _load_factory(engine)()
        self.spawns = 0

    def start(self, path: str) -> EngineState:
        """Load (if new) and reset a game."""
        return self._guard("start", path)

    def step(self, command: str) -> EngineState:
        """One command of the current game."""
        return self._guard("step", command)

    def plan(self) -> list[str]:
        """The engine's plan from the current state."""
        return self._guard("plan")

    def _guard(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._engine, name)(*args)
        except GameLoadError:
            raise
        except (Exception, SystemExit) as exc:  # a game calling sys.exit must not end the caller
            raise EngineError(f"the ALFWorld engine raised during {name}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Nothing to stop."""
