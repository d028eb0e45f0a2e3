"""Hostile distributions: every draw failure is an SCN diagnostic with its place, in every command.

A distribution whose parameters NumPy cannot draw, or whose draws overflow a float, is refused
by `scn lint` (SCN405: huge `integers` bounds, a `uniform` wider than the largest float, a
`normal` or `lognormal` that reaches infinity, `truncnormal` bounds too many standard deviations
away to compute, `choice` weights that sum to 0 or overflow). What the validator lets through
draws finite values (a tail far out, a `loguniform` across the whole float range), and the
sampler turns any error NumPy still raises into `DrawError` (SCN405, at the distribution). A
`require` that never holds is SCN411 at its place, in the sampler and at a reset alike.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scn_fixtures import HOSTILE_BASE, run_cli

import scenario_dsl
from scenario_dsl.compiler.artifacts import compiled_document
from scenario_dsl.lang import model as m
from scenario_dsl.sampling.sampler import DrawError, Sampler, SamplingError, draw

BASE = HOSTILE_BASE


def write(folder: Path, text: str, name: str = "draws.scn") -> Path:
    (folder / "scn.toml").touch()
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def with_let(dist: str) -> str:
    """BASE drawing `let k ~ DIST` (line 10, the distribution at column 13), used by the mass."""
    return BASE + f"randomize {{\n    let k ~ {dist}\n    rod.mass ~ 1 kg + 0 * k * 1 kg\n}}\n"


@pytest.mark.parametrize(("dist", "words"), [
    ("integers(0, 1e30)", "within +-2^53"),
    ("integers(0, 9223372036854775807)", "within +-2^53"),
    ("integers(-1e300, 0)", "within +-2^53"),
    ("uniform(-1e308, 1e308)", "the width of the range overflows"),
    ("normal(0, 1e308)", "overflow a float"),
    ("lognormal(1e3, 1e3)", "overflow a float"),
    ("lognormal(700, 1)", "overflow a float"),
    ("truncnormal(-1e308, 1e-300, 0, 1)", "too many standard deviations"),
    ("truncnormal(0, 1, 2, 1)", "low < high"),  # an empty interval
    ("choice([1, 2], weights = [0, 0])", "sum to a positive number"),
    ("choice([1, 2], weights = [1e308, 1e308])", "sum to a finite number"),
])
def test_lint_refuses_what_numpy_cannot_draw(dist: str, words: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, with_let(dist))
    code, out, _ = run_cli(capsys, "lint", str(path))
    assert code == 1
    assert "draws.scn:10:13: error[SCN405]" in out and words in out
    assert "SCN201" not in out  # a failed `let` is not reported again where it is used
    code, _, err = run_cli(capsys, "sample", str(path))  # the same diagnostic, not NumPy's ValueError
    assert code == 1 and "draws.scn:10:13: error[SCN405]" in err and "SCN901" not in err


def test_integers_with_huge_bounds_in_scn_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report: `integers(0, 1e30)` was an unlocated message in `scn check`."""
    code, _, err = run_cli(capsys, "check", str(write(tmp_path, with_let("integers(0, 1e30)"))))
    assert code == 1 and "draws.scn:10:13: error[SCN405]" in err


@pytest.mark.parametrize(("params", "family", "low", "high"), [
    ({"low": 1e-300, "high": 1e300}, "loguniform", 1e-300, 1e300),
    ({"low": 1e-10, "high": 1e300}, "loguniform", 1e-10, 1e300),  # high / low overflows
    ({"mean": 0.0, "std": 1e-300, "low": 1.0, "high": 2.0}, "truncnormal", 1.0, 2.0),  # 1e300 std devs out
    ({"mean": 0.0, "std": 1.0, "low": 1e6, "high": float("inf")}, "truncnormal", 1e6, float("inf")),
    ({"mean": 0.0, "sigma": 35.0}, "lognormal", 0.0, float("inf")),
    ({"low": -2.0**53, "high": 2.0**53}, "integers", -2.0**53, 2.0**53),
])
def test_what_lint_lets_through_draws_finite_values(params: dict[str, float], family: str, low: float,
                                                    high: float) -> None:
    values = draw(m.Distribution(family=family, params=params), np.random.default_rng(0), 2000)  # type: ignore[arg-type]
    assert np.isfinite(values).all()
    assert (values >= low).all() and (values <= high).all()


def test_lint_accepts_the_distributions_that_draw() -> None:
    for dist in ("loguniform(1e-300, 1e300)", "truncnormal(0, 1e-300, 1, 2)", "lognormal(0, 35)",
                 "integers(-9007199254740992, 9007199254740992)", "uniform(-1e307, 1e307)"):
        analysis = scenario_dsl.lang.loader.analyze_text(with_let(dist), "draws.scn")
        assert not [d for d in analysis.diagnostics if d.code == "SCN405"], dist


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
def test_a_draw_numpy_refuses_is_a_located_scn405() -> None:
    """The net under the validator: a distribution that did not come through it (a compiled file)."""
    where = m.Where(file="draws.scn", line=10, column=13, end_line=10, end_column=30)
    dist = m.Distribution(family="integers", params={"low": 0.0, "high": 1e30}, where=where)
    spec = scenario_dsl.loads(BASE, "draws.scn")
    spec = spec.model_copy(update={"randomizations": [m.Randomization(lets=[m.RandomLet(name="k", value=dist)])]})
    with pytest.raises(DrawError) as raised:
        Sampler(spec).sample(10, np.random.default_rng(0))
    assert raised.value.code == "SCN405" and raised.value.where == where
    assert "`k` cannot be drawn from integers" in raised.value.message


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
def test_a_draw_numpy_refuses_in_scn_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = scenario_dsl.load(write(tmp_path, with_let("integers(0, 10)")))
    block = spec.randomizations[0]
    let = block.lets[0].model_copy(update={"value": block.lets[0].value.model_copy(
        update={"params": {"low": 0.0, "high": 1e30}})})
    spec = spec.model_copy(update={"randomizations": [block.model_copy(update={"lets": [let]})]})
    path = tmp_path / "compiled.json"
    path.write_text(json.dumps(compiled_document(spec)), encoding="utf-8")
    code, _, err = run_cli(capsys, "sample", str(path))
    assert code == 1
    assert "draws.scn:10:13: error[SCN405]: `k` cannot be drawn from integers" in err


def test_a_require_that_never_holds_in_the_sampler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = BASE + 'randomize {\n    hinge.q ~ uniform(0, 1)\n    require hinge.q > 2 "never"\n}\n'
    code, _, err = run_cli(capsys, "sample", str(write(tmp_path, text)))
    assert code == 1 and "draws.scn:11:5: error[SCN411]" in err
    code, _, err = run_cli(capsys, "check", str(write(tmp_path, text)), "--steps", "5")
    assert code == 1 and "draws.scn:11:5: error[SCN411]" in err


def test_a_scene_require_that_never_holds_at_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report: a `require` that reads the simulated scene had neither place nor code."""
    text = BASE + 'randomize {\n    hinge.q ~ uniform(0, 1)\n    require hinge.v > 5 rad/s "never"\n}\n'
    path = write(tmp_path, text)
    code, _, err = run_cli(capsys, "check", str(path), "--steps", "5")
    assert code == 1
    assert 'draws.scn:11:5: error[SCN411]: randomization: `require` "never" rejected 1000 of 1000 draws' in err
    from scenario_dsl.runtime.env import make_env

    env = make_env(scenario_dsl.load(path))
    with pytest.raises(SamplingError) as raised:
        env.reset(seed=0)
    assert raised.value.code == "SCN411" and raised.value.where is not None and raised.value.where.line == 11
