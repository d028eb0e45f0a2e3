"""The recording camera (issue 19, item 6): framed on the scene's bounding box, by default square
on to the plane the joints move in, else along the scene's thinnest axis, so an arm moving in a
horizontal plane is filmed from above and fills the picture instead of being a sliver seen edge
on; `--camera` names another view."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydrake.math import RigidTransform

from scenario_dsl import loads, make_env
from scenario_dsl.compiler.camera import VIEWS, auto_view, camera_pose, motion_plane
from scenario_dsl.lang.model import CAMERA_VIEWS

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

# A two-link arm lying in the horizontal plane, like Gymnasium's Reacher.
REACHER = """scenario reacher
plant { time_step = 10 ms; gravity = [0, 0, 0] m/s^2 }
body link1 { mass = 0.1 kg; center_of_mass = [0.05, 0, 0] m; inertia = [1e-4, 1e-4, 1e-4] }
body link2 { mass = 0.1 kg; center_of_mass = [0.05, 0, 0] m; inertia = [1e-4, 1e-4, 1e-4] }
body bar1 { shape = box(0.1, 0.02, 0.02); collision = false; color = [0.9, 0.2, 0.2, 1] }
body bar2 { shape = box(0.1, 0.02, 0.02); collision = false; color = [0.2, 0.2, 0.9, 1] }
weld link1 -> bar1 at (translation = [0.05, 0, 0] m)
weld link2 -> bar2 at (translation = [0.05, 0, 0] m)
frame elbow_at on link1 at (translation = [0.1, 0, 0] m)
joint shoulder: revolute(world -> link1, axis = [0, 0, 1]) { actuated }
joint elbow: revolute(elbow_at -> link2, axis = [0, 0, 1]) { actuated; initial = 60 deg }
action torque = plant.actuation in [-0.1, 0.1] N*m
observation o = [shoulder.q, elbow.q]
reward { -(shoulder.q^2) as r }
episode { step = 50 ms; time_limit = 1 s }
"""


def _covered(view: str) -> tuple[float, float]:
    """The fraction of the image that is not background (the corner pixel's colour), and the
    fraction of its rows that show something."""
    env = make_env(loads(REACHER), render_mode="rgb_array", camera=view, seed=0)
    try:
        env.reset(seed=0)
        image = env.render()
    finally:
        env.close()
    assert image.shape == (480, 640, 3)
    scene = np.any(image != image[0, 0], axis=-1)
    rows = np.flatnonzero(scene.any(axis=1))
    return float(scene.mean()), (rows[-1] - rows[0] + 1) / image.shape[0] if len(rows) else 0.0


def test_a_horizontal_arm_fills_the_picture_from_above() -> None:
    assert auto_view(np.array([0.2, 0.15, 0.02])) == "top"
    (area, height), (edge_area, edge_on) = _covered("auto"), _covered("front")
    # The frame holds the circle the arm sweeps about its shoulder (its reach), so the arm seen
    # from above covers a few times more of the picture than seen edge on, where it is a sliver.
    assert area > edge_area, f"the arm covers {area:.1%} of the picture from above, {edge_area:.1%} edge on"
    assert height > 3 * edge_on and edge_on < 0.05  # from above its bend shows; edge on, a sliver


@pytest.mark.parametrize(("size", "view"), [((1.0, 0.05, 0.8), "front"), ((0.05, 1.0, 0.8), "side"),
                                            ((1.0, 0.9, 0.8), "iso")])
def test_the_automatic_view_looks_along_the_thinnest_axis(size: tuple[float, float, float], view: str) -> None:
    assert auto_view(np.array(size)) == view


@pytest.mark.parametrize("view", [v for v in CAMERA_VIEWS if v != "auto"])
def test_each_view_looks_at_the_centre_from_far_enough(view: str) -> None:
    center, radius = np.array([0.3, -0.2, 0.5]), 0.4
    X_WC: RigidTransform = camera_pose(center, radius, view)
    in_camera = X_WC.inverse().multiply(center)
    assert in_camera[0] == pytest.approx(0, abs=1e-9) and in_camera[1] == pytest.approx(0, abs=1e-9)
    assert in_camera[2] > radius / np.sin(np.pi / 8)  # in front of the lens, the whole sphere in view
    assert VIEWS[view] is not None


def test_an_unknown_view_is_refused() -> None:
    with pytest.raises(ValueError, match="camera must be one of auto, front, side, top, iso"):
        make_env(loads(REACHER), render_mode="rgb_array", camera="fisheye")


@pytest.mark.parametrize(("name", "plane"), [
    ("iiwa_reach", "front"),  # joints about y, the arm upright at its default state: thin in x
    ("reacher", "top"),  # joints about z
    ("pendulum", "front"),
    ("push_box", None),  # the box floats: no one plane
])
def test_the_automatic_view_looks_square_on_to_the_plane_the_joints_move_in(name: str, plane: str | None) -> None:
    env = make_env(SCENARIOS / f"{name}.scn", seed=0)
    try:
        assert motion_plane(env.unwrapped.compiled.plant) == plane
    finally:
        env.close()
    assert auto_view(np.array([0.1, 0.2, 1.3]), plane) == (plane or "side")  # thinnest in x without a plane
