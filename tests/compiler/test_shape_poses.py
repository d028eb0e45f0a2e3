"""A shape placed in its body (issue 19, item 7): `shape = ... at (...)` moves the geometry and
the solid's mass with it; `visual_shape` and `collision_shape` add massless geometry, any number."""

from __future__ import annotations

import numpy as np
import pytest
from pydrake.multibody.plant import AddMultibodyPlantSceneGraph
from pydrake.systems.framework import DiagramBuilder

from scenario_dsl import loads, make_env
from scenario_dsl.compiler.plant import populate
from scenario_dsl.lang.formatter import format_source
from scenario_dsl.lang.loader import analyze_text
from scenario_dsl.lang.model import Scenario
from scenario_dsl.lang.source import SourceFile

PLACED = """scenario placed
plant { time_step = 1 ms }
body link {
    mass = 1 kg
    shape = capsule(2 cm, 40 cm) at (translation = [0.2, 0, 0] m, rotation = rpy(0, 90 deg, 0))
    visual_shape = sphere(3 cm) at (translation = [0.4, 0, 0] m)
    visual_shape = box(1, 1, 1) cm
    collision_shape = sphere(2 cm) at (translation = [0.4, 0, 0] m)
}
joint hinge: revolute(world -> link, axis = [0, 1, 0]) { actuated }
action torque = hinge.effort in [-1, 1] N*m
observation state = [hinge.q, hinge.v]
reward { -hinge.q^2 }
episode { step = 20 ms; time_limit = 1 s }
"""

# The same pendulum the old way: a massless link on the hinge and the rod welded to it at the pose.
WELDED = """scenario welded
plant { time_step = 1 ms }
body link {}
body rod { mass = 1 kg; shape = capsule(2 cm, 40 cm) }
weld link -> rod at (translation = [0.2, 0, 0] m, rotation = rpy(0, 90 deg, 0))
joint hinge: revolute(world -> link, axis = [0, 1, 0]) { actuated }
action torque = hinge.effort in [-1, 1] N*m
observation state = [hinge.q, hinge.v]
reward { -hinge.q^2 }
episode { step = 20 ms; time_limit = 1 s }
"""


def _trajectory(text: str, steps: int = 25) -> np.ndarray:
    env = make_env(loads(text), seed=0)
    try:
        observation, _ = env.reset(seed=0)
        seen = [observation]
        for _ in range(steps):
            observation, *_ = env.step(np.array([0.3], dtype=np.float32))
            seen.append(observation)
        return np.array(seen)
    finally:
        env.close()


def _plant(scenario: Scenario):  # type: ignore[no-untyped-def]
    plant, scene_graph = AddMultibodyPlantSceneGraph(DiagramBuilder(), 0.001)
    populate(plant, scenario)
    return plant, scene_graph.model_inspector()


def test_a_placed_shape_swings_as_the_rod_welded_at_that_pose() -> None:
    placed, welded = _trajectory(PLACED), _trajectory(WELDED)
    assert abs(placed[-1, 0]) > 0.5  # it fell: gravity acts at the shape's centre, 0.2 m out
    np.testing.assert_allclose(placed, welded, atol=1e-6)


def test_the_solid_mass_sits_at_the_shape_and_extra_shapes_have_none() -> None:
    plant, _ = _plant(loads(PLACED))
    inertia = plant.GetBodyByName("link").default_spatial_inertia()
    assert inertia.get_mass() == pytest.approx(1.0)
    np.testing.assert_allclose(inertia.get_com(), [0.2, 0, 0], atol=1e-12)
    # The capsule lies along x now: its small moment is about x, the large ones about y and z.
    moments = np.diag(inertia.CalcRotationalInertia().ShiftToCenterOfMass(1.0, inertia.get_com()).CopyToFullMatrix3())
    assert moments[0] < moments[1] == pytest.approx(moments[2])


def test_each_shape_is_registered_at_its_pose_with_its_role() -> None:
    plant, inspector = _plant(loads(PLACED))
    link = plant.GetBodyByName("link")
    visual = {inspector.GetName(g): inspector.GetPoseInFrame(g).translation()
              for g in plant.GetVisualGeometriesForBody(link)}
    collision = {inspector.GetName(g): inspector.GetPoseInFrame(g).translation()
                 for g in plant.GetCollisionGeometriesForBody(link)}
    assert sorted(n.split("::")[-1] for n in visual) == ["link", "link_visual_0", "link_visual_1"]
    assert sorted(n.split("::")[-1] for n in collision) == ["link", "link_collision_0"]
    by_name = {n.split("::")[-1]: x for n, x in visual.items()}
    np.testing.assert_allclose(by_name["link"], [0.2, 0, 0], atol=1e-12)
    np.testing.assert_allclose(by_name["link_visual_0"], [0.4, 0, 0], atol=1e-12)
    np.testing.assert_allclose(by_name["link_visual_1"], [0, 0, 0], atol=1e-12)


@pytest.mark.parametrize(("line", "code", "message"), [
    ("    color = [1, 0, 0] at (translation = [0, 0, 1] m)", "SCN306", "`color` cannot be placed"),
    ("    shape = sphere(1 cm)", "SCN208", "`shape` is set twice"),
    ("    visual_shape = sphere(1 cm) at (offset = [0, 0, 1] m)", "SCN203", "unknown pose field `offset`"),
    ("    collision_shape = ball(1 cm)", "SCN404", "a shape is one of"),
])
def test_lint_reports_misplaced_and_misspelled_shapes(line: str, code: str, message: str) -> None:
    text = PLACED.replace("    visual_shape = box(1, 1, 1) cm\n", line + "\n")
    (found,) = analyze_text(text, "placed.scn").diagnostics
    assert found.code == code and message in found.message
    assert found.span.text in line


def test_formatting_keeps_the_pose_and_is_idempotent() -> None:
    once, diagnostics = format_source(SourceFile("placed.scn", PLACED))
    assert not diagnostics and once is not None
    assert "shape = capsule(2 cm, 40 cm) at (translation = [0.2, 0, 0] m, rotation = rpy(0, 90 deg, 0))" in once
    assert format_source(SourceFile("placed.scn", once))[0] == once
