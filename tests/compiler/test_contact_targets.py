"""Per-episode draws of a body's contact properties (friction, point stiffness, Hunt-Crossley
dissipation, hydroelastic modulus): each is in the SceneGraph context the plant reads, is the
one simulated, and never compounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import scenario_dsl
from scenario_dsl.compiler import CompileError, compile_scenario
from scenario_dsl.lang.loader import analyze_text

BALL = Path(__file__).resolve().parents[1] / "fixtures" / "ball_on_table.scn"
G = 9.81  # Drake's default gravity
TABLE_STIFFNESS = 1e7  # the table's point stiffness (the default): in series with the ball's


def _settle(env, seed: int) -> tuple[float, dict]:
    _, info = env.reset(seed=seed)
    for _ in range(4):  # 2 s: the ball comes to rest
        observation, *_ = env.step(np.zeros(1, dtype=np.float32))
    return float(observation[0]), info["randomization"]


def _context_property(env, body: str, group: str, key: str):
    plant, scene_graph = env.compiled.plant, env.compiled.scene_graph
    geometry = plant.GetCollisionGeometriesForBody(plant.GetBodyByName(body))[0]
    context = scene_graph.GetMyContextFromRoot(env.simulator.get_context())
    inspector = scene_graph.get_query_output_port().Eval(context).inspector()
    return inspector.GetProximityProperties(geometry).GetProperty(group, key)


def test_drawn_point_contact_properties_are_simulated_and_never_compound() -> None:
    """At rest, point contact holds the ball's weight with the combined stiffness: it sinks by
    m g / k, k the ball's drawn stiffness in series with the table's."""
    env = scenario_dsl.make_env(BALL)
    dissipations = set()
    for seed in range(4):
        height, drawn = _settle(env, seed)
        ball = drawn["ball.point_stiffness"]
        k = ball * TABLE_STIFFNESS / (ball + TABLE_STIFFNESS)
        assert height == pytest.approx(0.05 - G / k, abs=1e-7)
        assert _context_property(env, "ball", "material", "point_contact_stiffness") == ball
        dissipation = _context_property(env, "ball", "material", "hunt_crossley_dissipation")
        assert dissipation == drawn["ball.hunt_crossley_dissipation"] and 25 <= dissipation <= 100  # 50 s/m scaled
        friction = _context_property(env, "ball", "material", "coulomb_friction")
        assert friction.static_friction() == friction.dynamic_friction() == drawn["ball.friction"]
        dissipations.add(dissipation)
    assert len(dissipations) == 4
    env.close()


def test_a_drawn_hydroelastic_modulus_is_simulated() -> None:
    """A compliant ball on a rigid table sinks deeper the softer it is drawn."""
    text = BALL.read_text().replace("contact_model = point", "contact_model = hydroelastic").replace(
        "ball.point_stiffness ~ uniform(1e4, 4e4) N/m", "ball.hydroelastic_modulus ~ loguniform(1e5, 1e7) Pa")
    env = scenario_dsl.make_env(scenario_dsl.loads(text, str(BALL)))
    settled = []
    for seed in range(4):
        height, drawn = _settle(env, seed)
        modulus = drawn["ball.hydroelastic_modulus"]
        assert _context_property(env, "ball", "hydroelastic", "hydroelastic_modulus") == modulus
        settled.append((modulus, height))
    settled.sort()
    heights = [h for _, h in settled]
    assert heights == sorted(heights) and heights[0] < heights[-1] < 0.05
    env.close()


def test_bad_contact_draws_are_diagnostics() -> None:
    def codes(draw: str) -> list[str]:
        source = BALL.read_text() + f"randomize {{ {draw} }}\n"
        return [d.code for d in analyze_text(source, str(BALL)).diagnostics if str(d.level) == "error"]

    assert "SCN302" in codes("ball.point_stiffness ~ uniform(1e4, 2e4) N")  # a force is no stiffness
    source = BALL.read_text() + "randomize { ball.point_stiffness ~ uniform(1e4, 2e4) Pa }\n"
    (wrong,) = [d for d in analyze_text(source, str(BALL)).diagnostics if d.code == "SCN302"]
    assert wrong.message == "drawing a pressure for a stiffness (N/m)" and wrong.hint == "give it in N/m"
    assert "SCN405" in codes("ball.hunt_crossley_dissipation ~ normal(50, 10) s/m")  # can go negative
    assert "SCN204" in codes("ball.restitution ~ uniform(0, 1)")
    assert "SCN204" in codes("table.hydroelastic_modulus ~ uniform(1e6, 1e7) Pa")  # the table is rigid
    assert "SCN204" in codes("knob.friction ~ uniform(0.1, 1)")  # no shape, no collision geometry
    assert codes("ball.hydroelastic_modulus ~ uniform(1e6, 1e7) Pa") == []
    # below 0 from the declared nominal (1e4 N/m, 50 s/m): Drake would abort the process
    assert "SCN405" in codes("ball.point_stiffness +~ uniform(-2e4, -1.5e4) N/m")
    assert "SCN405" in codes("ball.hunt_crossley_dissipation +~ uniform(-100, -90) s/m")
    assert codes("ball.point_stiffness +~ uniform(-5e3, 5e3) N/m") == []
    assert "SCN405" in codes("ball.hydroelastic_modulus ~ choice([0, 1e6]) Pa")  # 0 is no modulus


def test_a_drawn_value_drake_cannot_take_is_a_diagnostic_not_an_abort() -> None:
    """An expression the validator cannot bound draws a negative stiffness: the reset refuses it
    with the draw's place (Drake's contact solver would abort the whole process at the next step)."""
    text = BALL.read_text() + "randomize { let k ~ uniform(1, 2)\n ball.point_stiffness ~ (-k * 1e4) N/m }\n"
    env = scenario_dsl.make_env(scenario_dsl.loads(text, str(BALL)))
    with pytest.raises(CompileError) as failure:
        env.reset(seed=0)
    assert failure.value.code == "SCN405" and "ball.point_stiffness" in failure.value.message
    assert failure.value.where is not None and failure.value.where.line == len(text.splitlines())
    env.close()


def test_a_model_body_without_collision_geometry_is_a_compile_error() -> None:
    cart_pole = BALL.parents[1].parent / "scenarios" / "cart_pole.scn"  # its URDF's links collide with nothing
    text = cart_pole.read_text() + "randomize { cart_pole.Cart.friction ~ uniform(0.1, 1) }\n"
    with pytest.raises(CompileError) as failure:
        compile_scenario(scenario_dsl.loads(text, str(cart_pole)))
    assert failure.value.code == "SCN505" and failure.value.where is not None


def test_scn_train_finds_a_rare_bad_draw_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stiffness that only an expression's tail can push below 0 (about 1 episode in 100): the
    first reset passes, the draws sampled ahead of training do not, and `scn train` stops with
    the draw's place before any run directory or worker exists."""
    from scn_fixtures import run_cli

    path = tmp_path / "rare.scn"
    text = BALL.read_text() + "randomize { let k ~ uniform(0, 1)\n ball.point_stiffness ~ ((k - 0.01) * 1e5) N/m }\n"
    path.write_text(text)
    runs = tmp_path / "runs"
    code, _, err = run_cli(capsys, "train", str(path), "--timesteps", "10", "--out", str(runs), "--no-progress",
                           "--seed", "3")
    assert code == 1, err
    assert f"rare.scn:{len(text.splitlines())}:2: error[SCN405]" in err and "episodes drawn ahead" in err
    assert "SCN901" not in err and "Traceback" not in err
    assert not runs.exists() or not any(runs.iterdir())
