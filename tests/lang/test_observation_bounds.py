"""`observation NAME = EXPR in BOUNDS`: constant bounds that become the observation space's
(issue 19 item 14); their mistakes are found at lint, with places."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenario_dsl import loads
from scenario_dsl.lang.diagnostics import ScenarioError
from scenario_dsl.lang.formatter import format_source
from scenario_dsl.lang.source import SourceFile

BASE = """scenario ob "bounded observations"
plant { time_step = 10 ms }
body b { mass = 1 kg; shape = sphere(0.1) }
joint j: prismatic(world -> b, axis = [0, 0, 1]) { actuated }
action u = j.effort in [-1, 1] N
reward { -j.q^2 as c }
episode { step = 50 ms; time_limit = 1 s }
"""


def _load(observations: str):  # type: ignore[no-untyped-def]
    return loads(BASE + observations, "ob.scn")


def test_bounds_per_element_and_for_every_element() -> None:
    scenario = _load("observation height = j.q in [-1, 1] m\n"
                     "observation both = [j.q / (1 m), j.v / (1 m/s)] in [[-1, -5], [1, 5]]\n"
                     "observation free = j.v\n")
    height, both, free = scenario.observations
    assert (height.lower, height.upper) == ([-1.0], [1.0])
    assert (both.lower, both.upper) == ([-1.0, -5.0], [1.0, 5.0])
    assert free.lower is None and free.upper is None
    mm = _load("observation height = j.q in [-20, 20] mm\n").observations[0]
    assert mm.lower == pytest.approx([-0.02]) and mm.upper == pytest.approx([0.02])  # SI units


@pytest.mark.parametrize(("line", "code"), [
    ("observation h = j.q in [1, -1] m", "SCN402"),
    ("observation h = j.v in [-1, 1] m", "SCN302"),
    ("observation h = [j.q, j.q] in [[0], [1]] m", "SCN303"),
    ("observation h = j.q in [-1, 0, 1] m", "SCN303"),
    ("observation h = j.q in [-1, j.q] m", "SCN307"),  # not a constant
])
def test_bad_bounds_are_found_at_lint(line: str, code: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        _load(line + "\n")
    (found,) = [d for d in caught.value.diagnostics if d.code == code]
    text = BASE + line
    assert found.span is not None and found.span.start > text.index(" in [")  # in the bounds


def test_bounds_survive_the_formatter() -> None:
    text = BASE + "observation both = [j.q / (1 m), j.v / (1 m/s)]   in  [[-1, -5], [1, 5]] { dtype = float64 }\n"
    formatted, problems = format_source(SourceFile("ob.scn", text))
    assert formatted is not None and not problems
    assert "observation both = [j.q / (1 m), j.v / (1 m/s)] in [[-1, -5], [1, 5]] { dtype = float64 }" in formatted
    assert loads(formatted, "ob.scn").observations[0].upper == [1.0, 5.0]


def test_the_environment_and_a_batch_use_them(tmp_path: Path) -> None:
    from scenario_dsl.runtime.batch_env import ScenarioBatchEnv
    from scenario_dsl.runtime.env import ScenarioEnv

    scenario = _load("observation height = j.q in [-1, 1] m\nobservation speed = j.v\n")
    space = ScenarioEnv(scenario).observation_space
    np.testing.assert_array_equal(space.low, [-1, -np.inf])
    np.testing.assert_array_equal(space.high, [1, np.inf])
    assert ScenarioBatchEnv(scenario, 2).observation_space == space
