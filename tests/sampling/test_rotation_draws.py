"""Whole-rotation draws of a free body's orientation (`B.rpy ~ rpy(...)`, `B.rpy ~
uniform_rotation()`), through real env resets: the orientation the plant holds after a reset has
the declared distribution. Fixed seeds: each check always passes or always fails."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pydrake.math import RollPitchYaw
from test_randomization import _phi, _uniform_cdf, ks_pvalue  # a sibling: tests/sampling is on sys.path

import scenario_dsl
from scenario_dsl.lang.loader import analyze_text

PUSH_BOX = Path(__file__).resolve().parents[2] / "scenarios" / "push_box.scn"
RESETS = 600


def _orientations(draw: str) -> np.ndarray:
    """The box's rotation matrix in the world after each of RESETS resets (seed 3, then the stream)."""
    env = scenario_dsl.make_env(scenario_dsl.loads(PUSH_BOX.read_text() + f"randomize {{ {draw} }}\n", str(PUSH_BOX)))
    plant = env.compiled.plant
    box = plant.GetBodyByName("box")
    rotations = []
    for i in range(RESETS):
        env.reset(seed=3 if i == 0 else None)
        rotations.append(plant.EvalBodyPoseInWorld(env._plant_context, box).rotation().matrix())
    env.close()
    return np.asarray(rotations)


def test_rpy_draws_each_angle_from_its_own_distribution() -> None:
    rotations = _orientations("box.rpy ~ rpy(normal(0, 5), 0, uniform(-180, 180)) deg")
    angles = np.asarray([RollPitchYaw(r).vector() for r in rotations])
    assert ks_pvalue(angles[:, 0], lambda x: _phi(x / math.radians(5))) > 1e-3
    assert np.allclose(angles[:, 1], 0.0, atol=1e-12)
    assert ks_pvalue(angles[:, 2], _uniform_cdf(-math.pi, math.pi)) > 1e-3


def test_uniform_rotation_of_a_body_is_uniform_over_so3() -> None:
    """For the Haar measure every entry of R has mean 0 and mean square 1/3, and the rotation
    angle has CDF (theta - sin theta) / pi."""
    rotations = _orientations("box.rpy ~ uniform_rotation()")
    assert np.abs(rotations.mean(axis=0)).max() < 0.12  # 4 standard errors of sqrt(1/3) / sqrt(600)
    assert np.allclose((rotations**2).mean(axis=0), 1 / 3, atol=0.06)
    angle = np.arccos(np.clip((np.trace(rotations, axis1=1, axis2=2) - 1) / 2, -1, 1))
    assert ks_pvalue(angle, lambda t: (t - np.sin(t)) / np.pi) > 1e-3


@pytest.mark.parametrize(("draw", "code"), [
    ("box.yaw ~ rpy(0, 0, 1)", "SCN303"),  # one angle takes a scalar distribution
    ("box.yaw ~ uniform_rotation()", "SCN303"),
    ("box.rpy +~ rpy(0, 0, uniform(-1, 1))", "SCN308"),  # a rotation sets the target
    ("box.rpy ~ rpy(0, 0)", "SCN305"),
    ("box.rpy ~ rpy(0, 0, 1 m)", "SCN302"),
    ("box.rpy ~ rpy(0, 0, uniform([0, 1], [1, 2]))", "SCN303"),
    ("box.rpy ~ rpy(0, uniform_rotation(), 0)", "SCN308"),
    ("box.rpy ~ rpy(0, 0, normal(0, -1))", "SCN405"),
    ("box.position ~ uniform_rotation()", "SCN303"),  # three numbers, but no rotation
    ("box.position ~ rpy(0, 0, 1)", "SCN303"),
    ("positions.noise ~ rpy(0, 0, normal(0, 1))", "SCN303"),
    ("box.rpy ~ rpy(0, 0, uniform(-1, 1) deg) rad", "SCN302"),  # the unit twice
    ("box.rpy ~ rpy(0, 0, inf)", "SCN405"),  # no rotation
])
def test_bad_rotation_draws_are_diagnostics(draw: str, code: str) -> None:
    source = PUSH_BOX.read_text() + f"randomize {{ {draw} }}\n"
    diagnostics = analyze_text(source, str(PUSH_BOX)).diagnostics
    assert code in [d.code for d in diagnostics], [str(d) for d in diagnostics]
    assert all(d.span is not None for d in diagnostics)


def test_a_unit_after_rpy_applies_to_every_angle() -> None:
    source = PUSH_BOX.read_text() + "randomize { box.rpy ~ rpy(90, normal(0, 1), uniform(0, 10)) deg }\n"
    scenario = analyze_text(source, str(PUSH_BOX)).scenario
    assert scenario is not None
    params = scenario.randomizations[-1].draws[-1].value.params  # type: ignore[union-attr]
    assert params["roll"] == pytest.approx(math.pi / 2)
    assert params["pitch"].params["std"] == pytest.approx(math.radians(1))
    assert params["yaw"].params["high"] == pytest.approx(math.radians(10))
    own = PUSH_BOX.read_text() + "randomize { box.rpy ~ rpy(pi / 2, normal(0, 1 deg), uniform(0, 10) deg) }\n"
    scenario = analyze_text(own, str(PUSH_BOX)).scenario
    assert scenario is not None  # or each angle its own unit
    assert scenario.randomizations[-1].draws[-1].value.params["yaw"].params["high"] == \
        pytest.approx(math.radians(10))  # type: ignore[union-attr]


@pytest.mark.parametrize(("unit", "code"), [("kg", "SCN302"), ("furlong", "SCN301")])
def test_a_wrong_unit_after_rpy_is_reported_once(unit: str, code: str) -> None:
    source = PUSH_BOX.read_text() + f"randomize {{ box.rpy ~ rpy(0, 0, 0) {unit} }}\n"
    assert [d.code for d in analyze_text(source, str(PUSH_BOX)).diagnostics] == [code]
