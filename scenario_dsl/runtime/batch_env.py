"""Vector environments over a `WorldBatch`: N worlds of a scenario in one Drake simulator.

- `ScenarioBatchEnv` is a stable-baselines3 `VecEnv` with `DummyVecEnv`'s contract: automatic
  reset, `terminal_observation` and `TimeLimit.truncated` in the info of a world that ended,
  `reset_infos`, float32 rewards, `seed(s)` giving world i the seed `s + i`.
- `ScenarioVectorEnv` is a Gymnasium `VectorEnv` in the `SAME_STEP` autoreset mode
  (`metadata["autoreset_mode"]`): a world that ends is reset inside the same `step`, which
  returns the next episode's first observation and puts the last one in `infos["final_obs"]`
  (and the ended step's info in `infos["final_info"]`), as `SyncVectorEnv(...,
  autoreset_mode=AutoresetMode.SAME_STEP)` does.

    from scenario_dsl.runtime.batch_env import ScenarioBatchEnv
    venv = ScenarioBatchEnv("scenarios/pendulum.scn", worlds=64, seed=0)

`render()` draws one world (`render_world`, default 0) from a camera diagram of a single copy
of the scenario, posed like that world: the worlds overlap in space, so a camera on the batch
would show them all at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from scenario_dsl.lang import model as m
from scenario_dsl.runtime.batch import WorldBatch
from scenario_dsl.runtime.env import RENDER_MODES, ScenarioLike, _scenario, agent_spaces


class _WorldView:
    """What `get_attr` / `env_method` / `set_attr` see as world i: its index, compiled world and
    episode counters, then the batch env's own attributes."""

    def __init__(self, env: Any, index: int) -> None:
        self._env, self.index = env, index

    @property
    def world(self) -> Any:
        return self._env.batch.compiled.worlds[self.index]

    @property
    def steps(self) -> int:
        return int(self._env.batch.steps[self.index])

    @property
    def max_steps(self) -> int | None:
        return self._env.batch.max_steps

    def render(self) -> Any:
        """This world's image (`env_method("render", indices=[i])`), or its text in "ansi" mode."""
        if self._env.render_mode == "rgb_array":
            return self._env.render_image(self.index)
        return self._env.render_text(self.index) if self._env.render_mode == "ansi" else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


class _Renderer:
    """Images of one world at a time, from a single copy of the scenario with a camera."""

    def __init__(self, batch: WorldBatch, camera: str) -> None:
        from scenario_dsl.compiler import compile_scenario  # only when something is rendered

        self.batch = batch
        self.compiled = compile_scenario(batch.compiled.scenario, params=batch.params, camera=camera)
        self.context = self.compiled.diagram.CreateDefaultContext()

    def image(self, world: int) -> np.ndarray:
        """World `world`'s scene now: its joints' positions copied into the camera's plant."""
        batch, plant = self.batch.compiled.plant, self.compiled.plant
        source = batch.GetPositions(batch.GetMyContextFromRoot(self.batch.context))
        target = plant.GetMyMutableContextFromRoot(self.context)
        q = plant.GetPositions(target)
        for start, count, found in self._joints(world):
            q[start:start + count] = source[found:found + count]
        plant.SetPositions(target, q)
        image: Any = self.compiled.diagram.GetOutputPort(self.compiled.rgb_port).Eval(self.context)
        return np.array(image.data[:, :, :3], copy=True)

    def _joints(self, world: int) -> list[tuple[int, int, int]]:
        """(position start here, positions, position start in the batch) of each joint, matched by
        name: world i's copy of a joint is `world<i>::name` in a shared instance (declared bodies)
        or `name` in the instance `world<i>::model` (loaded models)."""
        batch, plant, prefix = self.batch.compiled.plant, self.compiled.plant, f"world{world}::"
        matched = []
        for index in plant.GetJointIndices():
            joint = plant.get_joint(index)
            if not joint.num_positions():
                continue
            instance = plant.GetModelInstanceName(joint.model_instance())
            for owner, name in ((prefix + instance, joint.name()), (instance, prefix + joint.name())):
                if not batch.HasModelInstanceNamed(owner):
                    continue
                model = batch.GetModelInstanceByName(owner)
                if batch.HasJointNamed(name, model):
                    twin = batch.GetJointByName(name, model)
                    matched.append((joint.position_start(), joint.num_positions(), twin.position_start()))
                    break
        return matched


class ScenarioBatchEnv(VecEnv):
    """A stable-baselines3 `VecEnv` of `worlds` copies of a scenario stepped in one simulator."""

    def __init__(self, scenario: ScenarioLike, worlds: int, *, seed: int | None = None,
                 render_mode: str | None = None, camera: str = "auto",
                 params: Mapping[str, float | list[float]] | None = None) -> None:
        if render_mode is not None and render_mode not in ("rgb_array", "ansi"):
            raise ValueError(f"render_mode must be 'rgb_array', 'ansi' or None for a batch, not {render_mode!r}")
        spec: m.Scenario = _scenario(scenario, params or {})
        self.batch = WorldBatch(spec, worlds, seed=seed)
        self.render_mode = render_mode
        self.render_world = 0  # the world `render()` draws
        self._camera = camera
        self._renderer: _Renderer | None = None
        self._views = [_WorldView(self, i) for i in range(worlds)]
        self._actions: np.ndarray | None = None
        observation_space, action_space = agent_spaces(self.batch.compiled)
        super().__init__(worlds, observation_space, action_space)
        self.metadata: dict[str, Any] = {"render_modes": ["rgb_array", "ansi"], "render_fps": 1.0 / spec.episode.step}

    def reset(self) -> np.ndarray:
        observations, infos = self.batch.reset(list(self._seeds))
        self.reset_infos = infos
        self._reset_seeds()
        self._reset_options()
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        assert self._actions is not None, "step_async() comes before step_wait()"
        result = self.batch.step(self._actions)
        dones = result.terminated | result.truncated
        for info, truncated, terminated in zip(result.infos, result.truncated.tolist(), result.terminated.tolist(),
                                               strict=True):
            info["TimeLimit.truncated"] = truncated and not terminated  # on every step, as DummyVecEnv does
        for i in np.flatnonzero(dones):
            info = result.infos[i]
            info["terminal_observation"] = result.final_observations[int(i)]
            self.reset_infos[i] = info.pop("reset_info", {})
        self._actions = None
        return result.observations, result.rewards.astype(np.float32), dones, result.infos

    def close(self) -> None:
        self._renderer = None

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [self.render_image(i) for i in range(self.num_envs)]

    def render(self, mode: str | None = None) -> Any:
        mode = mode or self.render_mode
        if mode == "ansi":
            return self.render_text(self.render_world)
        if mode == "rgb_array":
            return self.render_image(self.render_world)
        return None

    def render_text(self, world: int) -> str:
        """World `world`'s episode step and observation, as text."""
        return f"world {world}: steps = {int(self.batch.steps[world])}, " \
               f"observation = {self.batch.last_observations[world]}"

    def render_image(self, world: int) -> np.ndarray:
        """An RGB image of world `world` now (VTK camera; `camera` chose the view)."""
        if self._renderer is None:
            self._renderer = _Renderer(self.batch, self._camera)
        return self._renderer.image(world)

    def set_schedule(self, snapshot: dict[str, Any]) -> None:
        """The learner's ADR ranges and curriculum stage (`ScenarioEnv.set_schedule`), for every world."""
        self.batch.set_schedule(snapshot)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self._views[i], attr_name) for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for i in self._get_indices(indices):
            setattr(self._views[i], attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        return [getattr(self._views[i], method_name)(*method_args, **method_kwargs)
                for i in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]


class ScenarioVectorEnv(VectorEnv):
    """A Gymnasium `VectorEnv` of `worlds` copies of a scenario, autoreset mode `SAME_STEP`."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": RENDER_MODES}  # noqa: RUF012

    def __init__(self, scenario: ScenarioLike, worlds: int, *, seed: int | None = None,
                 params: Mapping[str, float | list[float]] | None = None) -> None:
        spec: m.Scenario = _scenario(scenario, params or {})
        self.batch = WorldBatch(spec, worlds, seed=seed)
        self.num_envs = worlds
        self.single_observation_space, self.single_action_space = agent_spaces(self.batch.compiled)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, worlds)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, worlds)
        self.metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_fps": 1.0 / spec.episode.step}

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        if options:
            raise ValueError(f"reset options are not supported: {sorted(options)}")
        if isinstance(seed, int):
            seeds: list[int | None] = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed) if seed is not None else [None] * self.num_envs
        observations, infos = self.batch.reset(seeds)
        merged: dict[str, Any] = {}
        reported = [info.get("seed") for info in infos]
        if None in reported and any(s is not None for s in reported):
            # Gymnasium's `_add_info` makes an integer array of a first integer seed and cannot then
            # hold a world's None (a reset that went on with its stream): one array of objects.
            merged = {"seed": np.array(reported, dtype=object), "_seed": np.ones(self.num_envs, dtype=bool)}
            infos = [{k: v for k, v in info.items() if k != "seed"} for info in infos]
        for i, info in enumerate(infos):
            merged = self._add_info(merged, info, i)
        return observations, merged

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        result = self.batch.step(np.asarray(actions))
        infos: dict[str, Any] = {}
        for i, info in enumerate(result.infos):
            if i in result.final_observations:
                reset_info = info.pop("reset_info", {})
                infos = self._add_info(infos, {"final_obs": result.final_observations[i], "final_info": info}, i)
                info = reset_info
            infos = self._add_info(infos, info, i)
        return result.observations, result.rewards, result.terminated, result.truncated, infos
