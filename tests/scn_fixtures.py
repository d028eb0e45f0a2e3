"""Scenarios built directly as `model.Scenario` objects (until the validator lands, and for
tests that need a scenario the language cannot spell yet)."""

from __future__ import annotations

import math

from scenario_dsl import model as m


def sig(source: str, name: str, attribute: str, size: int | None = None) -> m.Signal:
    return m.Signal(source=source, name=name, attribute=attribute, size=size)  # type: ignore[arg-type]


def c(value: float) -> m.Const:
    return m.Const(value=value)


def ap(fn: str, *args: m.Expr, size: int | None = None) -> m.Apply:
    return m.Apply(fn=fn, args=list(args), size=size)


def uniform(low: float, high: float) -> m.Distribution:
    return m.Distribution(family="uniform", params={"low": low, "high": high})


def box_flipup_scenario(**plant: object) -> m.Scenario:
    """The lecture's BoxFlipUp env (manipulation/envs/box_flipup.py), as scn declares it."""
    angle = ap("sub", ap("mod", sig("joint", "box_joint", "theta"), c(math.pi)), c(math.pi / 2))
    return m.Scenario(
        name="box_flipup",
        description="A point finger flips a box in a bin onto its side",
        plant=m.PlantSettings(time_step=0.001, contact_model="hydroelastic_with_fallback",
                              discrete_contact_approximation="lagged", **plant),  # type: ignore[arg-type]
        models=[m.Model(name="bin", url="package://scenario_dsl/models/planar_bin.sdf", welds=[
            m.Weld(parent="world", child="bin_base",
                   pose=m.Pose(translation=(0, 0, -0.015), rpy=(0, 0, math.pi / 2)))])],
        frames=[m.Frame(name="box_plane", parent="world", pose=m.Pose(rpy=(math.pi / 2, 0, 0)))],
        bodies=[
            m.Body(name="box", shape=m.Shape(kind="box", size=[0.2, 0.05, 0.3]), mass=1.0,
                   contact=m.Contact(friction=(1.0, 1.0))),
            m.Body(name="carriage", mass=0.0),
            m.Body(name="finger", shape=m.Shape(kind="sphere", size=[0.01]), mass=1.0, color=(0.9, 0.5, 0.5, 1.0)),
        ],
        joints=[
            m.Joint(name="box_joint", type="planar", parent="box_plane", child="box", initial_q=[0, 0.15, 0]),
            m.Joint(name="finger_x", type="prismatic", parent="world", child="carriage", axis=(1, 0, 0),
                    lower=[-0.3], upper=[0.3], actuator=m.Actuator()),
            m.Joint(name="finger_z", type="prismatic", parent="carriage", child="finger", axis=(0, 0, 1),
                    lower=[0.0], upper=[0.5], initial_q=[0.25], actuator=m.Actuator()),
        ],
        controllers=[m.Controller(name="finger_pd", type="inverse_dynamics", joints=["finger_x", "finger_z"],
                                  kp=[100.0], ki=[1.0], kd=[20.0])],
        action=m.Action(name="target", target="finger_pd.desired_position", size=2, lower=[-0.5, -0.1],
                        upper=[0.5, 0.6]),
        observations=[m.Observation(name="state", value=sig("plant", "plant", "state", 10), size=10)],
        randomizations=[m.Randomization(draws=[m.Draw(target="box_joint.x", operation="offset",
                                                      value=uniform(-0.1, 0.1))])],
        reward=[
            m.RewardTerm(name="upright", value=ap("sub", c(10), ap("mul", c(2), ap("pow", angle, c(2))))),
            m.RewardTerm(name="spin", value=ap("mul", c(-0.1), ap("pow", sig("joint", "box_joint", "omega"), c(2)))),
            m.RewardTerm(name="effort", value=ap("mul", c(-0.1), ap("pow", ap("norm", ap(
                "sub", sig("action", "target", "value", 2), sig("controller", "finger_pd", "q", 2), size=2)), c(2)))),
            m.RewardTerm(name="finger_speed", value=ap("mul", c(-0.1), ap("pow", ap(
                "norm", sig("controller", "finger_pd", "v", 2)), c(2)))),
        ],
        episode=m.Episode(step=0.1, time_limit=10.0),
    )


def pendulum_scenario(*, time_step: float = 0.001, kp: float | None = None, step: float = 0.05,
                      terminate_above: float | None = None) -> m.Scenario:
    """Drake's example pendulum (package://drake/examples/pendulum/Pendulum.urdf), torque-driven,
    swing-up reward, random initial state theta ~ U(-pi, pi), theta_dot ~ U(-1, 1). With `kp`,
    a `pd` controller holds theta at the action instead (stiff gains diverge at large time steps)."""
    theta, omega = sig("joint", "pendulum.theta", "q"), sig("joint", "pendulum.theta", "v")
    if kp is None:
        controllers: list[m.Controller] = []
        action = m.Action(name="torque", target="pendulum.theta.effort", size=1, lower=[-2.0], upper=[2.0])
    else:
        controllers = [m.Controller(name="hold", type="pd", joints=["pendulum.theta"], kp=[kp], ki=[0.0], kd=[0.0])]
        action = m.Action(name="angle", target="hold.desired_position", size=1, lower=[-math.pi], upper=[math.pi])
    terminations = [] if terminate_above is None else [
        m.Condition(value=ap("gt", ap("abs", omega), c(terminate_above)), reason="spinning too fast")]
    return m.Scenario(
        name="pendulum",
        plant=m.PlantSettings(time_step=time_step),
        models=[m.Model(name="pendulum", url="package://drake/examples/pendulum/Pendulum.urdf")],
        controllers=controllers,
        action=action,
        observations=[
            m.Observation(name="angle", value=ap("vector", ap("cos", theta), ap("sin", theta), size=2), size=2,
                          lower=[-1, -1], upper=[1, 1]),
            m.Observation(name="rate", value=omega, size=1),
        ],
        randomizations=[m.Randomization(draws=[
            m.Draw(target="pendulum.theta.q", operation="set", value=uniform(-math.pi, math.pi)),
            m.Draw(target="pendulum.theta.v", operation="set", value=uniform(-1.0, 1.0)),
        ])],
        reward=[
            m.RewardTerm(name="upright", value=ap("neg", ap("pow", ap("sub", ap("wrap", ap("sub", theta, c(math.pi))),
                                                                       c(0.0)), c(2)))),
            m.RewardTerm(name="rate", value=ap("mul", c(-0.1), ap("pow", omega, c(2)))),
        ],
        episode=m.Episode(step=step, time_limit=5.0, terminations=terminations),
    )
