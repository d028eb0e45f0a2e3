"""Compiler: `randomize` blocks -> a `Randomizer` that redraws a context each episode.

Every draw comes from Drake's `RandomGenerator` (through `pydrake.common.schema`), so one seed
fixes an episode. A draw's target ("joint.attr", "body.attr") becomes a `Target`: a getter of
its nominal value (what the context holds after `SetRandomContext`, so nothing drifts across
episodes) and a setter. `TARGETS` is the catalogue; a later kind of target adds an entry there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydrake.common import RandomGenerator
from pydrake.common.eigen_geometry import Quaternion
from pydrake.common.schema import Gaussian, Rotation, Transform, Uniform, UniformDiscrete
from pydrake.geometry import ProximityProperties, RoleAssign, SceneGraph
from pydrake.math import RollPitchYaw
from pydrake.multibody.plant import CoulombFriction
from pydrake.systems.framework import Context, OutputPort

from scenario_dsl import model as m
from scenario_dsl.compiler.plant import CompileError, PlantHandles, vec
from scenario_dsl.compiler.signals import Gather, joint_rows

Value = float | list[float]
MAX_TRIES = 1000  # rejection sampling for `require`


@dataclass
class Target:
    """One thing a draw sets: `get(root_context)` reads the current value, `set` writes it."""

    name: str
    size: int
    get: Callable[[Context], Any]  # -> a float64 array of `size` values
    set: Callable[[Context, Any], None]


class Randomizer:
    """Draws an episode: `let`s, then draws in order, then checks `require`s (redrawing on failure)."""

    def __init__(self, scenario: m.Scenario, handles: PlantHandles, scene_graph: SceneGraph,
                 gather: Gather | None, requirements: OutputPort | None) -> None:
        for r in scenario.randomizations:
            if r.scope != "episode":
                raise CompileError("SCN505", f"`randomize per {r.scope}` is not supported yet; use per episode",
                                   None, r.where)
        self.blocks = scenario.randomizations
        self.handles = handles
        self.gather = gather
        self.requirements = requirements
        self.messages = [q.message or "a requirement" for r in self.blocks for q in r.requirements]
        factory = _TargetFactory(handles, scene_graph)
        self.targets = {d.target: factory.make(d.target, d.where) for r in self.blocks for d in r.draws}
        self._initial_v = [(joint_rows(handles, name, "v"), np.asarray(v, dtype=float))
                           for name, v in handles.initial_v.items()]

    def set_initial_state(self, context: Context) -> None:
        """Write the declared initial velocities (Drake has no default velocities)."""
        if not self._initial_v:
            return
        plant = self.handles.plant
        plant_context = plant.GetMyMutableContextFromRoot(context)
        x = plant.GetPositionsAndVelocities(plant_context)
        for rows, v in self._initial_v:
            x[rows] = v
        plant.SetPositionsAndVelocities(plant_context, x)

    def apply(self, context: Context, generator: RandomGenerator,
              reset: Callable[[], None] | None = None) -> dict[str, Value]:
        """Draw and apply one episode's values; returns them by `let` name and target.

        `reset` restores the nominal context before a redraw when a `require` fails.
        """
        for attempt in range(MAX_TRIES):
            if attempt and reset is not None:
                reset()
            self.set_initial_state(context)
            drawn = self._draw(context, generator)
            failed = self._failed_requirement(context)
            if failed is None:
                return drawn
        raise RuntimeError(f"randomization: `{failed}` still fails after {MAX_TRIES} draws; "
                           "widen the distributions or relax the requirement")

    def _draw(self, context: Context, generator: RandomGenerator) -> dict[str, Value]:
        drawn: dict[str, Value] = {}
        lets: dict[str, np.ndarray] = {}
        for block in self.blocks:
            for let in block.lets:
                lets[let.name] = sample(let.value, generator)
                drawn[let.name] = _plain(lets[let.name])
            if self.gather is not None:
                self.gather.set_random_values(self.gather.GetMyMutableContextFromRoot(context), lets)
            for draw in block.draws:
                target = self.targets[draw.target]
                if isinstance(draw.value, m.Distribution):
                    value = sample(draw.value, generator)
                else:
                    from scenario_dsl.compiler.expressions import evaluate

                    value = evaluate(draw.value, {("random", k, "value"): v for k, v in lets.items()})
                new = _combine(draw.operation, target.get(context), value, target.size)
                target.set(context, new)
                drawn[draw.target] = _plain(new)
        return drawn

    def _failed_requirement(self, context: Context) -> str | None:
        if self.requirements is None:
            return None
        values: Any = self.requirements.Eval(context)
        for ok, message in zip(values, self.messages, strict=True):
            if not ok:
                return message
        return None


def _combine(operation: str, nominal: np.ndarray, value: np.ndarray, size: int) -> np.ndarray:
    """The new value of a target: `set` (value), `offset` (nominal + value), `scale` (nominal * value)."""
    new = value if operation == "set" else nominal + value if operation == "offset" else nominal * value
    return np.broadcast_to(np.asarray(new, dtype=float), (size,)).copy()


def _plain(value: np.ndarray) -> Value:
    flat = np.atleast_1d(value).astype(float)
    return float(flat[0]) if flat.size == 1 else [float(x) for x in flat]


# ---- sampling -------------------------------------------------------------------------------

def _param(dist: m.Distribution, *names: str) -> np.ndarray:
    for name in names:
        if name in dist.params:
            return np.asarray(dist.params[name], dtype=float)
    raise CompileError("SCN405", f"`{dist.family}` needs a parameter named {' or '.join(names)}",
                       f"it has: {', '.join(dist.params) or 'none'}", dist.where)


def sample(dist: m.Distribution, generator: RandomGenerator) -> np.ndarray:
    """One draw from `dist` using Drake's generator (element by element for vectors)."""
    n = dist.size or 1
    family = dist.family
    if family in ("uniform_rotation", "rpy"):
        return _rotation(dist, generator, n)
    if family == "choice":
        values = _param(dist, "values", "choices", "options")
        weights = dist.params.get("weights", dist.params.get("p"))
        if weights is None:
            index = int(UniformDiscrete(list(range(len(values)))).Sample(generator))
        else:
            cdf = np.cumsum(np.asarray(weights, dtype=float))
            index = int(np.searchsorted(cdf / cdf[-1], Uniform(0.0, 1.0).Sample(generator), side="right"))
        return np.atleast_1d(values[min(index, len(values) - 1)]).astype(float)
    scalar = _SCALAR.get(family)
    if scalar is None:
        raise CompileError("SCN505", f"distribution `{family}` is not supported yet", None, dist.where)
    params = {name: np.broadcast_to(value, (n,)) for name, value in _scalar_params(dist).items()}
    return np.array([scalar({k: float(v[i]) for k, v in params.items()}, generator) for i in range(n)])


def _scalar_params(dist: m.Distribution) -> dict[str, np.ndarray]:
    family = dist.family
    if family in ("uniform", "loguniform", "integers"):
        return {"low": _param(dist, "low", "lo", "min", "a"), "high": _param(dist, "high", "hi", "max", "b")}
    if family in ("normal", "lognormal"):
        return {"mean": _param(dist, "mean", "mu", "loc"), "std": _param(dist, "std", "stddev", "sigma", "scale")}
    if family == "truncnormal":
        return {"mean": _param(dist, "mean", "mu", "loc"), "std": _param(dist, "std", "stddev", "sigma", "scale"),
                "low": _param(dist, "low", "lo", "min", "a"), "high": _param(dist, "high", "hi", "max", "b")}
    if family == "bernoulli":
        return {"p": _param(dist, "p", "probability")}
    return {"value": _param(dist, "value")}  # constant


def _truncnormal(p: Mapping[str, float], generator: RandomGenerator) -> float:
    for _ in range(MAX_TRIES):
        x = Gaussian(p["mean"], p["std"]).Sample(generator)
        if p["low"] <= x <= p["high"]:
            return float(x)
    return float(np.clip(p["mean"], p["low"], p["high"]))


_SCALAR: dict[str, Callable[[Mapping[str, float], RandomGenerator], float]] = {
    "uniform": lambda p, g: Uniform(p["low"], p["high"]).Sample(g),
    "normal": lambda p, g: Gaussian(p["mean"], p["std"]).Sample(g),
    "truncnormal": _truncnormal,
    "lognormal": lambda p, g: math.exp(Gaussian(p["mean"], p["std"]).Sample(g)),
    "loguniform": lambda p, g: math.exp(Uniform(math.log(p["low"]), math.log(p["high"])).Sample(g)),
    "integers": lambda p, g: float(math.floor(Uniform(p["low"], p["high"] + 1.0).Sample(g))),  # both ends included
    "bernoulli": lambda p, g: float(Uniform(0.0, 1.0).Sample(g) < p["p"]),
    "constant": lambda p, g: p["value"],
}


def _rotation(dist: m.Distribution, generator: RandomGenerator, n: int) -> Any:
    if dist.family == "rpy":
        raise CompileError("SCN505", "`rpy(...)` draws are not supported yet", None, dist.where)
    transform = Transform()
    transform.rotation = Rotation(value=Rotation.Uniform())
    rotation = transform.Sample(generator).rotation()
    return rotation.ToQuaternion().wxyz() if n == 4 else RollPitchYaw(rotation).vector()


# ---- targets --------------------------------------------------------------------------------

class _TargetFactory:
    def __init__(self, handles: PlantHandles, scene_graph: SceneGraph) -> None:
        self.handles = handles
        self.plant = handles.plant
        self.scene_graph = scene_graph

    def make(self, target: str, where: m.Where | None) -> Target:
        owner, _, attribute = target.rpartition(".")
        try:
            joint = self.handles.joint(owner)
        except CompileError:
            joint = None
        if joint is not None and attribute == "damping":
            return Target(target, joint.num_velocities(),
                          lambda c: joint.GetDampingVector(self._plant_context(c)),
                          lambda c, v: joint.SetDampingVector(self._plant_context(c), vec(v)))
        if joint is not None:
            return self._state(target, joint_rows(self.handles, owner, attribute))
        try:
            body = self.handles.body(owner)
        except CompileError:
            raise CompileError("SCN505", f"randomizing `{target}` is not supported yet",
                               "supported: joint state (q, v and their parts) and damping, body mass, "
                               "center_of_mass, friction, and the pose and velocity of free bodies", where) from None
        if attribute == "mass":
            return Target(target, 1, lambda c: np.array([body.get_mass(self._plant_context(c))]),
                          lambda c, v: body.SetMass(self._plant_context(c), float(v[0])))
        if attribute == "center_of_mass":
            return Target(target, 3, lambda c: body.CalcCenterOfMassInBodyFrame(self._plant_context(c)),
                          lambda c, v: body.SetCenterOfMassInBodyFrame(self._plant_context(c), vec(v)))
        if attribute == "friction":
            return self._friction(target, body)
        return self._free_body(target, body, attribute, where)

    def _plant_context(self, context: Context) -> Context:
        return self.plant.GetMyMutableContextFromRoot(context)

    def _state(self, name: str, rows: list[int]) -> Target:
        plant = self.plant

        def get(context: Context) -> Any:
            return plant.GetPositionsAndVelocities(self._plant_context(context))[rows]

        def set_(context: Context, value: Any) -> None:
            plant_context = self._plant_context(context)
            x = plant.GetPositionsAndVelocities(plant_context)
            x[rows] = value
            plant.SetPositionsAndVelocities(plant_context, x)

        return Target(name, len(rows), get, set_)

    def _free_body(self, name: str, body: Any, attribute: str, where: m.Where | None) -> Target:
        joints = [self.plant.get_joint(i) for i in self.plant.GetJointIndices(body.model_instance())]
        joint = next((j for j in joints if j.child_body().index() == body.index()
                      and j.type_name() == "quaternion_floating"), None)
        if joint is None:
            raise CompileError("SCN505", f"`{name}`: only a free body's pose and velocity can be drawn",
                               "draw the state of the joint that holds it instead", where)
        rows_of = {"x": ("position", 0, 1), "y": ("position", 1, 1), "z": ("position", 2, 1),
                   "roll": ("rpy", 0, 1), "pitch": ("rpy", 1, 1), "yaw": ("rpy", 2, 1)}
        part, offset, count = rows_of.get(attribute, (attribute, 0, 0))
        if part == "rpy":
            return self._orientation(name, joint, slice(offset, offset + count) if count else slice(0, 3))
        rows = self._joint_rows(joint, part)
        return self._state(name, rows[offset:offset + count] if count else rows)

    def _orientation(self, name: str, joint: Any, part: slice) -> Target:
        """Roll, pitch, yaw (all or one) of a free body, through its joint's quaternion."""
        quaternion = self._state(name, self._joint_rows(joint, "quaternion"))

        def rpy(context: Context) -> Any:
            wxyz = quaternion.get(context)
            return RollPitchYaw(Quaternion(vec(wxyz / np.linalg.norm(wxyz)))).vector()

        def set_(context: Context, value: Any) -> None:
            angles = rpy(context)
            angles[part] = value
            quaternion.set(context, RollPitchYaw(vec(angles)).ToQuaternion().wxyz())

        return Target(name, part.stop - part.start, lambda c: rpy(c)[part], set_)

    def _joint_rows(self, joint: Any, attribute: str) -> list[int]:
        nq = self.plant.num_positions()
        q0, v0 = joint.position_start(), nq + joint.velocity_start()
        spans = {"quaternion": (q0, 4), "position": (q0 + 4, 3), "angular_velocity": (v0, 3), "velocity": (v0 + 3, 3)}
        if attribute not in spans:
            raise CompileError("SCN505", f"randomizing a free body's `{attribute}` is not supported")
        start, count = spans[attribute]
        return list(range(start, start + count))

    def _friction(self, name: str, body: Any) -> Target:
        plant, scene_graph = self.plant, self.scene_graph
        geometries = plant.GetCollisionGeometriesForBody(body)
        source_id: Any = plant.get_source_id()
        if not geometries:
            raise CompileError("SCN505", f"`{name}`: the body has no collision geometry")

        def sg_context(context: Context) -> Context:
            return scene_graph.GetMyMutableContextFromRoot(context)

        def get(context: Context) -> Any:  # the model's value: draws never compound
            inspector = scene_graph.model_inspector()
            props = inspector.GetProximityProperties(geometries[0])
            friction: Any = props.GetProperty("material", "coulomb_friction")
            return np.array([friction.dynamic_friction()])

        def set_(context: Context, value: Any) -> None:
            inspector = scene_graph.model_inspector()
            for geometry in geometries:
                props = ProximityProperties(inspector.GetProximityProperties(geometry))
                props.UpdateProperty("material", "coulomb_friction", CoulombFriction(float(value[0]), float(value[0])))
                scene_graph.AssignRole(sg_context(context), source_id, geometry, props,
                                       RoleAssign.kReplace)

        return Target(name, 1, get, set_)
