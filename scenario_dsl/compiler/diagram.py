"""Compiler, last stage: a whole `Scenario` -> a Drake `Diagram` with the agent's ports.

`compile_scenario` wires the plant (`plant`), the action, the controllers (`actuation`), the
gathered signals (`signals`), the expression systems (`expressions`) and the randomizer
(`randomize`) into one diagram whose
systems are named after the declarations, and returns a `CompiledScenario`: the diagram, the
handles, the exported port names and the agent's sizes and bounds. The diagram's ports:

- input "action": the agent's action (in [-1, 1] when the action is normalized);
- outputs "observation", "reward", "reward_terms", and when declared "termination",
  "success", "requirements"; "rgb_image" when built with a camera.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydrake.common import RandomGenerator
from pydrake.geometry import SceneGraph
from pydrake.multibody.plant import AddMultibodyPlant, MultibodyPlant
from pydrake.systems.analysis import Simulator
from pydrake.systems.framework import Context, Diagram, DiagramBuilder, OutputPort, System
from pydrake.systems.primitives import AffineSystem, ConstantVectorSource, MatrixGain, Multiplexer, PassThrough

from scenario_dsl.compiler.actuation import add_controller, connect_actuation, direct_actuation
from scenario_dsl.compiler.camera import add_camera, ensure_renderer
from scenario_dsl.compiler.expressions import ExpressionSystem
from scenario_dsl.compiler.markers import MarkerPoses
from scenario_dsl.compiler.plant import CompileError, PlantHandles, check_limits, plant_config, populate, vec
from scenario_dsl.compiler.randomize import Randomizer
from scenario_dsl.compiler.rebuild import BuildRandomizer, has_build_scope
from scenario_dsl.compiler.sensors import add_cameras, image_port
from scenario_dsl.compiler.signals import Gathered, gather_signals, inline, with_plant_sizes
from scenario_dsl.lang import model as m
from scenario_dsl.lang.evaluate import collect_signals

Params = Mapping[str, float | list[float]]


@dataclass
class _ResetCache:
    """What `reset_context` looks up once per context."""

    port: Any  # the action input port
    neutral: np.ndarray  # the neutral agent action
    context: Context
    systems: list[tuple[Any, Context]]  # the systems that hold data (but the SceneGraph), with their contexts
    fixed: Any = None  # the FixedInputPortValue on the action input


class ActionScaling:
    """The agent's action against the physical one, from `action_lower` / `action_upper`."""

    scenario: m.Scenario
    action_lower: np.ndarray  # physical units
    action_upper: np.ndarray

    @property
    def action_size(self) -> int:
        return self.scenario.action.size

    @property
    def observation_size(self) -> int:
        return self.scenario.observation_size

    @property
    def action_normalized(self) -> bool:
        return self.scenario.action.normalize

    def neutral_action(self) -> np.ndarray:
        """The physical action held before the first step: the middle of the range (0 if unbounded)."""
        middle = (self.action_lower + self.action_upper) / 2
        return np.where(np.isfinite(middle), middle, 0.0)

    def to_physical(self, action: np.ndarray) -> np.ndarray:
        """The physical action a (normalized) agent action stands for."""
        if not self.action_normalized:
            return np.asarray(action, dtype=float)
        half = (self.action_upper - self.action_lower) / 2
        return (self.action_lower + self.action_upper) / 2 + half * np.asarray(action, dtype=float)

    def to_agent(self, physical: np.ndarray) -> np.ndarray:
        """The agent action that stands for a physical one (inverse of `to_physical`)."""
        if not self.action_normalized:
            return np.asarray(physical, dtype=float)
        half = (self.action_upper - self.action_lower) / 2
        return (np.asarray(physical, dtype=float) - (self.action_lower + self.action_upper) / 2) / half


@dataclass
class CompiledScenario(ActionScaling):
    """A scenario as a Drake diagram, with what an environment needs to drive it."""

    scenario: m.Scenario
    diagram: Diagram
    plant: MultibodyPlant
    scene_graph: SceneGraph
    handles: PlantHandles
    randomizer: Randomizer
    systems: dict[str, System]  # by declaration name: controllers, "action", "observation", "reward", ...
    reward_terms: list[str]
    termination_reasons: list[str]
    action_lower: np.ndarray  # physical units
    action_upper: np.ndarray
    observation_lower: np.ndarray
    observation_upper: np.ndarray
    has_success: bool = False
    has_camera: bool = False
    image_ports: dict[str, str] = field(default_factory=dict)  # an image observation's name -> its output port
    build_randomizer: BuildRandomizer | None = None  # `randomize per build`: the env recompiles with its draws
    controller_plants: list[MultibodyPlant] = field(default_factory=list)  # kept alive with the diagram
    # where each part lies in the "outcome" port: observation, reward, reward_terms, termination, success, state
    outcome: dict[str, slice] = field(default_factory=dict)

    action_port: str = "action"
    observation_port: str = "observation"
    reward_port: str = "reward"
    reward_terms_port: str = "reward_terms"
    termination_port: str = "termination"
    success_port: str = "success"
    rgb_port: str = "rgb_image"
    outcome_port: str = "outcome"  # everything a step reports, in one vector (one evaluation per step)
    _reset_cache: _ResetCache | None = field(default=None, init=False, repr=False, compare=False)

    def reset_context(self, context: Context, generator: RandomGenerator, *,
                      reuse_action_value: bool = False) -> dict[str, float | list[float]]:
        """Put `context` at the start of a new episode: time 0, `SetRandomContext` of every system
        that holds state or parameters but the SceneGraph, the declared initial velocities, the
        episode's draws (returned), and a neutral action fixed on the input (the middle of the
        range) so the outputs can be evaluated before the first step.

        The SceneGraph is left out because its only context data is the geometry parameter, which
        nothing in an episode changes but the contact-property draws, and they write it again at
        every reset. Resetting it copies the model's geometry (40 us of the 57 us of the diagram's
        `SetRandomContext` for box_flipup) and makes the next friction draw copy it again
        (measured: 370 against 294 us for a reset and one friction draw). scn gives no system a
        Drake random distribution, so the systems draw nothing from `generator` here; the
        episode's draws come after, from the same generator.

        `reuse_action_value`: the caller writes actions only through `action_value(context)`
        (ScenarioEnv does), so the neutral action goes into the value the last reset fixed instead
        of a new `FixValue` (about 7 us less per reset). Without it, a value fixed by anyone else
        (DrakeGymEnv fixes one every step) is never written behind their back."""
        context.SetTime(0.0)
        cache = self._reset_cache
        if cache is None or cache.context is not context:  # performance: lookups and conversions once per context
            systems = [(s, s.GetMyMutableContextFromRoot(context)) for s in self.diagram.GetSystems()
                       if s is not self.scene_graph and holds_data(s.GetMyContextFromRoot(context))]
            cache = self._reset_cache = _ResetCache(self.diagram.GetInputPort(self.action_port),
                                                    self.to_agent(self.neutral_action()), context, systems)

        def reset() -> None:
            for system, system_context in cache.systems:
                system.SetRandomContext(system_context, generator)

        reset()
        if reuse_action_value and cache.fixed is not None:
            cache.fixed.GetMutableData().get_mutable_value().SetFromVector(cache.neutral)
        else:
            cache.fixed = cache.port.FixValue(context, cache.neutral)
        return self.randomizer.apply(context, generator, reset)

    def action_value(self, context: Context) -> Any:
        """The `FixedInputPortValue` the last `reset_context` of `context` put on the action input,
        or the one `note_action_value` recorded since (None before a reset): write actions into
        it in place, as `reuse_action_value` expects."""
        cache = self._reset_cache
        return cache.fixed if cache is not None and cache.context is context else None

    def note_action_value(self, context: Context, fixed: Any) -> None:
        """Record `fixed`, just fixed on the action input of `context`, as the value to write into:
        the context has freed the one before, and writing into that would crash the process."""
        cache = self._reset_cache
        if cache is not None and cache.context is context:
            cache.fixed = fixed

    def build_simulator(self, generator: RandomGenerator | None = None) -> Simulator:
        """A `Simulator` over the diagram with a freshly drawn context (DrakeGymEnv's factory form).

        Note: `DrakeGymEnv.reset` calls `SetRandomContext` again after the factory, which puts the
        plant back to its nominal state; pass `reset_handler=compiled.reset_handler` too, or use
        `scenario_dsl.runtime.env.ScenarioEnv`, which does neither of these things wrong.
        """
        simulator = Simulator(self.diagram)
        simulator.set_target_realtime_rate(0.0)
        self.reset_context(simulator.get_mutable_context(), generator or RandomGenerator())
        return simulator

    def reset_handler(self, simulator: Simulator, context: Context, seed: int | None = None) -> None:
        """A `DrakeGymEnv` reset_handler: redraws the episode into `context`."""
        self.reset_context(context, RandomGenerator(0 if seed is None else seed % 2**32))


def compile_scenario(scenario: m.Scenario, *, params: Params | None = None, camera: bool | str = False,
                     meshcat: Any = None) -> CompiledScenario:
    """Build the Drake diagram of `scenario` (parameters in `params` override its own values
    where its expressions read them). `camera` adds a VTK camera with an "rgb_image" output
    (True: the `auto` view; or a view's name, `compiler.camera`), or names a scenario camera
    whose colour image the recording shows;
    `meshcat` (a `pydrake.geometry.Meshcat`) adds a visualizer."""
    check_limits(scenario)  # the validator's SCN412, for a scenario that did not come through it
    builder = DiagramBuilder()
    plant, scene_graph = AddMultibodyPlant(plant_config(scenario.plant), builder)
    plant.set_name("plant")
    scene_graph.set_name("scene_graph")
    handles = populate(plant, scenario)
    draws = bool(camera) or meshcat is not None or bool(scenario.cameras)
    wiring = wire(builder, handles, scenario, params, markers=draws)
    scenario, systems, outputs = wiring.scenario, wiring.systems, wiring.outputs
    builder.ExportOutput(systems["observation"].GetOutputPort("observation"), "observation")
    builder.ExportOutput(wiring.reward, "reward")
    builder.ExportOutput(systems["reward"].GetOutputPort("reward_terms"), "reward_terms")
    for name in outputs.get("episode", {}):
        builder.ExportOutput(systems["episode"].GetOutputPort(name), name)
    wiring.export(builder)
    poses: MarkerPoses | None = None
    if "markers" in wiring.outputs:
        poses = MarkerPoses(scene_graph, scenario.markers)
        builder.AddNamedSystem("marker_poses", poses)
        builder.Connect(wiring.systems["markers"].GetOutputPort("positions"), poses.get_input_port())
        builder.Connect(poses.get_output_port(), scene_graph.get_source_pose_port(poses.source_id))
    if scenario.cameras or camera:
        ensure_renderer(scene_graph, scenario.lights)
    sensors = add_cameras(builder, handles, scene_graph, scenario.cameras, scenario.lights)
    named = next((c.name for c in scenario.cameras if c.name == camera), None)  # the recording is a scenario camera's
    if camera and named is None:
        add_camera(builder, plant, scene_graph, "auto" if camera is True else camera)
    if meshcat is not None:
        from pydrake.geometry import MeshcatVisualizer, MeshcatVisualizerParams

        visual = MeshcatVisualizerParams()
        visual.publish_period = np.inf  # ScenarioEnv publishes after each step
        MeshcatVisualizer.AddToBuilder(builder, scene_graph, meshcat, visual)

    check_unique_names(builder, scenario)
    diagram = builder.Build()
    diagram.set_name(scenario.name)
    requirement_port = diagram.GetOutputPort("requirements") if "requirements" in outputs else None
    build_randomizer = BuildRandomizer(scenario) if has_build_scope(scenario) else None
    randomizer = Randomizer(scenario, handles, scene_graph, wiring.gathered.gather, requirement_port, sensors, poses)
    return CompiledScenario(
        scenario=scenario, diagram=diagram, plant=plant, scene_graph=scene_graph, handles=handles,
        randomizer=randomizer, systems=systems, has_camera=bool(camera), controller_plants=wiring.controller_plants,
        build_randomizer=build_randomizer, outcome=wiring.outcome, **agent_spaces(scenario),
        image_ports={i.name: image_port(i.camera, i.image) for i in scenario.images},
        rgb_port=image_port(named, "color") if named is not None else "rgb_image",
    )


def agent_spaces(scenario: m.Scenario) -> dict[str, Any]:
    """What an environment needs to know of the agent's side of a (sized) scenario: reward terms,
    termination reasons, action and observation bounds, whether it declares success."""
    lower, upper = _observation_bounds(scenario)
    return {
        "reward_terms": [t.name for t in scenario.reward],
        "termination_reasons": [c.reason or f"termination condition {i + 1}"
                                for i, c in enumerate(scenario.episode.terminations)],
        "action_lower": np.asarray(scenario.action.lower, dtype=float),
        "action_upper": np.asarray(scenario.action.upper, dtype=float),
        "observation_lower": lower, "observation_upper": upper,
        "has_success": scenario.episode.success is not None,
    }


@dataclass
class Wiring:
    """What `wire` added for one copy of a scenario around its plant."""

    scenario: m.Scenario  # with the observation sizes the plant fixes
    systems: dict[str, System]
    outputs: dict[str, dict[str, list[m.Expr]]]
    gathered: Gathered
    controller_plants: list[MultibodyPlant]
    reward: OutputPort  # the summed reward
    outcome_port: OutputPort  # everything a step reports, in one vector (one evaluation per step)
    outcome: dict[str, slice]  # where each part lies in it

    def export(self, builder: DiagramBuilder) -> None:
        """Export "requirements" (when the randomization has scene requirements), then "outcome"."""
        if "requirements" in self.outputs:
            builder.ExportOutput(self.systems["requirements"].GetOutputPort("requirements"), "requirements")
        builder.ExportOutput(self.outcome_port, "outcome")


def wire(builder: DiagramBuilder, handles: PlantHandles, scenario: m.Scenario, params: Params | None, *,
         with_state: bool = True, markers: bool = False) -> Wiring:
    """Add everything around the plant of `handles` that one copy of `scenario` needs: the
    exported "action" input and its scaling, controllers, the actuation sum, gathered signals,
    expression systems, the reward sum and the "outcome" multiplexer (with the plant's state when
    `with_state`), and with `markers` the markers' positions; `Wiring.export` exports its outputs.
    `handles.plant` may stand in for the plant (`compiler.batch`: a world's ports)."""
    plant = handles.plant
    scenario = sized_scenario(scenario, handles)
    systems: dict[str, System] = {}
    action = scenario.action
    physical = _action_input(builder, action, systems)
    actuation: list[tuple[OutputPort, np.ndarray]] = []
    controller_plants = []
    for controller in scenario.controllers:
        desired = physical if action.target == f"{controller.name}.desired_position" else None
        port, matrix, controller_plant = add_controller(builder, scenario, handles, controller, desired, systems)
        actuation.append((port, matrix))
        if controller_plant is not None:
            controller_plants.append(controller_plant)
    direct = direct_actuation(handles, action)
    if direct is not None:
        actuation.append((physical, direct))
    connect_actuation(builder, plant, actuation)

    outputs = output_groups(scenario, {**scenario.params, **(params or {})}, markers=markers)
    gathered = _expressions(builder, handles, scenario, physical, outputs, systems)
    reward_sum = builder.AddNamedSystem("reward_sum", MatrixGain(vec(np.ones((1, len(scenario.reward))))))
    builder.Connect(systems["reward"].GetOutputPort("reward_terms"), reward_sum.get_input_port())
    state = plant.get_state_output_port() if with_state else None
    outcome_port, outcome = _outcome_port(builder, state, systems, reward_sum.get_output_port(),
                                          outputs.get("episode", {}))
    return Wiring(scenario, systems, outputs, gathered, controller_plants, reward_sum.get_output_port(),
                  outcome_port, outcome)


def check_unique_names(builder: DiagramBuilder, scenario: m.Scenario) -> None:
    """Drake aborts the process (a failed assertion, no exception) when `Build()` meets two systems
    of one name. The validator keeps declared names off the compiler's own; a name derived from
    a controller's (`C_desired_state`) can still meet an action's."""
    seen: set[str] = set()
    for system in builder.GetSystems():
        name = system.get_name()
        if name in seen:
            raise CompileError("SCN506", f"two systems of the diagram would be named `{name}`",
                               "rename the action or the controller it comes from", scenario.action.where)
        seen.add(name)


def _outcome_port(builder: DiagramBuilder, state: OutputPort | None, systems: dict[str, System],
                  reward: OutputPort, episode: Mapping[str, list[m.Expr]]) -> tuple[OutputPort, dict[str, slice]]:
    """The "outcome" vector: the observation, reward, reward terms, termination and success
    conditions and the plant's state (when given), muxed into one vector. A step evaluates it once instead of
    five ports one by one (each `Eval` through pybind costs a few microseconds: a fifth of an
    env step of a cheap plant). Returns the port and where each part lies in the vector."""
    parts: list[tuple[str, OutputPort]] = [
        ("observation", systems["observation"].GetOutputPort("observation")), ("reward", reward),
        ("reward_terms", systems["reward"].GetOutputPort("reward_terms"))]
    parts += [(name, systems["episode"].GetOutputPort(name)) for name in ("termination", "success") if name in episode]
    if state is not None:
        parts.append(("state", state))
    sizes = [port.size() for _, port in parts]
    mux = builder.AddNamedSystem("outcome", Multiplexer(sizes))
    slices, at = {}, 0
    for i, ((name, port), size) in enumerate(zip(parts, sizes, strict=True)):
        builder.Connect(port, mux.get_input_port(i))
        slices[name], at = slice(at, at + size), at + size
    return mux.get_output_port(0), slices


def output_groups(scenario: m.Scenario, params: Params, *, markers: bool = False,
                  ) -> dict[str, dict[str, list[m.Expr]]]:
    """Expression system name -> output port name -> expressions, with observations and
    parameters inlined: "observation", "reward", and when declared "episode", "requirements",
    and with `markers` (something draws the scene) "markers"."""
    observations: dict[str, m.Expr] = {}
    for observation in scenario.observations:
        observations[observation.name] = inline(observation.value, observations, params)
    outputs: dict[str, dict[str, list[m.Expr]]] = {
        "observation": {"observation": list(observations.values())},
        "reward": {"reward_terms": [inline(t.value, observations, params) for t in scenario.reward]},
    }
    episode = scenario.episode
    if episode.terminations or episode.success is not None:
        outputs["episode"] = {}
        if episode.terminations:
            outputs["episode"]["termination"] = [inline(c.value, observations, params) for c in episode.terminations]
        if episode.success is not None:
            outputs["episode"]["success"] = [inline(episode.success.value, observations, params)]
    requirements = [inline(q.condition, observations, params) for r in scenario.randomizations for q in r.requirements]
    if requirements:
        outputs["requirements"] = {"requirements": requirements}
    if markers and scenario.markers:
        outputs["markers"] = {"positions": [inline(k.position, observations, params) for k in scenario.markers]}
    return outputs


def sized_scenario(scenario: m.Scenario, handles: PlantHandles) -> m.Scenario:
    """The scenario with observation sizes the validator left at 0 (unknown plant size) filled in."""
    if all(o.size for o in scenario.observations):
        return scenario
    observations = []
    for o in scenario.observations:
        value = with_plant_sizes(o.value, handles)
        observations.append(o.model_copy(update={"value": value, "size": o.size or value.size or 1}))
    return scenario.model_copy(update={"observations": observations})


def _action_input(builder: DiagramBuilder, action: m.Action, systems: dict[str, System]) -> OutputPort:
    """The exported "action" input, scaled to physical units by a system named after the action."""
    n = action.size
    lower, upper = np.asarray(action.lower, dtype=float), np.asarray(action.upper, dtype=float)
    if action.normalize:
        if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
            raise CompileError("SCN406", f"action `{action.name}` is normalized to [-1, 1] and needs finite bounds",
                               "give `in [lower, upper]`, or set normalize = false", action.where)
        system: System = AffineSystem(vec(np.zeros((0, 0))), vec(np.zeros((0, n))), vec(np.zeros(0)),
                                      vec(np.zeros((n, 0))), vec(np.diag((upper - lower) / 2)),
                                      vec((upper + lower) / 2))
    else:
        system = PassThrough(n)
    builder.AddNamedSystem(action.name, system)
    systems["action"] = system
    builder.ExportInput(system.get_input_port(), "action")
    return system.get_output_port()


def _expressions(builder: DiagramBuilder, handles: PlantHandles, scenario: m.Scenario, physical: OutputPort,
                 outputs: dict[str, dict[str, list[m.Expr]]], systems: dict[str, System]) -> Gathered:
    """One gathered signal vector feeding one ExpressionSystem per group of outputs."""
    every = [e for group in outputs.values() for exprs in group.values() for e in exprs]
    gathered = gather_signals(builder, handles, scenario, collect_signals(every), physical)
    if gathered.port is None:  # nothing is read: an empty vector keeps the input ports connected
        gathered.port = builder.AddNamedSystem("signals", ConstantVectorSource(vec(np.zeros(0)))).get_output_port()
    backend = expression_backend(scenario)
    for name, group in outputs.items():
        system = builder.AddNamedSystem(name, ExpressionSystem(group, gathered.signals, backend=backend))
        systems[name] = system
        builder.Connect(gathered.port, system.GetInputPort("signals"))
    if gathered.gather is not None:
        systems["gather"] = gathered.gather
    return gathered


def expression_backend(scenario: m.Scenario) -> Literal["symbolic", "numpy"]:
    """"symbolic" (C++) unless the diagram has continuous state: Drake 1.51 aborts the process
    (`DoCalcTimeDerivatives(): dynamics_.size() > 0`) when a stateless `SymbolicVectorSystem`
    sits in a diagram that is integrated in time. Controllers carry an integrator state, and a
    plant with time_step 0 is continuous: those diagrams evaluate expressions in NumPy."""
    continuous = bool(scenario.controllers) or scenario.plant.time_step == 0.0
    return "numpy" if continuous else "symbolic"


def _observation_bounds(scenario: m.Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Declared bounds, else unbounded: joint limits are no bound on a simulated state."""
    lower, upper = [], []
    for o in scenario.observations:
        lower.extend(o.lower if o.lower is not None else [-np.inf] * o.size)
        upper.extend(o.upper if o.upper is not None else [np.inf] * o.size)
    return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)


def holds_data(context: Context) -> bool:
    """Whether a system's context has state or parameters: `SetRandomContext` changes nothing
    else, and a call per stateless system (gains, multiplexers, expressions) costs a microsecond
    or two per reset."""
    return bool(context.num_continuous_states() or context.num_discrete_state_groups()
                or context.num_abstract_states() or context.num_numeric_parameter_groups()
                or context.num_abstract_parameters())
