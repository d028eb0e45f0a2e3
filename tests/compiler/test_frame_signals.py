"""A frame's pose can be read (issue 19, item 13): `tool_tip.position` on a declared `frame`, the
world position of a point fixed on a link, without a massless body welded there."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scenario_dsl import loads, make_env
from scenario_dsl.lang.loader import analyze_text

ARM = """scenario arm
plant { time_step = 10 ms; gravity = [0, 0, 0] m/s^2 }
body link { mass = 1 kg; center_of_mass = [0.25, 0, 0] m; inertia = [0.01, 0.02, 0.02] }
joint shoulder: revolute(world -> link, axis = [0, 0, 1]) { actuated; initial = 30 deg }
frame tool_tip on link at (translation = [0.5, 0, 0.1] m, rpy = [0, 0, 90] deg)
action torque = shoulder.effort in [-1, 1] N*m
observation tip = [tool_tip.position, tool_tip.rpy[2]]
reward { -|tool_tip.position - [0, 0.5, 0.1] m| as distance }
episode { step = 50 ms; time_limit = 1 s }
"""


def test_the_tip_frame_is_where_the_link_carries_it() -> None:
    env = make_env(loads(ARM), seed=0)
    try:
        observation, _ = env.reset(seed=0)
        angle = math.radians(30)
        assert observation[:3] == pytest.approx([0.5 * math.cos(angle), 0.5 * math.sin(angle), 0.1], abs=1e-6)
        assert observation[3] == pytest.approx(angle + math.pi / 2, abs=1e-6)  # the frame's own yaw on the link's
        _, reward, *_ = env.step(np.zeros(1, dtype=np.float32))
        tip = np.array([0.5 * math.cos(angle), 0.5 * math.sin(angle), 0.1])
        assert reward == pytest.approx(-np.linalg.norm(tip - [0, 0.5, 0.1]), abs=1e-5)
    finally:
        env.close()


def test_a_frame_has_a_pose_and_no_velocity() -> None:
    (found,) = analyze_text(ARM.replace("tool_tip.rpy[2]", "tool_tip.velocity[0]"), "arm.scn").diagnostics
    assert found.code == "SCN204" and "frame `tool_tip` has no attribute `velocity`" in found.message
    (found,) = analyze_text(ARM.replace("tool_tip.rpy[2]", "tool_tip"), "arm.scn").diagnostics
    assert found.code == "SCN206" and found.hint is not None and "tool_tip.position" in found.hint
