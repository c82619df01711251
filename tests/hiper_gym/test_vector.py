"""Envs in worker processes: same transitions, parallel stepping, crashes contained."""

from __future__ import annotations

import importlib.util
import os

import gymnasium as gym
import pytest

from hiper_gym.core import StepOutcome, TextEnv, register_text_env
from hiper_gym.vector import EnvWorkerError, ProcessEnv

ENV = f"{__name__}:hiper/CrashTest-v0"


class CrashTestEnv(TextEnv):
    """'count' adds one; 'raise' raises; 'die' kills the process like a crashing engine."""

    def _reset_episode(self, options):
        self.n = int(options.get("start", 0))
        return f"n={self.n}"

    def _step_episode(self, action):
        if action == "raise":
            raise RuntimeError("engine bug")
        if action == "die":
            os._exit(3)
        self.n += 1
        return StepOutcome(f"n={self.n}", float(self.n), self.n >= 3, action_valid=True)

    def admissible_actions(self):
        return ["count", "raise", "die"]

    @property
    def task(self):
        return "count to 3"

    @property
    def won(self):
        return self.n >= 3

    @property
    def score(self):
        return float(self.won)


register_text_env("CrashTest-v0", f"{__name__}:CrashTestEnv", max_episode_steps=10)


def test_process_env_gives_the_same_transitions_as_in_process():
    local, remote = gym.make(ENV), ProcessEnv(ENV)
    try:
        assert remote.reset(seed=1, options={"start": 1}) == local.reset(seed=1, options={"start": 1})
        for _ in range(2):
            assert remote.step("count") == local.step("count")
    finally:
        remote.close()


def test_step_async_then_wait_over_several_workers():
    envs = [ProcessEnv(ENV) for _ in range(3)]
    try:
        for k, env in enumerate(envs):
            env.reset(options={"start": k})
        for env in envs:
            env.step_async("count")
        observations = [env.step_wait()[0] for env in envs]
        assert observations == ["n=1", "n=2", "n=3"]
    finally:
        for env in envs:
            env.close()


@pytest.mark.parametrize("action", ["raise", "die"])
def test_engine_failure_ends_the_episode_and_the_next_reset_works(action):
    env = ProcessEnv(ENV)
    try:
        env.reset(options={})
        obs, reward, terminated, truncated, info = env.step(action)
        assert terminated and reward == 0.0 and not info["won"] and info["action_valid"] is False
        assert ("engine bug" in info["env_error"]) if action == "raise" else ("exit code 3" in info["env_error"])
        assert env.reset(options={"start": 2})[0] == "n=2"
        assert env.step("count")[0] == "n=3"
    finally:
        env.close()


def test_a_worker_that_cannot_build_its_env_raises_clearly():
    with pytest.raises(EnvWorkerError, match="failed to start"):
        ProcessEnv(ENV, bogus_kwarg=1)


# --- TextVectorEnv: sync, worker processes, Ray actors --------------------------------------------------------------


def _vector(mode, n):
    from hiper_gym.vector import make_vector_env

    return make_vector_env(ENV, n, mode=mode)


@pytest.mark.parametrize("mode", ["sync", "process"])
def test_vector_env_steps_every_slot_with_lists_in_and_out(mode):
    with _vector(mode, 3) as vec:
        observations, infos = vec.reset(options=[{"start": 0}, {"start": 1}, {"start": 2}])
        assert observations == ["n=0", "n=1", "n=2"] and all(i["task"] == "count to 3" for i in infos)
        observations, rewards, terminated, truncated, _ = vec.step(["count"] * 3)
        assert (
            observations == ["n=1", "n=2", "n=3"] and rewards == [1.0, 2.0, 3.0] and terminated == [False, False, True]
        )
        assert truncated == [False] * 3
        observations, _ = vec.reset(options={"start": 1}, indices=[2])
        assert observations == ["n=1"] and vec.step(["count"], indices=[2])[0] == ["n=2"]
        assert vec.call("admissible_actions", indices=[0]) == [["count", "raise", "die"]]


@pytest.mark.parametrize("mode", ["sync", "process"])
def test_a_failing_slot_ends_its_episode_and_the_others_go_on(mode):
    actions = ["raise", "count"] if mode == "sync" else ["die", "count"]
    with _vector(mode, 2) as vec:
        vec.reset(options={"start": 0})
        observations, rewards, terminated, _, infos = vec.step(actions)
        assert terminated == [True, False] and rewards[0] == 0.0 and observations[1] == "n=1"
        assert "env_error" in infos[0] and "env_error" not in infos[1] and infos[0]["won"] is False
        assert vec.step(["count", "count"])[0][1] == "n=2"  # the failed slot stays ended until reset
        assert vec.reset(options={"start": 2}, indices=[0])[0] == ["n=2"]
        assert vec.step(["count", "count"])[0] == ["n=3", "n=3"]


def test_a_failed_reset_gives_an_error_info_instead_of_raising():
    with _vector("sync", 2) as vec:
        observations, infos = vec.reset(options=[{"start": "x"}, {"start": 1}])
        assert observations[0] == "" and "ValueError" in infos[0]["env_error"] and observations[1] == "n=1"
        _, _, terminated, _, infos = vec.step(["count", "count"])
        assert terminated == [True, False] and "reset failed" in infos[0]["env_error"]


def test_seeds_are_offset_per_slot_and_lists_must_match_the_slots():
    with _vector("sync", 2) as vec:
        vec.reset(seed=7)
        assert [env.unwrapped.np_random_seed for env in vec.envs] == [7, 8]
        with pytest.raises(ValueError, match="expected 2"):
            vec.step(["count"])
    with pytest.raises(ValueError, match="mode"):
        _vector("threads", 1)


@pytest.mark.slow
def test_ray_actor_pool_steps_and_contains_a_dead_actor(monkeypatch):
    if importlib.util.find_spec("ray") is None:  # not importorskip: init_ray must be the first to import Ray
        pytest.skip("the ray extra is not installed")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # tests only: a throwaway local instance on 127.0.0.1
    from hiper_gym.vector import RayTextVectorEnv, init_ray

    ray = init_ray(num_cpus=2)

    try:
        vec = RayTextVectorEnv(ENV, 2)
        assert vec.reset(options=[{"start": 0}, {"start": 2}])[0] == ["n=0", "n=2"]
        observations, rewards, terminated, _, infos = vec.step(["count", "count"])
        assert observations == ["n=1", "n=3"] and terminated == [False, True]
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        vec.reset(options={"start": 0}, indices=[1])
        observations, _, terminated, _, infos = vec.step(["die", "raise"], indices=[0, 1])
        assert terminated == [True, True] and "env_error" in infos[0] and "engine bug" in infos[1]["env_error"]
        assert vec.reset(options={"start": 1})[0] == ["n=1", "n=1"]  # the dead actor was replaced
        assert vec.call("admissible_actions", indices=[1]) == [["count", "raise", "die"]]
        vec.close()
    finally:
        ray.shutdown()


def test_a_script_without_a_main_guard_gets_the_reason_not_a_bootstrap_error(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text("from hiper_gym.vector import make_vector_env\n"
                      "envs = make_vector_env('hiper/BabyAI-v0', 1, mode='process')\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": root})
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr  # in the parent's error, not only the worker's
    assert "bootstrapping phase" not in done.stderr  # multiprocessing's own message is no longer what the user sees
