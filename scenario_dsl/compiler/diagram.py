"""Compiler stage 4: a whole `Scenario` -> a Drake `Diagram` with the agent's ports.

`compile_scenario` wires the plant (stage 1), the action, the controllers, the gathered
signals (stage 2), the expression systems and the randomizer (stage 3) into one diagram whose
systems are named after the declarations, and returns a `CompiledScenario`: the diagram, the
handles, the exported port names and the agent's sizes and bounds. The diagram's ports:

- input "action": the agent's action (in [-1, 1] when the action is normalized);
- outputs "observation", "reward", "reward_terms", and when declared "termination",
  "success", "requirements"; "rgb_image" when built with a camera.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydrake.common import RandomGenerator
from pydrake.geometry import SceneGraph
from pydrake.multibody.plant import AddMultibodyPlant, MultibodyPlant
from pydrake.systems.analysis import Simulator
from pydrake.systems.framework import Context, Diagram, DiagramBuilder, OutputPort, System
from pydrake.systems.primitives import Adder, AffineSystem, ConstantVectorSource, MatrixGain, PassThrough

from scenario_dsl import model as m
from scenario_dsl.compiler.plant import CompileError, PlantHandles, controller_scenario, plant_config, populate, vec
from scenario_dsl.compiler.randomize import Randomizer
from scenario_dsl.compiler.signals import Gathered, gather_signals, inline, joint_rows, selector, with_plant_sizes

Params = Mapping[str, float | list[float]]


@dataclass
class CompiledScenario:
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
    controller_plants: list[MultibodyPlant] = field(default_factory=list)  # kept alive with the diagram

    action_port: str = "action"
    observation_port: str = "observation"
    reward_port: str = "reward"
    reward_terms_port: str = "reward_terms"
    termination_port: str = "termination"
    success_port: str = "success"
    rgb_port: str = "rgb_image"

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

    def reset_context(self, context: Context, generator: RandomGenerator) -> dict[str, float | list[float]]:
        """Put `context` at the start of a new episode: time 0, `SetRandomContext`, the declared
        initial velocities, the episode's draws (returned), and a neutral action fixed on the input
        (the middle of the range) so the outputs can be evaluated before the first step."""
        context.SetTime(0.0)

        def reset() -> None:
            self.diagram.SetRandomContext(context, generator)

        reset()
        self.diagram.GetInputPort(self.action_port).FixValue(context, self.to_agent(self.neutral_action()))
        return self.randomizer.apply(context, generator, reset)

    def build_simulator(self, generator: RandomGenerator | None = None) -> Simulator:
        """A `Simulator` over the diagram with a freshly drawn context (DrakeGymEnv's factory form).

        Note: `DrakeGymEnv.reset` calls `SetRandomContext` again after the factory, which puts the
        plant back to its nominal state; pass `reset_handler=compiled.reset_handler` too, or use
        `scenario_dsl.env.ScenarioEnv`, which does neither of these things wrong.
        """
        simulator = Simulator(self.diagram)
        simulator.set_target_realtime_rate(0.0)
        self.reset_context(simulator.get_mutable_context(), generator or RandomGenerator())
        return simulator

    def reset_handler(self, simulator: Simulator, context: Context, seed: int | None = None) -> None:
        """A `DrakeGymEnv` reset_handler: redraws the episode into `context`."""
        self.reset_context(context, RandomGenerator(0 if seed is None else seed % 2**32))


def compile_scenario(scenario: m.Scenario, *, params: Params | None = None, camera: bool = False,
                     meshcat: Any = None) -> CompiledScenario:
    """Build the Drake diagram of `scenario` (parameters in `params` override its own values
    where its expressions read them). `camera` adds a VTK camera with an "rgb_image" output;
    `meshcat` (a `pydrake.geometry.Meshcat`) adds a visualizer."""
    builder = DiagramBuilder()
    plant, scene_graph = AddMultibodyPlant(plant_config(scenario.plant), builder)
    plant.set_name("plant")
    scene_graph.set_name("scene_graph")
    handles = populate(plant, scenario)
    scenario = _with_plant_sizes(scenario, handles)
    systems: dict[str, System] = {}

    action = scenario.action
    physical = _action_input(builder, action, systems)
    actuation: list[tuple[OutputPort, np.ndarray]] = []
    controller_plants = []
    for controller in scenario.controllers:
        desired = physical if action.target == f"{controller.name}.desired_position" else None
        port, matrix, controller_plant = _controller(builder, scenario, handles, controller, desired, systems)
        actuation.append((port, matrix))
        if controller_plant is not None:
            controller_plants.append(controller_plant)
    direct = _direct_actuation(handles, action)
    if direct is not None:
        actuation.append((physical, direct))
    _connect_actuation(builder, plant, actuation)

    observations: dict[str, m.Expr] = {}
    all_params = {**scenario.params, **(params or {})}
    for observation in scenario.observations:
        observations[observation.name] = inline(observation.value, observations, all_params)
    outputs: dict[str, dict[str, list[m.Expr]]] = {
        "observation": {"observation": list(observations.values())},
        "reward": {"reward_terms": [inline(t.value, observations, all_params) for t in scenario.reward]},
    }
    episode = scenario.episode
    conditions = [inline(c.value, observations, all_params) for c in episode.terminations]
    if conditions or episode.success is not None:
        outputs["episode"] = {}
        if conditions:
            outputs["episode"]["termination"] = conditions
        if episode.success is not None:
            outputs["episode"]["success"] = [inline(episode.success.value, observations, all_params)]
    requirements = [inline(q.condition, observations, all_params) for r in scenario.randomizations
                    for q in r.requirements]
    if requirements:
        outputs["requirements"] = {"requirements": requirements}
    gathered = _expressions(builder, handles, scenario, physical, outputs, systems)

    reward_sum = builder.AddNamedSystem("reward_sum", MatrixGain(vec(np.ones((1, len(scenario.reward))))))
    builder.Connect(systems["reward"].GetOutputPort("reward_terms"), reward_sum.get_input_port())
    builder.ExportOutput(systems["observation"].GetOutputPort("observation"), "observation")
    builder.ExportOutput(reward_sum.get_output_port(), "reward")
    builder.ExportOutput(systems["reward"].GetOutputPort("reward_terms"), "reward_terms")
    for name in ("termination", "success"):
        if name in outputs.get("episode", {}):
            builder.ExportOutput(systems["episode"].GetOutputPort(name), name)
    if requirements:
        builder.ExportOutput(systems["requirements"].GetOutputPort("requirements"), "requirements")
    if camera:
        _add_camera(builder, scene_graph)
    if meshcat is not None:
        from pydrake.geometry import MeshcatVisualizer, MeshcatVisualizerParams

        visual = MeshcatVisualizerParams()
        visual.publish_period = np.inf  # ScenarioEnv publishes after each step
        MeshcatVisualizer.AddToBuilder(builder, scene_graph, meshcat, visual)

    diagram = builder.Build()
    diagram.set_name(scenario.name)
    requirement_port = diagram.GetOutputPort("requirements") if requirements else None
    randomizer = Randomizer(scenario, handles, scene_graph, gathered.gather, requirement_port)
    lower, upper = _observation_bounds(scenario)
    return CompiledScenario(
        scenario=scenario, diagram=diagram, plant=plant, scene_graph=scene_graph, handles=handles,
        randomizer=randomizer, systems=systems, reward_terms=[t.name for t in scenario.reward],
        termination_reasons=[c.reason or f"termination condition {i + 1}" for i, c in enumerate(episode.terminations)],
        action_lower=np.asarray(action.lower, dtype=float), action_upper=np.asarray(action.upper, dtype=float),
        observation_lower=lower, observation_upper=upper, has_success=episode.success is not None,
        has_camera=camera, controller_plants=controller_plants,
    )


def _with_plant_sizes(scenario: m.Scenario, handles: PlantHandles) -> m.Scenario:
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


def _gains(values: Sequence[float], n: int, what: str, controller: m.Controller) -> Any:
    if len(values) == n:
        return vec(values)
    if len(values) == 1:
        return vec(np.full(n, float(values[0])))
    raise CompileError("SCN303", f"controller `{controller.name}`: {what} has {len(values)} values for {n} joints",
                       None, controller.where)


def _controller(builder: DiagramBuilder, scenario: m.Scenario, handles: PlantHandles, controller: m.Controller,
                desired: OutputPort | None, systems: dict[str, System],
                ) -> tuple[OutputPort, np.ndarray, MultibodyPlant | None]:
    """Add one controller; returns its control port, the matrix from it to the plant's actuation
    input, and the controller's own plant (inverse dynamics)."""
    plant = handles.plant
    q_rows = [r for j in controller.joints for r in joint_rows(handles, j, "q")]
    v_rows = [r for j in controller.joints for r in joint_rows(handles, j, "v")]
    n = len(q_rows)
    if len(v_rows) != n:
        raise CompileError("SCN506", f"controller `{controller.name}` needs joints with as many positions as "
                           "velocities (no ball or free joints)", None, controller.where)
    kp, ki, kd = (_gains(g, n, what, controller) for g, what in
                  ((controller.kp, "kp"), (controller.ki, "ki"), (controller.kd, "kd")))
    actuators = []
    for joint in controller.joints:
        found = handles.actuators_of(joint, controller.where)
        if not found:
            raise CompileError("SCN504", f"controller `{controller.name}`: joint `{joint}` has no actuator",
                               "mark the joint `actuated`", controller.where)
        actuators.extend(found)
    to_actuation = np.zeros((plant.num_actuators(), n))
    for i, actuator in enumerate(actuators):
        to_actuation[int(actuator.input_start()), i] = 1.0
    if desired is None:  # no action drives it: hold the initial positions
        default_q = plant.GetDefaultPositions()[q_rows]
        source = builder.AddNamedSystem(f"{controller.name}_setpoint", ConstantVectorSource(vec(default_q)))
        desired = source.get_output_port()
    width = plant.num_multibody_states()

    if controller.type == "pd":
        pid = _pid(selector(q_rows + v_rows, width), kp, ki, kd)
        builder.AddNamedSystem(controller.name, pid)
        systems[controller.name] = pid
        builder.Connect(plant.get_state_output_port(), pid.get_input_port_estimated_state())
        _desired_state(builder, controller.name, desired, np.eye(n), pid.get_input_port_desired_state())
        return pid.get_output_port_control(), to_actuation, None

    from pydrake.systems.controllers import InverseDynamicsController

    controller_plant = MultibodyPlant(time_step=scenario.plant.time_step)
    sub = populate(controller_plant, controller_scenario(scenario, controller))
    if controller_plant.num_positions() != n or controller_plant.num_velocities() != n:
        raise CompileError("SCN504", f"controller `{controller.name}`: the mechanism it moves has "
                           f"{controller_plant.num_positions()} degrees of freedom, it controls {n}",
                           "an inverse_dynamics controller must control every joint of the chain it moves",
                           controller.where)
    # Element i of the controller's joint order sits at `order[i]` in the controller plant's.
    order = [r for j in controller.joints for r in joint_rows(sub, j, "q")]
    inv = np.argsort(order)  # controller-plant index -> controller element
    try:
        idc = InverseDynamicsController(controller_plant, kp[inv], ki[inv], kd[inv], False)
    except RuntimeError as exc:
        raise CompileError("SCN506", f"controller `{controller.name}`: {exc}", None, controller.where) from None
    builder.AddNamedSystem(controller.name, idc)
    systems[controller.name] = idc
    rows = [q_rows[i] for i in inv] + [v_rows[i] for i in inv]
    estimated = builder.AddNamedSystem(f"{controller.name}_estimated_state", MatrixGain(selector(rows, width)))
    builder.Connect(plant.get_state_output_port(), estimated.get_input_port())
    builder.Connect(estimated.get_output_port(), idc.get_input_port_estimated_state())
    permute = selector(list(inv), n)
    _desired_state(builder, controller.name, desired, permute, idc.get_input_port_desired_state())
    # controller-plant actuators -> the plant's actuators
    sub_actuators = [controller_plant.get_joint_actuator(i) for i in controller_plant.GetJointActuatorIndices()]
    matrix = np.zeros((plant.num_actuators(), len(sub_actuators)))
    for sub_actuator in sub_actuators:
        joint_name = _scenario_joint_name(sub, sub_actuator.joint())
        target = handles.actuators_of(joint_name, controller.where)[0]
        matrix[int(target.input_start()), int(sub_actuator.input_start())] = 1.0
    return idc.get_output_port_control(), matrix, controller_plant


def _pid(state_projection: Any, kp: Any, ki: Any, kd: Any) -> Any:
    from pydrake.systems.controllers import PidController

    return PidController(state_projection, kp, ki, kd)


def _scenario_joint_name(handles: PlantHandles, joint: Any) -> str:
    for name, known in handles.joints.items():
        if known.index() == joint.index():
            return name
    for model, instances in handles.models.items():
        if joint.model_instance() in instances:
            return f"{model}.{joint.name()}"
    raise CompileError("SCN901", f"joint `{joint.name()}` of a controller plant has no scenario name")


def _desired_state(builder: DiagramBuilder, name: str, desired: OutputPort, permute: Any, port: Any) -> None:
    """Desired state = [permuted desired positions; zero velocities], as one MatrixGain."""
    n = permute.shape[0]
    matrix = np.vstack([permute, np.zeros((n, permute.shape[1]))])
    gain = builder.AddNamedSystem(f"{name}_desired_state", MatrixGain(vec(matrix)))
    builder.Connect(desired, gain.get_input_port())
    builder.Connect(gain.get_output_port(), port)


def _direct_actuation(handles: PlantHandles, action: m.Action) -> np.ndarray | None:
    """The matrix from a direct-actuation action ("joint.effort", "plant.actuation") to the plant's input."""
    plant = handles.plant
    owner, _, attribute = action.target.rpartition(".")
    if action.target == "plant.actuation":
        if action.size != plant.num_actuators():
            raise CompileError("SCN303", f"action `{action.name}` has {action.size} values; the plant has "
                               f"{plant.num_actuators()} actuators", None, action.where)
        return np.eye(plant.num_actuators())
    if attribute != "effort":
        if attribute != "desired_position":
            raise CompileError("SCN206", f"action target `{action.target}` is not a controller's desired_position, "
                               "a joint's effort or plant.actuation", None, action.where)
        return None
    actuators = handles.actuators_of(owner, action.where)
    if not actuators:
        raise CompileError("SCN504", f"action `{action.name}` drives joint `{owner}`, which has no actuator",
                           "mark the joint `actuated`", action.where)
    if len(actuators) != action.size:
        raise CompileError("SCN303", f"action `{action.name}` has {action.size} values for {len(actuators)} "
                           "actuators", None, action.where)
    matrix = np.zeros((plant.num_actuators(), action.size))
    for i, actuator in enumerate(actuators):
        matrix[int(actuator.input_start()), i] = 1.0
    return matrix


def _connect_actuation(builder: DiagramBuilder, plant: MultibodyPlant,
                       sources: list[tuple[OutputPort, np.ndarray]]) -> None:
    """Sum every controller's and the action's contribution into the plant's actuation input."""
    if not sources:
        return  # an unconnected actuation input is zero
    ports = []
    for port, matrix in sources:
        if matrix.shape[0] == matrix.shape[1] and np.array_equal(matrix, np.eye(matrix.shape[0])):
            ports.append(port)
            continue
        gain = builder.AddSystem(MatrixGain(vec(matrix)))
        source: Any = port.get_system()
        gain.set_name(f"{source.get_name()}_to_actuation")
        builder.Connect(port, gain.get_input_port())
        ports.append(gain.get_output_port())
    if len(ports) == 1:
        builder.Connect(ports[0], plant.get_actuation_input_port())
        return
    adder = builder.AddNamedSystem("actuation", Adder(len(ports), plant.num_actuators()))
    for i, port in enumerate(ports):
        builder.Connect(port, adder.get_input_port(i))
    builder.Connect(adder.get_output_port(), plant.get_actuation_input_port())


def _expressions(builder: DiagramBuilder, handles: PlantHandles, scenario: m.Scenario, physical: OutputPort,
                 outputs: dict[str, dict[str, list[m.Expr]]], systems: dict[str, System]) -> Gathered:
    """One gathered signal vector feeding one ExpressionSystem per group of outputs."""
    from scenario_dsl.compiler.expressions import ExpressionSystem, collect_signals

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


def _add_camera(builder: DiagramBuilder, scene_graph: SceneGraph, width: int = 640, height: int = 480) -> None:
    """A VTK camera 1.5 m in front of the origin (looking along +y, the view of planar x-z scenes)."""
    from pydrake.geometry import (
        ClippingRange,
        ColorRenderCamera,
        DepthRange,
        DepthRenderCamera,
        MakeRenderEngineVtk,
        RenderCameraCore,
        RenderEngineVtkParams,
    )
    from pydrake.math import RigidTransform, RollPitchYaw
    from pydrake.systems.sensors import CameraInfo, RgbdSensor

    if not scene_graph.HasRenderer("scn_vtk"):
        scene_graph.AddRenderer("scn_vtk", MakeRenderEngineVtk(RenderEngineVtkParams()))
    core = RenderCameraCore("scn_vtk", CameraInfo(width, height, np.pi / 4), ClippingRange(0.05, 20.0),
                            RigidTransform())
    X_WC = RigidTransform(RollPitchYaw(-np.pi / 2, 0.0, 0.0), vec([0.0, -1.5, 0.2]))
    depth = DepthRenderCamera(core, DepthRange(0.05, 20.0))
    sensor = RgbdSensor(scene_graph.world_frame_id(), X_WC, ColorRenderCamera(core), depth)
    builder.AddNamedSystem("camera", sensor)
    builder.Connect(scene_graph.get_query_output_port(), sensor.query_object_input_port())
    builder.ExportOutput(sensor.color_image_output_port(), "rgb_image")
