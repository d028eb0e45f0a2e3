"""One episode of a scenario in Drake's AutoDiffXd: its return and the return's derivative with
respect to one `param` (the pathwise gradient a differentiable simulator gives), for
`scn landscape`'s first-order estimate.

The param reaches the diagram through scn's compiler, so its effect on the episode's start is
found by compiling twice, at x and at x + h, and differencing the two reset contexts (continuous
and discrete state, numeric parameters): that direction seeds the derivatives of an AutoDiffXd
copy of the diagram (`Diagram.ToAutoDiffXd`), which Drake then carries through every plant step,
contact included. The episode is acted by the neutral action (the middle of the action's bounds),
as `scn landscape` acts without a policy.

`NotDifferentiable` says why a scenario cannot be differentiated this way, and the caller falls
back to differences of whole episodes:

- the diagram has a system without AutoDiffXd (a Python `LeafSystem`: NumPy expressions, images)
  or a plant whose contact solver has none;
- the param changes what the context does not hold: geometry (a shape's size, contact stiffness,
  friction, which SceneGraph keeps as properties), the diagram's structure, or constants the
  compiler builds into systems (a reward's or a condition's numbers, action bounds, gravity,
  controller gains). Checked, not assumed: the diagram compiled at x, run from the reset context
  at x + h, must give the return the scenario compiled at x + h gives;
- the env does something per step that the diagram alone does not (observation or action noise,
  an action delay): the AutoDiffXd episode's return must equal the env's, or it is refused.

The first three hold for every value of the param (`NotDifferentiable.everywhere`); a replay that
fails or differs at one value may be particular to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scenario_dsl.lang.loader import load
from scenario_dsl.runtime.env import EpisodeClock, ScenarioEnv


class NotDifferentiable(Exception):
    """The episode cannot be differentiated in AutoDiffXd; the message says why. `everywhere`:
    the reason is the scenario's, not this value's (do not try other values)."""

    def __init__(self, reason: str, *, everywhere: bool = True) -> None:
        super().__init__(reason)
        self.everywhere = everywhere


def return_and_slope(path: str | Path, param: str, value: float, *, seed: int,
                     params: dict[str, Any] | None = None, h: float | None = None) -> tuple[float, float]:
    """f(value), the return of one episode with `param` = value from `seed` (as the env computes
    it), and f'(value) through AutoDiffXd. `h` is the step of the start's difference (default
    1e-6 of the value, at least 1e-6). Raises `NotDifferentiable`."""
    step = h if h is not None else 1e-6 * max(1.0, abs(value))
    envs: list[ScenarioEnv] = []
    try:
        env = _reset(path, param, value, seed, params, envs)
        if env._noisy or env._delayed is not None:  # drawn in Python at each step, not in the diagram
            raise NotDifferentiable("the env draws noise or delays actions at each step, outside the diagram")
        start = env.simulator.get_context().Clone()
        nudged = _reset(path, param, value + step, seed, params, envs)
        nudged_start = nudged.simulator.get_context().Clone()
        direction = _direction(env, nudged, start, nudged_start, step)
        steps, total = _episode(env)
        nudged_steps, nudged_total = _episode(nudged)
        diagram = _autodiff(env)
        slope, replayed = _replay(env, diagram, start, _context_parts(start), steps, direction)
        if not _same(replayed, total):
            raise NotDifferentiable(f"the AutoDiffXd episode returned {replayed:.12g} and the env's {total:.12g}: "
                                    "the env does something at each step that the diagram alone does not",
                                    everywhere=False)
        # The numbers of the start at x + h in the diagram at x (its own abstract values: SceneGraph's
        # geometry ids belong to its own SceneGraph).
        _, crossed = _replay(env, env.compiled.diagram, start, _context_parts(nudged_start), nudged_steps, None)
        if not _same(crossed, nudged_total, 1e-12):
            raise NotDifferentiable("the param reaches the diagram beyond its state and numeric parameters "
                                    "(a reward's or a condition's numbers, action bounds, gravity, gains): from the "
                                    f"start at {param} + h the diagram at {param} returns {crossed:.12g}, the one at "
                                    f"{param} + h {nudged_total:.12g}")
    finally:
        for made in envs:
            made.close()
    return total, slope


def _same(a: float, b: float, tolerance: float = 1e-9) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(b))


def _reset(path: str | Path, param: str, value: float, seed: int, params: dict[str, Any] | None,
           made: list[ScenarioEnv]) -> ScenarioEnv:
    """The env at `value`, reset with `seed`; appended to `made` (closed by the caller) first."""
    env = ScenarioEnv(load(path, params={**(params or {}), param: value}), seed=seed)
    made.append(env)
    env.reset(seed=seed)
    return env


def _episode(env: ScenarioEnv) -> tuple[int, float]:
    """The env's own episode from its reset: (steps, return)."""
    neutral = env.compiled.to_agent(env.compiled.neutral_action())
    steps, total = 0, 0.0
    while True:
        _, reward, terminated, truncated, _ = env.step(neutral)
        steps += 1
        total += float(reward)
        if terminated or truncated:
            return steps, total


def _context_parts(context: Any) -> list[np.ndarray]:
    """The numbers of a context that AutoDiffXd differentiates: continuous state, each discrete
    state group, each numeric parameter group (in that order)."""
    parts = [context.get_continuous_state_vector().CopyToVector()]
    parts += [np.array(context.get_discrete_state(i).get_value()) for i in range(context.num_discrete_state_groups())]
    parts += [np.array(context.get_numeric_parameter(i).get_value())
              for i in range(context.num_numeric_parameter_groups())]
    return parts


def _direction(env: ScenarioEnv, nudged: ScenarioEnv, start: Any, nudged_start: Any, step: float) -> list[np.ndarray]:
    """d(context)/d(param), from the reset contexts at x and x + step; `NotDifferentiable` where
    the param changes the structure or the geometry."""
    here, there = _context_parts(start), _context_parts(nudged_start)
    if [p.shape for p in here] != [p.shape for p in there]:
        raise NotDifferentiable("the param changes the diagram's structure (its state or parameters)")
    if _geometry(env) != _geometry(nudged):
        raise NotDifferentiable("the param changes geometry (a shape, its pose or its contact properties), "
                                "which SceneGraph keeps outside the context's numbers")
    return [(b - a) / step for a, b in zip(here, there, strict=True)]


def _geometry(env: ScenarioEnv) -> list[tuple[str, ...]]:
    """Every geometry's name, shape, pose and proximity properties, as text, in the context's
    SceneGraph (per-episode draws of contact properties are there)."""
    scene_graph: Any = env.compiled.diagram.GetSubsystemByName("scene_graph")
    context = scene_graph.GetMyContextFromRoot(env.simulator.get_context())
    inspector = scene_graph.get_query_output_port().Eval(context).inspector()
    found = []
    for geometry in inspector.GetAllGeometryIds():
        properties = inspector.GetProximityProperties(geometry)
        values = [] if properties is None else [
            f"{group}.{name}={_property(properties, group, name)}"
            for group in sorted(properties.GetGroupNames()) for name in sorted(properties.GetPropertiesInGroup(group))]
        pose = np.array2string(inspector.GetPoseInFrame(geometry).GetAsMatrix34(), precision=17)
        found.append((inspector.GetName(geometry), repr(inspector.GetShape(geometry)), pose, *values))
    return sorted(found)


def _property(properties: Any, group: str, name: str) -> str:
    try:
        value = properties.GetProperty(group, name)
    except RuntimeError:  # a value of a C++ type pydrake does not bind (the hydroelastic compliance type)
        return "(unbound)"
    if hasattr(value, "static_friction"):  # CoulombFriction: its repr is its address
        return f"({value.static_friction()}, {value.dynamic_friction()})"
    return repr(value)


def _autodiff(env: ScenarioEnv) -> Any:
    try:
        return env.compiled.diagram.ToAutoDiffXd()
    except RuntimeError as exc:
        raise NotDifferentiable(f"the diagram does not convert to AutoDiffXd ({_first_line(exc)})") from None


def _replay(env: ScenarioEnv, diagram: Any, start: Any, values: list[np.ndarray], steps: int,
            direction: list[np.ndarray] | None) -> tuple[float, float]:
    """`steps` env steps of `diagram` (env's, or its AutoDiffXd copy when `direction` is given)
    from env's reset context `start` with its numbers replaced by `values` (`_context_parts`),
    acted by the neutral action: (d return / d param along `direction`, or 0 without one; the
    return)."""
    from pydrake import autodiffutils
    from pydrake.systems.analysis import Simulator, Simulator_

    # pydrake's stubs type these narrower than they take and give (arrays of AutoDiffXd).
    AutoDiffXd: Any = autodiffutils.AutoDiffXd
    InitializeAutoDiff: Any = autodiffutils.InitializeAutoDiff
    compiled = env.compiled
    neutral = np.ravel(compiled.to_agent(compiled.neutral_action())).astype(float)
    context: Any = diagram.CreateDefaultContext()
    context.SetTimeStateAndParametersFrom(start)  # abstract values too; the numbers are set below
    total: Any = 0.0

    def number(i: int) -> np.ndarray:
        if direction is None:
            return values[i]
        return InitializeAutoDiff(values[i].reshape(-1, 1), direction[i].reshape(-1, 1)).ravel()

    groups = start.num_discrete_state_groups()
    if len(values[0]):
        context.get_mutable_continuous_state_vector().SetFromVector(number(0))
    for i in range(groups):
        context.SetDiscreteState(i, number(1 + i))
    for i in range(start.num_numeric_parameter_groups()):
        context.get_mutable_numeric_parameter(i).SetFromVector(number(1 + groups + i))
    if direction is not None:
        neutral = np.array([AutoDiffXd(float(a), np.zeros(1)) for a in neutral])
        total = AutoDiffXd(0.0, np.zeros(1))
    diagram.GetInputPort(compiled.action_port).FixValue(context, neutral)
    reward_port: Any = diagram.GetOutputPort(compiled.reward_port)
    at_start = compiled.scenario.episode.reward_at == "step_start"
    clock = EpisodeClock(compiled.scenario)
    simulator: Any = Simulator_[AutoDiffXd](diagram, context) if direction is not None else Simulator(diagram, context)
    try:
        simulator.Initialize()
        for k in range(1, steps + 1):
            if at_start:
                total = total + reward_port.Eval(context)[0]
            simulator.AdvanceTo(clock.end_of(k))
            if not at_start:
                total = total + reward_port.Eval(context)[0]
    except RuntimeError as exc:
        raise NotDifferentiable(f"Drake cannot replay this episode{' in AutoDiffXd' if direction is not None else ''} "
                                f"({_first_line(exc)})", everywhere=False) from None
    if direction is None:
        return 0.0, float(total)
    derivatives = total.derivatives()
    return (float(derivatives[0]) if len(derivatives) else 0.0), float(total.value())


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
