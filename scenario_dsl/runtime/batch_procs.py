"""Worlds and processes together: `make_vec_env(path, n_envs=K, worlds=N, seed=...)`.

`BatchProcesses` is a stable-baselines3 `VecEnv` of K worker processes, each stepping a
`ScenarioBatchEnv` of N worlds in one Drake simulator: K x N environments, world j of worker k
seeded `seed + k * N + j` (the seeds K x N single envs would get). Per vector step each worker
gets one message with its N actions and answers with one message holding its N observations,
rewards, dones and infos, so the pipe round trip is paid once per N environments.

    from scenario_dsl.runtime.batch_procs import make_vec_env
    venv = make_vec_env("scenarios/pendulum.scn", n_envs=2, worlds=32, seed=0)  # 64 environments
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from scenario_dsl.lang import model as m
from scenario_dsl.runtime.batch_env import ScenarioBatchEnv
from scenario_dsl.runtime.env import ScenarioLike, _scenario
from scenario_dsl.runtime.vec_env import default_start_method

Params = Mapping[str, float | list[float]]


class _Failure:
    """An exception a worker raised, sent to the parent to raise there."""

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception


def _worker(remote: Any, parent: Any, scenario: m.Scenario, worlds: int, seed: int | None) -> None:
    """Owns one `ScenarioBatchEnv`; answers `BatchProcesses`' commands until "close". An error
    in a command goes to the parent, which raises it from the call that failed; the worker
    goes on (a step that raised, a `ScnError` such as SCN508, leaves its batch to be reset)."""
    parent.close()
    try:
        env = ScenarioBatchEnv(scenario, worlds, seed=seed)
    except Exception as exc:
        remote.send(_Failure(exc))
        return
    while True:
        try:
            command, data = remote.recv()
        except (KeyboardInterrupt, EOFError):
            return
        if command == "close":
            env.close()
            remote.send(None)
            return
        try:
            remote.send(_reply(env, command, data))
        except KeyboardInterrupt:
            return
        except Exception as exc:
            remote.send(_Failure(exc))


def _reply(env: ScenarioBatchEnv, command: str, data: Any) -> Any:
    """What the worker sends back for one command."""
    if command == "step":
        env.step_async(data)
        observations, rewards, dones, infos = env.step_wait()
        return observations, rewards, dones, infos, [env.reset_infos[i] for i in np.flatnonzero(dones)]
    if command == "reset":
        env._seeds = list(data)
        return env.reset(), env.reset_infos
    if command == "get_attr":
        name, indices = data
        return env.get_attr(name, indices)
    if command == "set_attr":
        name, value, indices = data
        env.set_attr(name, value, indices)
        return None
    if command == "env_method":
        name, args, kwargs, indices = data
        return env.env_method(name, *args, indices=indices, **kwargs)
    if command == "images":
        return list(env.get_images())
    if command == "spaces":
        return env.observation_space, env.action_space
    raise ValueError(f"unknown command {command!r}")


class BatchProcesses(VecEnv):
    """K worker processes of N worlds each, as one `VecEnv` of K x N environments."""

    def __init__(self, scenario: ScenarioLike, n_envs: int, worlds: int, *, seed: int | None = None,
                 params: Params | None = None, start_method: str | None = None) -> None:
        if n_envs < 1 or worlds < 1:
            raise ValueError(f"n_envs and worlds must be at least 1, not {n_envs} and {worlds}")
        spec = _scenario(scenario, params or {})
        context: Any = mp.get_context(start_method or default_start_method())
        self.worlds = worlds
        self.remotes, self.processes = [], []
        for k in range(n_envs):
            remote, work = context.Pipe()
            process = context.Process(target=_worker, args=(work, remote, spec, worlds,
                                                            None if seed is None else seed + k * worlds), daemon=True)
            process.start()
            work.close()
            self.remotes.append(remote)
            self.processes.append(process)
        self.remotes[0].send(("spaces", None))
        observation_space, action_space = self._answer(self.remotes[0])
        self.closed = False
        super().__init__(n_envs * worlds, observation_space, action_space)

    @staticmethod
    def _answer(remote: Any) -> Any:
        answer = remote.recv()
        if isinstance(answer, _Failure):
            raise answer.exception
        return answer

    @staticmethod
    def _answers(remotes: list[Any]) -> list[Any]:
        """Every worker's answer, then the first failure raised: an answer left in a pipe would
        be read as the next command's."""
        answers = [remote.recv() for remote in remotes]
        for answer in answers:
            if isinstance(answer, _Failure):
                raise answer.exception
        return answers

    def _blocks(self, indices: VecEnvIndices) -> dict[int, list[int]]:
        """Worker -> its own indices of the environments `indices` names."""
        blocks: dict[int, list[int]] = {}
        for i in self._get_indices(indices):
            blocks.setdefault(i // self.worlds, []).append(i % self.worlds)
        return blocks

    def reset(self) -> np.ndarray:
        for k, remote in enumerate(self.remotes):
            remote.send(("reset", self._seeds[k * self.worlds:(k + 1) * self.worlds]))
        answers = self._answers(self.remotes)
        self.reset_infos = [info for _, infos in answers for info in infos]
        self._reset_seeds()
        self._reset_options()
        return np.concatenate([observations for observations, _ in answers])

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions)
        for k, remote in enumerate(self.remotes):
            remote.send(("step", actions[k * self.worlds:(k + 1) * self.worlds]))

    def step_wait(self) -> VecEnvStepReturn:
        answers = self._answers(self.remotes)
        infos: list[dict[str, Any]] = []
        for k, (_, _, dones, worker_infos, resets) in enumerate(answers):
            infos.extend(worker_infos)
            for i, reset_info in zip(np.flatnonzero(dones), resets, strict=True):
                self.reset_infos[k * self.worlds + int(i)] = reset_info
        return (np.concatenate([a[0] for a in answers]), np.concatenate([a[1] for a in answers]),
                np.concatenate([a[2] for a in answers]), infos)

    def close(self) -> None:
        if self.closed:
            return
        for remote in self.remotes:
            try:
                remote.send(("close", None))
                remote.recv()
            except (BrokenPipeError, EOFError, ConnectionResetError):
                pass
        for process in self.processes:
            process.join(timeout=10)
        self.closed = True

    def get_images(self) -> Sequence[np.ndarray | None]:
        for remote in self.remotes:
            remote.send(("images", None))
        return [image for answer in self._answers(self.remotes) for image in answer]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return self._call("get_attr", indices, lambda own: (attr_name, own))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._call("set_attr", indices, lambda own: (attr_name, value, own))

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        return self._call("env_method", indices, lambda own: (method_name, method_args, method_kwargs, own))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def _call(self, command: str, indices: VecEnvIndices, data: Any) -> list[Any]:
        blocks = self._blocks(indices)
        for k, own in blocks.items():
            self.remotes[k].send((command, data(own)))
        answers = self._answers([self.remotes[k] for k in blocks])
        return [value for answer in answers if answer is not None for value in answer]


def make_vec_env(scenario: ScenarioLike, *, n_envs: int = 1, worlds: int = 1, seed: int | None = None,
                 params: Params | None = None) -> VecEnv:
    """A stable-baselines3 `VecEnv` of `n_envs` x `worlds` environments of a scenario: with one
    process, a `ScenarioBatchEnv` of `worlds` worlds in this process; with more, `BatchProcesses`.
    Environment i is seeded `seed + i`."""
    if n_envs == 1:
        return ScenarioBatchEnv(scenario, worlds, seed=seed, params=params)
    return BatchProcesses(scenario, n_envs, worlds, seed=seed, params=params)
