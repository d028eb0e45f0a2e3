"""`action a = plant.actuation in [lower, upper]` gives those bounds to every actuator, as
docs/language.md says (issue 19, item 1): the front end counts the plant's actuators (declared
joints marked `actuated`, and each model file's actuated joints), so a mismatch is a lint error,
never a compile-time surprise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenario_dsl import loads, make_env
from scenario_dsl.lang.loader import analyze_text

ARM = """scenario arm
plant {{ time_step = 10 ms; gravity = [0, 0, 0] m/s^2 }}
body upper {{ mass = 1 kg; center_of_mass = [0.05, 0, 0] m; inertia = [0.01, 0.01, 0.01] }}
body lower {{ mass = 1 kg; center_of_mass = [0.05, 0, 0] m; inertia = [0.01, 0.01, 0.01] }}
frame elbow_at on upper at (translation = [0.1, 0, 0] m)
joint shoulder: revolute(world -> upper, axis = [0, 0, 1]) {{ actuated }}
joint elbow: revolute(elbow_at -> lower, axis = [0, 0, 1]) {{ actuated }}
action torque = plant.actuation in {bounds}
observation o = [shoulder.q, elbow.q, shoulder.v, elbow.v]
reward {{ -(shoulder.q^2) as r }}
episode {{ step = 50 ms; time_limit = 1 s }}
"""


def test_one_pair_of_bounds_applies_to_every_actuator() -> None:
    scenario = loads(ARM.format(bounds="[-200, 200] N*m"))
    assert scenario.action.size == 2
    assert scenario.action.lower == [-200.0, -200.0] and scenario.action.upper == [200.0, 200.0]
    env = make_env(scenario, seed=0)
    try:
        assert env.action_space.shape == (2,)
        env.reset(seed=0)
        observation, *_ = env.step(np.array([1.0, -1.0], dtype=np.float32))  # full torque, opposite ways
        assert observation[2] != 0 and observation[3] != 0  # both joints moved
    finally:
        env.close()


@pytest.mark.parametrize("bounds", ["[[-1, -1, -1], [1, 1, 1]] N*m", "[[-1], [1]] N*m"])
def test_a_count_that_does_not_match_the_actuators_is_a_lint_error(bounds: str) -> None:
    (found,) = analyze_text(ARM.format(bounds=bounds), "arm.scn").diagnostics
    assert found.code == "SCN303" and "takes 2 (one per actuated joint)" in found.message
    assert found.span is not None and found.span.text.startswith("[[")


def test_a_model_files_actuators_count_too(tmp_path: Path) -> None:
    text = """scenario acro
plant { time_step = 10 ms }
model acrobot from "package://drake/examples/acrobot/Acrobot.urdf"
action push = plant.actuation in [-5, 5] N*m
observation o = plant.state
reward { -(plant.state[0]^2) as r }
episode { step = 50 ms; time_limit = 1 s }
"""
    scenario = loads(text, base_dir=tmp_path)
    assert scenario.action.size == 1  # Acrobot.urdf actuates its elbow only
    wrong = text.replace("in [-5, 5] N*m", "in [[-5, -5], [5, 5]] N*m")
    assert [d.code for d in analyze_text(wrong, "acro.scn", base_dir=tmp_path).diagnostics] == ["SCN303"]
