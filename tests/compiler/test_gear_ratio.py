"""What `actuated { gear_ratio = n; rotor_inertia = ρ }` means (issue 19, item 8; docs/language.md):
Drake adds the reflected inertia n²ρ to the joint and does not multiply the command by n."""

from __future__ import annotations

import numpy as np
import pytest

from scenario_dsl import loads, make_env

ROD = """scenario rod
plant {{ time_step = 1 ms; gravity = [0, 0, 0] m/s^2 }}
body rod {{ mass = 1 kg; inertia = [0.1, 0.1, 0.1] }}
joint hinge: revolute(world -> rod, axis = [0, 0, 1]) {{ actuated {{ gear_ratio = {n}; rotor_inertia = {rho} }} }}
action torque = hinge.effort in [-1, 1] N*m {{ normalize = false }}
observation o = [hinge.v]
reward {{ -(hinge.v^2) as r }}
episode {{ step = 10 ms; time_limit = 1 s }}
"""


def _speed_after_one_step(n: float, rho: float) -> float:
    env = make_env(loads(ROD.format(n=n, rho=rho)), seed=0)
    try:
        env.reset(seed=0)
        observation, *_ = env.step(np.array([0.5], dtype=np.float32))
        return float(observation[0])
    finally:
        env.close()


def test_the_gear_ratio_does_not_multiply_the_command() -> None:
    assert _speed_after_one_step(10, 0) == pytest.approx(_speed_after_one_step(1, 0), rel=1e-9)
    assert _speed_after_one_step(1, 0) == pytest.approx(0.5 / 0.1 * 0.01, rel=1e-6)  # u / I * dt


def test_the_gear_ratio_adds_the_reflected_inertia() -> None:
    # 0.5 N*m on I + n^2 rho = 0.1 + 100 * 0.001 = 0.2 kg*m^2 for 10 ms
    assert _speed_after_one_step(10, 0.001) == pytest.approx(0.5 / 0.2 * 0.01, rel=1e-6)
