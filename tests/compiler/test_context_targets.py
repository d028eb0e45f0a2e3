"""Per-episode draws of parameters a plant's context holds: a body's inertia scale, a joint
actuator's rotor inertia and gear ratio. Each draw is the one simulated, and draws never compound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import scenario_dsl
from scenario_dsl.compiler import CompileError, compile_scenario

PENDULUM = Path(__file__).resolve().parents[2] / "scenarios" / "pendulum.scn"
DRAWS = """
randomize {
    rod.inertia_scale ~ uniform(0.5, 2)
    pendulum.rotor_inertia ~ uniform(0, 0.5) kg*m^2
    pendulum.gear_ratio ~ uniform(1, 3)
}
"""
M, L, G, DT = 1.0, 1.0, 10.0, 0.05  # pendulum.scn's rod, gravity and step


@pytest.fixture(scope="module")
def env():
    environment = scenario_dsl.make_env(scenario_dsl.loads(PENDULUM.read_text() + DRAWS, str(PENDULUM)))
    yield environment
    environment.close()


def test_draws_are_in_the_context_and_never_compound(env) -> None:
    plant = env.compiled.plant
    body = plant.GetBodyByName("rod")
    actuator = plant.get_joint_actuator(plant.GetJointActuatorIndices()[0])
    seen = set()
    for seed in range(6):
        _, info = env.reset(seed=seed)
        drawn = info["randomization"]
        inertia = body.CalcSpatialInertiaInBodyFrame(env._plant_context)
        central = inertia.Shift(inertia.get_com()).CalcRotationalInertia().get_moments()
        # the rod's own inertia about its centre is [1/12, 1/12, 1e-6]: scaled from it, every time
        np.testing.assert_allclose(central, drawn["rod.inertia_scale"] * np.array([1 / 12, 1 / 12, 1e-6]), rtol=1e-12)
        assert inertia.get_mass() == M
        assert actuator.rotor_inertia(env._plant_context) == drawn["pendulum.rotor_inertia"]
        assert actuator.gear_ratio(env._plant_context) == drawn["pendulum.gear_ratio"]
        assert 0.5 <= drawn["rod.inertia_scale"] <= 2 and 1 <= drawn["pendulum.gear_ratio"] <= 3
        seen.add(round(drawn["rod.inertia_scale"], 9))
    assert len(seen) == 6


def test_the_simulated_inertia_is_the_drawn_one(env) -> None:
    """Horizontal and at rest, gravity's torque m g l/2 speeds the rod up in one semi-implicit
    Euler step by dt * torque / inertia, where the inertia about the pivot is the scaled central
    inertia, the parallel-axis term and the actuator's reflected inertia (gear ratio^2 x rotor)."""
    plant = env.compiled.plant
    for seed in range(4):
        _, info = env.reset(seed=seed)
        d = info["randomization"]
        inertia = d["rod.inertia_scale"] * M * L**2 / 12 + M * (L / 2) ** 2 \
            + d["pendulum.gear_ratio"] ** 2 * d["pendulum.rotor_inertia"]
        plant.SetPositionsAndVelocities(env._plant_context, [np.pi / 2, 0.0])
        env.simulator.Initialize()
        env.step(np.zeros(1, dtype=np.float32))
        speed = abs(plant.GetVelocities(env._plant_context)[0])
        assert speed == pytest.approx(DT * M * G * L / 2 / inertia, rel=1e-9)


def test_an_unactuated_joint_has_no_gear_ratio() -> None:
    cart_pole = PENDULUM.with_name("cart_pole.scn")  # its pole's pin has no actuator
    text = cart_pole.read_text() + "randomize { cart_pole.PolePin.gear_ratio ~ uniform(1, 2) }\n"
    scenario = scenario_dsl.loads(text, str(cart_pole))
    with pytest.raises(CompileError) as failure:
        compile_scenario(scenario)
    assert failure.value.code == "SCN504" and "PolePin" in failure.value.message
    assert failure.value.where is not None


def test_lint_checks_the_new_targets() -> None:
    from scenario_dsl.lang.loader import analyze_text

    text = PENDULUM.read_text() + "randomize { pendulum.rotor_inertia ~ uniform(0, 1) m }\n"
    codes = [d.code for d in analyze_text(text, str(PENDULUM)).diagnostics]
    assert "SCN302" in codes  # a length is no inertia
    text = PENDULUM.read_text() + "randomize { rod.inertia_scale ~ uniform(-1, 1) }\n"
    codes = [d.code for d in analyze_text(text, str(PENDULUM)).diagnostics]
    assert "SCN405" in codes  # a scale that can go negative


LIMITED = """
randomize {
    pendulum.q ~ uniform(-pi, pi)
    pendulum.effort_limit *~ uniform(0.25, 0.5)
}
"""


def test_the_drawn_effort_limit_clamps_the_torque_and_never_compounds() -> None:
    """pendulum.scn limits its torque to 2 N*m; drawn at 0.5 to 1 N*m, a full 2 N*m command speeds
    the horizontal rod up in one step by dt * limit / inertia more than no command does (the
    plant clamps the actuation), and each episode scales the declared 2, not the last draw."""
    declared = "randomize {\n    pendulum.q ~ uniform(-pi, pi)\n    pendulum.v ~ uniform(-1, 1)\n}"
    assert declared in PENDULUM.read_text()
    text = PENDULUM.read_text().replace(declared, LIMITED)
    env = scenario_dsl.make_env(scenario_dsl.loads(text, str(PENDULUM)))
    plant = env.compiled.plant
    actuator = plant.get_joint_actuator(plant.GetJointActuatorIndices()[0])
    inertia = M * L**2 / 3
    limits = []
    for seed in range(5):
        speeds = []
        for command in (0.0, 2.0):
            _, info = env.reset(seed=seed)
            plant.SetPositionsAndVelocities(env._plant_context, [np.pi / 2, 0.0])
            env.simulator.Initialize()
            env.step(env.compiled.to_agent(np.array([command])).astype(np.float32))
            speeds.append(plant.GetVelocities(env._plant_context)[0])
        limit = info["randomization"]["pendulum.effort_limit"]
        assert 0.5 <= limit <= 1.0 and actuator.effort_limit() == limit
        assert abs(speeds[1] - speeds[0]) == pytest.approx(DT * limit / inertia, rel=1e-9)
        limits.append(limit)
    assert len(set(limits)) == 5
    env.close()


def test_lint_checks_effort_limits() -> None:
    from scenario_dsl.lang.loader import analyze_text

    def codes(draw: str, scenario: Path = PENDULUM, text: str | None = None) -> list[str]:
        source = (text or scenario.read_text()) + f"randomize {{ {draw} }}\n"
        return [d.code for d in analyze_text(source, str(scenario)).diagnostics if str(d.level) == "error"]

    assert codes("pendulum.effort_limit ~ uniform(1, 3) N*m") == []
    assert "SCN302" in codes("pendulum.effort_limit ~ uniform(1, 3) N")  # a revolute joint's limit is a torque
    assert "SCN405" in codes("pendulum.effort_limit ~ normal(2, 1) N*m")  # can go negative
    assert "SCN405" in codes("pendulum.effort_limit ~ choice([0, 1]) N*m")  # 0 is no limit Drake takes
    assert "SCN405" in codes("pendulum.effort_limit +~ uniform(-5, -4) N*m")  # the declared 2 N*m, offset
    assert codes("pendulum.effort_limit +~ uniform(-1, 1) N*m") == []
    unlimited = PENDULUM.read_text().replace("actuated { effort_limit = 2 N*m }", "actuated")
    assert "SCN406" in codes("pendulum.effort_limit *~ uniform(0.5, 1)", text=unlimited)
    assert codes("pendulum.effort_limit ~ uniform(0.5, 1) N*m", text=unlimited) == []
    unactuated = PENDULUM.read_text().replace("actuated { effort_limit = 2 N*m }", "damping = 0.1")
    assert "SCN504" in codes("pendulum.gear_ratio ~ uniform(1, 2)", text=unactuated)


def test_a_model_joint_without_an_effort_limit_cannot_be_scaled() -> None:
    cart_pole = PENDULUM.with_name("cart_pole.scn")  # its URDF gives the slider no effort limit
    text = cart_pole.read_text() + "randomize { cart_pole.CartSlider.effort_limit *~ uniform(0.5, 1) }\n"
    with pytest.raises(CompileError) as failure:
        compile_scenario(scenario_dsl.loads(text, str(cart_pole)))
    assert failure.value.code == "SCN406" and failure.value.where is not None
    text = cart_pole.read_text() + "randomize { cart_pole.CartSlider.effort_limit ~ uniform(5, 10) N }\n"
    env = scenario_dsl.make_env(scenario_dsl.loads(text, str(cart_pole)))
    _, info = env.reset(seed=0)
    plant = env.compiled.plant
    assert plant.get_joint_actuator(plant.GetJointActuatorIndices()[0]).effort_limit() \
        == info["randomization"]["cart_pole.CartSlider.effort_limit"]
    env.close()
