"""`ScenarioVecEnv`: a stable-baselines3 `VecEnv` that runs several environments per worker
process and passes actions, observations, rewards and dones through shared memory.

`SubprocVecEnv` gives every environment its own process and pickles each observation through
a pipe, two pipe messages per environment per step. For cheap physics that round trip is the
bottleneck (see docs/benchmarks.md). Here a worker owns a contiguous block of environments and
steps them one after the other; per vector step each worker gets one "step" message and answers
with one message holding only the `info` dicts. The numeric data lives in one shared-memory
block laid out as

    actions (n_envs, *action_shape) float64 | observations (n_envs, *obs_shape) obs dtype |
    rewards (n_envs,) float64 | dones (n_envs,) bool

The contract is `DummyVecEnv`'s, step for step: same seeds give the same observations, rewards
(float32), dones and infos (`TimeLimit.truncated`, `terminal_observation`, automatic reset),
and `reset_infos`. Only `Box` observation and action spaces are supported (what scn compiles).

    from scenario_dsl.runtime.env import EnvFactory
    venv = ScenarioVecEnv.from_factory(EnvFactory("scenarios/box_flipup.scn"), n_envs=8, n_workers=2)
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from multiprocessing.shared_memory import SharedMemory
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import CloudpickleWrapper, VecEnv, VecEnvIndices, VecEnvStepReturn

EnvFn = Callable[[], gym.Env]


def default_start_method() -> str:
    """How scn starts worker processes: "forkserver" where available, else "spawn" (as
    `SubprocVecEnv`); never "fork" under pydrake's and torch's threads."""
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def _layout(n_envs: int, obs_space: gym.spaces.Box, action_space: gym.spaces.Box,
            ) -> list[tuple[str, tuple[int, ...], np.dtype, int]]:
    """(name, shape, dtype, byte offset) of each array in the shared block, 8-byte aligned."""
    arrays = [("actions", (n_envs, *action_space.shape), np.dtype(np.float64)),
              ("observations", (n_envs, *obs_space.shape), np.dtype(obs_space.dtype)),
              ("rewards", (n_envs,), np.dtype(np.float64)),
              ("dones", (n_envs,), np.dtype(np.bool_))]
    layout, offset = [], 0
    for name, shape, dtype in arrays:
        layout.append((name, shape, dtype, offset))
        offset += -(-int(np.prod(shape, dtype=np.int64)) * dtype.itemsize // 8) * 8
    return layout


def _views(buffer: Any, layout: list[tuple[str, tuple[int, ...], np.dtype, int]]) -> dict[str, np.ndarray]:
    return {name: np.ndarray(shape, dtype=dtype, buffer=buffer, offset=offset) for name, shape, dtype, offset in layout}


def _size(layout: list[tuple[str, tuple[int, ...], np.dtype, int]]) -> int:
    _, shape, dtype, offset = layout[-1]
    return max(8, offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)


def _worker(remote: Any, parent_remote: Any, env_fns: CloudpickleWrapper, start: int) -> None:
    """Owns environments `start, start + 1, ...`; answers the commands of `ScenarioVecEnv`."""
    from stable_baselines3.common.env_util import is_wrapped
    from stable_baselines3.common.vec_env.patch_gym import _patch_env

    parent_remote.close()
    envs = [_patch_env(fn()) for fn in env_fns.var]
    rows = range(start, start + len(envs))
    shm: SharedMemory | None = None
    buf: dict[str, np.ndarray] = {}
    try:
        while True:
            try:
                cmd, data = remote.recv()
            except (EOFError, KeyboardInterrupt):
                break
            if cmd == "step":
                actions, observations = buf["actions"], buf["observations"]
                rewards, dones = buf["rewards"], buf["dones"]
                infos, reset_infos = [], []
                for env, row in zip(envs, rows, strict=True):
                    observation, reward, terminated, truncated, info = env.step(actions[row].copy())
                    done = terminated or truncated
                    info["TimeLimit.truncated"] = truncated and not terminated
                    reset_info = None
                    if done:
                        info["terminal_observation"] = observation
                        observation, reset_info = env.reset()
                    observations[row] = observation
                    rewards[row] = reward
                    dones[row] = done
                    infos.append(info)
                    reset_infos.append(reset_info)
                remote.send((infos, reset_infos))
            elif cmd == "reset":
                reset_infos = []
                for env, row, (seed, options) in zip(envs, rows, data, strict=True):
                    maybe_options = {"options": options} if options else {}
                    observation, reset_info = env.reset(seed=seed, **maybe_options)
                    buf["observations"][row] = observation
                    reset_infos.append(reset_info)
                remote.send(reset_infos)
            elif cmd == "attach":
                name, layout = data
                shm = SharedMemory(name=name)
                buf = _views(shm.buf, layout)
                remote.send(None)
            elif cmd == "get_spaces":
                remote.send((envs[0].observation_space, envs[0].action_space))
            elif cmd == "render":
                remote.send([envs[i].render() for i in data])
            elif cmd == "get_attr":
                name, indices = data
                remote.send([envs[i].get_wrapper_attr(name) for i in indices])
            elif cmd == "has_attr":
                answers = []
                for env in envs:
                    try:
                        env.get_wrapper_attr(data)
                        answers.append(True)
                    except AttributeError:
                        answers.append(False)
                remote.send(all(answers))
            elif cmd == "set_attr":
                name, value, indices = data
                for i in indices:
                    setattr(envs[i], name, value)
                remote.send(None)
            elif cmd == "env_method":
                name, args, kwargs, indices = data
                remote.send([envs[i].get_wrapper_attr(name)(*args, **kwargs) for i in indices])
            elif cmd == "is_wrapped":
                wrapper, indices = data
                remote.send([is_wrapped(envs[i], wrapper) for i in indices])
            elif cmd == "close":
                remote.send(None)
                break
            else:
                raise NotImplementedError(f"`{cmd}` is not implemented in the worker")
    finally:
        for env in envs:
            env.close()
        buf.clear()
        if shm is not None:
            shm.close()
        remote.close()


class ScenarioVecEnv(VecEnv):
    """Environments `env_fns` (picklable callables, e.g. `EnvFactory`s) in `n_workers` processes,
    each stepping a contiguous block of them; data through shared memory (module docstring).

    `n_workers` defaults to one per environment, capped at the number of CPUs; `start_method` to
    "forkserver" where available, else "spawn" (as `SubprocVecEnv`).
    """

    def __init__(self, env_fns: Sequence[EnvFn], n_workers: int | None = None, start_method: str | None = None) -> None:
        n_envs = len(env_fns)
        if n_envs == 0:
            raise ValueError("ScenarioVecEnv needs at least one environment")
        if n_workers is None:
            n_workers = min(n_envs, mp.cpu_count() or 1)
        if not 1 <= n_workers <= n_envs:
            raise ValueError(f"n_workers must be in [1, {n_envs}] (the number of environments), not {n_workers}")
        if start_method is None:
            start_method = default_start_method()
        ctx: Any = mp.get_context(start_method)  # typeshed: BaseContext lacks Process
        self.waiting = False
        self.closed = False
        self._shm: SharedMemory | None = None
        blocks = [list(b) for b in np.array_split(np.arange(n_envs), n_workers)]
        self._blocks = blocks  # global env indices per worker
        self._owner = {i: (w, j) for w, block in enumerate(blocks) for j, i in enumerate(block)}
        self.remotes, self.processes = [], []
        for block in blocks:
            remote, work_remote = ctx.Pipe()
            fns = CloudpickleWrapper([env_fns[i] for i in block])
            process = ctx.Process(target=_worker, args=(work_remote, remote, fns, int(block[0])), daemon=True)
            process.start()
            work_remote.close()
            self.remotes.append(remote)
            self.processes.append(process)
        try:
            self.remotes[0].send(("get_spaces", None))
            observation_space, action_space = self.remotes[0].recv()
            for space in (observation_space, action_space):
                if not isinstance(space, gym.spaces.Box):
                    raise TypeError(f"ScenarioVecEnv supports Box spaces only, not {space}")
            layout = _layout(n_envs, observation_space, action_space)
            self._shm = SharedMemory(create=True, size=_size(layout))
            self._buf = _views(self._shm.buf, layout)
            for remote in self.remotes:
                remote.send(("attach", (self._shm.name, layout)))
            for remote in self.remotes:
                remote.recv()
        except BaseException:
            self.close()
            raise
        super().__init__(n_envs, observation_space, action_space)

    @classmethod
    def from_factory(cls, factory: Any, n_envs: int, n_workers: int | None = None,
                     start_method: str | None = None) -> ScenarioVecEnv:
        """`n_envs` copies of one `EnvFactory`; each env's seed comes from `seed()` or `reset`."""
        return cls([factory] * n_envs, n_workers=n_workers, start_method=start_method)

    # -- stepping
    def reset(self) -> np.ndarray:
        for remote, block in zip(self.remotes, self._blocks, strict=True):
            remote.send(("reset", [(self._seeds[i], self._options[i]) for i in block]))
        self.reset_infos = [info for remote in self.remotes for info in remote.recv()]
        self._reset_seeds()
        self._reset_options()
        return self._buf["observations"].copy()

    def step_async(self, actions: np.ndarray) -> None:
        self._buf["actions"][...] = np.asarray(actions).reshape(self._buf["actions"].shape)
        for remote in self.remotes:
            remote.send(("step", None))
        self.waiting = True

    def step_wait(self) -> VecEnvStepReturn:
        infos: list[dict[str, Any]] = []
        for i, remote in enumerate(self.remotes):
            block_infos, reset_infos = remote.recv()
            infos.extend(block_infos)
            for j, reset_info in zip(self._blocks[i], reset_infos, strict=True):
                if reset_info is not None:
                    self.reset_infos[j] = reset_info
        self.waiting = False
        return (self._buf["observations"].copy(), self._buf["rewards"].astype(np.float32),
                self._buf["dones"].copy(), infos)

    # -- the rest of the VecEnv interface
    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for remote in self.remotes:
            try:
                if self.waiting:
                    remote.recv()
                remote.send(("close", None))
                remote.recv()
            except (BrokenPipeError, EOFError, ConnectionResetError):
                pass
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
        for remote in self.remotes:
            remote.close()
        self._buf = {}
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            return [None] * self.num_envs
        return [image for image in self._by_worker("render", lambda local: local, None)]

    def has_attr(self, attr_name: str) -> bool:
        for remote in self.remotes:
            remote.send(("has_attr", attr_name))
        return all([remote.recv() for remote in self.remotes])

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return self._by_worker("get_attr", lambda local: (attr_name, local), indices)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._by_worker("set_attr", lambda local: (attr_name, value, local), indices, results=False)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        return self._by_worker("env_method", lambda local: (method_name, method_args, method_kwargs, local), indices)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return self._by_worker("is_wrapped", lambda local: (wrapper_class, local), indices)

    def _by_worker(self, cmd: str, payload: Callable[[list[int]], Any], indices: VecEnvIndices,
                   results: bool = True) -> list[Any]:
        """Send `cmd` to each worker owning some of `indices` (with their local indices); the
        answers come back in the order of `indices`."""
        wanted = list(self._get_indices(indices))
        per_worker: dict[int, list[int]] = {}
        for i in wanted:
            worker, position = self._owner[i]
            per_worker.setdefault(worker, []).append(position)
        for worker, positions in per_worker.items():
            self.remotes[worker].send((cmd, payload(positions)))
        answers: dict[int, Any] = {}
        for worker, positions in per_worker.items():
            values = self.remotes[worker].recv()
            if results:
                answers.update({self._blocks[worker][j]: v for j, v in zip(positions, values, strict=True)})
        return [answers[i] for i in wanted] if results else []
