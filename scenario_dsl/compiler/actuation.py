"""Compiler: controllers and direct actuation -> the plant's actuation input.

`add_controller` adds one `inverse_dynamics` (Drake's `InverseDynamicsController` on its own
controller plant, the lecture's way) or `pd` (Drake's `PidController`) controller;
`direct_actuation` maps an action on "J.effort" or "plant.actuation"; `connect_actuation`
sums every source into the plant's actuation input through 0/1 `MatrixGain`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydrake.multibody.plant import MultibodyPlant
from pydrake.systems.framework import DiagramBuilder, OutputPort, System
from pydrake.systems.primitives import Adder, ConstantVectorSource, MatrixGain

from scenario_dsl.compiler.plant import CompileError, PlantHandles, controller_scenario, populate, vec
from scenario_dsl.compiler.signals import joint_rows, selector
from scenario_dsl.lang import model as m


def _gains(values: Sequence[float], n: int, what: str, controller: m.Controller) -> Any:
    if len(values) == n:
        return vec(values)
    if len(values) == 1:
        return vec(np.full(n, float(values[0])))
    raise CompileError("SCN303", f"controller `{controller.name}`: {what} has {len(values)} values for {n} joints",
                       None, controller.where)


def add_controller(builder: DiagramBuilder, scenario: m.Scenario, handles: PlantHandles, controller: m.Controller,
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


def direct_actuation(handles: PlantHandles, action: m.Action) -> np.ndarray | None:
    """The matrix from a direct-actuation action ("joint.effort", "plant.actuation") to the plant's input."""
    plant = handles.plant
    owner, _, attribute = action.target.rpartition(".")
    if action.target == "plant.actuation":
        rows = handles.world_actuation_rows
        if rows is None:
            rows = list(range(plant.num_actuators()))
        if action.size != len(rows):
            raise CompileError("SCN303", f"action `{action.name}` has {action.size} values; the plant has "
                               f"{len(rows)} actuators", None, action.where)
        return np.eye(plant.num_actuators())[:, rows]
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


def connect_actuation(builder: DiagramBuilder, plant: MultibodyPlant,
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
