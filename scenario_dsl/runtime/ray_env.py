"""Env workers as Ray actors: `RayVecEnv`, a stable-baselines3 `VecEnv` whose environments live
in actors spread over a Ray cluster's nodes, while the learner stays in the calling process.

Worker k is one actor holding `worlds` environments: a `ScenarioBatchEnv` when `worlds > 1`,
else one `ScenarioEnv` (in a `DummyVecEnv`). Environment `k * worlds + j` is seeded
`seed + k * worlds + j`, the seed `SubprocVecEnv` or `BatchProcesses` gives it, so the same seed
and worker count give the same run with Ray as without. Per vector step every actor gets one
call with its actions and answers with its observations, rewards, dones and infos.

Faults: an actor that dies (its node lost, out of memory, a simulator that aborts the process)
is replaced by a new one (seeded from the run's seed, the worker and how many it has lost
before, so a rerun replaces the same way), placed wherever the cluster has room. Its unfinished
episodes are dropped: they end at once, truncated, with `truncation_reason` "worker_lost" (the
learner bootstraps them as cut short, not failed); `lost` lists the replacements and
`on_replaced(k, error)` is told of each. `where()` says on which node and in which process each
worker runs.

    venv = RayVecEnv(scenario, n_workers=4, worlds=1, seed=0, address="auto")
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import ray
from ray.exceptions import GetTimeoutError, RayActorError, WorkerCrashedError
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from scenario_dsl.lang import model as m
from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.runtime.batch_env import ScenarioBatchEnv
from scenario_dsl.runtime.env import DROPPED, EnvFactory

LOST = DROPPED  # the truncation reason of an episode dropped with its worker
PLACEMENT_TIMEOUT = 300.0  # seconds a new actor may wait for room on the cluster
MAX_LOSSES = 10  # actors one worker may lose before the run stops (a simulator that aborts every time)
LOST_ERRORS = (RayActorError, WorkerCrashedError)


class RayClusterError(ScnError, RuntimeError):
    """Ray could not be reached, or could not place a worker: SCN605."""

    code = "SCN605"


_STARTED_HERE = False  # whether this process started the Ray instance it is connected to


def connect(address: str | None, num_cpus: float | None = None) -> dict[str, Any]:
    """Join the Ray cluster at `address` ("auto", "HOST:PORT" or "ray://HOST:PORT"), or, with
    None, start a new one inside this process (Ray's embedded default; never a cluster that
    happens to run on this machine) with `num_cpus` CPUs (default: the machine's; more lets
    more workers than cores share them, as worker processes would). Returns the cluster's
    address and this node's id. Reuses a connection this process already has."""
    global _STARTED_HERE
    if ray.is_initialized():
        return {"address": ray.get_runtime_context().gcs_address, "node": ray.get_runtime_context().get_node_id()}
    if address not in (None, "auto", "local"):
        _check_reachable(address)
    local = address in (None, "local")
    cpus = max(os.cpu_count() or 1, math.ceil(num_cpus or 0)) if local else None
    try:
        # Workers import scn the way this process does: the current folder and PYTHONPATH travel
        # to the actors of a local cluster; a remote one needs scn installed on its nodes.
        ray.init(address="local" if local else address, num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                 configure_logging=False, runtime_env={"env_vars": _worker_env()})
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayClusterError(f"cannot reach the Ray cluster at {address or '(a new local one)'}: "
                              f"{str(exc).splitlines()[0]}",
                              "start one with `ray start --head`, or leave out the address to run Ray locally") \
            from None
    _STARTED_HERE = local
    return {"address": address or "local", "node": ray.get_runtime_context().get_node_id()}


def disconnect() -> None:
    """Shut down the Ray instance `connect` started in this process; leave one it joined, or one
    the caller had started, alone."""
    global _STARTED_HERE
    if _STARTED_HERE and ray.is_initialized():
        ray.shutdown()
    _STARTED_HERE = False


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Ray retries an address that does not answer for minutes: try its port first."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except (OSError, ValueError) as exc:
        raise RayClusterError(f"cannot reach the Ray cluster at {address}: {exc}",
                              "give the head node's HOST:PORT (printed by `ray start --head`), or auto") from None


def _worker_env() -> dict[str, str]:
    wanted = ("PYTHONPATH", "SCN_ALLOW_PATH")
    return {name: os.environ[name] for name in wanted if name in os.environ}


class EnvWorker:
    """The actor: `worlds` environments of one scenario. One world is a `ScenarioEnv` stepped as
    `SubprocVecEnv`'s workers step theirs (float64 rewards, reset on done), so that a run gives
    the same numbers with Ray as without; more are a `ScenarioBatchEnv`."""

    def __init__(self, scenario: m.Scenario, worlds: int, seed: int | None) -> None:
        self.batch = ScenarioBatchEnv(scenario, worlds, seed=seed) if worlds > 1 else None
        self.env = EnvFactory(scenario, seed=seed)() if worlds == 1 else None

    def where(self) -> dict[str, Any]:
        context = ray.get_runtime_context()
        return {"node": context.get_node_id(), "ip": ray.util.get_node_ip_address(), "host": socket.gethostname(),
                "pid": os.getpid()}

    def spaces(self) -> tuple[gym.Space, gym.Space]:
        source: Any = self.batch if self.batch is not None else self.env
        return source.observation_space, source.action_space

    def reset(self, seeds: list[int | None]) -> tuple[np.ndarray, list[dict[str, Any]]]:
        if self.batch is not None:
            self.batch._seeds = list(seeds)  # what `VecEnv.seed` sets: used by this reset
            observations = self.batch.reset()
            return observations, list(self.batch.reset_infos)
        assert self.env is not None
        observation, info = self.env.reset(seed=seeds[0])
        return np.asarray(observation)[None], [info]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]],
                                                 list[dict[str, Any]]]:
        if self.batch is not None:
            observations, rewards, dones, infos = self.batch.step(actions)
            resets = [self.batch.reset_infos[i] for i in np.flatnonzero(dones)]
            return np.asarray(observations), rewards, dones, list(infos), resets
        assert self.env is not None
        observation, reward, terminated, truncated, info = self.env.step(actions[0])
        done = terminated or truncated
        info["TimeLimit.truncated"] = truncated and not terminated
        resets = []
        if done:
            info["terminal_observation"] = observation
            observation, reset_info = self.env.reset()
            resets.append(reset_info)
        return np.asarray(observation)[None], np.array([reward]), np.array([done]), [info], resets

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.batch is not None:
            return getattr(self.batch, name)(*args, **kwargs)
        assert self.env is not None
        kwargs = dict(kwargs)
        kwargs.pop("indices", None)
        if name == "get_images":
            return [self.env.render()]
        if name == "get_attr":
            return [getattr(self.env, args[0])]
        if name == "set_attr":
            setattr(self.env, args[0], args[1])
            return None
        if name == "env_method":
            return [getattr(self.env, args[0])(*args[1:], **kwargs)]
        raise ValueError(f"unknown call {name!r}")

    def close(self) -> None:
        if self.batch is not None:
            self.batch.close()
        if self.env is not None:
            self.env.close()


class RayVecEnv(VecEnv):
    """`n_workers` Ray actors of `worlds` environments each, as one `VecEnv`. Connect first
    (`connect`); `cpus_per_worker` is each actor's CPU request; workers are spread over the
    nodes (Ray's "SPREAD" strategy). `on_replaced(k, error)` is called after each replacement."""

    def __init__(self, scenario: m.Scenario, n_workers: int, worlds: int = 1, *, seed: int | None = None,
                 cpus_per_worker: float = 1.0, resources: Mapping[str, float] | None = None,
                 on_replaced: Callable[[int, BaseException], None] | None = None,
                 placement_timeout: float = PLACEMENT_TIMEOUT) -> None:
        if n_workers < 1 or worlds < 1:
            raise ValueError(f"n_workers and worlds must be at least 1, not {n_workers} and {worlds}")
        self.scenario, self.worlds, self.base_seed = scenario, worlds, seed
        self.cpus, self.resources = cpus_per_worker, dict(resources or {})
        self.on_replaced, self.placement_timeout = on_replaced, placement_timeout
        self.lost: list[dict[str, Any]] = []  # each replaced actor: its place, when and why
        self.losses = [0] * n_workers  # per worker: how many actors it has lost
        self.places: list[dict[str, Any]] = [{} for _ in range(n_workers)]
        self.actors: list[Any] = []
        self.schedule: dict[str, Any] | None = None  # the learner's last `set_schedule`, for replacements
        try:
            for k in range(n_workers):
                self.actors.append(self._spawn(k, None if seed is None else seed + k * worlds))
            observation_space, action_space = self._get(self.actors[0].spaces.remote())
        except BaseException:
            self._kill_all()
            raise
        super().__init__(n_workers * worlds, observation_space, action_space)
        self._last_observations: np.ndarray | None = None
        self._pending: list[Any] = []
        self._closed = False

    # -- placement and faults ------------------------------------------------------------------------

    def _spawn(self, k: int, seed: int | None) -> Any:
        actor_class: Any = ray.remote(EnvWorker)
        actor: Any = actor_class.options(num_cpus=self.cpus, resources=self.resources or None,
                                    scheduling_strategy="SPREAD", max_restarts=0).remote(self.scenario,
                                                                                        self.worlds, seed)
        try:
            place: dict[str, Any] = ray.get(actor.where.remote(), timeout=self.placement_timeout)
        except GetTimeoutError:
            ray.kill(actor)
            raise RayClusterError(f"no node of the Ray cluster could take env worker {k} within "
                                  f"{self.placement_timeout:g} s (it asks for {self.cpus:g} CPU"
                                  + "".join(f", {v:g} {n}" for n, v in self.resources.items()) + ")",
                                  "add nodes, or ask for fewer workers") from None
        except LOST_ERRORS as exc:  # the scenario does not build there, or the process died at once
            raise RayClusterError(f"env worker {k} failed to start: {str(exc).splitlines()[0]}",
                                  "check the scenario with `scn check`, and that scn is installed on every node") \
                from None
        self.places[k] = {**place, "worker": k, "envs": [k * self.worlds, (k + 1) * self.worlds - 1],
                          "started": time.time(), "lost_before": self.losses[k]}
        return actor

    def _replace(self, k: int, error: BaseException) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """A new actor for worker k; its fresh episodes' first observations and reset infos."""
        self.losses[k] += 1
        if self.losses[k] > MAX_LOSSES:
            why = (str(error).splitlines() or [type(error).__name__])[0]
            raise RayClusterError(f"env worker {k} was lost {self.losses[k]} times: {why}",
                                  "look for what kills it (a simulator that aborts, memory); the run's checkpoints "
                                  "are kept for --resume")
        self.lost.append({**self.places[k], "lost": time.time(),
                          "error": (str(error).splitlines() or [type(error).__name__])[0][:300]})
        try:
            ray.kill(self.actors[k])
        except Exception:  # already gone with its node
            pass
        if self.base_seed is None:
            seed = None
        else:  # a function of the run's seed, the worker and its losses: a rerun replaces the same way
            seed = int(np.random.SeedSequence([self.base_seed, k, self.losses[k]]).generate_state(1)[0] % 2**31)
        self.actors[k] = self._spawn(k, seed)
        try:
            if self.schedule is not None:  # the ADR ranges and stage the others draw from, before its first reset
                self._get(self.actors[k].call.remote("env_method", ("set_schedule", self.schedule), {}))
            fresh = self._get(self.actors[k].reset.remote([None] * self.worlds))
        except LOST_ERRORS as again:  # the new one died too: replace it in turn (bounded by MAX_LOSSES)
            return self._replace(k, again)
        if self.on_replaced is not None:
            self.on_replaced(k, error)
        return fresh

    def where(self) -> list[dict[str, Any]]:
        """Each worker's node id, IP, host name and process id, with its environments' indices."""
        return [dict(place) for place in self.places]

    def _get(self, ref: Any) -> Any:
        try:
            return ray.get(ref)
        except ScnError:
            raise
        except ray.exceptions.RayTaskError as exc:  # an error the worker raised: raise it here
            raise exc.as_instanceof_cause() from None

    # -- the VecEnv contract -------------------------------------------------------------------------

    def _rows(self, k: int) -> slice:
        return slice(k * self.worlds, (k + 1) * self.worlds)

    def reset(self) -> np.ndarray:
        refs = [actor.reset.remote(self._seeds[self._rows(k)]) for k, actor in enumerate(self.actors)]
        observations, self.reset_infos = [], []
        for k, ref in enumerate(refs):
            try:
                obs, infos = self._get(ref)
            except LOST_ERRORS as exc:
                obs, infos = self._replace(k, exc)
            observations.append(obs)
            self.reset_infos.extend(infos)
        self._reset_seeds()
        self._reset_options()
        self._last_observations = np.concatenate(observations)
        return self._last_observations.copy()

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions)
        self._pending = [actor.step.remote(actions[self._rows(k)]) for k, actor in enumerate(self.actors)]

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, dones, infos = [], [], [], []
        for k, ref in enumerate(self._pending):
            try:
                obs, rew, done, worker_infos, resets = self._get(ref)
                for i, reset_info in zip(np.flatnonzero(done), resets, strict=True):
                    self.reset_infos[k * self.worlds + int(i)] = reset_info
            except LOST_ERRORS as exc:
                obs, fresh_infos = self._replace(k, exc)
                rew = np.zeros(self.worlds)
                done = np.ones(self.worlds, dtype=bool)
                assert self._last_observations is not None
                worker_infos = [{"TimeLimit.truncated": True, "truncation_reason": LOST,
                                 "terminal_observation": self._last_observations[k * self.worlds + j].copy()}
                                for j in range(self.worlds)]
                self.reset_infos[self._rows(k)] = fresh_infos
            observations.append(obs)
            rewards.append(rew)
            dones.append(done)
            infos.extend(worker_infos)
        self._pending = []
        self._last_observations = np.concatenate(observations)
        return self._last_observations.copy(), np.concatenate(rewards), np.concatenate(dones), infos

    def close(self) -> None:
        if not self._closed:
            self._kill_all()
            self._closed = True

    def _kill_all(self) -> None:
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:  # gone already
                pass

    def _blocks(self, indices: VecEnvIndices) -> dict[int, list[int]]:
        blocks: dict[int, list[int]] = {}
        for i in self._get_indices(indices):
            blocks.setdefault(i // self.worlds, []).append(i % self.worlds)
        return blocks

    def _call(self, name: str, indices: VecEnvIndices, *args: Any, **kwargs: Any) -> list[Any]:
        refs = [self.actors[k].call.remote(name, (*args,), {**kwargs, "indices": own})
                for k, own in self._blocks(indices).items()]
        return [value for answer in (self._get(ref) for ref in refs) if answer is not None for value in answer]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [image for actor in self.actors for image in self._get(actor.call.remote("get_images", (), {}))]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return self._call("get_attr", indices, attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._call("set_attr", indices, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        if method_name == "set_schedule" and indices is None and method_args:
            self.schedule = method_args[0]
        return self._call("env_method", indices, method_name, *method_args, **method_kwargs)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
