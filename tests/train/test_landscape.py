"""`scn landscape` against closed forms: a block at rest whose starting position is the
parameter, paid each of 10 steps either -x^2 (smooth) or 1 while x > 0 (a Heaviside step, the
lecture's example). F(x) = E[f(x + σε)] and F'(x) are known; the estimates must agree within
their sampling error, except the first-order one at the step, which is 0 where F' is not: the
bias the lecture shows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scn_fixtures import run_cli

from scenario_dsl.runtime.gradient import NotDifferentiable, return_and_slope
from scenario_dsl.train.landscape import episode_return, landscape

BLOCK = """\
scenario block "a block at rest, paid by where it starts"
param start = 0 m
plant {{ time_step = 10 ms; gravity = [0, 0, 0] }}
body block {{ mass = 1 kg; shape = box(0.1, 0.1, 0.1) }}
joint x: prismatic(world -> block, axis = [1, 0, 0]) {{ actuated; initial = start }}
action push = x.effort in [-1, 1] N
observation obs = [x.q, x.v]
reward {{ {reward} as pay }}
episode {{ step = 100 ms; time_limit = 1 s }}
"""
SIGMA, SAMPLES = 0.5, 60


def phi(z: float) -> float:
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


def Phi(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def curves(tmp_path: Path, reward: str, grid: list[float]):  # type: ignore[no-untyped-def]
    path = tmp_path / "block.scn"
    path.write_text(BLOCK.format(reward=reward))
    return landscape(lambda x: episode_return(path, "start", x, seed=0, policy=None), "start", grid,
                     sigma=SIGMA, samples=SAMPLES, seed=1)


def within(estimate: float, se: float, truth: float, k: float = 4.0) -> bool:
    return abs(estimate - truth) <= k * se + 1e-9


def test_a_smooth_return_both_gradient_estimates_agree_with_the_closed_form(tmp_path: Path) -> None:
    result = curves(tmp_path, "-(x.q / 1 m)^2", [-0.4, 0.3])
    for i, x in enumerate(result.x):
        assert result.raw[i] == pytest.approx(-10 * x * x, abs=1e-9)
        assert within(result.smoothed[i], result.smoothed_se[i], -10 * (x * x + SIGMA**2))
        assert within(result.grad_zero[i], result.grad_zero_se[i], -20 * x)
        assert within(result.grad_first[i], result.grad_first_se[i], -20 * x)
        assert result.grad_first_se[i] < result.grad_zero_se[i]  # first order: the lower variance here


def test_at_a_step_the_zero_order_estimate_is_right_and_the_first_order_one_is_not(tmp_path: Path) -> None:
    result = curves(tmp_path, "(x.q > 0 m)", [0.0, 0.3])
    for i, x in enumerate(result.x):
        truth = 10 * phi(x / SIGMA) / SIGMA
        assert within(result.smoothed[i], result.smoothed_se[i], 10 * Phi(x / SIGMA))
        assert within(result.grad_zero[i], result.grad_zero_se[i], truth)
        assert result.grad_first[i] == 0.0 and result.grad_first_se[i] == 0.0  # the pathwise gradient misses the jump
        assert truth > 6


def test_the_command_writes_a_plot_and_reproducible_numbers(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "block.scn"
    path.write_text(BLOCK.format(reward="(x.q > 0 m)"))
    outputs = []
    for name in ("a", "b"):
        code, out, err = run_cli(capsys, "landscape", str(path), "--param", "start", "--range=-1:1", "--n", "3",
                                 "--samples", "4", "-o", str(tmp_path / f"{name}.png"))
        assert code == 0, err
        assert out.split() == [str(tmp_path / f"{name}.png"), str(tmp_path / f"{name}.csv")]
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
        outputs.append((tmp_path / f"{name}.csv").read_text())
    assert outputs[0] == outputs[1] and outputs[0].startswith("x,raw,smoothed")
    rows = [line.split(",") for line in outputs[0].splitlines()[1:]]
    assert [float(r[0]) for r in rows] == [-1.0, 0.0, 1.0] and float(rows[-1][1]) == 10.0
    code, _, err = run_cli(capsys, "landscape", str(path), "--param", "mass", "--range=0:1")
    assert code == 2 and "not a number `param`" in err
    assert np.isfinite([float(v) for r in rows for v in r]).all()


def test_autodiffxd_gives_the_pathwise_derivative(tmp_path: Path) -> None:
    smooth, step = tmp_path / "smooth.scn", tmp_path / "step.scn"
    smooth.write_text(BLOCK.format(reward="-(x.q / 1 m)^2"))
    step.write_text(BLOCK.format(reward="(x.q > 0 m)"))
    for x in (-0.4, 0.3):
        value, slope = return_and_slope(smooth, "start", x, seed=0)
        assert value == pytest.approx(-10 * x * x, abs=1e-9) and slope == pytest.approx(-20 * x, abs=1e-6)
    assert return_and_slope(step, "start", 0.3, seed=0) == (10.0, 0.0)  # flat where it is taken: the jump unseen
    result = landscape(lambda x: episode_return(smooth, "start", x, seed=0, policy=None), "start", [0.3],
                       sigma=SIGMA, samples=8, seed=1,
                       derivative=lambda x: return_and_slope(smooth, "start", x, seed=0))
    assert result.first_order == "AutoDiffXd"
    assert within(result.grad_first[0], result.grad_first_se[0], -20 * 0.3)
    assert within(result.smoothed[0], result.smoothed_se[0], -10 * (0.3**2 + SIGMA**2))


def test_what_autodiffxd_cannot_differentiate_is_refused_with_the_reason(tmp_path: Path) -> None:
    sized = tmp_path / "sized.scn"  # the param is a shape's size: SceneGraph geometry, not the context's numbers
    sized.write_text(BLOCK.format(reward="-(x.q / 1 m)^2").replace("param start = 0 m", "param start = 0 m\n"
                     "param size = 0.1 m").replace("shape = box(0.1, 0.1, 0.1)", "shape = box(size, 0.1, 0.1)"))
    with pytest.raises(NotDifferentiable, match="changes geometry"):
        return_and_slope(sized, "size", 0.1, seed=0)
    gathered = tmp_path / "gathered.scn"  # a body's position is read by a Python system (`gather`)
    gathered.write_text(BLOCK.format(reward="-(block.x / 1 m)^2"))
    with pytest.raises(NotDifferentiable, match="does not convert to AutoDiffXd"):
        return_and_slope(gathered, "start", 0.3, seed=0)


def test_the_command_says_how_it_took_the_first_order_estimate(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    smooth, gathered = tmp_path / "smooth.scn", tmp_path / "gathered.scn"
    smooth.write_text(BLOCK.format(reward="-(x.q / 1 m)^2"))
    gathered.write_text(BLOCK.format(reward="-(block.x / 1 m)^2"))
    slopes = {}
    for path in (smooth, gathered):
        code, _, err = run_cli(capsys, "landscape", str(path), "--param", "start", "--range=0:0.5", "--n", "2",
                               "--samples", "3", "-o", str(tmp_path / f"{path.stem}.png"))
        assert code == 0, err
        slopes[path.stem] = [float(r.split(",")[6]) for r in
                             (tmp_path / f"{path.stem}.csv").read_text().splitlines()[1:]]
        assert ("by AutoDiffXd" in err) == (path is smooth)
    assert "by central differences: the diagram does not convert to AutoDiffXd" in err
    assert slopes["smooth"] == pytest.approx(slopes["gathered"], rel=1e-4)  # the same derivative, two ways


@pytest.mark.parametrize(("where", "old", "new"), [
    ("the reward", "reward {{ {reward} as pay }}", "reward {{ -((x.q / 1 m) - p)^2 as pay }}"),
    ("the action bounds", "in [-1, 1] N", "in [p - 1, p + 1] N"),
    ("gravity", "gravity = [0, 0, 0]", "gravity = [p * 1 m/s^2, 0, 0]"),
])
def test_a_param_compiled_into_a_system_is_refused_not_differentiated_to_0(tmp_path: Path, where: str, old: str,
                                                                          new: str) -> None:
    """The compiler builds these into systems, not the context: a replay at x would not see x
    move, and the slope would read 0 where the return has one."""
    text = BLOCK.replace(old, new).replace("param start = 0 m", "param start = 0 m\nparam p = 0.5")
    path = tmp_path / "p.scn"
    path.write_text(text.format(reward="-(x.q / 1 m)^2"))
    with pytest.raises(NotDifferentiable, match="beyond its state and numeric parameters") as refused:
        return_and_slope(path, "p", 0.5, seed=0)
    assert refused.value.everywhere, where


def test_reward_at_step_start_and_an_early_end_are_replayed(tmp_path: Path) -> None:
    path = tmp_path / "start.scn"
    path.write_text(BLOCK.format(reward="-(x.q / 1 m)^2").replace(
        "time_limit = 1 s }", 'time_limit = 1 s; reward_at = step_start; terminate when x.q > 0.2 m "far" }'))
    value, slope = return_and_slope(path, "start", 0.3, seed=0)  # ends after its first step
    assert value == pytest.approx(-0.09, abs=1e-9) and slope == pytest.approx(-0.6, abs=1e-6)
    value, slope = return_and_slope(path, "start", 0.1, seed=0)  # all 10 steps
    assert value == pytest.approx(-0.1, abs=1e-9) and slope == pytest.approx(-2.0, abs=1e-6)


def test_per_step_noise_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "noisy.scn"
    path.write_text(BLOCK.format(reward="-(x.q / 1 m)^2") + "randomize per step { obs.noise ~ normal(0, 0.01) }\n")
    with pytest.raises(NotDifferentiable, match="noise"):
        return_and_slope(path, "start", 0.3, seed=0)


def test_a_contact_scenario_is_differentiated_through_its_contact() -> None:
    """The ball drop (bodies in contact: SceneGraph state in the context, which the replay of the
    start at x + h must not take from the other diagram): AutoDiffXd, and the staircase's flat 0."""
    drop = Path(__file__).resolve().parents[2] / "scenarios" / "landscape_drop.scn"
    assert return_and_slope(drop, "height", 0.5, seed=0) == (15.0, 0.0)
    assert return_and_slope(drop, "height", 0.112573, seed=0) == (18.0, 0.0)
