"""Drake's own failures, each found first and reported as a located, coded diagnostic.

docs/diagnostics.md ("Drake failures translated", under SCN506) lists the Drake conditions a
`.scn` file can break, with scn's code and the stage that reports it; each row has its tests
here, through the real command line: `scn lint` for what the file alone shows, `scn compile`
of a JSON file written by `scn compile` (what the compiler meets when lint was skipped: the
same scenario with one value changed), `scn check` for a value drawn at a reset or a build.
Every case exits 1 with the code at its place: no SCN901, no raw `Failure at bazel-out/...`
text, and no process stopped by Drake (pydrake raises `SystemExit` for a failed `DRAKE_DEMAND`,
which `main` would report as a usage error).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scn_fixtures import HOSTILE_BASE, run_cli

import scenario_dsl
from scenario_dsl.compiler import CompileError, compile_scenario
from scenario_dsl.compiler.artifacts import compiled_document
from scenario_dsl.lang import model as m
from scenario_dsl.runtime.env import make_env

DOCS = Path(__file__).resolve().parents[2] / "docs" / "diagnostics.md"
BASE = HOSTILE_BASE
BALL = "body ball { mass = 1 kg; shape = sphere(5 cm) }\n"  # line 9 when appended to BASE
Edit = Callable[[m.Scenario], m.Scenario]


def write(folder: Path, text: str, name: str = "drake.scn") -> Path:
    (folder / "scn.toml").touch()
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], folder: Path, extra: str, *, base: str = BASE) -> str:
    """`scn lint` of BASE + `extra`: exits 1; returns what it printed."""
    code, out, err = run_cli(capsys, "lint", str(write(folder, base + extra)))
    assert code == 1, out + err
    return out


def compile_json(capsys: pytest.CaptureFixture[str], folder: Path, extra: str, edit: Edit) -> str:
    """`scn compile` of a JSON file holding BASE + `extra` (which lints clean) changed by `edit`:
    exits 1; returns its standard error."""
    spec = scenario_dsl.load(write(folder, BASE + extra))
    path = folder / "compiled.json"
    path.write_text(json.dumps(compiled_document(edit(spec))), encoding="utf-8")
    code, out, err = run_cli(capsys, "compile", str(path), "-o", str(folder / "build"))
    assert code == 1, out + err
    assert "Failure at" not in err and "SCN901" not in err
    return err


def check(capsys: pytest.CaptureFixture[str], folder: Path, extra: str) -> str:
    """`scn check` of BASE + `extra` (which lints clean): exits 1 at the first reset or build."""
    code, out, err = run_cli(capsys, "check", str(write(folder, BASE + extra)), "--steps", "5")
    assert code == 1, out + err
    assert "Failure at" not in err and "SCN901" not in err
    return err


def body(name: str, **update: object) -> Edit:
    return lambda s: s.model_copy(update={"bodies": [b.model_copy(update=update) if b.name == name else b
                                                     for b in s.bodies]})


def joint(name: str, **update: object) -> Edit:
    return lambda s: s.model_copy(update={"joints": [j.model_copy(update=update) if j.name == name else j
                                                     for j in s.joints]})


# ---- one test (or a few) per row of the table ------------------------------------------------------

ROWS: dict[str, str] = {}  # the table's first column (Drake's condition) -> the test that covers it


def row(condition: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def mark(test: Callable[..., None]) -> Callable[..., None]:
        ROWS[condition] = test.__name__
        return test
    return mark


@row("`SetFromRotationalInertia()`: `mass > 0` (stops the process)")
def test_an_inertia_without_mass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lint(capsys, tmp_path, "body b { mass = 0 kg; inertia = [0.1, 0.1, 0.1] }\n")
    assert "drake.scn:9:17: error[SCN413]: body `b`: a body with an inertia needs a mass above 0 kg" in out
    out = lint(capsys, tmp_path, "body b { inertia = [0.1, 0.1, 0.1] }\n")  # no mass at all
    assert "drake.scn:9:20: error[SCN413]" in out
    err = compile_json(capsys, tmp_path, "body b { mass = 1 kg; inertia = [0.1, 0.1, 0.1] }\n", body("b", mass=0.0))
    assert "drake.scn:9:1: error[SCN413]: body `b`: a body with an inertia needs a mass above 0 kg" in err


@row("`SpatialInertia::IsPhysicallyValid()`")
@pytest.mark.parametrize(("inertia", "words"), [
    ("[-0.1, 0.1, 0.1]", "none may be negative"),
    ("[1, 0.1, 0.1]", "break the triangle inequality (0.1 + 0.1 < 1)"),
    ("[0.1, 0.1, 0.1, 5, 0, 0]", "none may be negative"),  # a product of inertia too large
    ("[1, 1, 1, 0.5, 0.5, 0.5]", "break the triangle inequality (0.5 + 0.5 < 2)"),
])
def test_an_inertia_that_is_not_physical(inertia: str, words: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = lint(capsys, tmp_path, f"body b {{ mass = 1 kg; inertia = {inertia} }}\n")
    assert "drake.scn:9:33: error[SCN413]: body `b`: the inertia is not physically valid" in out
    assert words in out


def test_an_inertia_between_lint_and_drake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lint is a little more lenient than Drake (1e-13 of the largest moment): what falls between
    is the compiler's SCN506, with Drake's complaint as a sentence, at the body."""
    err = compile_json(capsys, tmp_path, "body b { mass = 1 kg; inertia = [1, 0.5, 0.5] }\n",
                       body("b", inertia=[1 + 5e-14, 0.5, 0.5]))
    assert "drake.scn:9:1: error[SCN506]: Drake refuses the inertia of body `b`: Spatial inertia fails " \
           "SpatialInertia::IsPhysicallyValid()" in err


def test_lint_never_refuses_an_inertia_drake_takes() -> None:
    from pydrake.multibody.tree import RotationalInertia, SpatialInertia

    from scenario_dsl.lang.limits import inertia_problem

    rng = np.random.default_rng(7)
    for i in range(3000):  # near the boundary: moments a, b, a + b (1 + e), or a tiny negative one
        scale = 10.0 ** rng.integers(-9, 6)
        a, b = rng.random(2) * scale
        moments = ([a, b, (a + b) * (1 + rng.normal() * 10.0 ** rng.integers(-17, -10))] if i % 2 else
                   [-abs(rng.normal()) * scale * 10.0 ** rng.integers(-17, -10), b, b])
        q = np.eye(3) if i % 3 == 0 else np.linalg.qr(rng.normal(size=(3, 3)))[0]
        matrix = q @ np.diag(moments) @ q.T
        values = [matrix[0, 0], matrix[1, 1], matrix[2, 2], matrix[0, 1], matrix[0, 2], matrix[1, 2]]
        try:
            SpatialInertia.MakeFromCentralInertia(1.0, np.zeros(3), RotationalInertia(*values))
        except RuntimeError:
            continue
        assert inertia_problem(1.0, values) is None, values


@row("`IsPhysicallyValid()` of an infinite inertia")
def test_a_solid_whose_inertia_overflows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lint(capsys, tmp_path, "body b { mass = 1 kg; shape = sphere(1e300 m) }\n")
    assert "drake.scn:9:31: error[SCN413]: body `b`: the inertia of its solid shape overflows" in out


@row("`RevoluteJoint`/`PrismaticJoint`: axis of nonzero length")
def test_an_axis_without_length(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for axis, words in (("[0, 0, 0]", "the axis is the zero vector"), ("[1e-300, 0, 0]", "too short")):
        out = lint(capsys, tmp_path, BALL + f"joint j: revolute(rod -> ball, axis = {axis})\n")
        assert "drake.scn:10:39: error[SCN401]" in out and words in out
    err = compile_json(capsys, tmp_path, "", joint("hinge", axis=(1e-300, 0.0, 0.0)))
    assert "drake.scn:4:1: error[SCN506]: Drake refuses joint `hinge`: Revolute joint axis vector must have " \
           "nonzero length" in err


@row("`Joint::set_position_limits()`, `set_velocity_limits()`: `lower <= upper` (stops the process)")
def test_limits_not_ordered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for key in ("limits", "velocity_limits"):
        out = lint(capsys, tmp_path, BALL + f"joint j: revolute(rod -> ball, axis = [0, 0, 1]) {{ {key} = [1, -1] }}\n")
        assert "error[SCN402]" in out and f"`{key}` must be [lower, upper]" in out
    err = compile_json(capsys, tmp_path, "", joint("hinge", lower=[1.0], upper=[-1.0]))
    assert "drake.scn:4:1: error[SCN506]: Drake refuses joint `hinge`: set_position_limits() requires " in err
    err = compile_json(capsys, tmp_path, "", joint("hinge", velocity_lower=[1.0], velocity_upper=[-1.0]))
    assert "drake.scn:4:1: error[SCN506]: Drake refuses joint `hinge`: set_velocity_limits() requires " in err


@row("\"already contains a joint named `world_welds_to_B`\"")
def test_a_body_welded_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lint(capsys, tmp_path, BALL + "weld world -> ball\nweld rod -> ball\n")
    assert "drake.scn:11:13: error[SCN407]: `ball` is already attached to its parent" in out
    err = compile_json(capsys, tmp_path, BALL + "weld world -> ball\n",
                       lambda s: s.model_copy(update={"welds": [*s.welds, s.welds[0]]}))
    assert "drake.scn:10:1: error[SCN506]: Drake refuses the weld of `ball` to `world`: Model instance" in err


@row("`Box()`, `Sphere()`, ...: `std::isfinite(width) && width > 0` (stops the process)")
def test_a_shape_without_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for shape in ("sphere(0 m)", "box(0.1, -0.1, 0.1)"):
        out = lint(capsys, tmp_path, f"body b {{ mass = 1 kg; shape = {shape} }}\n")
        assert "error[SCN401]: `shape size` must be greater than 0" in out
    err = check(capsys, tmp_path, BALL + "randomize per build {\n    let k ~ uniform(0, 1)\n"
                "    ball.size ~ k * 0 m\n}\n")
    assert "drake.scn:12:5: error[SCN405]: `ball.size` was drawn as [0.0]" in err
    err = compile_json(capsys, tmp_path, BALL, body("ball", shape=m.Shape(kind="sphere", size=[0.0])))
    assert "drake.scn:9:1: error[SCN506]: Drake refuses the inertia of body `ball`" in err


@row("joint constructors: damping `>= 0` (`BallRpyJoint`, `QuaternionFloatingJoint`: stops the process)")
def test_a_negative_damping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for decl, damping in (("prismatic(rod -> ball, axis = [0, 0, 1])", "-1"), ("ball(rod -> ball)", "[-1, 0, 0]")):
        out = lint(capsys, tmp_path, BALL + f"joint j: {decl} {{ damping = {damping} }}\n")
        assert "error[SCN401]: `damping` must be at least 0" in out
    for kind, words in (("ball", "BallRpyJoint() requires damping >= 0"),
                        ("prismatic", "Prismatic joint damping must be nonnegative")):
        decl = "ball(rod -> ball)" if kind == "ball" else "prismatic(rod -> ball, axis = [0, 0, 1])"
        damped = joint("j", damping=[-1.0] * (3 if kind == "ball" else 1))
        err = compile_json(capsys, tmp_path, BALL + f"joint j: {decl}\n", damped)
        assert f"drake.scn:10:1: error[SCN506]: Drake refuses joint `j`: {words}" in err


@row("`Joint::SetDampingVector()`: `damping >= 0` (stops the process)")
def test_a_damping_drawn_negative(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = check(capsys, tmp_path, "randomize {\n    let k ~ uniform(0, 1)\n    hinge.damping ~ -k - 1\n}\n")
    assert "drake.scn:11:5: error[SCN405]: `hinge.damping` was drawn as -1." in err


@row("`CoulombFriction`: coefficients `>= 0`")
def test_a_negative_friction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lint(capsys, tmp_path, "body b { mass = 1 kg; shape = sphere(1 cm); friction = -1 }\n")
    assert "error[SCN401]: `friction` must be at least 0" in out
    err = check(capsys, tmp_path, BALL + "randomize {\n    let k ~ uniform(0, 1)\n    ball.friction ~ -k - 1\n}\n")
    assert "drake.scn:12:5: error[SCN405]: `ball.friction` was drawn as -1." in err


@row("none: Drake takes a NaN gravity, and the state becomes NaN")
def test_a_gravity_that_is_not_finite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gravity = "time_step = 10 ms; gravity = [0, 0, inf] m/s^2"
    out = lint(capsys, tmp_path, "", base=BASE.replace("time_step = 10 ms", gravity))
    assert "error[SCN401]: `gravity` must be a finite number" in out
    err = check(capsys, tmp_path, "randomize per build {\n    let k ~ uniform(0, 1)\n"
                "    plant.gravity ~ [0, 0, sqrt(k - 2)] m/s^2\n}\n")
    assert "drake.scn:11:5: error[SCN405]: `plant.gravity` was drawn as [0.0, 0.0, nan]: it must be finite" in err


@row("`MultibodyPlant()`: `time_step >= 0` (stops the process)")
def test_a_plant_step_that_is_not_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lint(capsys, tmp_path, "", base=BASE.replace("time_step = 10 ms", "time_step = 0 ms"))
    assert "drake.scn:2:21: error[SCN401]: `time_step` must be greater than 0" in out
    for value in (-0.01, float("nan")):
        err = compile_json(capsys, tmp_path, "", lambda s, v=value: s.model_copy(  # type: ignore[misc]
            update={"plant": s.plant.model_copy(update={"time_step": v})}))
        assert "drake.scn:2:1: error[SCN401]: plant.time_step must be a positive number of seconds" in err


@row("`JointActuator`: effort limit strictly positive")
def test_an_effort_limit_that_is_not_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lint(capsys, tmp_path, "", base=BASE.replace("effort_limit = 2 N*m", "effort_limit = 0 N*m"))
    assert "error[SCN401]: `effort_limit` must be greater than 0" in out
    err = check(capsys, tmp_path, "randomize {\n    let k ~ uniform(0, 1)\n    hinge.effort_limit ~ k * 0 N*m\n}\n")
    assert "drake.scn:11:5: error[SCN405]: `hinge.effort_limit` was drawn as 0" in err


@row("`MultibodyPlant::SetPositionsAndVelocities()`: `AllFinite(q_v)` (stops the process)")
def test_a_joint_state_drawn_infinite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = check(capsys, tmp_path, "randomize {\n    let k ~ uniform(1, 2)\n    hinge.q ~ 1 / (k - k)\n}\n")
    assert "drake.scn:11:5: error[SCN405]: `hinge.q` was drawn as inf, which Drake refuses: " \
           "SetPositionsAndVelocities() requires AllFinite(q_v)" in err


@row("`IsPhysicallyValid()` when the inertia is scaled")
def test_an_inertia_scale_drawn_negative(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = check(capsys, tmp_path, "randomize {\n    let k ~ uniform(0, 1)\n    rod.inertia_scale ~ -k - 1\n}\n")
    assert "drake.scn:11:5: error[SCN405]: `rod.inertia_scale` was drawn as -1." in err


@row("none: Drake takes a negative mass, then \"an internal mass matrix ... is not positive-definite\" at the step")
@pytest.mark.parametrize(("target", "unit"), [("rod.mass", " * 1 kg"), ("hinge.gear_ratio", ""),
                                              ("hinge.rotor_inertia", " * 1 kg*m^2")])
def test_a_mass_drawn_negative(target: str, unit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = check(capsys, tmp_path, f"randomize {{\n    let k ~ uniform(0, 1)\n    {target} ~ (-k - 1){unit}\n}}\n")
    assert f"drake.scn:11:5: error[SCN405]: `{target}` was drawn as -1." in err
    assert "it must be finite and at least 0" in err


@row("\"an internal mass matrix ... is not positive-definite\"")
def test_no_rotational_inertia_about_the_axis_ends_the_episode() -> None:
    """Not a diagnostic: whether the mass matrix is singular depends on the whole mechanism and
    its configuration. The environment ends the episode (truncated) with Drake's message."""
    text = BASE.replace("center_of_mass = [0, 0, -0.5] m; inertia = [0.08, 0.08, 0.001]", "inertia = [0, 0, 0]")
    env = make_env(scenario_dsl.loads(text, "drake.scn"))
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert truncated and not terminated and reward == 0.0
    assert "not positive-definite" in info["truncation_reason"]


# ---- the table and the tests agree ----------------------------------------------------------------

def test_the_table_has_a_test_per_row() -> None:
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("### Drake failures translated", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ")[0].removeprefix("| ") for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| Drake's condition")]
    assert rows == list(ROWS), "docs/diagnostics.md's table and this file's @row tests differ"
    assert all(re.match(r"SCN\d{3}|none", line.split(" | ")[2]) for line in table.splitlines()
               if line.startswith("| ") and not line.startswith("| Drake's condition"))


def test_the_compiler_never_lets_drake_stop_the_process() -> None:
    """`compile_scenario` of a scenario built in Python (no lint, no JSON file): a `CompileError`,
    never the `SystemExit` of a failed `DRAKE_DEMAND`."""
    spec = scenario_dsl.loads(BASE + "body b { mass = 1 kg; inertia = [0.1, 0.1, 0.1] }\n", "drake.scn")
    for edit in (body("b", mass=0.0), joint("hinge", lower=[1.0], upper=[-1.0]),
                 body("b", shape=m.Shape(kind="box", size=[0.0, 1.0, 1.0]), inertia=None)):
        with pytest.raises(CompileError) as raised:
            compile_scenario(edit(spec))
        assert raised.value.code in ("SCN413", "SCN506") and raised.value.where is not None


def test_scn_train_s_preflight_finds_a_rare_negative_mass() -> None:
    """`scn train` draws 10,000 episodes ahead (`check_domains`) before any worker starts: a mass
    that an expression makes negative in one episode of a thousand is found there, with its place."""
    text = BASE + "randomize {\n    let k ~ uniform(0, 1)\n    rod.mass ~ (k - 0.999) * 1 kg\n}\n"
    env = make_env(scenario_dsl.loads(text, "drake.scn"))
    with pytest.raises(CompileError) as raised:
        env.compiled.randomizer.check_domains(env.compiled.diagram, seed=0)
    assert raised.value.code == "SCN405" and raised.value.where is not None and raised.value.where.line == 11
    assert "`rod.mass` was drawn as -" in raised.value.message
    assert "of 10,000 episodes drawn ahead" in raised.value.message
