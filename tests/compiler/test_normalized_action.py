"""The reward can read the agent's action on [-1, 1] (issue 19, item 10): `ACTION.normalized` is
the action mapped from its bounds onto [-1, 1], what the agent outputs when `normalize` is on,
so a control cost needs no division by the bounds."""

from __future__ import annotations

import numpy as np
import pytest

from scenario_dsl import loads, make_env
from scenario_dsl.lang.loader import analyze_text

ARM = """scenario arm
plant {{ time_step = 10 ms; gravity = [0, 0, 0] m/s^2 }}
body upper {{ mass = 1 kg; inertia = [0.01, 0.01, 0.01] }}
body lower {{ mass = 1 kg; inertia = [0.01, 0.01, 0.01] }}
joint shoulder: revolute(world -> upper, axis = [0, 0, 1]) {{ actuated }}
joint elbow: revolute(world -> lower, axis = [0, 1, 0]) {{ actuated }}
action torque = plant.actuation in [[-200, -50], [200, 150]] N*m {{ normalize = {normalize} }}
observation o = [shoulder.v, elbow.v]
reward {{
    -(torque.normalized[0]^2) as first
    -sum(torque.normalized^2) as both
    -(torque[1] / (100 N*m)) as physical
}}
episode {{ step = 50 ms; time_limit = 1 s }}
"""


@pytest.mark.parametrize(("normalize", "act", "normalized"), [
    ("true", [0.5, -1.0], [0.5, -1.0]),  # the agent's own numbers
    ("false", [100.0, 150.0], [0.5, 1.0]),  # physical bounds [-200, 200] and [-50, 150] mapped onto [-1, 1]
])
def test_the_reward_reads_the_action_on_minus_one_to_one(normalize: str, act: list[float],
                                                         normalized: list[float]) -> None:
    env = make_env(loads(ARM.format(normalize=normalize)), seed=0)
    try:
        env.reset(seed=0)
        _, _, _, _, info = env.step(np.array(act, dtype=env.action_space.dtype))
        terms = info["reward_terms"]
        assert terms["first"] == pytest.approx(-normalized[0] ** 2, abs=1e-6)
        assert terms["both"] == pytest.approx(-sum(x * x for x in normalized), abs=1e-6)
        physical = act[1] if normalize == "false" else 50 + 100 * act[1]  # [-50, 150]: mid 50, half-range 100
        assert terms["physical"] == pytest.approx(-physical / 100, abs=1e-6)
    finally:
        env.close()


def test_an_action_has_no_other_attribute() -> None:
    text = ARM.format(normalize="true").replace("torque.normalized[0]^2", "torque.scaled[0]^2")
    (found,) = analyze_text(text, "arm.scn").diagnostics
    assert found.code == "SCN204" and found.hint == "it has: normalized"
