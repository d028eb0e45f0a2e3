"""The validator and type checker: the `Scenario` each bundled scenario becomes, units, the JSON
schema and round trip, `--param` overrides, every error path with its code and position,
fragments, includes, the `load`/`loads` API, and mutation testing of the bundled scenarios."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scn_fixtures import BUNDLED

import scenario_dsl
from scenario_dsl.lang import model as m
from scenario_dsl.lang.diagnostics import CODES, Diagnostic, ScenarioError, Severity
from scenario_dsl.lang.loader import Analysis, analyze_file, analyze_text

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
BIN_SDF = SCENARIOS / "models" / "planar_bin.sdf"
ACROBOT = "package://drake/examples/acrobot/Acrobot.urdf"

# A minimal valid scenario; the error table appends to it (its first added line is line 8).
BASE = """scenario t
body rod { mass = 1 kg; inertia = [1, 1, 1] }
joint hinge: revolute(world -> rod, axis = [0, 1, 0]) { actuated }
action torque = hinge.effort in [-1, 1] N*m
observation obs = [hinge.q, hinge.v]
reward { -hinge.q^2 as cost }
episode { step = 10 ms }
"""


def load_bundled(name: str) -> m.Scenario:
    return scenario_dsl.load(SCENARIOS / f"{name}.scn")


def found(analysis: Analysis) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in analysis.diagnostics]


def errors(analysis: Analysis) -> list[Diagnostic]:
    return [d for d in analysis.diagnostics if d.level is Severity.ERROR]


def analyze(text: str, **kwargs: object) -> Analysis:
    return analyze_text(text, "t.scn", **kwargs)  # type: ignore[arg-type]


def edited(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_base_scenario_is_valid() -> None:
    analysis = analyze(BASE)
    assert analysis.diagnostics == []
    assert analysis.ok and analysis.scenario is not None


# ---- the bundled scenarios ----------------------------------------------------------------


def test_pendulum_structure() -> None:
    s = load_bundled("pendulum")
    assert s.name == "pendulum"
    assert s.description is not None and "Pendulum-v1" in s.description
    assert (s.action.name, s.action.target, s.action.size) == ("torque", "pendulum.effort", 1)
    assert (s.action.lower, s.action.upper) == ([-2.0], [2.0])
    assert s.action.normalize and s.action.dtype == "float32"
    assert [o.name for o in s.observations] == ["obs"]
    assert s.observations[0].size == 3 and s.observation_size == 3
    assert [r.name for r in s.reward] == ["cost"]
    assert s.plant.time_step == pytest.approx(0.05)
    assert s.plant.gravity == (0.0, 0.0, -10.0)
    rod, stick, bob = s.bodies
    assert (stick.name, stick.mass, stick.collision, bob.name, bob.mass, bob.collision) == (
        "stick", 0.0, False, "bob", 0.0, False)  # drawn only: no mass, no contact
    assert [(w.parent, w.child) for w in s.welds] == [("rod", "stick"), ("rod", "bob")]
    assert rod.mass == 1.0 and rod.center_of_mass == (0.0, 0.0, 0.5)
    assert rod.inertia == pytest.approx([1 / 12, 1 / 12, 1e-6])
    assert rod.color == (0.8, 0.3, 0.3, 1.0)
    (joint,) = s.joints
    assert (joint.name, joint.type, joint.parent, joint.child, joint.axis) == (
        "pendulum", "revolute", "world", "rod", (0.0, 1.0, 0.0))
    assert joint.actuator is not None and joint.actuator.effort_limit == 2.0
    (randomization,) = s.randomizations
    assert randomization.scope == "episode"
    q, v = randomization.draws
    assert (q.target, q.operation) == ("pendulum.q", "set")
    assert isinstance(q.value, m.Distribution) and q.value.family == "uniform"
    assert q.value.params == {"low": pytest.approx(-math.pi), "high": pytest.approx(math.pi)}
    assert isinstance(v.value, m.Distribution) and v.value.params == {"low": -1.0, "high": 1.0}
    assert (s.episode.step, s.episode.time_limit, s.episode.max_steps) == (pytest.approx(0.05), 10.0, 200)
    assert s.train is not None
    assert (s.train.algo, s.train.n_timesteps) == ("sac", 20000)
    assert s.train.hyperparams == {"learning_rate": pytest.approx(1e-3)}


def test_box_flipup_structure() -> None:
    s = load_bundled("box_flipup")
    assert s.plant.time_step == pytest.approx(0.001)  # `1 ms`
    assert (s.plant.contact_model, s.plant.discrete_contact_approximation) == ("hydroelastic_with_fallback", "lagged")
    (bin_model,) = s.models
    assert bin_model.name == "bin" and bin_model.url == "models/planar_bin.sdf"
    assert bin_model.base_dir == str(SCENARIOS)
    (weld,) = bin_model.welds
    assert (weld.parent, weld.child) == ("world", "bin.bin_base")
    assert weld.pose.translation == (0.0, 0.0, -0.015)
    assert weld.pose.rpy == pytest.approx((0.0, 0.0, math.pi / 2))  # `90 deg`
    (frame,) = s.frames
    assert frame.name == "box_plane" and frame.pose.rpy == pytest.approx((math.pi / 2, 0.0, 0.0))
    bodies = {b.name: b for b in s.bodies}
    assert bodies["box"].shape == m.Shape(kind="box", size=[0.2, 0.05, 0.3])
    assert bodies["box"].contact.friction == (1.0, 1.0)
    finger = bodies["finger"].shape
    assert finger is not None and finger.kind == "sphere" and finger.size == [pytest.approx(0.01)]  # `1 cm`
    assert bodies["carriage"].mass == 0.0
    joints = {j.name: j for j in s.joints}
    assert joints["box_joint"].type == "planar"
    assert joints["box_joint"].initial_q == [0.0, 0.15, 0.0]
    assert joints["box_joint"].parent == "box_plane"
    assert (joints["finger_x"].lower, joints["finger_x"].upper) == ([-0.3], [0.3])
    assert joints["finger_z"].initial_q == [0.25]
    assert joints["finger_x"].actuator is not None and joints["box_joint"].actuator is None
    (controller,) = s.controllers
    assert (controller.name, controller.type, controller.joints) == ("finger_pd", "inverse_dynamics",
                                                                     ["finger_x", "finger_z"])
    assert (controller.kp, controller.ki, controller.kd) == ([100.0, 100.0], [1.0, 1.0], [20.0, 20.0])
    assert (s.action.target, s.action.size) == ("finger_pd.desired_position", 2)
    assert (s.action.lower, s.action.upper) == ([-0.5, -0.1], [0.5, 0.6])
    (state,) = s.observations
    assert state.value == m.Signal(source="plant", name="plant", attribute="state", size=10)
    assert state.size == 10
    (randomization,) = s.randomizations
    (draw,) = randomization.draws
    assert (draw.target, draw.operation) == ("box_joint.x", "offset")
    assert draw.value == m.Distribution(family="uniform", params={"low": -0.1, "high": 0.1},
                                        where=draw.value.where)  # type: ignore[union-attr]
    assert [r.name for r in s.reward] == ["upright", "on_side", "spin", "effort", "finger_speed"]
    assert (s.episode.step, s.episode.time_limit) == (pytest.approx(0.1), 10.0)
    assert s.train is not None
    assert (s.train.algo, s.train.n_timesteps, s.train.n_envs, s.train.net_arch) == ("ppo", 3_000_000, 8, [64, 64])


def test_box_flipup_reward_ir() -> None:
    upright = load_bundled("box_flipup").reward[0].value
    # 10 - 2 * angle^2, with angle = (box_joint.theta mod pi) - pi / 2 folded in
    assert isinstance(upright, m.Apply) and upright.fn == "sub"
    assert upright.args[0] == m.Const(value=10.0)
    product = upright.args[1]
    assert isinstance(product, m.Apply) and product.fn == "mul"
    power = product.args[1]
    assert isinstance(power, m.Apply) and power.fn == "pow"
    angle = power.args[0]
    assert isinstance(angle, m.Apply) and angle.fn == "sub"
    half_pi = angle.args[1]
    assert isinstance(half_pi, m.Const) and half_pi.value == pytest.approx(math.pi / 2)
    theta = angle.args[0].args[0]  # type: ignore[union-attr]
    assert theta == m.Signal(source="joint", name="box_joint", attribute="theta")


def test_cart_pole_structure() -> None:
    s = load_bundled("cart_pole")
    assert [x.name for x in s.models] == ["cart_pole"]
    assert (s.action.target, s.action.lower, s.action.upper) == ("cart_pole.CartSlider.effort", [-20.0], [20.0])
    assert s.observations[0].size == 4
    assert (s.plant.contact_model, s.plant.discrete_contact_approximation) == ("point", "sap")
    draws = s.randomizations[0].draws
    assert [d.target for d in draws] == ["cart_pole.CartSlider.q", "cart_pole.PolePin.q", "cart_pole.PolePin.v"]
    assert draws[1].value.params == {"low": pytest.approx(math.pi - 0.15),  # type: ignore[union-attr]
                                     "high": pytest.approx(math.pi + 0.15)}
    assert [t.reason for t in s.episode.terminations] == ["pole angle exceeded +-0.2 rad",
                                                          "cart position exceeded +-2.4 m"]
    assert [r.name for r in s.reward] == ["alive"]
    assert s.episode.max_steps == 100


def test_acrobot_structure() -> None:
    s = load_bundled("acrobot")
    assert s.action.target == "acrobot.elbow.effort"
    assert s.observation_size == 6
    assert len(s.episode.terminations) == 1 and s.episode.success is not None
    assert [r.name for r in s.reward] == ["time_penalty"]
    assert s.reward[0].value == m.Const(value=-1.0)


def test_push_box_structure() -> None:
    s = load_bundled("push_box")
    assert s.params == {"goal": [0.3, 0.1]}
    bodies = {b.name: b for b in s.bodies}
    assert bodies["box"].initial_pose == m.Pose(translation=(-0.05, 0.0, 0.05))
    assert bodies["table"].mass == 0.0
    (weld,) = s.welds
    assert (weld.parent, weld.child, weld.pose.translation) == ("world", "table", (0.0, 0.0, -0.025))
    assert [o.size for o in s.observations] == [5, 4] and s.observation_size == 9
    draws = {d.target: d for d in s.randomizations[0].draws}
    assert draws["box.yaw"].value.params == {"low": pytest.approx(-math.pi / 6),  # type: ignore[union-attr]
                                             "high": pytest.approx(math.pi / 6)}
    assert draws["box.mass"].operation == "scale"
    assert [r.name for r in s.reward] == ["distance", "reach"]
    assert "0.3" in s.episode.model_dump_json()


# ---- units -------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "si"), [
    ("1 ms", 0.001), ("90 deg", math.pi / 2), ("2 km", 2000.0), ("3 cm", 0.03), ("5 g", 0.005),
    ("1 min", 60.0), ("250 us", 250e-6), ("1.5", 1.5), ("(1 + 1) cm", 0.02), ("2 * 3 mm", 0.006),
])
def test_values_are_converted_to_si(written: str, si: float) -> None:
    analysis = analyze(BASE + f"param p = {written}\nobservation extra = [p]\n")
    assert errors(analysis) == []
    assert analysis.scenario is not None
    assert analysis.scenario.params["p"] == pytest.approx(si)


def test_setting_units_are_converted() -> None:
    s = scenario_dsl.loads(edited("episode { step = 10 ms }", "episode { step = 10 ms; time_limit = 2 min }")
                           + "plant { time_step = 500 us; gravity = [0, 0, -981] cm/s^2 }\n")
    assert s.plant.time_step == pytest.approx(5e-4)
    assert s.plant.gravity == pytest.approx((0.0, 0.0, -9.81))
    assert s.episode.time_limit == pytest.approx(120.0)
    assert s.action.lower == [-1.0]


# ---- the model: schema and round trip -----------------------------------------------------


def test_json_schema_exports() -> None:
    schema = m.Scenario.model_json_schema()
    assert schema["title"] == "Scenario"
    assert {"name", "action", "observations", "reward", "episode"} <= set(schema["required"])
    assert "$defs" in schema and {"Action", "Observation", "Distribution", "Apply"} <= set(schema["$defs"])
    import json

    json.dumps(schema)


@pytest.mark.parametrize("name", [p.stem for p in BUNDLED])
def test_scenario_round_trips_through_json(name: str) -> None:
    s = load_bundled(name)
    text = s.model_dump_json()
    again = m.Scenario.model_validate_json(text)
    assert again == s
    assert again.model_dump_json() == text


def test_scenario_model_is_frozen_and_strict() -> None:
    s = load_bundled("pendulum")
    with pytest.raises(ValidationError) as frozen:
        s.name = "other"  # type: ignore[misc]
    assert [(e["type"], e["loc"]) for e in frozen.value.errors()] == [("frozen_instance", ("name",))]
    assert s.name == "pendulum"
    data = s.model_dump()
    data["surprise"] = 1
    with pytest.raises(ValidationError) as extra:
        m.Scenario.model_validate(data)
    assert [(e["type"], e["loc"]) for e in extra.value.errors()] == [("extra_forbidden", ("surprise",))]


def test_where_points_back_at_the_source() -> None:
    path = SCENARIOS / "pendulum.scn"
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("action torque"))
    s = scenario_dsl.load(path)
    assert s.action.where == m.Where(file=str(path), line=line, column=1, end_line=line,
                                     end_column=len(lines[line - 1].rstrip()) + 1)


# ---- --param overrides --------------------------------------------------------------------

PUSH_BOX = (SCENARIOS / "push_box.scn").read_text(encoding="utf-8")


def test_param_override_replaces_the_default() -> None:
    s = scenario_dsl.loads(PUSH_BOX, params={"goal": "[0.1, 0.2] m"})
    assert s.params == {"goal": [0.1, 0.2]}
    assert s.episode.success is not None
    assert "[0.1,0.2]" in s.episode.success.model_dump_json()


def test_param_override_units_are_converted() -> None:
    assert scenario_dsl.loads(PUSH_BOX, params={"goal": "[10, 20] cm"}).params == {"goal": [0.1, 0.2]}


def test_param_override_without_unit_takes_the_parameters_unit() -> None:
    assert scenario_dsl.loads(PUSH_BOX, params={"goal": "[0.1, 0.2]"}).params == {"goal": [0.1, 0.2]}


def test_param_override_with_a_number() -> None:
    s = scenario_dsl.loads(BASE + "param gain = 2\nlet g = gain\nobservation o2 = [g]\n", params={"gain": 3})
    assert s.params == {"gain": 3.0}


def test_unknown_param_override_is_scn210() -> None:
    analysis = analyze(PUSH_BOX, params={"gaol": "[0.1, 0.2] m"})
    (d,) = analysis.diagnostics
    assert (d.code, d.line, d.column) == ("SCN210", 5, 1)
    assert d.message == "no parameter `gaol` to override"
    assert d.hint == "did you mean `goal`?"
    with pytest.raises(ScenarioError) as info:
        scenario_dsl.loads(BASE, params={"x": "1"})
    assert [x.code for x in info.value.diagnostics] == ["SCN210"]
    assert info.value.diagnostics[0].hint == "this scenario declares no `param`"


def test_wrong_dimension_override_is_scn302() -> None:
    analysis = analyze(PUSH_BOX, params={"goal": "[1, 2] s"})
    first = analysis.diagnostics[0]
    assert (first.code, first.line, first.column) == ("SCN302", 9, 1)
    assert first.message == "--param goal is a time; the parameter is a length"
    assert first.hint == "give it in m"


def test_override_that_is_not_a_value() -> None:
    analysis = analyze(PUSH_BOX, params={"goal": "[1, 2] m; let x = 1"})
    assert [d.code for d in analysis.diagnostics] == ["SCN210"]
    assert analysis.diagnostics[0].file == "--param goal"
    syntax = analyze(PUSH_BOX, params={"goal": "1 +"})
    assert [d.code for d in syntax.diagnostics] == ["SCN103"]
    assert syntax.diagnostics[0].file == "--param goal"
    undefined = analyze(PUSH_BOX, params={"goal": "nothing"})
    assert [d.code for d in undefined.diagnostics] == ["SCN201"]
    signal = analyze(PUSH_BOX, params={"goal": "[box.x, box.y]"})
    assert [d.code for d in signal.diagnostics] == ["SCN307"]


def test_a_literal_past_the_largest_float_is_scn401_wherever_it_is_written() -> None:
    """`float("1e999")` is inf without an error: a parameter, an override and a setting written so
    are refused at the literal, not only where a check reads the value (a mass, a distribution)."""
    param = analyze(PUSH_BOX.replace("param goal = ", "param far = 1e999\nparam goal = ", 1))
    (d,) = errors(param)
    assert (d.code, d.line, d.column) == ("SCN401", 9, 13)
    assert d.message == "`1e999` is larger than the largest number (about 1.8e308)"
    override = analyze(PUSH_BOX, params={"goal": "[1e400, 0] m"})
    assert [(d.code, d.file, d.column) for d in errors(override)] == [("SCN401", "--param goal", 15)]
    setting = analyze(BASE + "train { algo = sac; n_timesteps = 1e999 }\n")
    assert [d.code for d in errors(setting)] == ["SCN401"]
    assert scenario_dsl.loads(PUSH_BOX.replace("param goal = ", "param tiny = 1e-999\nparam goal = ", 1))


def test_an_undefined_name_in_an_included_file_says_where_to_declare_it(tmp_path: Path) -> None:
    task = BASE.replace("scenario t\n", "").replace("-hinge.q^2 as cost", "bonus * hinge.q as r")
    (tmp_path / "task.scn").write_text(task, encoding="utf-8")
    main = tmp_path / "main.scn"
    main.write_text('scenario main "m"\ninclude "task.scn"\n', encoding="utf-8")
    (d,) = errors(analyze_file(main))
    assert (d.code, Path(d.file or "").name) == ("SCN201", "task.scn")
    assert d.hint is not None and "param bonus = ..." in d.hint and "a file that includes it" in d.hint
    main.write_text('scenario main "m"\nparam bonus = 2\ninclude "task.scn"\n', encoding="utf-8")
    assert not errors(analyze_file(main))


def test_and_or_not_take_conditions() -> None:
    """`x > 1 or 3 m` would hold at every step (3 m is true): each operand of `and`, `or` and
    `not` must be a condition; conditions in lets and parentheses stay conditions."""
    for condition, column in (("hinge.q > 1 or 3", 53), ("not hinge.q", 42), ("hinge.q and hinge.v > 0", 38)):
        episode = f"episode {{ step = 10 ms; success when {condition} }}"
        analysis = analyze(BASE.replace("episode { step = 10 ms }", episode))
        (d,) = errors(analysis)
        assert (d.code, d.line, d.column) == ("SCN306", 7, column), condition
        assert "takes conditions" in d.message and d.hint is not None and "x > 0" in d.hint
    fine = BASE.replace("episode { step = 10 ms }", "let near = hinge.q < 1\n"
                        "episode { step = 10 ms; success when near and not (hinge.v > 0) or false }")
    assert not errors(analyze(fine))


def test_wrong_length_override_is_reported_once_at_the_parameter() -> None:
    analysis = analyze(PUSH_BOX, params={"goal": "[1, 2, 3] m"})
    assert found(analysis) == [("SCN303", 9, 1)]


# ---- every error path: code, line and column ----------------------------------------------

# (snippet appended to BASE, code, line, column); the snippet's first line is line 8.
APPENDED = [
    # SCN201 undefined name
    ("observation o2 = zz + 1", "SCN201", 8, 18),
    ("observation o2 = nothing.q", "SCN201", 8, 18),
    ("observation o2 = o3\nobservation o3 = hinge.q", "SCN201", 8, 18),
    ("controller c: pd(hinge) { kp = 1 }\nobservation o2 = c.desired_position", "SCN201", 9, 18),
    ("controller c: pd(nojoint) { kp = 1 }", "SCN201", 8, 18),
    ("joint j2: revolute(world -> nowhere, axis = [0, 0, 1])", "SCN201", 8, 29),
    ("frame f on nowhere", "SCN201", 8, 12),
    ("randomize { nothing ~ uniform(1, 2) }", "SCN201", 8, 13),
    ("randomize { zz.mass ~ uniform(1, 2) }", "SCN201", 8, 13),
    ("plant { time_step = zz }", "SCN201", 8, 21),
    ("let y = zz", "SCN201", 8, 9),
    # SCN202 duplicate or reserved name
    ("body rod", "SCN202", 8, 6),
    ("observation hinge = [1]", "SCN202", 8, 13),
    ("param world = 1", "SCN202", 8, 7),
    ("let plant = 2", "SCN202", 8, 5),
    ("let time = 2", "SCN202", 8, 5),
    ("let a = 1\nlet a = 2", "SCN202", 9, 5),
    ("randomize { let hinge ~ uniform(0, 1) }", "SCN202", 8, 17),
    # SCN203 unknown setting
    ("plant { time_stepp = 1 ms }", "SCN203", 8, 9),
    ("frame f on world at (translate = [0, 0, 1] m)", "SCN203", 8, 22),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1], foo = 1)\nbody bar", "SCN203", 8, 52),
    ("joint j2: planar(world -> bar, axis = [0, 0, 1])\nbody bar", "SCN203", 8, 32),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { at = 1 }\nbody bar", "SCN203", 8, 54),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { actuated { effort = 1 } }\nbody bar", "SCN203", 8, 65),
    ("body b2 { shape = sphere(1); actuated }", "SCN203", 8, 30),
    (f'model a from "{ACROBOT}" {{ foo = 1 }}', "SCN203", 8, 64),
    # SCN204 unknown attribute
    ("observation o2 = hinge.qq", "SCN204", 8, 24),
    ("observation o2 = plant.foo", "SCN204", 8, 24),
    ("observation o2 = rod.foo", "SCN204", 8, 22),
    ("controller c: pd(hinge) { kp = 1 }\nobservation o2 = c.foo", "SCN204", 9, 20),
    ("observation o2 = torque.q", "SCN204", 8, 25),
    ("frame f on world\nobservation o2 = f.velocity", "SCN204", 9, 20),  # a frame has a pose, no velocity
    ("randomize { rod.shape ~ uniform(1, 2) }", "SCN204", 8, 17),
    ("randomize { hinge.mass ~ uniform(1, 2) }", "SCN204", 8, 19),
    (f'model a from "{ACROBOT}"\nobservation o2 = a.nope.q', "SCN204", 9, 20),
    # SCN205 unknown function or distribution
    ("observation o2 = unif(1, 2)", "SCN205", 8, 18),
    ("randomize { let x ~ 3 }", "SCN205", 8, 21),
    ("randomize { let x ~ sin(1) }", "SCN205", 8, 21),
    # SCN206 wrong kind of thing
    ("observation o2 = hinge", "SCN206", 8, 18),
    ("observation o2 = rod", "SCN206", 8, 18),
    ("frame f on world\njoint j2: revolute(world -> f, axis = [0, 0, 1])", "SCN206", 9, 29),
    ("randomize { rod ~ uniform(1, 2) }", "SCN206", 8, 13),
    (f'model a from "{ACROBOT}"\nobservation o2 = a.shoulder', "SCN206", 9, 18),
    # SCN208 setting given twice
    ("plant { time_step = 1 ms; time_step = 2 ms }", "SCN208", 8, 27),
    ("body b2 { shape = sphere(1); shape = sphere(2) }", "SCN208", 8, 30),
    ("train { algo = ppo; algorithm = sac }", "SCN208", 8, 21),
    # SCN209 unused binding or parameter (a warning)
    ("let unused = 3", "SCN209", 8, 5),
    ("param p = 3", "SCN209", 8, 7),
    ("randomize { let r ~ uniform(0, 1) }", "SCN209", 8, 17),
    # SCN211 section given twice
    ("plant { }\nplant { }", "SCN211", 9, 1),
    ("reward { 1 as r2 }", "SCN211", 8, 1),
    ("episode { step = 10 ms }", "SCN211", 8, 1),
    ("train { }\ntrain { }", "SCN211", 9, 1),
    ("action a2 = hinge.effort in [-1, 1]", "SCN211", 8, 1),
    ("scenario again", "SCN211", 8, 1),
    # SCN301 unknown unit
    ("observation o2 = 1 kgg", "SCN301", 8, 18),
    ("observation o2 = [1, 2] furlong", "SCN301", 8, 18),
    ("observation o2 = sin(1) N*foo", "SCN301", 8, 18),
    # SCN302 dimension mismatch
    ("observation o2 = 1 m + 1 s", "SCN302", 8, 18),
    ("observation o2 = hinge.q < 1 m", "SCN302", 8, 18),
    ("observation o2 = sin(1 m)", "SCN302", 8, 22),
    ("observation o2 = clip(1 m, 1 s, 2 s)", "SCN302", 8, 28),
    ("observation o2 = where(hinge.q > 0, 1 m, 1 s)", "SCN302", 8, 18),
    ("plant { time_step = 1 m }", "SCN302", 8, 21),
    ("plant { gravity = [0, 0, -9.81] m }", "SCN302", 8, 19),
    ("randomize { rod.mass ~ uniform(1, 2) m }", "SCN302", 8, 24),
    ("randomize { rod.mass *~ uniform(1, 2) kg }", "SCN302", 8, 25),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { limits = [0, 1] m }\nbody bar", "SCN302", 8, 63),
    ("frame f on world at (translation = [0, 0, 1] s)", "SCN302", 8, 36),
    # SCN303 vector length mismatch
    ("observation o2 = [dot(2, [hinge.q, hinge.v])]", "SCN303", 8, 19),
    ("randomize { hinge.q ~ uniform([0, 0], [1, 1]) }", "SCN303", 8, 23),
    ("observation o2 = [1, 2] + [1, 2, 3]", "SCN303", 8, 18),
    ("observation o2 = 3[0]", "SCN303", 8, 18),
    ("observation o2 = [1, 2][5]", "SCN303", 8, 25),
    ("observation o2 = []", "SCN303", 8, 18),
    ("observation o2 = atan2([1, 2], [1, 2, 3])", "SCN303", 8, 18),
    ("observation o2 = dot([1, 2], [1, 2, 3])", "SCN303", 8, 18),
    ("body b2 { center_of_mass = [1, 2] m; shape = sphere(1) }", "SCN303", 8, 28),
    ("body ball { mass = 1 kg; inertia = [1, 1, 1] }\nrandomize { ball.position ~ uniform([0, 0], [1, 1]) m }",
     "SCN303", 9, 29),  # a free body: `rod` is held by a joint (SCN204 first)
    ("plant { gravity = [0, -9.81] m/s^2 }", "SCN303", 8, 19),
    # SCN304 expected a scalar
    ("randomize { require [hinge.q, hinge.v] > 0 }", "SCN304", 8, 21),
    # SCN305 wrong number of arguments
    ("observation o2 = sin(1, 2)", "SCN305", 8, 18),
    ("observation o2 = min(1, b = 2)", "SCN305", 8, 25),
    ("randomize { let x ~ uniform(1) }", "SCN305", 8, 21),
    ("randomize { let x ~ uniform(1, 2, 3) }", "SCN305", 8, 21),
    ("body b2 { shape = box(1, 1) }", "SCN305", 8, 19),
    # SCN306 type mismatch
    ("randomize { require hinge.q }", "SCN306", 8, 21),
    ("randomize { let x = 1 }", "SCN306", 8, 13),
    ("frame f on world at (rotation = [0, 0, 1])", "SCN306", 8, 33),
    # SCN307 value must be a constant
    ("observation o2 = 2 ^ hinge.q", "SCN307", 8, 22),
    ("observation o2 = [1, 2][1.5]", "SCN307", 8, 25),
    ("observation o2 = [1, 2][hinge.q]", "SCN307", 8, 25),
    # SCN308 distribution not allowed here
    ("observation o2 = uniform(1, 2)", "SCN308", 8, 18),
    ("let y ~ uniform(1, 2)", "SCN308", 8, 1),
    # SCN401 value out of range
    ("plant { time_step = -1 ms }", "SCN401", 8, 21),
    ("plant { penetration_allowance = 0 m }", "SCN401", 8, 33),
    ("body b2 { mass = -1 kg; shape = sphere(1) }", "SCN401", 8, 18),
    ("body b2 { shape = box(1, 1, -1) }", "SCN401", 8, 29),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 0])\nbody bar", "SCN401", 8, 41),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { damping = -1 }\nbody bar", "SCN401", 8, 64),
    ("controller c: pd(hinge) { kp = 1; kd = -1 }", "SCN401", 8, 40),
    ("randomize per build every 0 episodes { rod.mass *~ uniform(0.5, 2) }", "SCN401", 8, 11),
    ("body b2 { friction = [0.5, 0.9]; shape = sphere(1) }", "SCN401", 8, 22),
    ("body b2 { color = [2, 0, 0]; shape = sphere(1) }", "SCN401", 8, 19),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { limits = [0, 1]; initial = 2 }\nbody bar", "SCN401", 8, 81),
    ("train { n_envs = 0 }", "SCN401", 8, 18),
    ("train { seed = 1.5 }", "SCN401", 8, 16),
    # SCN402 bounds not ordered
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { limits = [1, 0] }\nbody bar", "SCN402", 8, 63),
    # SCN403 episode step not a multiple of the plant step (reported at the episode's `step`)
    ("plant { time_step = 3 ms }", "SCN403", 7, 11),
    # SCN404 unknown option value
    ("plant { contact_model = pointy }", "SCN404", 8, 25),
    ("plant { discrete_contact_approximation = tamsy }", "SCN404", 8, 42),
    ("body b2 { hydroelastic = soft; shape = sphere(1) }", "SCN404", 8, 26),
    ("body b2 { shape = cube(1) }", "SCN404", 8, 19),
    ("joint j2: hinge(world -> bar)\nbody bar", "SCN404", 8, 11),
    ("controller c: pid(hinge) { kp = 1 }", "SCN404", 8, 15),
    ("randomize per steps { rod.mass *~ uniform(0.5, 2) }", "SCN404", 8, 15),
    ("train { algo = ppx }", "SCN404", 8, 16),
    ("train { policy = big }", "SCN404", 8, 18),
    # SCN405 invalid distribution parameters
    ("randomize { rod.mass ~ uniform(2, 1) }", "SCN405", 8, 24),
    ("randomize { rod.mass ~ normal(1, 0.1) kg }", "SCN405", 8, 24),
    ("randomize { rod.mass ~ normal(1, 0) kg }", "SCN405", 8, 24),
    ("randomize { rod.mass ~ loguniform(0, 1) kg }", "SCN405", 8, 24),
    ("randomize { rod.mass ~ truncnormal(1, 0.1, 2, 1) kg }", "SCN405", 8, 24),
    ("randomize { let c ~ choice([1, 2], [1]) }", "SCN405", 8, 21),
    ("randomize { let c ~ bernoulli(2) }", "SCN405", 8, 21),
    ("randomize { let c ~ integers(1.5, 3) }", "SCN405", 8, 21),
    # SCN406 required setting missing
    ("body b2 { mass = 1 kg }", "SCN406", 8, 6),
    ("body b2 { mass; shape = sphere(1) }", "SCN406", 8, 11),
    ("joint j2: revolute(world -> bar)\nbody bar", "SCN406", 8, 1),
    ("controller c: pd(hinge) { kd = 1 }", "SCN406", 8, 1),
    # SCN407 conflicting settings
    ("body b2 { shape = sphere(1) }\njoint j2: ball(world -> b2) { actuated }", "SCN407", 9, 1),
    ("randomize per episode every 10 episodes { rod.mass *~ uniform(0.5, 2) }", "SCN407", 8, 11),
    ("joint j2: revolute(world -> rod, axis = [0, 0, 1])", "SCN407", 8, 29),
    ("weld world -> rod", "SCN407", 8, 15),
    (f'model a from "{ACROBOT}"\nweld world -> a.upper_link', "SCN407", 9, 15),
    ("observation o2 = [sqrt(-1)]", "SCN401", 8, 19),
    ("plant { time_step = log(0) s }", "SCN401", 8, 21),
    ("train { policy = mlp([1.5, 2]) }", "SCN401", 8, 22),
    # SCN409 division by zero in a constant
    ("observation o2 = 1 / 0", "SCN409", 8, 22),
    ("observation o2 = hinge.q mod 0", "SCN409", 8, 30),
    ("plant { gravity = [0, 0, -9.81] m/s^2 / [1, 0, 1] }", "SCN409", 8, 41),
    # SCN501-SCN504, SCN507: model files, checked without Drake
    ('model a from "no/such/file.urdf"', "SCN501", 8, 1),
    ('model a from "package://drake_models/iiwa_description/urdf/iiwa14.urdf"', "SCN502", 8, 1),
    ('model a from "package://no_such_package_zz/x.urdf"', "SCN502", 8, 1),
    (f'model a from "{ACROBOT}" {{ initial {{ sholder = 1 }} }}', "SCN503", 8, 74),
    (f'model a from "{ACROBOT}" {{ weld world -> nolink }}', "SCN503", 8, 78),
    (f'model b from "file://{BIN_SDF}" {{ weld world -> bin_bottom }}', "SCN503", 8, 40 + len(str(BIN_SDF))),
    ("body b2 { shape = sphere(1) }\njoint j2: revolute(world -> b2, axis = [0, 0, 1])\n"
     "controller c: pd(j2) { kp = 1 }", "SCN504", 10, 18),
    (f'model a from "file://{Path(__file__).resolve()}"', "SCN507", 8, 1),
]


@pytest.mark.parametrize(("snippet", "code", "line", "col"), APPENDED,
                         ids=[f"{c}-{i}" for i, (_, c, _, _) in enumerate(APPENDED)])
def test_error_path(snippet: str, code: str, line: int, col: int) -> None:
    analysis = analyze(BASE + snippet + "\n")
    diagnostics = analysis.diagnostics
    assert (code, line, col) in found(analysis), [(d.code, d.line, d.column, d.message) for d in diagnostics]
    # the expected problem is the first one reported, by position
    first = sorted(diagnostics, key=Diagnostic.sort_key)
    first_of_level = [d for d in first if d.level is CODES[code][0]]
    assert (first_of_level[0].code, first_of_level[0].line, first_of_level[0].column) == (code, line, col)
    for d in diagnostics:
        assert d.code in CODES and d.code != "SCN901"
        assert d.message and d.span is not None
    if CODES[code][0] is Severity.ERROR:
        assert analysis.scenario is None and not analysis.ok
    else:
        assert analysis.ok


# (text in BASE, replacement, code, line, column)
REPLACED = [
    ("episode { step = 10 ms }\n", "", "SCN207", 1, 1),
    ("action torque = hinge.effort in [-1, 1] N*m\n", "", "SCN207", 1, 1),
    ("observation obs = [hinge.q, hinge.v]\n", "", "SCN207", 1, 1),
    ("reward { -hinge.q^2 as cost }\n", "", "SCN207", 1, 1),
    ("reward { -hinge.q^2 as cost }", "reward { }", "SCN207", 6, 1),
    ("-hinge.q^2 as cost", "1 as a; 2 as a", "SCN202", 6, 23),
    ("-hinge.q^2 as cost", "let k = 1; let k = 2; k", "SCN202", 6, 25),
    ("-hinge.q^2 as cost", "let hinge = 1; hinge", "SCN202", 6, 14),
    ("-hinge.q^2 as cost", "[hinge.q, hinge.v] as v", "SCN304", 6, 10),
    ("-hinge.q^2 as cost", "time + 1 m", "SCN302", 6, 10),
    ("episode { step = 10 ms }", "episode { time_limit = 1 s }", "SCN406", 7, 1),
    ("episode { step = 10 ms }", "episode { step }", "SCN406", 7, 11),
    ("episode { step = 10 ms }", "episode { step = 10 ms; time_limit = 1 ms }", "SCN401", 7, 38),
    ("episode { step = 10 ms }", "episode { step = -10 ms }", "SCN401", 7, 18),
    ("episode { step = 10 ms }", "episode { step = 10 m }", "SCN302", 7, 18),
    ("episode { step = 10 ms }", "episode { step = 10 ms; terminate when hinge.q }", "SCN306", 7, 40),
    ("episode { step = 10 ms }", "episode { step = 10 ms; success when [1, 2] > 0 }", "SCN304", 7, 38),
    ("episode { step = 10 ms }", "episode { step = 10 ms; success when hinge.q > 1; success when hinge.q > 2 }",
     "SCN208", 7, 51),
    ("episode { step = 10 ms }", "episode { step = 10 ms; terminate when hinge.q > 1 m }", "SCN302", 7, 40),
    ("in [-1, 1] N*m", "", "SCN406", 4, 1),
    ("in [-1, 1] N*m", "in [1, -1] N*m", "SCN402", 4, 33),
    ("in [-1, 1] N*m", "in [-1, 1, 2]", "SCN303", 4, 33),
    ("in [-1, 1] N*m", "in [-1, 1] { dtype = float16 }", "SCN404", 4, 51),
    ("in [-1, 1] N*m", "in [-1, 1] { clip = 1 }", "SCN203", 4, 43),
    ("hinge.effort in", "hinge.q in", "SCN204", 4, 17),
    ("hinge.effort in", "plant.q in", "SCN204", 4, 17),
    ("{ actuated }", "", "SCN504", 4, 17),
    ("[hinge.q, hinge.v]", "[hinge.q, hinge.v] { dtype = int }", "SCN404", 5, 48),
    ("[hinge.q, hinge.v]", "[hinge.q, hinge.v] { noise = 1 }", "SCN203", 5, 40),
]


@pytest.mark.parametrize(("old", "new", "code", "line", "col"), REPLACED,
                         ids=[f"{c}-{i}" for i, (_, _, c, _, _) in enumerate(REPLACED)])
def test_error_path_in_an_edited_scenario(old: str, new: str, code: str, line: int, col: int) -> None:
    analysis = analyze(edited(old, new))
    assert (code, line, col) in found(analysis), [(d.code, d.line, d.column, d.message) for d in analysis.diagnostics]
    assert analysis.scenario is None
    assert all(d.code != "SCN901" for d in analysis.diagnostics)


def test_messages_and_hints_of_common_mistakes() -> None:
    def one(snippet: str) -> Diagnostic:
        return errors(analyze(BASE + snippet + "\n"))[0]

    d = one("observation o2 = hinge.qq")
    assert (d.message, d.hint) == ("revolute joint `hinge` has no attribute `qq`", "did you mean `q`?")
    assert d.span is not None and d.span.text == "qq"
    d = one("plant { time_stepp = 1 ms }")
    assert (d.message, d.hint) == ("unknown setting `time_stepp` in `plant`", "did you mean `time_step`?")
    d = one("observation o2 = 1 kgg")
    assert (d.message, d.hint) == ("unknown unit `kgg`", "did you mean `kg`?")
    d = one("observation o2 = 1 m + 1 s")
    assert d.message == "`+` between length and time"
    d = one("body rod")
    assert d.message == "`rod` is already declared" and d.hint == "first declared at t.scn:2:1"
    d = one("observation o2 = unif(1, 2)")
    assert (d.message, d.hint) == ("unknown function `unif`", "did you mean `uniform`?")
    d = one("observation o2 = hinge")
    assert d.hint == "read one of its signals: hinge.q, hinge.v"
    d = one("plant { time_step = 3 ms }")
    assert d.message == "episode step 0.01 s is not a whole number of plant steps (0.003 s)"
    assert d.hint == "use 0.009 s, or change plant.time_step"


# ---- all problems at once -----------------------------------------------------------------


def test_all_problems_in_a_file_are_reported_at_once() -> None:
    text = """scenario t
body rod { mass = 1 kgg; inertia = [1, 1, 1] }
joint hinge: revolute(world -> rod, axis = [0, 0, 0]) { actuated }
action torque = hinge.effort in [-1, 1] N*m
observation obs = [hinge.q, hinge.vel]
reward { -sine(hinge.q) as cost }
episode { step = 10 m }
"""
    analysis = analyze(text)
    assert found(analysis) == [("SCN301", 2, 19), ("SCN401", 3, 44), ("SCN204", 5, 35), ("SCN205", 6, 11),
                               ("SCN302", 7, 18)]
    with pytest.raises(ScenarioError) as info:
        scenario_dsl.loads(text)
    assert len(info.value.diagnostics) == 5


def test_errors_in_several_sections_are_all_reported() -> None:
    text = BASE + ("plant { contact_model = pointy }\nrandomize { rod.mass ~ uniform(2, 1) }\n"
                   "train { algo = ppx }\nlet spare = 1\n")
    assert sorted(d.code for d in analyze(text).diagnostics) == ["SCN209", "SCN404", "SCN404", "SCN405"]


# ---- fragments ----------------------------------------------------------------------------

FRAGMENT = """body rod { mass = 1 kg; inertia = [1, 1, 1] }
joint hinge: revolute(world -> rod, axis = [0, 1, 0]) { actuated }
"""


def test_fragment_without_scenario_statement_validates_without_scn207() -> None:
    analysis = analyze(FRAGMENT)
    assert analysis.diagnostics == []
    assert analysis.scenario is None
    assert len(analysis.files) == 1


def test_fragment_is_only_syntax_checked() -> None:
    assert analyze("body rod { mass = 1 kgg }\n").diagnostics == []
    assert [d.code for d in analyze("body rod { mass = 1 kg \n").diagnostics] == ["SCN103"]


def test_fragment_loads_raise() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_dsl.loads(FRAGMENT)
    assert info.value.diagnostics == []


# ---- includes -----------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "arm.scn").write_text(FRAGMENT, encoding="utf-8")
    return tmp_path


MAIN = """scenario t
include "parts/arm.scn"
action torque = hinge.effort in [-1, 1] N*m
observation obs = [hinge.q, hinge.v]
reward { -hinge.q^2 as cost }
episode { step = 10 ms }
"""


def test_include_brings_in_bodies_and_joints(project: Path) -> None:
    (project / "main.scn").write_text(MAIN, encoding="utf-8")
    analysis = analyze_file(project / "main.scn")
    assert analysis.diagnostics == []
    assert analysis.scenario is not None
    assert [b.name for b in analysis.scenario.bodies] == ["rod"]
    assert [j.name for j in analysis.scenario.joints] == ["hinge"]
    assert [Path(f.span.path).name for f in analysis.files] == ["main.scn", "arm.scn"]
    s = scenario_dsl.load(project / "main.scn")
    assert s.joints[0].where is not None and Path(s.joints[0].where.file).name == "arm.scn"


def test_loads_with_base_dir_follows_includes(project: Path) -> None:
    s = scenario_dsl.loads(MAIN, base_dir=project)
    assert [j.name for j in s.joints] == ["hinge"]


def test_included_file_is_read_once(project: Path) -> None:
    (project / "parts" / "more.scn").write_text('include "arm.scn"\n', encoding="utf-8")
    text = MAIN.replace('include "parts/arm.scn"', 'include "parts/arm.scn"\ninclude "parts/more.scn"')
    (project / "main.scn").write_text(text, encoding="utf-8")
    analysis = analyze_file(project / "main.scn")
    assert analysis.diagnostics == []
    assert len(analysis.files) == 3


def test_error_in_included_file_points_into_it(project: Path) -> None:
    (project / "parts" / "arm.scn").write_text(FRAGMENT.replace("1 kg", "1 kgg"), encoding="utf-8")
    (project / "main.scn").write_text(MAIN, encoding="utf-8")
    (d,) = analyze_file(project / "main.scn").diagnostics
    assert (d.code, Path(d.file).name, d.line, d.column) == ("SCN301", "arm.scn", 1, 19)


def test_syntax_error_in_included_file(project: Path) -> None:
    (project / "parts" / "arm.scn").write_text("body rod {\n", encoding="utf-8")
    (project / "main.scn").write_text(MAIN, encoding="utf-8")
    (d,) = analyze_file(project / "main.scn").diagnostics
    assert (d.code, Path(d.file).name) == ("SCN103", "arm.scn")


def test_include_cycle_is_scn004(project: Path) -> None:
    (project / "a.scn").write_text('# a\ninclude "b.scn"\n', encoding="utf-8")
    (project / "b.scn").write_text('include "a.scn"\n', encoding="utf-8")
    (project / "main.scn").write_text('scenario t\ninclude "a.scn"\n', encoding="utf-8")
    analysis = analyze_file(project / "main.scn")
    (d,) = analysis.diagnostics
    assert (d.code, Path(d.file).name, d.line, d.column) == ("SCN004", "b.scn", 1, 1)
    assert d.message == "include cycle: main.scn -> a.scn -> b.scn -> a.scn"
    assert d.span is not None and d.span.text == 'include "a.scn"'


def test_file_including_itself_is_scn004(project: Path) -> None:
    (project / "self.scn").write_text('scenario t\ninclude "self.scn"\n', encoding="utf-8")
    (d,) = analyze_file(project / "self.scn").diagnostics
    assert (d.code, d.line, d.column) == ("SCN004", 2, 1)


def test_include_leaving_the_project_is_scn005(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "x.scn").write_text(FRAGMENT, encoding="utf-8")
    relative = Path("..") / outside.name / "x.scn"
    (project / "main.scn").write_text(f'scenario t\n\ninclude "{relative.as_posix()}"\n', encoding="utf-8")
    (d,) = analyze_file(project / "main.scn").diagnostics
    assert (d.code, d.line, d.column) == ("SCN005", 3, 1)
    assert str(project) in d.message
    (project / "abs.scn").write_text(f'scenario t\ninclude "{outside / "x.scn"}"\n', encoding="utf-8")
    assert [x.code for x in analyze_file(project / "abs.scn").diagnostics] == ["SCN005"]


def test_missing_include_is_scn006(project: Path) -> None:
    (project / "main.scn").write_text('scenario t\ninclude "parts/nope.scn"\n', encoding="utf-8")
    (d,) = analyze_file(project / "main.scn").diagnostics
    assert (d.code, d.line, d.column) == ("SCN006", 2, 1)


def test_scenario_statement_in_an_included_file_is_not_a_second_section(project: Path) -> None:
    (project / "base.scn").write_text(MAIN.replace('include "parts/arm.scn"', FRAGMENT.strip()), encoding="utf-8")
    (project / "variant.scn").write_text('scenario variant\ninclude "base.scn"\n', encoding="utf-8")
    analysis = analyze_file(project / "variant.scn")
    assert analysis.diagnostics == []
    assert analysis.scenario is not None and analysis.scenario.name == "variant"


def test_duplicate_name_across_files(project: Path) -> None:
    # An include stands for the included statements in its place: the included `rod` comes first,
    # so the duplicate is the one written after the include, in the including file.
    (project / "main.scn").write_text(MAIN + "body rod\n", encoding="utf-8")
    (d,) = analyze_file(project / "main.scn").diagnostics
    assert (d.code, Path(d.file).name, d.line, d.column) == ("SCN202", "main.scn", 7, 6)
    assert d.hint is not None and "arm.scn:1:1" in d.hint


# ---- load and loads -----------------------------------------------------------------------


def test_loads_returns_a_scenario() -> None:
    s = scenario_dsl.loads(BASE)
    assert isinstance(s, m.Scenario) and s.name == "t"


def test_loads_with_only_warnings_returns_a_scenario() -> None:
    s = scenario_dsl.loads(BASE + "let spare = 1\n")
    assert s.name == "t"


def test_loads_raises_scenario_error_with_every_diagnostic() -> None:
    text = BASE + "observation o2 = zz\nplant { time_step = -1 ms }\nlet spare = 1\n"
    with pytest.raises(ScenarioError) as info:
        scenario_dsl.loads(text, "mine.scn")
    codes = [d.code for d in info.value.diagnostics]
    assert sorted(codes) == ["SCN201", "SCN209", "SCN401"]
    assert [d.line for d in info.value.diagnostics] == [8, 9, 10]  # sorted by position
    assert str(info.value) == "mine.scn:8:18: SCN201 undefined name `zz` (and 1 more errors)"


def test_load_raises_for_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_dsl.load(tmp_path / "nope.scn")
    assert [d.code for d in info.value.diagnostics] == ["SCN001"]


def test_load_raises_for_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.scn"
    path.write_text("scenario t\nbody b {\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        scenario_dsl.load(path)
    (d,) = info.value.diagnostics
    assert (d.code, d.line, d.column, d.file) == ("SCN103", 3, 1, str(path))


def test_load_accepts_str_paths() -> None:
    assert scenario_dsl.load(str(SCENARIOS / "pendulum.scn")).name == "pendulum"


# ---- follow-on errors, hints and spans ---------------------------------------------------


def test_failed_let_is_not_reported_again_at_its_uses() -> None:
    analysis = analyze(BASE + "let y = 1 m + 1 s\nobservation o2 = y\n")
    assert [d.code for d in analysis.diagnostics] == ["SCN302"]


def test_misplaced_random_let_is_reported_once() -> None:
    text = edited("reward {", "let wind ~ normal(0, 1)\nreward {").replace("-hinge.q^2 as", "-hinge.q^2 * wind as")
    assert [d.code for d in analyze(text).diagnostics] == ["SCN308"]


def test_bad_gain_is_not_also_a_missing_gain() -> None:
    assert [d.code for d in analyze(BASE + "controller c: pd(hinge) { kp = -1 }\n").diagnostics] == ["SCN401"]


def test_bad_inertia_is_not_also_a_missing_inertia() -> None:
    assert [d.code for d in analyze(edited("inertia = [1, 1, 1]", "inertia = [1, 1]")).diagnostics] == ["SCN303"]


def test_failed_reward_let_is_not_reported_again_at_its_use() -> None:
    text = edited("-hinge.q^2 as cost", "let k = 1 m + 1 s; k as r")
    assert [d.code for d in analyze(text).diagnostics] == ["SCN302"]


def test_misplaced_random_let_message_names_the_binding() -> None:
    d = errors(analyze(BASE + "let wind ~ normal(0, 1)\nobservation o2 = wind\n"))[0]
    assert "wind" in d.message


def test_draw_in_the_wrong_unit_is_reported_once() -> None:
    assert [d.code for d in analyze(BASE + "randomize { rod.mass ~ uniform(1, 2) m }\n").diagnostics] == ["SCN302"]


def test_fractional_layer_width_is_an_error() -> None:
    assert errors(analyze(BASE + "train { policy = mlp([1.5, 2]) }\n"))


def test_constant_outside_asin_domain_is_an_error() -> None:
    assert errors(analyze(BASE + "observation o2 = [asin(2)]\n"))


def test_duplicate_observation_name_is_not_also_a_missing_observation() -> None:
    text = edited("observation obs", "observation rod")
    assert [d.code for d in analyze(text).diagnostics] == ["SCN202"]


def test_unknown_joint_type_is_reported_once() -> None:
    assert [d.code for d in analyze(edited("revolute(world", "revolut(world")).diagnostics] == ["SCN404"]


def test_signal_in_a_constant_setting_is_scn307() -> None:
    assert [d.code for d in analyze(BASE + "plant { time_step = hinge.q }\n").diagnostics] == ["SCN307"]


def test_random_let_in_a_distribution_parameter_is_not_undefined() -> None:
    text = BASE + "randomize {\n    let c ~ uniform(1, 2)\n    rod.mass ~ uniform(c, 3)\n}\n"
    assert "SCN201" not in [d.code for d in analyze(text).diagnostics]


def test_randomizing_a_whole_body_does_not_suggest_its_own_name() -> None:
    d = errors(analyze(BASE + "randomize { rod ~ uniform(1, 2) }\n"))[0]
    assert d.hint != "did you mean `rod`?"


def test_model_joint_as_value_suggests_a_valid_signal() -> None:
    d = errors(analyze(BASE + f'model a from "{ACROBOT}"\nobservation o2 = a.shoulder\n'))[0]
    assert d.hint is not None and "base_weld" not in d.hint
    assert "a.shoulder" in d.message


def test_two_joints_on_one_child_body_is_an_error() -> None:
    analysis = analyze(BASE + "joint j2: revolute(world -> rod, axis = [0, 0, 1])\n")
    assert errors(analysis)


def test_fractional_every_is_an_error() -> None:
    analysis = analyze(BASE + "randomize per build every 2.5 episodes { rod.mass *~ uniform(0.5, 2) }\n")
    assert errors(analysis)


@pytest.mark.parametrize(("snippet", "shown"), [
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { limits = [1, 0] }\nbody bar", "[1, 0]"),
    ("joint j2: revolute(world -> bar, axis = [0, 0, 1]) { limits = [0, 1]; initial = 2 }\nbody bar", "2"),
    ("body b2 { friction = [0.5, 0.9]; shape = sphere(1) }", "[0.5, 0.9]"),
    ("body b2 { color = [2, 0, 0]; shape = sphere(1) }", "[2, 0, 0]"),
])
def test_value_errors_point_at_the_value(snippet: str, shown: str) -> None:
    d = errors(analyze(BASE + snippet + "\n"))[0]
    assert d.span is not None and d.span.text == shown


def test_unknown_distribution_keyword_points_at_the_keyword() -> None:
    d = errors(analyze(BASE + "randomize { let x ~ uniform(1, 2, foo = 3) }\n"))[0]
    assert d.span is not None and d.span.text in ("foo", "foo = 3")


def test_messages_use_an_before_vowels() -> None:
    snippet = "joint j2: revolute(world -> bar, axis = [0, 0, 1]) { limits = [0, 1] m }\nbody bar\n"
    d = errors(analyze(BASE + snippet))[0]
    assert "a angle" not in d.message


def test_unit_hint_names_a_unit() -> None:
    d = errors(analyze(BASE + "plant { stiction_tolerance = 1 m }\n"))[0]
    assert d.hint is not None and d.hint.startswith("give it in ")
    from scenario_dsl.lang.units import VELOCITY, parse_unit

    assert parse_unit(d.hint.removeprefix("give it in "))[1] == VELOCITY


@pytest.mark.parametrize("train", ["train { algo }", "train { n_timestep }", "train { policy }"])
def test_flag_in_train_is_a_diagnostic_not_an_internal_error(train: str) -> None:
    codes = [d.code for d in analyze(BASE + train + "\n").diagnostics]
    assert codes and "SCN901" not in codes


@pytest.mark.parametrize("url", ["package://.x/a.urdf", "package://no_such_pkg_zz.sub/a.urdf"])
def test_odd_package_names_are_scn502(url: str) -> None:
    assert [d.code for d in analyze(BASE + f'model a from "{url}"\n').diagnostics] == ["SCN502"]


@pytest.mark.parametrize("package", ["wsgiref.util", "wsgiref"])
def test_linting_a_package_url_imports_nothing(package: str) -> None:
    if "wsgiref" in sys.modules:
        pytest.skip("wsgiref is already imported")
    codes = [d.code for d in analyze(BASE + f'model a from "package://{package}/a.urdf"\n').diagnostics]
    assert codes == (["SCN502"] if "." in package else ["SCN501"])  # an installed package, but no such file
    assert "wsgiref" not in sys.modules


def test_loads_base_dir_resolves_model_files() -> None:
    text = (SCENARIOS / "box_flipup.scn").read_text(encoding="utf-8")
    analysis = analyze(text, base_dir=SCENARIOS)
    assert analysis.diagnostics == []


def test_effort_bounds_in_a_length_are_scn302() -> None:
    analysis = analyze(edited("in [-1, 1] N*m", "in [-1, 1] m"))
    assert ("SCN302", 4, 33) in found(analysis)


def test_vector_draw_for_a_scalar_target_is_scn303() -> None:
    analysis = analyze(BASE + "randomize { hinge.q ~ uniform([0, 0], [1, 1]) }\n")
    assert ("SCN303", 8, 23) in found(analysis)


@pytest.mark.parametrize("value", ["sqrt(-1) s", "log(0) s"])
def test_domain_error_in_a_constant_is_not_scn307(value: str) -> None:
    codes = [d.code for d in analyze(BASE + f"plant {{ time_step = {value} }}\n").diagnostics]
    assert codes and "SCN307" not in codes


@pytest.mark.parametrize(("value", "message", "hint"), [
    ("sqrt(-1)", "sqrt(-1) is undefined", "sqrt takes numbers >= 0"),
    ("log(0)", "log(0) is undefined", "log takes numbers > 0"),
    ("acos([0.5, 1.5])", "acos([0.5, 1.5]) is undefined", "acos takes numbers from -1 to 1"),
    ("(-8) ^ (1 / 3)", "(-8) ^ 0.333333 is undefined", "a negative number has no fractional power, and 0 no "
     "negative power"),
    ("exp(1000)", "exp(1000) overflows", "the result is larger than the largest float (about 1.8e308)"),
])
def test_domain_error_message_names_the_call(value: str, message: str, hint: str) -> None:
    (d,) = analyze(BASE + f"observation o2 = [{value}]\n").diagnostics
    assert (d.code, d.message, d.hint, d.span is not None and d.span.text) == ("SCN401", message, hint, value)


@pytest.mark.parametrize(("snippet", "code", "shown"), [
    ("observation o2 = [hinge.q ^ inf]", "SCN401", "inf"),
    ("observation o2 = [[hinge.q, hinge.v][inf]]", "SCN307", "inf"),
    ("observation o2 = [0 * inf]", "SCN401", "0 * inf"),
    ("observation o2 = [1e300 * 1e300]", "SCN401", "1e300 * 1e300"),
    ("randomize { rod.mass ~ integers(0, inf) kg }", "SCN405", "integers(0, inf) kg"),
    ("randomize { rod.mass ~ uniform(1, inf) kg }", "SCN405", "uniform(1, inf) kg"),
    ("randomize per build every 1e400 episodes { plant.gravity *~ uniform(0.5, 2) }", "SCN401",
     "per build every 1e400 episodes"),
    ("train { n_envs = inf }", "SCN401", "inf"),
    ("train { normalize = yes }", "SCN201", "yes"),
])
def test_infinities_are_diagnostics_not_internal_errors(snippet: str, code: str, shown: str) -> None:
    (d,) = [d for d in analyze(BASE + snippet + "\n").diagnostics if d.code != "SCN410"]  # SCN410: per build
    assert (d.code, d.span is not None and d.span.text) == (code, shown)


def test_truncnormal_may_be_unbounded_on_one_side() -> None:
    s = scenario_dsl.loads(BASE + "randomize { rod.mass ~ truncnormal(1, 0.1, 0, inf) kg }\n")
    dist = s.randomizations[0].draws[0].value
    assert isinstance(dist, m.Distribution) and dist.params["high"] == math.inf


def test_constant_functions_at_infinity_fold_like_the_runtime() -> None:
    s = scenario_dsl.loads(BASE + "observation o2 = [floor(inf), ceil(-inf), 2 ^ 3]\n")
    o2 = s.observations[-1].value
    assert isinstance(o2, m.Const) and o2.value == [math.inf, -math.inf, 8.0]


def test_dot_of_a_number_and_a_vector_is_scn303_even_for_constants() -> None:
    for text in ("dot(2, [1, 2])", "dot([1, 2], 2)", "dot(2, [hinge.q, hinge.v])"):
        (d,) = analyze(BASE + f"observation o2 = [{text}]\n").diagnostics
        assert (d.code, d.message) == ("SCN303", "`dot` of a number and a 2-vector"), text


@pytest.mark.parametrize(("text", "value"), [("dot([1, 2], [3, 4])", 11.0), ("dot(2, 3)", 6.0)])
def test_dot_folds_to_the_runtime_value(text: str, value: float) -> None:
    s = scenario_dsl.loads(BASE + f"observation o2 = [{text}]\n")
    assert s.observations[-1].value == m.Const(value=[value], size=1)


def test_fold_of_dot_agrees_with_the_compilers_evaluate() -> None:
    """The type checker's folding and the compiler's NumPy reference give `dot` one meaning, also for the
    scalar-vector case that lint rejects (a scalar broadcasts)."""
    from scenario_dsl.lang.evaluate import evaluate
    from scenario_dsl.lang.typecheck import fold

    cases: list[tuple[float | list[float], float | list[float]]] = [
        ([1.0, 2.0], [3.0, -4.0]), (2.0, 3.0), (2.0, [1.0, 2.0, 3.0]), ([1.0, 2.0], -0.5)]
    for left, right in cases:
        ir = m.Apply(fn="dot", args=[m.Const(value=left, size=len(left) if isinstance(left, list) else None),
                                     m.Const(value=right, size=len(right) if isinstance(right, list) else None)])
        assert fold("dot", [left, right]) == pytest.approx(float(evaluate(ir, {})[0])), (left, right)


def test_min_of_a_number_a_vector_and_a_number_is_a_vector() -> None:
    s = scenario_dsl.loads(BASE + "observation o2 = min(1, [0.5, 2], 3)\n")
    assert s.observations[-1].size == 2
    assert s.observations[-1].value == m.Const(value=[0.5, 1.0], size=2)


def test_vector_random_let_and_noise_keep_their_length() -> None:
    text = BASE + "randomize {\n    let x ~ uniform([0, 0], [1, 1])\n    obs.noise ~ normal([0, 0, 0], [1, 1, 1])\n}\n"
    analysis = analyze(text + "observation o2 = x\n")
    assert analysis.diagnostics == []
    assert analysis.scenario is not None and analysis.scenario.observations[-1].size == 2


def test_a_scalar_draw_for_a_vector_target_is_fine() -> None:
    assert analyze(BASE + "randomize { rod.center_of_mass ~ uniform(-1, 1) cm }\n").diagnostics == []


def test_effort_bounds_of_a_prismatic_joint_are_a_force() -> None:
    text = edited("revolute(world -> rod, axis = [0, 1, 0])", "prismatic(world -> rod, axis = [0, 1, 0])")
    assert analyze(text.replace("in [-1, 1] N*m", "in [-1, 1] N")).diagnostics == []
    d = errors(analyze(text))[0]
    assert (d.code, d.message, d.hint) == ("SCN302", "`action bounds` is a force, not a torque", "give it in N")
    d = errors(analyze(edited("in [-1, 1] N*m", "in [-1, 1] N")))[0]
    assert d.hint == "give it in N*m"


def test_scalar_override_of_a_vector_parameter_is_scn303() -> None:
    analysis = analyze(PUSH_BOX, params={"goal": "1 m"})
    assert found(analysis) == [("SCN303", 9, 1)]
    assert analysis.diagnostics[0].message == "--param goal is a number; the parameter is a 2-vector"


def test_override_of_a_broken_parameter_is_not_reported_twice() -> None:
    for params in ({}, {"g": "2 m"}):
        analysis = analyze(BASE + "param g = 1 m + 1 s\nobservation o2 = [g]\n", params=params)
        assert [d.code for d in analysis.diagnostics] == ["SCN302"], params


def test_flag_in_train_suggests_the_setting() -> None:
    d = errors(analyze(BASE + "train { n_timestep }\n"))[0]
    assert (d.code, d.hint) == ("SCN406", "did you mean `n_timesteps`?")
    d = errors(analyze(BASE + "train { use_sde }\n"))[0]
    assert (d.code, d.hint) == ("SCN406", "write `use_sde = ...`; only `normalize` is a flag")
    s = scenario_dsl.loads(BASE + "train { normalize; use_sde = true }\n")
    assert s.train is not None and s.train.normalize and s.train.hyperparams == {"use_sde": True}


@pytest.mark.parametrize(("observed", "message", "hint"), [
    ("a", "`a` is a model, not a value", "read a signal of one of its joints or bodies, e.g. a.shoulder.q"),
    ("a.upper_link", "`a.upper_link` is a body, not a value",
     "read one of its signals: a.upper_link.position, a.upper_link.rpy, a.upper_link.velocity"),
])
def test_model_and_its_bodies_as_values_are_scn206(observed: str, message: str, hint: str) -> None:
    d = errors(analyze(BASE + f'model a from "{ACROBOT}"\nobservation o2 = {observed}\n'))[0]
    assert (d.code, d.message, d.hint) == ("SCN206", message, hint)


def test_frame_as_a_value_is_scn206() -> None:
    d = errors(analyze(BASE + "frame f on rod\nobservation o2 = f\n"))[0]
    assert (d.code, d.message) == ("SCN206", "`f` is a frame, not a value")


def test_second_parent_names_the_first() -> None:
    d = errors(analyze(BASE + "joint j2: revolute(world -> rod, axis = [0, 0, 1])\n"))[0]
    assert d.message == "`rod` is already attached to its parent by joint `hinge` at t.scn:3:1"


def test_infinite_mass_is_out_of_range() -> None:
    assert errors(analyze(BASE + "body b2 { mass = 1e400 kg; shape = sphere(1) }\n"))


def test_parenthesised_operand_span() -> None:
    d = errors(analyze(BASE + "observation o2 = (1 m) ^ 0.5\n"))[0]
    assert (d.code, d.line, d.column) == ("SCN302", 8, 18)
    assert d.span is not None and d.span.text == "(1 m) ^ 0.5"


# ---- mutations of the bundled scenarios ---------------------------------------------------

BUNDLED = {p.name: p.read_text(encoding="utf-8") for p in sorted(SCENARIOS.glob("*.scn"))}
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(BUNDLED)))
    tokens = _TOKEN.findall(BUNDLED[name])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "char_insert", "char_delete", "char_swap"]))
        if op in ("delete", "duplicate", "swap") and tokens:
            i = draw(st.integers(0, len(tokens) - 1))
            j = draw(st.integers(0, len(tokens) - 1))
            if op == "delete":
                del tokens[i]
            elif op == "duplicate":
                tokens.insert(i, tokens[j])
            else:
                tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            text = "".join(tokens)
            if not text:
                continue
            i = draw(st.integers(0, len(text) - 1))
            if op == "char_insert":
                text = text[:i] + draw(st.sampled_from(list("(){}[]~=+-*/^|;,.\"\n#a1 \t\u00e9"))) + text[i:]
            elif op == "char_delete":
                text = text[:i] + text[i + 1:]
            else:
                j = draw(st.integers(0, len(text) - 1))
                chars = list(text)
                chars[i], chars[j] = chars[j], chars[i]
                text = "".join(chars)
            tokens = [text]
    return name, "".join(tokens)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_mutated_bundled_scenarios_never_raise(case: tuple[str, str]) -> None:
    name, text = case
    analysis = analyze_text(text, name, base_dir=SCENARIOS)
    for d in analysis.diagnostics:
        assert d.code in CODES, d
        assert d.code != "SCN901", d.message
        if d.span is not None and d.span.path == name:
            assert 0 <= d.span.start <= d.span.end <= len(text)
    if analysis.scenario is not None:
        assert not errors(analysis)
        m.Scenario.model_validate_json(analysis.scenario.model_dump_json())


@pytest.mark.parametrize(("blocks", "code", "shown"), [
    ("randomize { let heavy ~ uniform(1, 2) }\nrandomize per step { rod.push ~ [heavy, 0, 0] N }",
     "SCN206", "[heavy, 0, 0] N"),
    ("randomize { rod.mass ~ heavy * 1 kg }\nrandomize { let heavy ~ uniform(1, 2) }", "SCN201", "heavy * 1 kg"),
])
def test_a_draw_reads_only_lets_drawn_before_it_in_its_scope(blocks: str, code: str, shown: str) -> None:
    (d,) = analyze(BASE + blocks + "\n").diagnostics
    assert (d.code, d.span is not None and d.span.text) == (code, shown)


@pytest.mark.parametrize(("blocks", "scope", "let", "target", "per_unit"), [
    ("randomize { let heavy ~ uniform(1, 2)\n rod.mass ~ heavy * 1 kg }", "episode", "heavy", "rod.mass", [1.0]),
    ("randomize { let heavy ~ uniform(1, 2) }\nrandomize { rod.mass ~ heavy * 1 kg }", "episode", "heavy", "rod.mass",
     [1.0]),
    ("randomize per step { let k ~ uniform(1, 2) }\nrandomize per step { rod.push ~ [k, 0, 0] N }", "step", "k",
     "rod.push", [1.0, 0.0, 0.0]),
])
def test_lets_in_reach_are_accepted_and_build(blocks: str, scope: str, let: str, target: str,
                                              per_unit: list[float]) -> None:
    import numpy as np

    from scenario_dsl.runtime.env import make_env
    from scenario_dsl.sampling import Sampler

    text = BASE + blocks + "\n"
    assert analyze(text).diagnostics == []  # accepted: no error, no warning
    scenario = scenario_dsl.loads(text)
    # The draw reads the let it reaches: the same episode's value, not a fresh or missing one.
    samples = Sampler(scenario, scopes=(scope,)).sample(50, np.random.default_rng(0))
    drawn = samples.values[let]
    assert drawn.shape == (50, 1) and ((drawn >= 1) & (drawn <= 2)).all() and drawn.std() > 0
    np.testing.assert_allclose(samples.values[target], drawn * np.array(per_unit))
    # It builds: the env compiles, resets and steps.
    env = make_env(scenario)
    observation, info = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    if scope == "episode":
        assert info["randomization"][target] == info["randomization"][let]
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert env.observation_space.contains(observation) and math.isfinite(reward)
    assert not (terminated or truncated), info
    env.close()
