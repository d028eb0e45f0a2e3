"""`randomize per build`: gravity and controller gains drawn into a freshly compiled diagram."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import scenario_dsl
from scenario_dsl.compiler import CompileError, compile_scenario
from scenario_dsl.lang.loader import analyze_text

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PENDULUM = SCENARIOS / "pendulum.scn"
BOX_FLIPUP = SCENARIOS / "box_flipup.scn"


def _with(path: Path, block: str) -> scenario_dsl.lang.model.Scenario:
    return scenario_dsl.loads(path.read_text() + "\n" + block + "\n", str(path), base_dir=path.parent)


def _gravity(env) -> float:
    return float(env.compiled.plant.gravity_field().gravity_vector()[2])


def test_the_drawn_gravity_is_the_simulated_one() -> None:
    env = scenario_dsl.make_env(_with(PENDULUM, "randomize per build { plant.gravity *~ uniform(0.5, 1.5) }"))
    ratios = []
    for seed in range(4):
        _, info = env.reset(seed=seed)
        g = info["randomization"]["plant.gravity"]
        assert g[:2] == [0.0, 0.0] and -15 <= g[2] <= -5
        assert _gravity(env) == pytest.approx(g[2], rel=0, abs=1e-12)
        # Horizontal and at rest, the rod's first step speeds it up in proportion to g.
        plant = env.compiled.plant
        plant.SetPositionsAndVelocities(env._plant_context, [np.pi / 2, 0.0])
        env.simulator.Initialize()
        env.step(np.zeros(1, dtype=np.float32))
        ratios.append(plant.GetVelocities(env._plant_context)[0] / g[2])
    assert len({round(g, 6) for g in ratios}) == 1  # same law, other gravity
    assert ratios[0] != 0


def test_rebuilds_every_n_episodes_and_at_every_seeded_reset() -> None:
    env = scenario_dsl.make_env(
        _with(PENDULUM, "randomize per build every 3 episodes { plant.gravity *~ uniform(0.5, 1.5) }"), seed=0)
    diagrams, gravities = [], []
    for _ in range(7):
        _, info = env.reset()
        diagrams.append(id(env.compiled.diagram))
        gravities.append(info["randomization"]["plant.gravity"][2])
    # built at the first reset, then after episodes 3 and 6
    assert [diagrams[i] == diagrams[i - 1] for i in range(1, 7)] == [True, True, False, True, True, False]
    assert gravities[0] == gravities[2] != gravities[3] == gravities[5] != gravities[6]
    first = env.reset(seed=11)[1]["randomization"]
    env.reset()
    again = env.reset(seed=11)[1]["randomization"]
    assert first == again  # a seeded reset replays the whole episode, build draws included


def test_inverse_dynamics_gains_are_drawn_per_build() -> None:
    scenario = _with(BOX_FLIPUP, "randomize per build { finger_pd.kp *~ uniform(0.5, 2) }")
    nominal = scenario.controllers[0].kp
    env = scenario_dsl.make_env(scenario)
    _, info = env.reset(seed=3)
    drawn = info["randomization"]["finger_pd.kp"]
    assert len(drawn) == len(nominal)
    assert env.compiled.scenario.controllers[0].kp == drawn
    assert all(0.5 * k <= d <= 2 * k for k, d in zip(nominal, drawn, strict=True)) and drawn != nominal
    env.step(np.zeros(2, dtype=np.float32))  # the rebuilt diagram steps


@pytest.mark.parametrize("block", ["randomize per build { rod.mass *~ uniform(0.5, 1.5) }",
                                   "randomize per step { pendulum.q ~ uniform(0, 1) }"])
def test_a_target_drawn_in_the_wrong_scope_is_a_lint_error(block: str) -> None:
    analysis = analyze_text(PENDULUM.read_text() + "\n" + block + "\n", str(PENDULUM))
    (error,) = [d for d in analysis.diagnostics if d.code != "SCN410"]
    assert error.code == "SCN204" and "cannot be drawn per" in error.message
    assert error.span is not None and error.span.text in ("rod.mass", "pendulum.q")
    assert error.hint is not None and "per-episode block" in error.hint


def test_the_compiler_still_refuses_a_wrong_build_target() -> None:
    """Scenarios that skip the front end (a hand-made `Scenario`) meet the same rule in the compiler."""
    scenario = _with(PENDULUM, "randomize per build { plant.gravity *~ uniform(0.5, 1.5) }")
    block = scenario.randomizations[-1]
    wrong = block.model_copy(update={"draws": [block.draws[0].model_copy(update={"target": "rod.mass"})]})
    with pytest.raises(CompileError) as failure:
        compile_scenario(scenario.model_copy(update={"randomizations": [*scenario.randomizations[:-1], wrong]}))
    assert failure.value.code == "SCN505" and "per episode" in failure.value.message


def test_lint_warns_of_the_rebuild_cost() -> None:
    text = PENDULUM.read_text() + "\nrandomize per build every 5 episodes { plant.gravity *~ uniform(0.9, 1.1) }\n"
    analysis = analyze_text(text, str(PENDULUM))
    (warning,) = [d for d in analysis.diagnostics if d.code == "SCN410"]
    assert "every 5 episodes" in warning.message and warning.span is not None
    assert warning.span.text.startswith("per build")
    assert analysis.ok  # a warning, not an error


def test_shape_sizes_are_drawn_per_build() -> None:
    scenario = _with(BOX_FLIPUP, "randomize per build {\n    let wide ~ uniform(0.8, 1.2)\n"
                                 "    box.size *~ [wide, 1, 1]\n    finger.size ~ uniform(0.5, 1.5) cm\n}")
    env = scenario_dsl.make_env(scenario)
    for seed in range(3):
        _, info = env.reset(seed=seed)
        drawn = info["randomization"]
        assert drawn["box.size"] == pytest.approx([0.2 * drawn["wide"], 0.05, 0.3], rel=1e-12)
        assert 0.005 <= drawn["finger.size"] <= 0.015
        plant, inspector = env.compiled.plant, env.compiled.scene_graph.model_inspector()
        box = plant.GetBodyByName("box")
        (geometry,) = plant.GetCollisionGeometriesForBody(box)
        shape = inspector.GetShape(geometry)
        assert [shape.width(), shape.depth(), shape.height()] == pytest.approx(drawn["box.size"], rel=1e-12)
        (finger,) = plant.GetCollisionGeometriesForBody(plant.GetBodyByName("finger"))
        assert inspector.GetShape(finger).radius() == pytest.approx(drawn["finger.size"], rel=1e-12)
        # the inertia is the solid box's of the drawn size: Ixx = m (y^2 + z^2) / 12 about x, Izz with x^2 + y^2
        inertia = box.default_rotational_inertia().CopyToFullMatrix3()
        x, y, z = drawn["box.size"]
        assert inertia[2, 2] == pytest.approx((x * x + y * y) / 12, rel=1e-9)
        assert inertia[0, 0] == pytest.approx((y * y + z * z) / 12, rel=1e-9)
    env.step(np.zeros(2, dtype=np.float32))  # the rebuilt diagram steps


@pytest.mark.parametrize("draw", ["finger_pd.kp *~ uniform(0.8, 1.2)", "box.size *~ uniform(0.9, 1.1)",
                                  "plant.gravity *~ uniform(0.9, 1.1)"])
def test_a_build_target_drawn_per_episode_is_a_lint_error(draw: str) -> None:
    analysis = analyze_text(BOX_FLIPUP.read_text() + "\nrandomize { " + draw + " }\n", str(BOX_FLIPUP),
                            base_dir=BOX_FLIPUP.parent)
    (error,) = analysis.diagnostics
    assert error.code == "SCN204" and error.message.endswith("cannot be drawn per episode")
    assert error.span is not None and error.span.text == draw.split()[0]
    assert error.hint is not None and "randomize per build" in error.hint


def test_the_size_of_a_body_without_a_shape_is_a_lint_error() -> None:
    analysis = analyze_text(BOX_FLIPUP.read_text() + "\nrandomize per build { carriage.size *~ uniform(0.9, 1.1) }\n",
                            str(BOX_FLIPUP), base_dir=BOX_FLIPUP.parent)
    (error,) = [d for d in analysis.diagnostics if d.code != "SCN410"]
    assert error.code == "SCN204" and "no declared shape" in error.message
    assert error.span is not None and error.span.text == "carriage.size"


def test_a_size_offset_below_zero_is_refused_at_the_rebuild() -> None:
    env = scenario_dsl.make_env(_with(BOX_FLIPUP, "randomize per build { box.size +~ [-0.3, 0, 0] m }"))
    with pytest.raises(CompileError) as failure:
        env.reset(seed=0)
    assert failure.value.code == "SCN405" and "box.size" in failure.value.message
    assert failure.value.where is not None and failure.value.where.line > 1


def test_a_build_target_drawn_per_step_points_at_per_build() -> None:
    analysis = analyze_text(BOX_FLIPUP.read_text() + "\nrandomize per step { box.size *~ uniform(0.9, 1.1) }\n",
                            str(BOX_FLIPUP), base_dir=BOX_FLIPUP.parent)
    (error,) = analysis.diagnostics
    assert error.code == "SCN204" and error.message.endswith("cannot be drawn per step")
    assert error.hint is not None and "randomize per build" in error.hint


@pytest.mark.parametrize(("offset", "bad"), [("uniform(-0.06, 0.01) m", True), ("uniform(-0.04, 0.01) m", False),
                                             ("normal(0, 0.01) m", True)])
def test_a_size_offset_that_can_reach_zero_is_a_lint_error(offset: str, bad: bool) -> None:
    """box_flipup's box is 0.2 x 0.05 x 0.3: an offset reaching -0.05 m can make it vanish."""
    analysis = analyze_text(BOX_FLIPUP.read_text() + f"\nrandomize per build {{ box.size +~ {offset} }}\n",
                            str(BOX_FLIPUP), base_dir=BOX_FLIPUP.parent)
    errors = [d for d in analysis.diagnostics if d.code == "SCN405"]
    assert bool(errors) == bad
    if bad:
        assert errors[0].span is not None and errors[0].span.text == offset


def test_scn_train_reports_a_bad_first_build_draw_as_a_diagnostic(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from scn_fixtures import run_cli

    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    path = tmp_path / "scenarios" / "bad_size.scn"
    path.write_text('scenario bad_size "x"\ninclude "box_flipup.scn"\n'
                    "randomize per build { box.size +~ [-0.3, 0, 0] m }  # noqa: SCN410\n")
    runs = tmp_path / "runs"
    code, _, err = run_cli(capsys, "train", str(path), "--timesteps", "10", "--out", str(runs), "--no-progress")
    assert code == 1
    assert "bad_size.scn:3:23: error[SCN405]" in err and "SCN901" not in err
    assert not runs.exists() or not any(runs.iterdir())  # no run directory was started
