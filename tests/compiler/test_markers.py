"""Markers (issue 19, item 15): a shape drawn where an expression puts it, such as a target drawn
each episode, in recordings and Meshcat only, without a fake body on damped joints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenario_dsl import loads, make_env
from scenario_dsl.lang.loader import analyze_text

REACH = """scenario reach
plant { time_step = 10 ms; gravity = [0, 0, 0] m/s^2 }
body arm {
    mass = 1 kg
    shape = capsule(1 cm, 20 cm) at (translation = [0.1, 0, 0] m, rotation = rpy(0, 90 deg, 0))
    color = [0.3, 0.3, 0.9]
}
joint shoulder: revolute(world -> arm, axis = [0, 0, 1]) { actuated }
marker target { shape = sphere(3 cm); color = [0, 1, 0]; position = [cos(goal), sin(goal), 0] * 0.2 m }
action torque = shoulder.effort in [-1, 1] N*m
observation state = [shoulder.q, goal]
randomize { let goal ~ uniform(-pi, pi) }
reward { -(shoulder.q - goal)^2 }
episode { step = 50 ms; time_limit = 1 s }
"""


def _marker_position(env) -> np.ndarray:  # type: ignore[no-untyped-def]
    compiled, context = env.unwrapped.compiled, env.unwrapped.simulator.get_context()
    poses = compiled.diagram.GetSubsystemByName("marker_poses")
    scene_graph = compiled.scene_graph
    query = scene_graph.get_query_output_port().Eval(scene_graph.GetMyContextFromRoot(context))
    return np.asarray(query.GetPoseInWorld(poses.frames[0]).translation())


def test_the_marker_stands_where_its_position_puts_it_each_episode() -> None:
    env = make_env(loads(REACH), seed=0, render_mode="rgb_array")
    try:
        seen = []
        for seed in (1, 2):
            observation, _ = env.reset(seed=seed)
            goal = float(observation[1])
            np.testing.assert_allclose(_marker_position(env), [0.2 * math.cos(goal), 0.2 * math.sin(goal), 0],
                                       atol=1e-6)
            seen.append(goal)
        assert seen[0] != seen[1]
    finally:
        env.close()


def _green(image: np.ndarray) -> np.ndarray:
    pixels = image.astype(int)
    return (pixels[..., 1] > 120) & (pixels[..., 0] < 80) & (pixels[..., 2] < 80)


def test_the_camera_draws_the_marker_and_nothing_collides_with_it() -> None:
    drawn = make_env(loads(REACH), seed=0, render_mode="rgb_array")
    plain = make_env(loads(REACH.replace("marker target", "# marker target")), seed=0, render_mode="rgb_array")
    try:
        images = []
        for env in (drawn, plain):
            env.reset(seed=1)
            images.append(env.render())
        assert _green(images[0]).sum() > 50 and _green(images[1]).sum() == 0
        # Swinging the arm through the marker: the same motion with and without it (no contact).
        for env in (drawn, plain):
            env.reset(seed=1)
        for _ in range(10):
            a, *_ = drawn.step(np.ones(1, dtype=np.float32))
            b, *_ = plain.step(np.ones(1, dtype=np.float32))
            np.testing.assert_array_equal(a, b)
    finally:
        drawn.close()
        plain.close()


def test_training_builds_no_marker_system() -> None:
    env = make_env(loads(REACH), seed=0)
    try:
        assert not env.unwrapped.compiled.diagram.HasSubsystemNamed("marker_poses")
    finally:
        env.close()


@pytest.mark.parametrize(("marker", "code", "message"), [
    ("marker target { shape = sphere(3 cm) }", "SCN406", "marker `target` needs a `position`"),
    ("marker target { position = [0, 0, 0] m }", "SCN406", "marker `target` needs a `shape`"),
    ("marker target { shape = sphere(3 cm); position = [0, 0] m }", "SCN303", "a length 3-vector"),
    ("marker target { shape = sphere(3 cm); position = [shoulder.v, 0, 0] }", "SCN302", "a length 3-vector"),
    ("marker target { shape = sphere(3 cm); position = [0, 0, 0] m; color = [2, 0, 0] }", "SCN401", "colour"),
    ("marker arm { shape = sphere(3 cm); position = [0, 0, 0] m }", "SCN202", "`arm`"),
])
def test_lint_checks_markers(marker: str, code: str, message: str) -> None:
    text = "\n".join(marker if line.startswith("marker target") else line for line in REACH.splitlines())
    found = [d for d in analyze_text(text, "reach.scn").diagnostics if d.code == code]
    assert found and message in found[0].message


def test_a_marker_whose_position_overflows_is_parked_and_the_episode_goes_on() -> None:
    text = REACH.replace("position = [cos(goal), sin(goal), 0] * 0.2 m",
                         "position = [shoulder.v * 1e308 * 1e308, 0, 0] m")
    env = make_env(loads(text), seed=0, render_mode="rgb_array")
    try:
        env.reset(seed=1)
        for _ in range(5):
            _, _, _, truncated, info = env.step(np.ones(1, dtype=np.float32))
            assert not truncated and "truncation_reason" not in info
        assert abs(_marker_position(env)[0]) >= 1e6 - 1  # out of every view, not a failed step
    finally:
        env.close()
