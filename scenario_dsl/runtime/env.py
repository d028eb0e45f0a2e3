"""The Gymnasium environment of a scenario: `ScenarioEnv`, `make_env` and `EnvFactory`.

`ScenarioEnv` subclasses `pydrake.gym.DrakeGymEnv` and replaces the parts of it that are defects
(it ignores its `info_handler`, writes into the class-wide `metadata`, seeds every process the
same, and a time limit written as a monitor ends in `terminated`; docs/compiler.md has the table):

- `info` is filled at every step: `reward_terms` (each named term), `time`, and when the episode
  ends `termination_reason` / `truncation_reason`; `reset` returns `randomization` (the draws)
  and `seed`.
- `terminate when` conditions and `success when` end the episode with `terminated=True`; the time
  limit and simulator failures (an exception in `AdvanceTo`, a state that is no longer finite)
  give `truncated=True`. After a failure the step returns the last good observation and reward
  0, and the next `reset()` starts a clean episode. A step whose simulation makes no progress or
  runs too long (`StepBudget`, a Drake monitor) raises `CompileError` SCN508 instead, and a delay
  that would keep too many commands in flight SCN412 (`lang.limits`): problems of the scenario.
- `metadata` belongs to the instance; `render_modes` are those that work ("human" needs
  Meshcat, "rgb_array" a VTK camera; both are added to the diagram only when asked for).
- The episode is drawn before `Simulator.Initialize()`; `reset(seed=...)` seeds Drake's
  `RandomGenerator`; without a seed the first reset seeds it from OS entropy (unseeded
  environments in different processes differ) and reports that seed in `info["seed"]`, so the
  episode can be replayed; later resets without a seed continue the stream.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from time import thread_time
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from pydrake.common import RandomGenerator
from pydrake.gym import DrakeGymEnv
from pydrake.systems.analysis import Simulator
from pydrake.systems.framework import EventStatus

from scenario_dsl.compiler import CompiledScenario, CompileError, compile_scenario
from scenario_dsl.compiler.diagram import ActionScaling
from scenario_dsl.compiler.randomize import Randomizer, episode_rng
from scenario_dsl.lang import model as m
from scenario_dsl.lang.limits import MAX_DELAY_STEPS, MAX_PLANT_STEPS_PER_ENV_STEP
from scenario_dsl.lang.loader import load
from scenario_dsl.runtime.images import ImageReader
from scenario_dsl.runtime.images import observation_space as with_images

RENDER_MODES = ["human", "rgb_array", "ansi"]
ScenarioLike = m.Scenario | str | Path


FLOAT32_MAX = float(np.finfo(np.float32).max)
#: the `truncation_reason` of an episode dropped because the worker running it was lost (a Ray
#: actor whose node or process died: runtime.ray_env)
DROPPED = "worker_lost"


def entropy_seed() -> int:
    entropy: Any = np.random.SeedSequence().entropy  # 128 bits from the OS
    return int(entropy)


def drake_seed(seed: int) -> int:
    """A 32-bit seed for Drake's generator, mixed from `seed` (nearby seeds give unrelated streams)."""
    return int(np.random.SeedSequence(abs(int(seed))).generate_state(1, dtype=np.uint32)[0])


def agent_spaces(compiled: CompiledScenario | Any) -> tuple[gym.spaces.Box, gym.spaces.Box]:
    """The observation and action spaces of a compiled scenario (or of one world of a batch)."""
    spec = compiled.scenario
    dtype: Any = np.float64 if any(o.dtype == "float64" for o in spec.observations) else np.float32
    observation_space = gym.spaces.Box(compiled.observation_lower.astype(dtype),
                                       compiled.observation_upper.astype(dtype), dtype=dtype)
    action_dtype: Any = np.float64 if spec.action.dtype == "float64" else np.float32
    if spec.action.normalize:
        return observation_space, gym.spaces.Box(-1.0, 1.0, (compiled.action_size,), dtype=action_dtype)
    return observation_space, gym.spaces.Box(compiled.action_lower.astype(action_dtype),
                                             compiled.action_upper.astype(action_dtype), dtype=action_dtype)


class ScenarioEnv(DrakeGymEnv):
    """A compiled scenario as a `gymnasium.Env` (see the module docstring for the contract)."""

    # Gymnasium declares `metadata` an instance attribute; each instance gets its own copy.
    metadata = {"render_modes": RENDER_MODES, "render_fps": None}  # noqa: RUF012

    def __init__(self, scenario: m.Scenario | CompiledScenario, *, seed: int | None = None,
                 render_mode: str | None = None, params: Mapping[str, float | list[float]] | None = None,
                 camera: str = "auto") -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES} or None, not {render_mode!r}")
        named = [c.name for c in scenario.cameras] if isinstance(scenario, m.Scenario) else []
        if camera not in m.CAMERA_VIEWS and camera not in named:
            raise ValueError(f"camera must be one of {', '.join([*m.CAMERA_VIEWS, *named])}, not {camera!r}")
        self._camera: str | bool = camera if render_mode == "rgb_array" else False  # kept for rebuilds
        self.meshcat = None
        if isinstance(scenario, CompiledScenario):
            compiled = scenario
            if render_mode == "rgb_array" and not compiled.has_camera:
                raise ValueError("render_mode='rgb_array' needs a diagram compiled with camera=True")
        else:
            if render_mode == "human":
                from pydrake.geometry import StartMeshcat

                self.meshcat = StartMeshcat()
            compiled = compile_scenario(scenario, params=params, camera=self._camera,
                                        meshcat=self.meshcat)
        self.compiled = compiled
        spec = compiled.scenario
        step = spec.episode.step
        # An instance attribute first: DrakeGymEnv.__init__ writes into self.metadata.
        self.metadata = {"render_modes": list(RENDER_MODES), "render_fps": 1.0 / step}
        state_space, action_space = agent_spaces(compiled)
        self._state_space: Any = state_space  # the vector observations (the whole observation without images)
        observation_space = with_images(spec, state_space)
        simulator = Simulator(compiled.diagram)
        simulator.set_target_realtime_rate(0.0)
        rgb_port: Any = compiled.rgb_port if compiled.has_camera else None
        # DrakeGymEnv checks the observation space against the observation port: the state's.
        super().__init__(simulator=simulator, time_step=step, action_space=action_space,
                         observation_space=state_space, reward=compiled.reward_port,
                         action_port_id=compiled.action_port, observation_port_id=compiled.observation_port,
                         render_rgb_port_id=rgb_port)
        self.metadata = {"render_modes": list(RENDER_MODES), "render_fps": 1.0 / step}
        self.observation_space = observation_space
        self.render_mode = render_mode
        self._adopt(compiled, simulator)
        self._params = params
        self._builder = compiled.build_randomizer  # of the scenario as written; rebuilds don't replace it
        if self._builder is not None:
            self._builder.sampler.schedule = self.schedule
        self._build_drawn: dict[str, Any] = {}
        self._episodes_since_build: int | None = None  # None: the nominal diagram, not built from draws
        self.max_steps = spec.episode.max_steps
        self._success_steps = spec.episode.success_steps
        self._success_ends = spec.episode.success is None or spec.episode.success.end_episode
        self._held = 0  # env steps in a row the success condition has held
        self._reward_at_start = spec.episode.reward_at == "step_start"
        self._initial_seed = seed
        self._has_generator = False
        self._steps = 0
        self._failed: str | None = None
        self._last_observation: Any = None  # an array, or a dict of them with images
        self._delayed: deque[np.ndarray] | None = None  # commands in flight (`ACTION.delay`)
        state_dtype: Any = self._state_space.dtype
        self._observation_max = float(np.finfo(state_dtype).max)

    def _adopt(self, compiled: CompiledScenario, simulator: Simulator | None = None) -> None:
        """Drive `compiled`'s diagram from now on: at construction, and after a rebuild for
        `randomize per build` (same ports and spaces, other values inside)."""
        if simulator is None:
            simulator = Simulator(compiled.diagram)
            simulator.set_target_realtime_rate(0.0)
            self.simulator = simulator
            observed, self.observation_space = self.observation_space, self._state_space
            self._setup()  # DrakeGymEnv's: the action, observation and rgb ports of the new diagram
            self.observation_space = observed
        # one schedule (ADR ranges, curriculum stage) for the env's life: a rebuilt diagram's
        # randomizer, and the per-build draws, take the one the learner has been updating
        schedule = getattr(self, "schedule", None)
        if schedule is not None:
            compiled.randomizer.schedule = schedule
        self.schedule = compiled.randomizer.schedule
        self.compiled = compiled
        diagram = compiled.diagram
        self._budget = StepBudget.for_scenario(compiled, simulator)
        self._clock = EpisodeClock(compiled.scenario)
        self.action_port = _ActionPort(diagram.GetInputPort(compiled.action_port), self._noted_action_value)
        self._reward_terms_port = diagram.GetOutputPort(compiled.reward_terms_port)
        self._reward_port = diagram.GetOutputPort(compiled.reward_port)
        self._outcome_port = diagram.GetOutputPort(compiled.outcome_port)
        self._outcome_parts = compiled.outcome
        # conditions and reward terms are not checked here
        limits = np.full(max(part.stop for part in compiled.outcome.values()), np.inf)
        limits[compiled.outcome["state"]] = np.finfo(np.float64).max
        limits[compiled.outcome["observation"]] = np.finfo(self._state_space.dtype).max
        limits[compiled.outcome["reward"]] = FLOAT32_MAX
        self._outcome_limits = limits
        # Per-step handles (performance: each saves a pybind call).
        self._plant_context = compiled.plant.GetMyContextFromRoot(simulator.get_context())
        self._action_value: Any = None  # the action input's FixedInputPortValue, fixed by reset_context
        self._noisy = compiled.randomizer.has_noise  # observation or action noise is drawn
        self._images = ImageReader(compiled.scenario, diagram, compiled.image_ports) if compiled.image_ports else None
        self._image_noise = compiled.randomizer.image_noise if self._noisy else None

    def _rebuild_if_due(self, seeded: bool) -> None:
        """`randomize per build`: draw the build-scope values from the episode's generator and
        compile the diagram they describe, at the first reset, every N episodes, and at every
        seeded reset (so that `reset(seed=s)` always replays the same episode)."""
        builder = self._builder
        if builder is None:
            return
        if not seeded and self._episodes_since_build is not None and self._episodes_since_build < builder.every:
            return
        variant, self._build_drawn = builder.draw(episode_rng(self.generator))
        self._adopt(compile_scenario(variant, params=self._params, camera=self._camera,
                                     meshcat=self.meshcat))
        self._episodes_since_build = 0

    # -- the Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None,
              ) -> tuple[np.ndarray, dict[str, Any]]:
        gym.Env.reset(self, seed=seed)
        if options:
            raise ValueError(f"reset options are not supported: {sorted(options)}")
        if seed is None and not self._has_generator:
            # The constructor's seed, else OS entropy; reported in info, so `reset(seed=...)` replays it.
            seed = self._initial_seed if self._initial_seed is not None else entropy_seed()
        if seed is not None:
            self.generator = RandomGenerator(drake_seed(seed))
            self._has_generator = True
        self._rebuild_if_due(seeded=seed is not None)
        context = self.simulator.get_mutable_context()
        # None until the reset is done: a draw that fails (it raises) may have fixed a new value,
        # freeing the one held here, and a step must not write into that.
        self._action_value = None
        drawn = self.compiled.reset_context(context, self.generator, reuse_action_value=True)
        self._action_value = self.compiled.action_value(context)  # steps write the action into it
        if self._builder is not None:
            drawn = {**self._build_drawn, **drawn}
            self._episodes_since_build = (self._episodes_since_build or 0) + 1
        if self._noisy:  # per-step noise for the first observation
            self.compiled.randomizer.step_noise()
        self._delayed = self._delay_queue()
        if self._budget is not None:
            self._budget.idle()  # Drake calls the monitor at the end of Initialize too
        self.simulator.Initialize()
        self._steps = 0
        self._held = 0
        self._failed = None
        observation = self._observe().astype(self._state_space.dtype)
        if self._images is not None:
            observation = self._images.compose(observation, self.simulator.get_context(), self._image_noise)
        self._last_observation = observation
        if self.render_mode == "human":
            self.render()
        return observation, {"randomization": drawn, "seed": seed}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        assert self._last_observation is not None, "call reset() before step()"
        if self._failed is not None:
            return self._failure(self._failed)
        context = self.simulator.get_mutable_context()
        if self._noisy:
            action = self._noisy_action(action)
        if self._delayed is not None:  # `ACTION.delay`: the command of k steps ago is applied now
            self._delayed.append(np.asarray(action, dtype=np.float64))
            action = self._delayed.popleft()
        self._set_action(context, action)
        rewarded: tuple[float, np.ndarray] | None = None
        if self._reward_at_start:  # the state-action pair the step starts from
            try:
                rewarded = self._reward(context)
            except (RuntimeError, ValueError) as exc:
                return self._failure(f"evaluation failure: {exc}")
        if self._budget is not None:
            self._budget.start()
        try:
            self.simulator.AdvanceTo(self._clock.end_of(self._steps + 1))
        except RuntimeError as exc:
            if self._budget is not None and self._budget.exceeded:
                raise self._over_budget(context.get_time()) from None
            return self._failure(f"simulator failure: {exc}")
        try:
            outcome = _vector(self._outcome_port, context)
        except (RuntimeError, ValueError) as exc:  # the symbolic backend refuses NaN and domain errors
            if not np.isfinite(self.compiled.plant.GetPositionsAndVelocities(self._plant_context)).all():
                return self._failure(DIVERGED)
            return self._failure(f"evaluation failure: {exc}")
        # One pass over the outcome (a few microseconds less per step than two array checks): a
        # finite state, an observation within its dtype, a reward within float32. Past that, or
        # with observation noise, which the outcome does not hold, the checks go one by one.
        within = bool((np.abs(outcome) <= self._outcome_limits).all())
        if not within and not np.isfinite(outcome[self._outcome_parts["state"]]).all():
            return self._failure(DIVERGED)
        self._steps += 1
        observation, reward, terminated, info = self._outcome(outcome, context.get_time(), rewarded)
        # Learners keep rewards as float32 (SB3's buffers): a reward beyond its range is infinite there.
        observed = (within and not self._noisy) or bool((np.abs(observation) <= self._observation_max).all())
        if not (observed and abs(reward) <= FLOAT32_MAX):  # a step-start reward is not in the outcome
            return self._failure(f"simulator failure: the observation is not finite in {self._state_space.dtype}, "
                                 "or the reward in float32 (the simulation diverged)")
        observation = observation.astype(self._state_space.dtype)
        if self._images is not None:
            observation = self._images.compose(observation, context, self._image_noise)
        truncated = self.max_steps is not None and self._steps >= self.max_steps
        if truncated:
            info["truncation_reason"] = "time_limit"
        if self.schedule is not None:  # the learner scores the episode's boundary and stage when it ends
            info["schedule"] = self.schedule.tag()
        self._last_observation = observation
        if self.render_mode == "human":
            self.render()
        return observation, reward, terminated, truncated, info

    def set_schedule(self, snapshot: dict[str, Any]) -> None:
        """The learner's ADR ranges and curriculum stage (`sampling.adaptive.ScheduleKeeper.snapshot`),
        for the episodes that start from now on; `env_method("set_schedule", ...)` of a vector env."""
        if self.schedule is not None:
            self.schedule.update(snapshot)

    def render(self) -> Any:
        if self.render_mode == "ansi":
            context = self.simulator.get_context()
            terms = dict(zip(self.compiled.reward_terms, _vector(self._reward_terms_port, context), strict=True))
            return f"t = {context.get_time():.3f} s\nobservation = {self._observe()}\nreward terms = {terms}"
        if self.render_mode == "rgb_array":
            image: Any = self.render_rgb_port.Eval(self.simulator.get_context())
            return np.array(image.data[:, :, :3], copy=True)
        if self.render_mode == "human":
            self.simulator.get_system().ForcedPublish(self.simulator.get_context())
        return None

    # -- helpers
    def _set_action(self, context: Any, action: Any) -> None:
        """Put `action` on the action input: write it in place into the value `reset_context`
        fixed (about 15 us less per step than a new `FixValue`, which also invalidates more of
        the cache; the write still invalidates everything computed from the input). Nothing
        else fixes this input."""
        value = np.asarray(action, dtype=np.float64).reshape(self.compiled.action_size)
        if self._action_value is None:
            self.action_port.FixValue(context, value)  # noted: it becomes `_action_value`
        else:
            self._action_value.GetMutableData().get_mutable_value().SetFromVector(value)

    def _noted_action_value(self, context: Any, fixed: Any) -> None:
        """A value was fixed on the action input through `action_port`: write into that one now."""
        self.compiled.note_action_value(context, fixed)
        if context is self.simulator.get_context():
            self._action_value = fixed

    def _reward(self, context: Any) -> tuple[float, np.ndarray]:
        """The reward and its terms now (for `reward_at = step_start`; not the outcome port, which
        would compute the observation and conditions too)."""
        return float(_vector(self._reward_port, context)[0]), _vector(self._reward_terms_port, context)

    def _outcome(self, outcome: np.ndarray, time: float, rewarded: tuple[float, np.ndarray] | None = None,
                 ) -> tuple[np.ndarray, float, bool, dict[str, Any]]:
        """Observation, reward, terminated and info after a step, from the "outcome" vector
        (`rewarded`: the reward and its terms evaluated before the step, for `reward_at = step_start`)."""
        parts = self._outcome_parts
        observation = self._with_noise(outcome[parts["observation"]])
        if rewarded is not None:
            reward, terms = rewarded
        else:
            reward, terms = float(outcome[parts["reward"]][0]), outcome[parts["reward_terms"]]
        info: dict[str, Any] = {"reward_terms": dict(zip(self.compiled.reward_terms, terms.tolist(), strict=True)),
                                "time": time}
        terminated = False
        if "termination" in parts:
            fired = [reason for value, reason in zip(outcome[parts["termination"]],
                                                     self.compiled.termination_reasons, strict=True) if value]
            if fired:
                terminated = True
                info["termination_reason"] = "; ".join(fired)
        if "success" in parts:  # held for `success_steps` steps in a row (`success when ... for`)
            self._held = self._held + 1 if outcome[parts["success"]][0] else 0
            info["is_success"] = self._held >= self._success_steps
            if info["is_success"] and self._success_ends and not terminated:
                terminated = True
                info["termination_reason"] = "success"
        return observation, reward, terminated, info

    def _observe(self) -> np.ndarray:
        return self._with_noise(_vector(self.observation_port, self.simulator.get_context()))

    def _with_noise(self, observation: np.ndarray) -> np.ndarray:
        """`observation` with this step's observation noise, when any is drawn."""
        noise = self.compiled.randomizer.observation_noise() if self._noisy else None
        return observation if noise is None else observation + noise

    def _delay_queue(self) -> deque[np.ndarray] | None:
        return delay_queue(self.compiled, self.compiled.randomizer, self.time_step, self.max_steps)

    def _over_budget(self, now: float) -> CompileError:
        """SCN508: an env step's simulation passed its budget (`StepBudget`). The episode is over:
        later steps return the failure until `reset()`."""
        assert self._budget is not None
        self._failed = f"simulator failure: the step passed its budget ({self._budget.exceeded})"
        return over_budget(self._budget, self.compiled.scenario, self.time_step, now)

    def _noisy_action(self, action: Any) -> np.ndarray:
        return noisy_action(self.compiled, self.compiled.randomizer, action)

    def _failure(self, reason: str) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        self._failed = reason
        assert self._last_observation is not None
        terms = dict.fromkeys(self.compiled.reward_terms, 0.0)
        info = {"reward_terms": terms, "time": self.simulator.get_context().get_time(), "truncation_reason": reason}
        if self.schedule is not None:  # a failed episode counts as one that did not succeed
            info["schedule"] = self.schedule.tag()
        return self._last_observation.copy(), 0.0, False, True, info


class _ActionPort:
    """The env's action input port (`env.action_port`, as DrakeGymEnv names it). The env writes
    each action in place into the value fixed on it; a `FixValue` through this port (the way to
    set the input by hand) tells the env which value that now is. A `FixValue` on the diagram's
    port itself, behind the env's back, frees the value the env writes into: do not."""

    def __init__(self, port: Any, noted: Any) -> None:
        self._port, self._noted = port, noted

    def FixValue(self, context: Any, value: Any) -> Any:  # Drake's name
        fixed = self._port.FixValue(context, value)
        self._noted(context, fixed)
        return fixed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)


DIVERGED = "simulator failure: the state is no longer finite (the simulation diverged)"


class StepBudget:
    """What one env step's `AdvanceTo` may spend: at most `steps` simulator steps and `seconds` of
    CPU time of the thread that simulates (`time.thread_time`, not wall-clock time: a process
    suspended by a laptop's sleep or `kill -STOP`, or waiting for a core on a loaded machine,
    uses none: measured in wall-clock time, a pause of a minute ended a training run with SCN508).
    A Drake monitor, called after every simulator step: past the budget it returns
    `EventStatus.Failed`, `AdvanceTo` stops with a `RuntimeError`, and `exceeded` says why (the env
    raises SCN508). Installed where the number of simulator steps per env step is not small and
    known in advance (each call costs about 3 us): a diagram with continuous state, whose
    integrator chooses its steps (and may shrink them without end), or more than `WATCHED_ABOVE`
    plant steps per env step. Elsewhere an env step is at most that many plant steps."""

    WATCHED_ABOVE = 1_000  # plant steps per env step
    SECONDS = 60.0  # CPU time of one env step

    def __init__(self, system: Any, steps: int, seconds: float) -> None:
        self.system, self.steps, self.seconds = system, steps, seconds
        self.count = 0
        self.deadline = math.inf
        self.exceeded: str | None = None
        self._ok = EventStatus.Succeeded()

    @classmethod
    def for_scenario(cls, compiled: CompiledScenario | Any, simulator: Simulator) -> StepBudget | None:
        """The budget of `compiled`'s env steps, installed as `simulator`'s monitor (None: not needed)."""
        spec = compiled.scenario
        ratio = spec.episode.step / spec.plant.time_step if spec.plant.time_step > 0 else math.inf
        if simulator.get_context().num_continuous_states() == 0 and ratio <= cls.WATCHED_ABOVE:
            return None
        expected = min(ratio, MAX_PLANT_STEPS_PER_ENV_STEP)
        budget = cls(compiled.diagram, max(10 * math.ceil(expected), 10_000), cls.SECONDS)
        simulator.set_monitor(budget)
        return budget

    def start(self) -> None:
        """Open the budget of the next `AdvanceTo`."""
        self.count = 0
        self.exceeded = None
        self.deadline = thread_time() + self.seconds

    def idle(self) -> None:
        """No budget until the next `start` (for `Initialize`, which takes no steps)."""
        self.count = 0
        self.exceeded = None
        self.deadline = math.inf

    def __call__(self, context: Any) -> EventStatus:
        self.count += 1
        if self.count > self.steps:
            self.exceeded = f"more than {self.steps:,} simulator steps"
        elif thread_time() > self.deadline:
            self.exceeded = f"more than {self.seconds:g} s of CPU time"
        else:
            return self._ok
        return EventStatus.Failed(self.system, self.exceeded)


class EpisodeClock:
    """When env step k of an episode ends. Drake schedules a plant's updates at whole multiples
    of its time step, and `k * step` rounds: with a 10 ms plant and 50 ms steps, `AdvanceTo(k *
    0.05)` runs 4, 5 or 6 plant steps (measured: about a third of the steps are off by one). When
    the env step is a whole number n of plant steps, step k ends at `(k * n) * time_step`, the
    very time Drake's update falls on, and every env step runs exactly n plant steps."""

    def __init__(self, scenario: m.Scenario) -> None:
        step, time_step = scenario.episode.step, scenario.plant.time_step
        n = round(step / time_step) if time_step > 0 else 0
        whole = n >= 1 and abs(n * time_step - step) <= 1e-9 * step
        self.unit, self.per_step = (time_step, n) if whole else (step, 1)

    def end_of(self, k: Any) -> Any:
        """The time env step `k` ends (k: an int, or an array of them)."""
        return (k * self.per_step) * self.unit


def delay_queue(scaling: ActionScaling, randomizer: Randomizer, step: float,
                max_steps: int | None) -> deque[np.ndarray] | None:
    """The commands in flight for this episode's `ACTION.delay`, rounded to whole env steps:
    the neutral action for the first k steps. None without a delay."""
    delay = randomizer.action_delay() if randomizer.has_noise else 0.0
    if delay == 0:
        return None
    held = delay / step
    if max_steps is not None:
        held = min(held, max_steps)  # longer: the episode sees only the neutral action
    if not (math.isfinite(delay) and delay >= 0) or held > MAX_DELAY_STEPS + 0.5:
        target = f"{scaling.scenario.action.name}.delay"
        where = next((d.where for r in scaling.scenario.randomizations for d in r.draws
                      if d.target == target), None)
        if not (math.isfinite(delay) and delay >= 0):
            raise CompileError("SCN405", f"`{target}` was drawn as {delay:g} s: it must be finite and at least 0",
                               "draw the delay from a bounded distribution, e.g. uniform(0, 100) ms", where)
        raise CompileError("SCN412", f"`{target}` was drawn as {delay:g} s, which keeps {held:,.0f} env steps "
                           f"of {step:g} s of commands in flight; scn allows at most {MAX_DELAY_STEPS:,}",
                           "bound the delay, or give the episode a shorter `time_limit`", where)
    steps = round(held)
    if steps <= 0:
        return None
    neutral = scaling.to_agent(scaling.neutral_action())
    return deque(neutral.copy() for _ in range(steps))


def noisy_action(scaling: ActionScaling, randomizer: Randomizer, action: Any) -> np.ndarray:
    """`action` with this step's action noise (drawn in physical units) added."""
    randomizer.step_noise()
    noise = randomizer.action_noise()
    if noise is None:
        return np.asarray(action, dtype=np.float64)
    return scaling.to_agent(scaling.to_physical(np.asarray(action, dtype=np.float64)) + noise)


def over_budget(budget: StepBudget, spec: m.Scenario, step: float, now: float) -> CompileError:
    """SCN508: the simulation of an env step passed `budget` (`StepBudget`)."""
    return CompileError("SCN508", f"the simulation of one env step ({step:g} s, stopped at t = "
                        f"{now:.6g} s) used {budget.exceeded}: scn stops a step that makes no progress "
                        "or runs too long", "a stiff or diverging scene: check plant.time_step, the controllers' "
                        "gains, masses and contact stiffness", spec.plant.where or spec.episode.where)


def _vector(port: Any, context: Any) -> np.ndarray:
    return np.asarray(port.Eval(context), dtype=np.float64)


def make_env(path_or_scenario: ScenarioLike, *, seed: int | None = None, render_mode: str | None = None,
             camera: str = "auto", **params: float | list[float]) -> ScenarioEnv:
    """A `ScenarioEnv` from a `.scn` path or a `Scenario`; `params` override its `param`s
    (`make_env("push_box.scn", goal=[0.2, 0.0])`), which re-validates the file. `camera` names the
    view `render_mode="rgb_array"` films from (`auto`, `front`, `side`, `top`, `iso`)."""
    return ScenarioEnv(_scenario(path_or_scenario, params), seed=seed, render_mode=render_mode, camera=camera)


def _scenario(path_or_scenario: ScenarioLike, params: Mapping[str, float | list[float]]) -> m.Scenario:
    """The scenario to build; parameters are applied by the validator, so they need the file."""
    if isinstance(path_or_scenario, m.Scenario):
        if not params:
            return path_or_scenario
        if path_or_scenario.path is None or not Path(path_or_scenario.path).is_file():
            raise ValueError(f"parameters {sorted(params)} are applied when a scenario is loaded, and this "
                             "Scenario has no file: pass its path, or use scenario_dsl.loads(text, params=...)")
        path_or_scenario = path_or_scenario.path
    values: Any = dict(params)  # lists are vector parameters; the loader takes them as well as numbers
    return load(path_or_scenario, params=values)


class EnvFactory:
    """A picklable recipe for a `ScenarioEnv` (for `SubprocVecEnv` and friends): calling it builds
    the env in the calling process. `EnvFactory(scenario, seed=1)()`."""

    def __init__(self, scenario: ScenarioLike, *, seed: int | None = None, render_mode: str | None = None,
                 **params: float | list[float]) -> None:
        self.scenario = scenario if isinstance(scenario, m.Scenario) else str(scenario)
        self.seed = seed
        self.render_mode = render_mode
        self.params = params

    def __call__(self) -> ScenarioEnv:
        params: dict[str, Any] = dict(self.params)  # scenario parameters only: never `camera`
        return make_env(self.scenario, seed=self.seed, render_mode=self.render_mode, **params)

    def __repr__(self) -> str:
        name = self.scenario.name if isinstance(self.scenario, m.Scenario) else self.scenario
        return f"EnvFactory({name!r}, seed={self.seed!r})"
