"""`WorldBatch`: N worlds of one scenario stepped together in one Drake simulator.

The engine behind `runtime.batch_env` (the stable-baselines3 `VecEnv` and the Gymnasium
`VectorEnv`). Each world follows the contract of `runtime.env.ScenarioEnv` step for step: world
i, seeded `seed + i`, gives the observations, rewards and endings of a `ScenarioEnv` reset with
that seed (the tests check this to 1e-9 over 1,000 steps with resets for the bundled scenarios
without contact; with contact, Drake's solver couples the worlds' rounding: docs/worlds.md).
What differs:

- one `AdvanceTo` steps every world, and one evaluation of the diagram's "outcome" reads every
  world's observation, reward, conditions and state; the bookkeeping is NumPy over the worlds;
- a world that ends is reset at once, alone, inside `step` (same-step autoreset): the step
  reports its last observation as `final_observations[i]` and the first one of its next
  episode in `observations[i]`;
- the simulator's clock runs on across episodes (each world's `time` counts from its reset);
- `randomize per build` values are drawn per world (each from its own generator, as a single
  env does at its first reset) when the batch is built: at the first `reset` and at every
  seeded one. The batch is built again when every world has run `every N episodes` since: the
  worlds' running episodes end there, truncated with `truncation_reason = "rebuild"`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydrake.common import RandomGenerator
from pydrake.systems.analysis import Simulator

from scenario_dsl.compiler.batch import CompiledBatch, World, compile_batch
from scenario_dsl.compiler.diagram import Params
from scenario_dsl.compiler.plant import set_state_rows
from scenario_dsl.compiler.randomize import episode_rng
from scenario_dsl.compiler.rebuild import BuildRandomizer, has_build_scope
from scenario_dsl.lang import model as m
from scenario_dsl.runtime.env import (
    DIVERGED,
    FLOAT32_MAX,
    EpisodeClock,
    StepBudget,
    delay_queue,
    drake_seed,
    entropy_seed,
    noisy_action,
    over_budget,
)


@dataclass
class BatchStep:
    """What one `WorldBatch.step` gives, one row per world."""

    observations: np.ndarray
    rewards: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    infos: list[dict[str, Any]]
    final_observations: dict[int, np.ndarray]  # the last observation of each world that ended


class WorldBatch:
    """N worlds of `scenario` in one diagram (see the module docstring)."""

    def __init__(self, scenario: m.Scenario, worlds: int, *, seed: int | None = None,
                 params: Params | None = None) -> None:
        self.spec = scenario
        self.n = worlds
        self.params = params
        self._initial_seed = seed
        self._builder = BuildRandomizer(scenario) if has_build_scope(scenario) else None
        self.snapshot: dict[str, Any] | None = None  # the learner's ADR ranges and stage (`set_schedule`)
        self.generators: list[RandomGenerator | None] = [None] * worlds
        spec = self._compile([(scenario, {})] * worlds).scenario
        self.step_seconds = spec.episode.step
        self._episode_clock = EpisodeClock(spec)
        self.max_steps = spec.episode.max_steps
        self._reward_at_start = spec.episode.reward_at == "step_start"
        self.observation_dtype: Any = np.float64 if any(o.dtype == "float64" for o in spec.observations) \
            else np.float32
        self._observation_max = float(np.finfo(self.observation_dtype).max)
        self.steps = np.zeros(worlds, dtype=np.int64)  # env steps of each world's episode
        self._held = np.zeros(worlds, dtype=np.int64)  # steps in a row each world's success condition held
        self._success_steps = spec.episode.success_steps
        self._success_ends = spec.episode.success is None or spec.episode.success.end_episode
        self.episodes = np.zeros(worlds, dtype=np.int64)  # episodes begun since the batch was built
        self._delayed: list[deque[np.ndarray] | None] = [None] * worlds
        self._last = np.zeros((worlds, spec.observation_size), dtype=self.observation_dtype)
        self._started = False
        self._clock = 0

    @property
    def last_observations(self) -> np.ndarray:
        """Each world's observation now (after the last `reset` or `step`)."""
        return self._last

    # -- building
    def _compile(self, variants: list[tuple[m.Scenario, dict[str, Any]]]) -> CompiledBatch:
        compiled = compile_batch(self.spec, self.n, params=self.params, variants=variants)
        self.simulator = Simulator(compiled.diagram)
        self.simulator.set_target_realtime_rate(0.0)
        self.context = self.simulator.get_mutable_context()
        self._budget = StepBudget.for_scenario(compiled, self.simulator)  # type: ignore[arg-type]
        self._outcome_port = compiled.diagram.GetOutputPort("outcome")
        self._terms_port = compiled.diagram.GetOutputPort("reward_terms")
        action_port = compiled.diagram.GetInputPort("action")
        self._neutral = compiled.to_agent(compiled.neutral_action())
        self._actions = np.tile(self._neutral, compiled.n_worlds)
        self._action_value: Any = action_port.FixValue(self.context, self._actions)
        self._noisy = any(w.randomizer.has_noise for w in compiled.worlds)
        k = compiled.outcome_size
        self._parts = compiled.outcome
        self._size = k
        self.compiled = compiled
        if self.snapshot is not None:  # a rebuilt batch draws from the learner's schedule too
            self.set_schedule(self.snapshot)
        return compiled

    def set_schedule(self, snapshot: dict[str, Any]) -> None:
        """The learner's ADR ranges and curriculum stage, for every world's next episodes."""
        self.snapshot = snapshot
        for world in self.compiled.worlds:
            if world.randomizer.schedule is not None:
                world.randomizer.schedule.update(snapshot)
        if self._builder is not None and self._builder.sampler.schedule is not None:
            self._builder.sampler.schedule.update(snapshot)

    def reset(self, seeds: list[int | None]) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Start an episode in every world: world i from `seeds[i]` when given, else it goes on
        with its stream (a first reset without a seed: the batch's seed + i, else OS entropy)."""
        reported: list[int | None] = []
        for i, seed in enumerate(seeds):
            if seed is None and self.generators[i] is None:  # the batch's seed + i, else OS entropy
                seed = self._initial_seed + i if self._initial_seed is not None else entropy_seed()
            if seed is not None:
                self.generators[i] = RandomGenerator(drake_seed(seed))
            reported.append(seed)
        drawn_builds: list[dict[str, Any]] = [{} for _ in range(self.n)]
        if self._builder is not None and (any(s is not None for s in seeds) or not self._started
                                          or self._rebuild_due()):
            variants = [self._builder.draw(episode_rng(g)) for g in self.generators if g is not None]
            self._compile(variants)
            self.episodes[:] = 0
            drawn_builds = [v for _, v in variants]
        self.context.SetTime(0.0)
        self._clock = 0  # batch steps since the clock was set to 0
        infos = []
        for i, world in enumerate(self.compiled.worlds):
            drawn = self._reset_world(world)
            infos.append({"randomization": {**drawn_builds[i], **drawn}, "seed": reported[i]})
        if self._budget is not None:
            self._budget.idle()
        self.simulator.Initialize()
        self._started = True
        observations = self._observations(self._outcome())
        self._last = observations.copy()
        return observations, infos

    def _reset_world(self, world: World) -> dict[str, Any]:
        i = world.index
        generator = self.generators[i]
        assert generator is not None
        drawn = self.compiled.reset_world(self.context, world, generator)
        n = self.compiled.action_size
        self._actions[i * n:(i + 1) * n] = self._neutral
        self._action_value.GetMutableData().get_mutable_value().SetFromVector(self._actions)
        if world.randomizer.has_noise:
            world.randomizer.step_noise()
        self._delayed[i] = delay_queue(self.compiled, world.randomizer, self.step_seconds, self.max_steps)
        self.steps[i] = 0
        self._held[i] = 0
        self.episodes[i] += 1
        return drawn

    def _rebuild_due(self) -> bool:
        return self._builder is not None and bool((self.episodes >= self._builder.every).all())

    # -- stepping
    def step(self, actions: np.ndarray) -> BatchStep:
        n, compiled = self.n, self.compiled
        actions = np.asarray(actions, dtype=np.float64).reshape(n, compiled.action_size)
        if self._noisy:
            actions = np.stack([noisy_action(compiled, w.randomizer, actions[w.index]) for w in compiled.worlds])
        if any(q is not None for q in self._delayed):
            actions = actions.copy()
            for i, queue in enumerate(self._delayed):
                if queue is not None:
                    queue.append(actions[i].copy())
                    actions[i] = queue.popleft()
        self._actions[:] = actions.ravel()
        self._action_value.GetMutableData().get_mutable_value().SetFromVector(self._actions)
        # `reward_at = step_start`: the terms of the state and action the step starts from
        before = np.array(self._terms_port.Eval(self.context)).reshape(n, -1) if self._reward_at_start else None
        failed: dict[int, str] = {}
        if self._budget is not None:
            self._budget.start()
        self._clock += 1
        try:  # a multiple, not a running sum: the plant's updates fall on multiples of its time step
            self.simulator.AdvanceTo(self._episode_clock.end_of(self._clock))
        except RuntimeError as exc:
            if self._budget is not None and self._budget.exceeded:
                raise over_budget(self._budget, self.compiled.scenario, self.step_seconds,
                                  self.context.get_time()) from None
            failed = dict.fromkeys(range(n), f"simulator failure: {exc}")
        outcome = None if failed else self._safe_outcome(failed)
        if outcome is None:  # every world failed: nothing of this step is reported but the failure
            outcome = np.zeros(n * self._size)
        rows = outcome[:n * self._size].reshape(n, self._size)
        self.steps += 1
        observations = self._observations(outcome)
        if before is None:
            rewards, terms = rows[:, self._parts["reward"]][:, 0].copy(), rows[:, self._parts["reward_terms"]]
        else:
            rewards, terms = before.sum(axis=1), before
        terminated = np.zeros(n, dtype=bool)
        fired = rows[:, self._parts["termination"]] != 0 if "termination" in self._parts else None
        if fired is not None:
            terminated |= fired.any(axis=1)
        success = None
        if "success" in self._parts:  # held for `success_steps` steps in a row (`success when ... for`)
            self._held = np.where(rows[:, self._parts["success"]][:, 0] != 0, self._held + 1, 0)
            success = self._held >= self._success_steps
            if self._success_ends:
                terminated |= success
        bad = ~(np.abs(observations) <= self._observation_max).all(axis=1) | ~(np.abs(rewards) <= FLOAT32_MAX)
        for index in np.flatnonzero(bad):
            failed.setdefault(int(index), "simulator failure: the observation is not finite in "
                              f"{np.dtype(self.observation_dtype).name}, or the reward in float32 "
                              "(the simulation diverged)")
        truncated = self.steps >= self.max_steps if self.max_steps is not None else np.zeros(n, dtype=bool)
        infos = self._infos(terms, fired, success, truncated)
        for i, reason in failed.items():  # the last good observation, reward 0, truncated
            observations[i] = self._last[i]
            rewards[i], terminated[i], truncated[i] = 0.0, False, True
            infos[i] = {"reward_terms": dict.fromkeys(compiled.reward_terms, 0.0), "time": infos[i]["time"],
                        "truncation_reason": reason, **({"schedule": infos[i]["schedule"]}
                                                        if "schedule" in infos[i] else {})}
        rebuild = bool((terminated | truncated).any()) and self._rebuild_due()
        if rebuild:  # every world's episode ends here: the batch is built again
            for running in np.flatnonzero(~(terminated | truncated)):
                truncated[running] = True
                infos[running]["truncation_reason"] = "rebuild"
                infos[running].pop("schedule", None)  # cut short, not failed: ADR and curricula do not score it
        ended = np.flatnonzero(terminated | truncated)
        finals = {int(i): observations[i].copy() for i in ended}
        if rebuild:
            observations[:], after = self.reset([None] * n)
            for info, reset_info in zip(infos, after, strict=True):
                info["reset_info"] = reset_info
        elif len(ended):
            self._autoreset([int(i) for i in ended], infos, observations, restart=bool(failed))
        self._last = observations.copy()
        return BatchStep(observations, rewards, terminated, truncated, infos, finals)

    def _autoreset(self, ended: list[int], infos: list[dict[str, Any]], observations: np.ndarray,
                   restart: bool) -> None:
        """Start the next episode of each world in `ended` (its info gets "reset_info")."""
        for i in ended:
            infos[i]["reset_info"] = {"randomization": self._reset_world(self.compiled.worlds[i]), "seed": None}
        if restart:
            self.simulator.Initialize()
        fresh = self._observations(self._outcome())
        observations[ended] = fresh[ended]

    def _outcome(self) -> np.ndarray:
        return np.asarray(self._outcome_port.Eval(self.context), dtype=np.float64)

    def _safe_outcome(self, failed: dict[int, str]) -> np.ndarray | None:
        """The outcome after a step; a world whose state is no longer finite fails (`failed`)."""
        state = self.compiled.plant.GetPositionsAndVelocities(
            self.compiled.plant.GetMyContextFromRoot(self.context))
        if not np.isfinite(state).all():
            plant_context = self.compiled.plant.GetMyMutableContextFromRoot(self.context)
            for world in self.compiled.worlds:
                if not np.isfinite(state[world.state_rows]).all():
                    failed[world.index] = DIVERGED  # its state back to the defaults; its reset draws anew
                    set_state_rows(self.compiled.plant, plant_context, world.state_rows,
                                   self.compiled.default_state[world.state_rows])
        try:
            return self._outcome()
        except (RuntimeError, ValueError) as exc:  # the symbolic backend refuses NaN and domain errors
            failed.update(dict.fromkeys(range(self.n), f"evaluation failure: {exc}"))
            return None

    def _observations(self, outcome: np.ndarray) -> np.ndarray:
        rows = outcome[:self.n * self._size].reshape(self.n, self._size)
        observations = rows[:, self._parts["observation"]]
        if self._noisy:
            noise = [w.randomizer.observation_noise() for w in self.compiled.worlds]
            observations = observations + np.stack([np.zeros(observations.shape[1]) if x is None else x
                                                    for x in noise])
        return observations.astype(self.observation_dtype)

    def _infos(self, terms: np.ndarray, fired: np.ndarray | None, success: np.ndarray | None,
               truncated: np.ndarray) -> list[dict[str, Any]]:
        compiled = self.compiled
        names = compiled.reward_terms
        times = self._episode_clock.end_of(self.steps)  # as a single env's clock reads after as many steps
        infos: list[dict[str, Any]] = [{"reward_terms": dict(zip(names, row, strict=True)), "time": float(t)}
                                       for row, t in zip(terms.tolist(), times.tolist(), strict=True)]
        if fired is not None:
            for row in np.flatnonzero(fired.any(axis=1)):
                infos[row]["termination_reason"] = "; ".join(
                    r for r, f in zip(compiled.termination_reasons, fired[row], strict=True) if f)
        if success is not None:
            for i, info in enumerate(infos):
                info["is_success"] = bool(success[i])
                if success[i] and self._success_ends and "termination_reason" not in info:
                    info["termination_reason"] = "success"
        for row in np.flatnonzero(truncated):
            infos[row]["truncation_reason"] = "time_limit"
        for info, world in zip(infos, compiled.worlds, strict=True):
            if world.randomizer.schedule is not None:  # the learner scores the episode's boundary and stage
                info["schedule"] = world.randomizer.schedule.tag()
        return infos

