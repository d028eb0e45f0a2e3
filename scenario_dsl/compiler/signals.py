"""Compiler stage 2: the values expressions read (`model.Signal`) -> one Drake vector port.

Signals fall in three groups, gathered in this order so that no permutation is needed:
state signals (joints, the plant, controllers) are rows of the plant's state, picked by one
`MatrixGain`; action signals are rows of the physical action, picked by another; body poses and
velocities, time and the episode's random values come from one small `LeafSystem` ("gather"),
whose random values are a numeric parameter that the environment sets at reset.
`inline` first replaces reads of observations and parameters by what they stand for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydrake.common.value import AbstractValue
from pydrake.math import RigidTransform, RollPitchYaw
from pydrake.multibody.math import SpatialVelocity
from pydrake.systems.framework import BasicVector, Context, DiagramBuilder, LeafSystem, OutputPort
from pydrake.systems.primitives import AffineSystem, MatrixGain, Multiplexer

from scenario_dsl.compiler.plant import CompileError, PlantHandles, vec
from scenario_dsl.lang import model as m

Key = tuple[str, str, str]
STATE_SOURCES = ("joint", "plant", "controller")
GATHER_SOURCES = ("body", "frame", "time", "random")


def key(signal: m.Signal) -> Key:
    return (signal.source, signal.name, signal.attribute)


def inline(expr: m.Expr, observations: Mapping[str, m.Expr], params: Mapping[str, float | list[float]]) -> m.Expr:
    """`expr` with reads of earlier observations replaced by their expressions and parameters by constants."""
    if isinstance(expr, m.Signal):
        if expr.source == "observation":
            return inline(observations[expr.name], observations, params)
        if expr.source == "param":
            if expr.name not in params:
                raise CompileError("SCN210", f"no value for parameter `{expr.name}`")
            value = params[expr.name]
            return m.Const(value=value, size=len(value) if isinstance(value, list) else None)
        return expr
    if isinstance(expr, m.Apply):
        return expr.model_copy(update={"args": [inline(a, observations, params) for a in expr.args]})
    return expr


def with_plant_sizes(expr: m.Expr, handles: PlantHandles) -> m.Expr:
    """`expr` with the sizes of `plant.state/q/v` filled in where the validator could not know
    them (a model file it could not inspect); a node above such a leaf takes its size."""
    if isinstance(expr, m.Signal) and expr.source == "plant" and expr.size is None:
        rows = state_rows(handles, m.Scenario.model_construct(controllers=[]), expr)
        return expr.model_copy(update={"size": len(rows) if len(rows) != 1 else None})
    if isinstance(expr, m.Apply):
        args = [with_plant_sizes(a, handles) for a in expr.args]
        if args == expr.args:
            return expr
        size: int | None = expr.size
        if size is None and expr.fn not in ("norm", "sum", "dot", "index", "min", "max"):
            size = next((a.size for a in args if a.size is not None), None)
        return expr.model_copy(update={"args": args, "size": size})
    return expr


def state_rows(handles: PlantHandles, scenario: m.Scenario, signal: m.Signal) -> list[int]:
    """Indices into the plant state [q; v] that a joint, plant or controller signal reads."""
    plant = handles.plant
    nq = plant.num_positions()
    if signal.source == "plant":
        rows = handles.world_state_rows
        if rows is None:
            rows = list(range(nq + plant.num_velocities()))
        return {"state": rows, "q": [r for r in rows if r < nq], "v": [r for r in rows if r >= nq]}[signal.attribute]
    if signal.source == "controller":
        controller = next(c for c in scenario.controllers if c.name == signal.name)
        return [i for j in controller.joints for i in joint_rows(handles, j, signal.attribute)]
    return joint_rows(handles, signal.name, signal.attribute)


# joint type -> attribute -> ("q" or "v", offset, count); "q" and "v" read the whole joint
_COMPONENTS: dict[str, dict[str, tuple[str, int, int]]] = {
    "planar": {"x": ("q", 0, 1), "y": ("q", 1, 1), "theta": ("q", 2, 1),
               "vx": ("v", 0, 1), "vy": ("v", 1, 1), "omega": ("v", 2, 1)},
    "quaternion_floating": {"quaternion": ("q", 0, 4), "position": ("q", 4, 3),
                            "angular_velocity": ("v", 0, 3), "velocity": ("v", 3, 3)},
}


def joint_rows(handles: PlantHandles, name: str, attribute: str) -> list[int]:
    """Indices into [q; v] of one joint's `q`, `v` or named component (planar x/y/theta/vx/vy/omega,
    free position/quaternion/velocity/angular_velocity)."""
    joint = handles.joint(name)
    nq = handles.plant.num_positions()
    q0, v0 = joint.position_start(), nq + joint.velocity_start()
    if attribute == "q":
        return list(range(q0, q0 + joint.num_positions()))
    if attribute == "v":
        return list(range(v0, v0 + joint.num_velocities()))
    component = _COMPONENTS.get(joint.type_name(), {}).get(attribute)
    if component is None:
        raise CompileError("SCN204", f"joint `{name}` ({joint.type_name()}) has no attribute `{attribute}`")
    part, offset, count = component
    start = (q0 if part == "q" else v0) + offset
    return list(range(start, start + count))


def selector(rows: Sequence[int], width: int) -> Any:
    """The 0/1 matrix whose product with a `width`-vector picks `rows`, in order."""
    matrix = np.zeros((len(rows), width))
    matrix[np.arange(len(rows)), list(rows)] = 1.0
    return vec(matrix)


@dataclass
class Gathered:
    """The gathered signal vector: `signals` in the order of `port`'s entries."""

    signals: list[m.Signal]
    port: OutputPort | None
    gather: Gather | None  # the LeafSystem, when any body, time or random signal is read


def group_signals(signals: Sequence[m.Signal]) -> dict[str, list[m.Signal]]:
    """`signals` by where they come from: "state" (rows of the plant state), "action", "gather"."""
    groups: dict[str, list[m.Signal]] = {"state": [], "action": [], "gather": []}
    for signal in signals:
        if signal.source in STATE_SOURCES:
            groups["state"].append(signal)
        elif signal.source == "action":
            groups["action"].append(signal)
        elif signal.source in GATHER_SOURCES:
            groups["gather"].append(signal)
        else:
            raise CompileError("SCN901", f"signal source `{signal.source}` reached the compiler")
    return groups


def gather_signals(builder: DiagramBuilder, handles: PlantHandles, scenario: m.Scenario,
                   signals: Sequence[m.Signal], action_port: OutputPort | None) -> Gathered:
    """Add the systems that produce `signals` (regrouped) as one vector; see the module docstring."""
    groups = group_signals(signals)
    ports: list[OutputPort] = []
    plant = handles.plant
    if groups["state"]:
        rows = [i for s in groups["state"] for i in checked_rows(s, state_rows(handles, scenario, s))]
        width = plant.num_multibody_states()
        gain = builder.AddNamedSystem("state_signals", MatrixGain(selector(rows, width)))
        builder.Connect(plant.get_state_output_port(), gain.get_input_port())
        ports.append(gain.get_output_port())
    if groups["action"]:
        assert action_port is not None
        n = action_port.size()
        for s in groups["action"]:
            checked_rows(s, list(range(n)))
        if [s.attribute for s in groups["action"]] == ["value"]:
            ports.append(action_port)
        else:  # rows of [physical; normalized]: `ACTION.normalized` maps [lower, upper] onto [-1, 1]
            source = action_port
            if any(s.attribute == "normalized" for s in groups["action"]):
                source = _with_normalized(builder, scenario.action, action_port)
            rows = [i + (n if s.attribute == "normalized" else 0) for s in groups["action"] for i in range(n)]
            gain = builder.AddNamedSystem("action_signals", MatrixGain(selector(rows, source.size())))
            builder.Connect(source, gain.get_input_port())
            ports.append(gain.get_output_port())
    gather = None
    if groups["gather"]:
        lets = scenario.random_sizes()
        gather = Gather(handles, groups["gather"], lets)
        builder.AddNamedSystem("gather", gather)
        if gather.reads_bodies:
            builder.Connect(plant.get_body_poses_output_port(), gather.get_input_port(0))
            builder.Connect(plant.get_body_spatial_velocities_output_port(), gather.get_input_port(1))
        ports.append(gather.get_output_port())
    ordered = [*groups["state"], *groups["action"], *groups["gather"]]
    if len(ports) <= 1:
        return Gathered(ordered, ports[0] if ports else None, gather)
    mux = builder.AddNamedSystem("signals", Multiplexer([p.size() for p in ports]))
    for i, port in enumerate(ports):
        builder.Connect(port, mux.get_input_port(i))
    return Gathered(ordered, mux.get_output_port(), gather)


def _with_normalized(builder: DiagramBuilder, action: m.Action, physical: OutputPort) -> OutputPort:
    """[physical; normalized] from the physical action: 2 (a - lower) / (upper - lower) - 1."""
    lower, upper = np.asarray(action.lower, dtype=float), np.asarray(action.upper, dtype=float)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise CompileError("SCN406", f"`{action.name}.normalized` needs finite action bounds",
                           "give `in [lower, upper]` with finite numbers", action.where)
    n = len(lower)
    gain = np.vstack([np.eye(n), np.diag(2 / (upper - lower))])
    offset = np.concatenate([np.zeros(n), -(upper + lower) / (upper - lower)])
    system = builder.AddNamedSystem("action_normalized", AffineSystem(
        vec(np.zeros((0, 0))), vec(np.zeros((0, n))), vec(np.zeros(0)), vec(np.zeros((2 * n, 0))), vec(gain),
        vec(offset)))
    builder.Connect(physical, system.get_input_port())
    return system.get_output_port()


def checked_rows(signal: m.Signal, rows: list[int]) -> list[int]:
    if len(rows) != (signal.size or 1):
        raise CompileError("SCN901", f"`{signal.name}.{signal.attribute}` has {len(rows)} values in Drake, "
                           f"the scenario expects {signal.size or 1}")
    return rows


_BODY_READERS: dict[str, Callable[[RigidTransform, SpatialVelocity], Any]] = {
    "position": lambda X, V: X.translation(),
    "x": lambda X, V: X.translation()[0:1],
    "y": lambda X, V: X.translation()[1:2],
    "z": lambda X, V: X.translation()[2:3],
    "rpy": lambda X, V: RollPitchYaw(X.rotation()).vector(),
    "quaternion": lambda X, V: X.rotation().ToQuaternion().wxyz(),
    "velocity": lambda X, V: V.translational(),
    "angular_velocity": lambda X, V: V.rotational(),
}


class Gather(LeafSystem):
    """Body poses and velocities in the world frame, time, and the episode's random values.

    Input ports 0 and 1 (when a body is read) take the plant's body poses and spatial
    velocities; numeric parameter 0 holds the random values (`set_random_values`), parameter 1
    the time the episode began (`set_time_origin`).
    """

    def __init__(self, handles: PlantHandles, signals: Sequence[m.Signal], lets: Mapping[str, int]) -> None:
        super().__init__()
        self.reads_bodies = any(s.source in ("body", "frame") for s in signals)
        if self.reads_bodies:
            self.DeclareAbstractInputPort("body_poses", AbstractValue.Make([RigidTransform()]))
            self.DeclareAbstractInputPort("body_spatial_velocities", AbstractValue.Make([SpatialVelocity()]))
        self.let_slices: dict[str, slice] = {}
        start = 0
        for name, size in lets.items():
            self.let_slices[name] = slice(start, start + size)
            start += size
        self._random_index = self.DeclareNumericParameter(BasicVector(vec(np.zeros(start))))
        # When the episode began: 0 in a single env; a world of a batch starts its episodes
        # while the shared simulator's clock runs on (`set_time_origin`).
        self._origin_index = self.DeclareNumericParameter(BasicVector(vec(np.zeros(1))))
        self._readers: list[Callable[[Context, Any, Any], Any]] = [self._reader(handles, s) for s in signals]
        size = sum(s.size or 1 for s in signals)
        self.DeclareVectorOutputPort("signals", size, self._calc)

    def _reader(self, handles: PlantHandles, signal: m.Signal) -> Callable[[Context, Any, Any], Any]:
        """A function of (context, body poses, body velocities) giving the signal's value."""
        if signal.source == "time":
            origin = self._origin_index
            return lambda context, poses, velocities: np.array(
                [context.get_time() - context.get_numeric_parameter(origin).GetAtIndex(0)])
        if signal.source == "random":
            part = self.let_slices[signal.name]
            return lambda context, poses, velocities: context.get_numeric_parameter(self._random_index).value()[part]
        if signal.source == "frame":  # a frame fixed to a body: the body's pose times the frame's offset in it
            frame = handles.frame(signal.name)
            body_index, X_BF = int(frame.body().index()), frame.GetFixedPoseInBodyFrame()
            read_frame = _BODY_READERS[signal.attribute]
            return lambda context, poses, velocities: read_frame(poses[body_index] @ X_BF, velocities[body_index])
        index = int(handles.body(signal.name).index())
        read = _BODY_READERS.get(signal.attribute)
        if read is None:
            raise CompileError("SCN204", f"body `{signal.name}` has no attribute `{signal.attribute}`")
        return lambda context, poses, velocities: read(poses[index], velocities[index])

    def _calc(self, context: Context, output: BasicVector) -> None:
        poses = velocities = None
        if self.reads_bodies:  # once per evaluation: each Eval copies every body's pose into Python
            poses, velocities = self.get_input_port(0).Eval(context), self.get_input_port(1).Eval(context)
        output.SetFromVector(vec(np.concatenate([read(context, poses, velocities) for read in self._readers])))

    def set_time_origin(self, context: Context, time: float) -> None:
        """The `time` signal reads 0 at `time` from now on (a world of a batch at its reset)."""
        context.get_mutable_numeric_parameter(self._origin_index).SetAtIndex(0, time)

    def set_random_values(self, context: Context, values: Mapping[str, float | np.ndarray]) -> None:
        """Store the episode's draws (`let name ~ ...`) in this system's `context`."""
        vector = context.get_mutable_numeric_parameter(self._random_index)
        for name, value in values.items():
            if name in self.let_slices:
                vector.get_mutable_value()[self.let_slices[name]] = np.atleast_1d(value)
