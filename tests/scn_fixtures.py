"""Scenarios for the compiler and env tests: the bundled files, and a few built directly as
`model.Scenario` objects (variants the tests need: a model file, stiff gains, terminations)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scenario_dsl import cli, load
from scenario_dsl.lang import model as m

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
#: The bundled scenarios, without the pieces meant to be included (files with no `scenario`
#: line, such as box_flipup_task.scn): what can be loaded, built and checked on its own.
BUNDLED = sorted(p for p in SCENARIOS.glob("*.scn")
                 if any(line.startswith("scenario ") for line in p.read_text().splitlines()))


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`scn ARGV...` in this process: exit code, standard output, standard error (never a traceback)."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def sig(source: str, name: str, attribute: str, size: int | None = None) -> m.Signal:
    return m.Signal(source=source, name=name, attribute=attribute, size=size)  # type: ignore[arg-type]


def c(value: float) -> m.Const:
    return m.Const(value=value)


def ap(fn: str, *args: m.Expr, size: int | None = None) -> m.Apply:
    return m.Apply(fn=fn, args=list(args), size=size)


def uniform(low: float, high: float) -> m.Distribution:
    return m.Distribution(family="uniform", params={"low": low, "high": high})


def box_flipup_scenario(**plant: object) -> m.Scenario:
    """The bundled scenarios/box_flipup.scn (the lecture's BoxFlipUp env); `plant` overrides settings."""
    scenario = load(SCENARIOS / "box_flipup.scn")
    if plant:
        scenario = scenario.model_copy(update={"plant": scenario.plant.model_copy(update=plant)})
    return scenario


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


#: docs/diagnostics.md's base scenario: a pendulum that hostile-input tests append to or edit.
HOSTILE_BASE = """scenario pendulum "a pendulum"
plant { time_step = 10 ms }
body rod { mass = 1 kg; center_of_mass = [0, 0, -0.5] m; inertia = [0.08, 0.08, 0.001] }
joint hinge: revolute(world -> rod, axis = [0, 1, 0]) { actuated { effort_limit = 2 N*m } }
action torque = hinge.effort in [-2, 2] N*m
observation state = [cos(hinge.q), sin(hinge.q), hinge.v]
reward { -(wrap(hinge.q - pi)^2) as upright }
episode { step = 50 ms; time_limit = 10 s }
"""
