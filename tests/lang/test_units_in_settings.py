"""Units are checked at every step (issue 19, items 3 and 11): a joint's damping has the dimension
of its joint's velocity (N*m*s/rad or N*s/m), and hints spell units the way the docs write them."""

from __future__ import annotations

import pytest

from scenario_dsl.lang.loader import analyze_text
from scenario_dsl.lang.units import ANGULAR_VELOCITY, FORCE, LENGTH, TIME, TORQUE, example_unit, spell

BASE = """scenario u
plant {{ time_step = 10 ms }}
body rod {{ mass = 1 kg; inertia = [0.1, 0.1, 0.1] }}
joint hinge: {kind}(world -> rod, axis = [0, 1, 0]) {{ actuated; damping = {damping} }}
action push = hinge.effort in [-1, 1] {effort}
observation o = [hinge.q, hinge.v]
reward {{ -(hinge.q^2) as r }}
episode {{ step = 50 ms; time_limit = 1 s }}
"""


def _codes(kind: str, damping: str) -> list[tuple[str, str]]:
    text = BASE.format(kind=kind, damping=damping, effort="N*m" if kind == "revolute" else "N")
    return [(d.code, d.message) for d in analyze_text(text, "u.scn").diagnostics]


@pytest.mark.parametrize("damping", ["1 m", "1 kg", "1000 mN", "1 cm", "1 N*s/m"])
def test_a_revolute_joints_damping_in_the_wrong_unit_is_scn302(damping: str) -> None:
    (found,) = _codes("revolute", damping)
    assert found[0] == "SCN302" and "rotational damping (N*m*s/rad)" in found[1]


@pytest.mark.parametrize("damping", ["1 m", "1 N*m*s/rad"])
def test_a_prismatic_joints_damping_in_the_wrong_unit_is_scn302(damping: str) -> None:
    (found,) = _codes("prismatic", damping)
    assert found[0] == "SCN302" and "linear damping (N*s/m)" in found[1]


@pytest.mark.parametrize(("kind", "damping"), [("revolute", "0.1"), ("revolute", "0.1 N*m*s/rad"),
                                               ("prismatic", "2"), ("prismatic", "2 N*s/m"),
                                               ("prismatic", "2000 N*ms/m")])
def test_damping_in_its_units_or_a_plain_number_is_accepted(kind: str, damping: str) -> None:
    assert _codes(kind, damping) == []


def test_a_drawn_damping_is_checked_like_a_declared_one() -> None:
    text = BASE.format(kind="revolute", damping="0.1", effort="N*m") + "randomize { hinge.damping ~ uniform(0, 1) m }\n"
    assert [d.code for d in analyze_text(text, "u.scn").diagnostics] == ["SCN302"]


@pytest.mark.parametrize(("dim", "text"), [(ANGULAR_VELOCITY, "rad/s"), (LENGTH / TIME**3, "m/s^3"),
                                           (TORQUE, "N*m"), (FORCE * TIME / LENGTH, "N*s/m"),
                                           (TORQUE / ANGULAR_VELOCITY, "N*m*s/rad"),
                                           (FORCE / LENGTH**2, "N/m^2"), (LENGTH**2, "m^2"), (TIME**-1, "1/s")])
def test_units_are_spelled_as_the_docs_write_them(dim: object, text: str) -> None:
    assert spell(dim) == text  # type: ignore[arg-type]


def test_a_hint_names_rad_per_s_not_a_power_product() -> None:
    text = BASE.format(kind="revolute", damping="0.1", effort="N*m") + "randomize { hinge.v ~ uniform(0, 1) m }\n"
    (found,) = analyze_text(text, "u.scn").diagnostics
    assert found.code == "SCN302" and found.hint is not None
    assert "rad/s" in found.hint and "^-1" not in found.hint and example_unit(ANGULAR_VELOCITY) == "rad/s"
