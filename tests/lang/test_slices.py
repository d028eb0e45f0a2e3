"""Slices `v[a:b]` (issue 19, item 9): the elements a to b - 1, bounds constant, negatives from
the end; empty or outside slices are SCN303, non-constant bounds SCN307; `scn fmt` prints them
back as written."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenario_dsl.lang.formatter import format_source
from scenario_dsl.lang.loader import analyze_text
from scenario_dsl.lang.source import SourceFile
from scenario_dsl.runtime.env import make_env

HEAD = """scenario s
body ball { shape = sphere(5 cm); mass = 1 kg }
joint slide: prismatic(world -> ball, axis = [1, 0, 0]) { actuated }
action f = slide.effort in [-1, 1] N
reward { -|ball.position[0:2]| as r }
episode { step = 10 ms; time_limit = 1 s }
"""


def _observation(expr: str) -> np.ndarray:
    analysis = analyze_text(HEAD + f"observation o = {expr}\n")
    assert analysis.ok, [(d.code, d.message) for d in analysis.diagnostics]
    env = make_env(analysis.scenario)
    try:
        observation, _ = env.reset(seed=0)
    finally:
        env.close()
    return observation


@given(st.integers(-6, 6), st.integers(-6, 6), st.booleans(), st.booleans())
def test_slices_of_a_constant_vector_are_pythons(start: int, stop: int, open_start: bool, open_stop: bool) -> None:
    values = [10, 11, 12, 13, 14, 15]
    text = f"[{', '.join(map(str, values))}][{'' if open_start else start}:{'' if open_stop else stop}]"
    expected = values[None if open_start else start:None if open_stop else stop]
    first = 0 if open_start else start + 6 * (start < 0)
    last = 6 if open_stop else stop + 6 * (stop < 0)
    analysis = analyze_text(HEAD + f"observation o = {text}\n")
    if 0 <= first < last <= 6:  # Python's slice, not empty
        assert analysis.ok
        assert analysis.scenario is not None and analysis.scenario.observations[0].size == len(expected)
    else:
        assert [d.code for d in analysis.diagnostics] == ["SCN303"]


def test_slices_of_signals_reach_the_env() -> None:
    assert list(_observation("[ball.position[0:2], [1, 2, 3, 4][-2:], (ball.position + [5, 6, 7] m)[1:]]")) \
        == [0, 0, 3, 4, 6, 7]


@pytest.mark.parametrize("expr, code", [("ball.position[2:1]", "SCN303"), ("ball.position[0:4]", "SCN303"),
                                         ("slide.q[0:1]", "SCN303"), ("ball.position[slide.q:2]", "SCN307"),
                                         ("ball.position[0.5:2]", "SCN307"), ("ball.position[0:200 cm]", "SCN307")])
def test_bad_slices_are_located_errors(expr: str, code: str) -> None:
    analysis = analyze_text(HEAD + f"observation o = {expr}\n")
    assert [(d.code, d.line) for d in analysis.diagnostics] == [(code, 7)]


def test_fmt_prints_slices_as_written() -> None:
    source = HEAD + "observation a = ball.position[ 0 : 2 ]\nobservation b = ball.position[1:]\n" \
                    "observation c = ball.position[:-1]\n"
    formatted, problems = format_source(SourceFile("s.scn", source))
    assert formatted is not None and not problems
    assert "ball.position[0:2]" in formatted and "ball.position[1:]" in formatted and "ball.position[:-1]" in formatted
    assert format_source(SourceFile("s.scn", formatted))[0] == formatted
