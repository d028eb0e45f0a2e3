"""Compiler: N copies ("worlds") of one scenario in one Drake diagram, for `runtime.batch_env`.

One `MultibodyPlant` holds every world. World i's bodies, joints, frames, actuators and loaded
model instances are named `world<i>::<name>`, so Drake's names and Meshcat's tree show the index
(a declared body's model instance is shared by the worlds: see `plant._add_body`). The worlds
overlap in space (no world is moved, so their observations are a single env's) and collision
filters keep them from touching each other. Around the plant, for every world at once:

- `BatchedActions` (named after the action; the exported input "action", N x action size)
  scales the agent's actions to physical ones and, for a direct action, fills the plant's
  actuation input; each world's controllers are a sub-diagram `world<i>` built as a single
  env's (`_WorldPlant` hands them the plant's ports);
- a `signals.Gather` per world (`world<i>::gather`) when bodies, time or `let` values are read;
- one `expressions.BatchedExpressions` evaluates every world's observation, reward and
  conditions in NumPy: the exported "outcome" (a row per world, `CompiledBatch.outcome`),
  "reward_terms" and, with scene requirements, "requirements".

A world is reset on its own (`CompiledBatch.reset_world`): its rows of the state, its systems'
contexts and its episode's draws. Only discrete plants: a continuous plant's error-controlled
integrator would choose one step size for all worlds, so one world's stiffness would change
another's trajectory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydrake.common import RandomGenerator
from pydrake.geometry import CollisionFilterDeclaration, GeometrySet, Role, SceneGraph
from pydrake.multibody.plant import AddMultibodyPlant, MultibodyPlant
from pydrake.multibody.tree import BodyIndex
from pydrake.systems.framework import (
    BasicVector,
    Context,
    Diagram,
    DiagramBuilder,
    InputPort,
    LeafSystem,
    OutputPort,
    System,
)
from pydrake.systems.primitives import Demultiplexer, Multiplexer, PassThrough

from scenario_dsl.compiler.actuation import add_controller, connect_actuation, direct_actuation
from scenario_dsl.compiler.diagram import (
    ActionScaling,
    Params,
    agent_spaces,
    check_unique_names,
    holds_data,
    output_groups,
    sized_scenario,
)
from scenario_dsl.compiler.expressions import BatchedExpressions
from scenario_dsl.compiler.plant import (
    CompileError,
    PlantHandles,
    check_limits,
    finalize_plant,
    plant_config,
    populate,
    set_state_rows,
    vec,
)
from scenario_dsl.compiler.randomize import Randomizer
from scenario_dsl.compiler.rebuild import BuildRandomizer, has_build_scope
from scenario_dsl.compiler.signals import Gather, checked_rows, group_signals
from scenario_dsl.compiler.signals import state_rows as state_rows_of
from scenario_dsl.lang import model as m
from scenario_dsl.lang.evaluate import collect_signals
from scenario_dsl.lang.limits import MAX_WORLDS
from scenario_dsl.lang.names import CONTACT_TARGETS


class _WorldPlant:
    """The shared plant as one world's controllers see it: its state comes in through the
    sub-diagram's input, and its actuation goes out through an output (a port of one diagram
    cannot be wired in another). The rest is the plant's."""

    def __init__(self, plant: MultibodyPlant, builder: DiagramBuilder) -> None:
        self._plant, self._builder = plant, builder
        self._inputs: dict[str, OutputPort] = {}
        self._actuation: InputPort | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plant, name)

    def _input(self, name: str, system: System) -> OutputPort:
        if name not in self._inputs:
            self._builder.AddNamedSystem(name, system)
            self._builder.ExportInput(system.get_input_port(), name)
            self._inputs[name] = system.get_output_port()
        return self._inputs[name]

    def get_state_output_port(self) -> OutputPort:
        return self._input("plant_state", PassThrough(self._plant.num_multibody_states()))

    def get_actuation_input_port(self) -> InputPort:
        if self._actuation is None:
            through = self._builder.AddNamedSystem("actuation_out", PassThrough(self._plant.num_actuators()))
            self._builder.ExportOutput(through.get_output_port(), "actuation")
            self._actuation = through.get_input_port()
        return self._actuation


@dataclass
class World:
    """One copy of the scenario in the batch."""

    index: int
    scenario: m.Scenario  # this world's (its own build-scope draws, when the scenario has any)
    handles: PlantHandles
    randomizer: Randomizer
    state_rows: np.ndarray  # this world's rows of the plant's [q; v]
    built: dict[str, Any] = field(default_factory=dict)  # the build-scope values it was built with
    data_systems: list[System] = field(default_factory=list)  # what `SetRandomContext` resets at its reset
    gather: Gather | None = None  # its body/time/random signals; keeps the time its episode began


@dataclass
class CompiledBatch(ActionScaling):
    """N worlds of one scenario in one diagram (see the module docstring)."""

    scenario: m.Scenario  # the first world's, with plant sizes: spaces and names come from it
    diagram: Diagram
    plant: MultibodyPlant
    scene_graph: SceneGraph
    worlds: list[World]
    outcome: dict[str, slice]  # the layout of one world's row of "outcome"
    outcome_size: int  # the size of one world's row
    reward_terms: list[str]
    termination_reasons: list[str]
    action_lower: np.ndarray
    action_upper: np.ndarray
    observation_lower: np.ndarray
    observation_upper: np.ndarray
    has_success: bool
    default_state: np.ndarray  # the plant's [q; v] in a default context
    controller_plants: list[MultibodyPlant] = field(default_factory=list)  # kept alive with the diagram
    _forces: dict[int, list[Any]] = field(default_factory=dict)  # each world's pushes now

    @property
    def n_worlds(self) -> int:
        return len(self.worlds)

    def reset_world(self, context: Context, world: World, generator: RandomGenerator) -> dict[str, Any]:
        """Put `world` at the start of an episode, leaving the others as they are: its rows of the
        plant state at their defaults, `SetRandomContext` of its own systems that hold data, the
        time its episode starts from (for the `time` signal), and its episode's draws (returned).

        The plant's parameters are shared by every world, so they are not reset: a world's drawn
        parameters (masses, damping, ...) are written again by every episode's draws, and the rest
        never change (what a single env's reset restores, no draw had changed)."""
        plant_context = self.plant.GetMyMutableContextFromRoot(context)

        def reset() -> None:
            set_state_rows(self.plant, plant_context, world.state_rows, self.default_state[world.state_rows])
            for system in world.data_systems:
                system.SetRandomContext(system.GetMyMutableContextFromRoot(context), generator)
            if world.gather is not None:
                world.gather.set_time_origin(world.gather.GetMyMutableContextFromRoot(context), context.get_time())

        reset()
        drawn = world.randomizer.apply(context, generator, reset)
        return {**world.built, **drawn}

    def _push(self, context: Context, world: int, forces: list[Any]) -> bool:
        """Fix the plant's applied-force input to every world's pushes, `world`'s now `forces`."""
        if not forces and not self._forces.get(world):
            return True
        self._forces[world] = forces
        every = [force for pushes in self._forces.values() for force in pushes]
        self.plant.get_applied_spatial_force_input_port().FixValue(
            self.plant.GetMyMutableContextFromRoot(context), every)
        return True


def compile_batch(scenario: m.Scenario, worlds: int, *, params: Params | None = None,
                  variants: list[tuple[m.Scenario, dict[str, Any]]] | None = None) -> CompiledBatch:
    """Build `worlds` copies of `scenario` into one diagram (see the module docstring). World i is
    built from `variants[i]` when given: a copy of the scenario with its `randomize per build`
    values drawn (`rebuild.BuildRandomizer.draw`), and those values; else every world from
    `scenario` itself (a scenario with build-scope draws: each world draws its own from a fresh
    generator)."""
    if not 1 <= worlds <= MAX_WORLDS:
        raise CompileError("SCN505", f"a batch holds 1 to {MAX_WORLDS} worlds, not {worlds}")
    check_limits(scenario)
    if scenario.plant.time_step == 0:
        raise CompileError("SCN505", "worlds in one diagram need a discrete plant (time_step > 0): a continuous "
                           "plant's integrator would choose one step size for every world",
                           "give the plant a time_step, or run one environment per process", scenario.plant.where)
    if scenario.images:
        raise CompileError("SCN505", f"observation `{scenario.images[0].name}` is an image: worlds in one diagram "
                           "observe vectors only", "train it with --n-envs K (one world per process)",
                           scenario.images[0].where)
    if variants is None:
        variants = [(scenario, {})] * worlds
        if has_build_scope(scenario):
            draws, generator = BuildRandomizer(scenario), np.random.default_rng()
            variants = [draws.draw(generator) for _ in range(worlds)]
    if len(variants) != worlds:
        raise ValueError(f"{len(variants)} variants for {worlds} worlds")
    if len({tuple(variant.plant.gravity) for variant, _ in variants}) > 1:
        where = next((d.where for r in scenario.randomizations if r.scope == "build" for d in r.draws
                      if d.target == "plant.gravity"), scenario.plant.where)
        raise CompileError("SCN505", "the worlds of a batch share one plant, and gravity is one field of the "
                           "whole plant: they cannot each draw their own", "train without --worlds (one world per "
                           "process) to randomize gravity, or keep it fixed", where)
    builder = DiagramBuilder()
    plant, scene_graph = AddMultibodyPlant(plant_config(scenario.plant), builder)
    plant.set_name("plant")
    scene_graph.set_name("scene_graph")
    handles = [populate(plant, variant, prefix=f"world{i}::", finalize=False)
               for i, (variant, _) in enumerate(variants)]
    finalize_plant(plant, scenario)
    owner = _world_of_bodies(plant, handles)
    geometries = _filter_collisions_between(plant, scene_graph, owner, worlds)
    _drop_contactless(plant, scene_graph, geometries, _contact_drawn(plant, handles, scenario))
    state_rows, actuation_rows = _rows_by_world(plant, owner, worlds)
    for world_handles, rows, actuated in zip(handles, state_rows, actuation_rows, strict=True):
        world_handles.world_state_rows, world_handles.world_actuation_rows = rows, actuated
    sized = sized_scenario(variants[0][0], handles[0])
    actions = _actions(builder, plant, handles, sized.action)
    controllers = _actuate(builder, plant, variants, handles, sized.action, actions)
    outputs = output_groups(sized, {**sized.params, **(params or {})})
    signals = _signals(builder, plant, sized, handles, outputs)
    gathers = signals.gathers
    layout, requirements = _outcome(builder, plant, signals, actions.GetOutputPort("physical"), outputs, worlds)
    diagram = builder.Build()
    diagram.set_name(f"{scenario.name}[{worlds}]")

    default_state = plant.GetPositionsAndVelocities(plant.CreateDefaultContext())
    context = diagram.CreateDefaultContext()
    made = []
    for i, ((variant, built), world_handles) in enumerate(zip(variants, handles, strict=True)):
        world_scenario = sized_scenario(variant, world_handles)
        ports = _RowsOf(diagram.GetOutputPort("requirements"), i, worlds) if requirements else None
        randomizer = Randomizer(world_scenario, world_handles, scene_graph, gathers[i], ports)  # type: ignore[arg-type]
        owned = [s for s in (gathers[i], controllers[i]) if s is not None]
        world = World(i, world_scenario, world_handles, randomizer,
                      np.asarray(world_handles.world_state_rows, dtype=np.int64), built,
                      [s for s in owned if holds_data(s.GetMyContextFromRoot(context))], gathers[i])
        made.append(world)
    batch = CompiledBatch(
        scenario=sized, diagram=diagram, plant=plant, scene_graph=scene_graph, worlds=made,
        outcome=layout, outcome_size=max(part.stop for part in layout.values()), default_state=default_state,
        controller_plants=[p for system in controllers if system is not None
                           for p in getattr(system, "controller_plants", [])], **agent_spaces(sized))
    for world in made:
        world.randomizer.on_push = _pusher(batch, world.index)
    return batch


class _RowsOf:
    """World i's part of a batched output port (what `Randomizer` expects of its requirements port)."""

    def __init__(self, port: OutputPort, world: int, worlds: int) -> None:
        self._port, self._world, self._worlds = port, world, worlds

    def Eval(self, context: Context) -> Any:  # Drake's name
        values = np.asarray(self._port.Eval(context))
        size = len(values) // self._worlds
        return values[self._world * size:(self._world + 1) * size]


class BatchedActions(LeafSystem):
    """Every world's agent action (input "action", world after world) as a physical action
    (output "physical": the normalized range mapped onto [lower, upper]) and, for an action that
    drives actuators directly (`J.effort`, `plant.actuation`), as the plant's actuation input
    (output "actuation"). Element-wise arithmetic and index maps: O(N) per evaluation, where a
    gain matrix over N worlds would be O(N^2), and Drake's `Build` analyses such a system
    symbolically (measured: 2.4 s of `Build` for 64 pendulum worlds with dense gains)."""

    def __init__(self, action: m.Action, worlds: int, direct: list[np.ndarray] | None, actuators: int) -> None:
        super().__init__()
        n = action.size
        lower, upper = np.asarray(action.lower, dtype=float), np.asarray(action.upper, dtype=float)
        if action.normalize and not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
            raise CompileError("SCN406", f"action `{action.name}` is normalized to [-1, 1] and needs finite bounds",
                               "give `in [lower, upper]`, or set normalize = false", action.where)
        self._middle = np.tile((upper + lower) / 2, worlds) if action.normalize else np.zeros(n * worlds)
        self._half = np.tile((upper - lower) / 2, worlds) if action.normalize else np.ones(n * worlds)
        self._input = self.DeclareVectorInputPort("action", n * worlds)
        ticket = {self.input_port_ticket(self._input.get_index())}
        self.DeclareVectorOutputPort("physical", n * worlds, self._calc_physical, prerequisites_of_calc=ticket)
        if direct is not None:  # world i's (actuators x n) matrix -> (actuator row, action column, weight)
            rows, columns, weights = [], [], []
            for i, matrix in enumerate(direct):
                r, c = np.nonzero(matrix)
                rows.append(r)
                columns.append(c + i * n)
                weights.append(matrix[r, c])
            self._rows, self._columns = np.concatenate(rows), np.concatenate(columns)
            self._weights, self._actuators = np.concatenate(weights), actuators
            self.DeclareVectorOutputPort("actuation", actuators, self._calc_actuation, prerequisites_of_calc=ticket)

    def _physical(self, context: Context) -> np.ndarray:
        return self._middle + self._half * np.asarray(self._input.Eval(context))

    def _calc_physical(self, context: Context, output: BasicVector) -> None:
        output.SetFromVector(vec(self._physical(context)))

    def _calc_actuation(self, context: Context, output: BasicVector) -> None:
        physical = self._physical(context)
        output.SetFromVector(vec(np.bincount(self._rows, weights=self._weights * physical[self._columns],
                                             minlength=self._actuators)))


def _actions(builder: DiagramBuilder, plant: MultibodyPlant, handles: list[PlantHandles],
             action: m.Action) -> BatchedActions:
    """The exported "action" input (every world's agent action), as `BatchedActions`."""
    direct = [direct_actuation(h, action) for h in handles]
    system = BatchedActions(action, len(handles), [d for d in direct if d is not None] if direct[0] is not None
                            else None, plant.num_actuators())
    builder.AddNamedSystem(action.name, system)
    builder.ExportInput(system.get_input_port(), "action")
    return system


def _actuate(builder: DiagramBuilder, plant: MultibodyPlant, variants: list[tuple[m.Scenario, dict[str, Any]]],
             handles: list[PlantHandles], action: m.Action, actions: BatchedActions) -> list[Diagram | None]:
    """Every world's actuation into the plant: a direct action through `actions`, controllers
    in a sub-diagram `world<i>` per world (returned; None for a world without)."""
    n, worlds = action.size, len(handles)
    sources: list[tuple[OutputPort, np.ndarray]] = []
    if actions.HasOutputPort("actuation"):
        sources.append((actions.GetOutputPort("actuation"), np.eye(plant.num_actuators())))
    controllers: list[Diagram | None] = [None] * worlds
    if variants[0][0].controllers:
        split = builder.AddNamedSystem("world_actions", Demultiplexer(n * worlds, n))
        builder.Connect(actions.GetOutputPort("physical"), split.get_input_port(0))
        for i, ((variant, _), world_handles) in enumerate(zip(variants, handles, strict=True)):
            system = _controllers(builder, plant, variant, world_handles, action, i)
            builder.Connect(split.get_output_port(i), system.GetInputPort("action"))
            if system.HasInputPort("plant_state"):
                builder.Connect(plant.get_state_output_port(), system.GetInputPort("plant_state"))
            sources.append((system.GetOutputPort("actuation"), np.eye(plant.num_actuators())))
            controllers[i] = system
    connect_actuation(builder, plant, sources)
    return controllers


def _controllers(builder: DiagramBuilder, plant: MultibodyPlant, scenario: m.Scenario, handles: PlantHandles,
                 action: m.Action, index: int) -> Diagram:
    """World `index`'s controllers as a sub-diagram: input "action" (its physical action),
    "plant_state"; output "actuation" (the whole plant's actuation input, its rows filled)."""
    sub = DiagramBuilder()
    world_plant = _WorldPlant(plant, sub)
    handles.plant = world_plant  # type: ignore[assignment]
    try:
        desired_in = sub.AddNamedSystem("action", PassThrough(action.size))
        sub.ExportInput(desired_in.get_input_port(), "action")
        actuation: list[tuple[OutputPort, np.ndarray]] = []
        owned: list[MultibodyPlant] = []
        systems: dict[str, System] = {}
        for controller in scenario.controllers:
            desired = desired_in.get_output_port() if action.target == f"{controller.name}.desired_position" else None
            port, matrix, controller_plant = add_controller(sub, scenario, handles, controller, desired, systems)
            actuation.append((port, matrix))
            if controller_plant is not None:
                owned.append(controller_plant)
        connect_actuation(sub, world_plant, actuation)  # type: ignore[arg-type]
        world_plant.get_actuation_input_port()  # exported even when no controller drives an actuator
        check_unique_names(sub, scenario)
    finally:
        handles.plant = plant
    system: Any = builder.AddNamedSystem(f"world{index}", sub.Build())
    system.controller_plants = owned  # kept alive with the diagram
    return system


@dataclass
class _Signals:
    """Where every world's signals come from (see `BatchedExpressions`)."""

    ordered: list[m.Signal]  # a world's signals: state rows, then action values, then gathered
    state_rows: np.ndarray | None  # rows of the plant state, world after world
    action_map: tuple[np.ndarray, np.ndarray] | None  # a world's physical action -> its action signals
    gathered: OutputPort | None  # the worlds' `Gather` outputs, world after world
    gathered_size: int  # per world
    gathers: list[Gather | None]


def _signals(builder: DiagramBuilder, plant: MultibodyPlant, scenario: m.Scenario, handles: list[PlantHandles],
             outputs: dict[str, dict[str, list[m.Expr]]]) -> _Signals:
    """What every world's expressions read: rows of the plant state, its action, and what a
    `Gather` per world reads (bodies, time, `let` values)."""
    every = [e for group in outputs.values() for exprs in group.values() for e in exprs]
    groups = group_signals(collect_signals(every))
    worlds = len(handles)
    state_rows = None
    if groups["state"]:
        state_rows = np.array([r for h in handles for s in groups["state"]
                               for r in checked_rows(s, state_rows_of(h, scenario, s))], dtype=np.int64)
    action_map = _action_rows(scenario.action, groups["action"]) if groups["action"] else None
    gathers: list[Gather | None] = [None] * worlds
    gathered, size = None, sum(s.size or 1 for s in groups["gather"])
    if groups["gather"]:
        lets = scenario.random_sizes()
        mux = builder.AddNamedSystem("gathered", Multiplexer([size] * worlds))
        for i, world_handles in enumerate(handles):
            gather = Gather(world_handles, groups["gather"], lets)
            builder.AddNamedSystem(f"world{i}::gather", gather)
            gathers[i] = gather
            if gather.reads_bodies:
                builder.Connect(plant.get_body_poses_output_port(), gather.get_input_port(0))
                builder.Connect(plant.get_body_spatial_velocities_output_port(), gather.get_input_port(1))
            builder.Connect(gather.get_output_port(), mux.get_input_port(i))
        gathered = mux.get_output_port(0)
    return _Signals([*groups["state"], *groups["action"], *groups["gather"]], state_rows, action_map,
                    gathered, size, gathers)


def _action_rows(action: m.Action, signals: list[m.Signal]) -> tuple[np.ndarray, np.ndarray]:
    """The affine map (gain, offset) from one world's physical action to its action signals
    (`ACTION.value`, `ACTION.normalized`: [lower, upper] onto [-1, 1])."""
    n = action.size
    lower, upper = np.asarray(action.lower, dtype=float), np.asarray(action.upper, dtype=float)
    parts, offsets = [], []
    for s in signals:
        checked_rows(s, list(range(n)))
        if s.attribute == "normalized":
            if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
                raise CompileError("SCN406", f"`{action.name}.normalized` needs finite action bounds",
                                   "give `in [lower, upper]` with finite numbers", action.where)
            parts.append(np.diag(2 / (upper - lower)))
            offsets.append(-(upper + lower) / (upper - lower))
        else:
            parts.append(np.eye(n))
            offsets.append(np.zeros(n))
    return np.vstack(parts), np.concatenate(offsets)


def _outcome(builder: DiagramBuilder, plant: MultibodyPlant, signals: _Signals, physical: OutputPort,
             outputs: dict[str, dict[str, list[m.Expr]]], worlds: int) -> tuple[dict[str, slice], bool]:
    """Export "outcome", "reward_terms" (and "requirements" when the randomization has scene
    requirements) from one `BatchedExpressions` over every world. Returns one world's row layout."""
    episode = outputs.get("episode", {})
    parts: dict[str, list[m.Expr]] = {"observation": outputs["observation"]["observation"],
                                      "reward_terms": outputs["reward"]["reward_terms"]}
    parts.update({name: episode[name] for name in ("termination", "success") if name in episode})
    requirements = outputs.get("requirements", {}).get("requirements", [])
    system = BatchedExpressions(parts, requirements, signals.ordered, worlds, state_rows=signals.state_rows,
                                state_size=plant.num_multibody_states(), action_map=signals.action_map,
                                action_size=physical.size() // worlds, gathered=signals.gathered_size)
    builder.AddNamedSystem("expressions", system)
    if system.HasInputPort("state"):
        builder.Connect(plant.get_state_output_port(), system.GetInputPort("state"))
    if system.HasInputPort("action"):
        builder.Connect(physical, system.GetInputPort("action"))
    if signals.gathered is not None:
        builder.Connect(signals.gathered, system.GetInputPort("gathered"))
    builder.ExportOutput(system.GetOutputPort("outcome"), "outcome")
    builder.ExportOutput(system.GetOutputPort("reward_terms"), "reward_terms")
    if requirements:
        builder.ExportOutput(system.GetOutputPort("requirements"), "requirements")
    return system.layout, bool(requirements)


def _pusher(batch: CompiledBatch, index: int) -> Callable[[Context, list[Any]], bool]:
    return lambda context, forces: batch._push(context, index, forces)


def _world_of_bodies(plant: MultibodyPlant, handles: list[PlantHandles]) -> dict[int, int]:
    """Body index -> the world it belongs to: its declared bodies and its loaded models' bodies."""
    owner: dict[int, int] = {}
    for i, world in enumerate(handles):
        for body in world.bodies.values():
            owner[int(body.index())] = i
        for instances in world.models.values():
            for instance in instances:
                owner.update((int(b), i) for b in plant.GetBodyIndices(instance))
    return owner


def _rows_by_world(plant: MultibodyPlant, owner: dict[int, int], worlds: int,
                   ) -> tuple[list[list[int]], list[list[int]]]:
    """Each world's rows of the plant's [q; v] (of the joints whose child body is its own, the
    free bodies' joints included) and of the plant's actuation input, in the plant's order."""
    nq = plant.num_positions()
    q_rows: list[list[int]] = [[] for _ in range(worlds)]
    v_rows: list[list[int]] = [[] for _ in range(worlds)]
    for index in plant.GetJointIndices():
        joint = plant.get_joint(index)
        world = owner.get(int(joint.child_body().index()))
        if world is not None:
            q_rows[world] += range(joint.position_start(), joint.position_start() + joint.num_positions())
            v_rows[world] += range(nq + joint.velocity_start(), nq + joint.velocity_start() + joint.num_velocities())
    actuated: list[list[int]] = [[] for _ in range(worlds)]
    for actuator_index in plant.GetJointActuatorIndices():
        actuator = plant.get_joint_actuator(actuator_index)
        world = owner.get(int(actuator.joint().child_body().index()))
        if world is not None:
            actuated[world].append(int(actuator.input_start()))
    return [sorted(q + v) for q, v in zip(q_rows, v_rows, strict=True)], [sorted(a) for a in actuated]


def _filter_collisions_between(plant: MultibodyPlant, scene_graph: SceneGraph, owner: dict[int, int],
                               worlds: int) -> list[list[Any]]:
    """No contact between two worlds: each world's collision geometries are filtered against
    every later world's (one declaration per world; the plant's own filters stay). Returns each
    world's collision geometries."""
    geometries: list[list[Any]] = [[] for _ in range(worlds)]
    for body, world in owner.items():
        geometries[world] += plant.GetCollisionGeometriesForBody(plant.get_body(BodyIndex(body)))
    manager = scene_graph.collision_filter_manager()
    for i in range(len(geometries) - 1):
        later = [g for world in geometries[i + 1:] for g in world]
        if geometries[i] and later:
            manager.Apply(CollisionFilterDeclaration().ExcludeBetween(GeometrySet(geometries[i]), GeometrySet(later)))
    return geometries


def _contact_drawn(plant: MultibodyPlant, handles: list[PlantHandles], scenario: m.Scenario) -> set[int]:
    """The bodies whose contact properties a draw writes (their geometries keep their proximity role)."""
    owners = {d.target.rpartition(".")[0] for r in scenario.randomizations for d in r.draws
              if d.target.rpartition(".")[2] in CONTACT_TARGETS}
    drawn: set[int] = set()
    for world in handles:
        for name in owners:
            try:
                drawn.add(int(world.body(name).index()))
            except CompileError:  # a name the randomizer resolves otherwise reports it there
                continue
    return drawn


def _drop_contactless(plant: MultibodyPlant, scene_graph: SceneGraph, geometries: list[list[Any]],
                      drawn: set[int]) -> None:
    """Remove the proximity role of a collision geometry that every filter keeps from touching
    anything (acrobot's links: each pair within a world is filtered by the plant, every pair across
    worlds by `_filter_collisions_between`). The worlds overlap in space, so Drake's broadphase
    would still pair such a geometry with its copies in every other world before the filters drop
    the pairs (measured for acrobot at 64 worlds: 602 against 160 us per world's env step). Nothing
    changes physically: the geometry had no possible contact."""
    inspector = scene_graph.model_inspector()
    owned = {g for world in geometries for g in world}
    shared = [g for g in inspector.GetAllGeometryIds(Role.kProximity) if g not in owned]  # on the world body
    source = plant.get_source_id()
    for world in geometries:
        for geometry in world:
            if int(plant.GetBodyFromFrameId(inspector.GetFrameId(geometry)).index()) in drawn:
                continue
            if all(inspector.CollisionFiltered(geometry, other) for other in [*world, *shared] if other != geometry):
                scene_graph.RemoveRole(source, geometry, Role.kProximity)
