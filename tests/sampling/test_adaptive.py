"""Automatic domain randomization and curricula: the language (lint), the sampler's draws, the
ADR rule (widen, narrow, the number of updates it takes), the curriculum's stage changes, and the
learner's state surviving a checkpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from scenario_dsl import loads
from scenario_dsl.lang.loader import analyze_text
from scenario_dsl.sampling.adaptive import Schedule, ScheduleKeeper, adaptive_parameters, predicted_updates
from scenario_dsl.sampling.sampler import Sampler

SLIDE = """\
scenario slide "a block on a rail"
plant { time_step = 10 ms; gravity = [0, 0, 0] }
body block { mass = 1 kg; shape = box(0.1, 0.1, 0.1) }
joint x: prismatic(world -> block, axis = [1, 0, 0]) { actuated }
action push = x.effort in [-1, 1] N
observation obs = [x.q, x.v]
{extra}
reward {{ -(x.q^2) as cost }}
episode {{ step = 50 ms; time_limit = 1 s; success when |x.q| < 5 cm }}
"""

ADR = """\
randomize {
    block.mass *~ adaptive(1, 1, 0.5, 2, 0.25)
    let offset ~ adaptive(0, 0.1, -0.2, 0.3, 0.05) m
    x.q ~ offset
}
adaptive { thresholds = [0.2, 0.8]; buffer = 4; boundary_probability = 0.5 }
"""

CURRICULUM = """\
curriculum {
    stage near until success_rate >= 0.8 over 10 episodes { reach = 2 cm }
    stage middle until mean_return > -1 and success_rate >= 0.5 over 5 { reach = 10 cm }
    stage far { reach = 30 cm }
}
randomize {
    let u ~ uniform(-1, 1)
    x.q ~ u * reach
}
"""
# the curriculum beside ADR's draw of x.q: its reach sets the speed instead
BOTH = ADR + CURRICULUM.replace("x.q ~ u * reach", "x.v ~ u * reach / 1 s")


def scenario_text(extra: str) -> str:
    return SLIDE.replace("{extra}", extra).replace("{{", "{").replace("}}", "}")


def codes(text: str) -> list[str]:
    return [d.code for d in analyze_text(text, "t.scn").diagnostics if d.level.value == "error"]


# ---- the language -----------------------------------------------------------------------------

def test_adr_and_curriculum_lint_clean_and_load() -> None:
    scenario = loads(scenario_text(BOTH))
    assert scenario.adaptation is not None and scenario.adaptation.buffer == 4
    assert scenario.adaptation.thresholds == (0.2, 0.8)
    assert [p.key for p in adaptive_parameters(scenario)] == ["offset", "block.mass"]
    assert scenario.curriculum is not None
    assert [s.name for s in scenario.curriculum.stages] == ["near", "middle", "far"]
    assert scenario.curriculum.stages[0].values == {"reach": pytest.approx(0.02)}
    middle = scenario.curriculum.stages[1]
    assert middle.window == 5 and [(c.metric, c.op, c.value) for c in middle.until] == [
        ("mean_return", ">", -1.0), ("success_rate", ">=", 0.5)]


@pytest.mark.parametrize(("extra", "code"), [
    # ADR ranges are drawn per episode: a boundary is pinned for an episode and the episode scored
    ("randomize per step { push.noise ~ adaptive(0, 0, 0, 1, 0.1) }", "SCN204"),
    # min <= low <= high <= max, and a positive step
    ("randomize { block.mass *~ adaptive(1, 1, 1.5, 2, 0.1) }", "SCN405"),
    ("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0) }", "SCN405"),
    ("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.1) }\nadaptive { thresholds = [0.9, 0.1] }", "SCN402"),
    ("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.1) }\nadaptive { thresholds = [0.2, 3] }", "SCN401"),
    ("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.1) }\nadaptive { measure = return }", "SCN406"),
    ("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.1) }\nadaptive { meassure = return }", "SCN203"),
    ("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.1) }\nadaptive { buffer = 0 }", "SCN401"),
    # stages: every one sets the first one's variables, ends with `until` but the last
    ("curriculum { stage a until success_rate > 0.5 { r = 1 m }\n stage b { } }\n"
     "randomize { x.q ~ r }", "SCN406"),
    ("curriculum { stage a { r = 1 m }\n stage b { r = 2 m } }\nrandomize { x.q ~ r }", "SCN406"),
    ("curriculum { stage a until success_rate > 0.5 { r = 1 m }\n stage b until success_rate > 0.5 { r = 2 m } }\n"
     "randomize { x.q ~ r }", "SCN407"),
    ("curriculum { stage a until sucess_rate > 0.5 { r = 1 m }\n stage b { r = 2 m } }\nrandomize { x.q ~ r }",
     "SCN201"),
    ("curriculum { stage a until success_rate > 0.5 { r = 1 m }\n stage b { r = 2 kg } }\nrandomize { x.q ~ r }",
     "SCN302"),
    ("curriculum { stage a until success_rate > 0.5 over 2.5 episodes { r = 1 m }\n stage b { r = 2 m } }\n"
     "randomize { x.q ~ r }", "SCN401"),
    ("curriculum { stage a until success_rate > 0.5 { r = 1 m }\n stage a { r = 2 m } }\nrandomize { x.q ~ r }",
     "SCN202"),
    # a percentage where a rate is meant: the stage could never end
    ("curriculum { stage a until success_rate >= 80 { r = 1 m }\n stage b { r = 2 m } }\nrandomize { x.q ~ r }",
     "SCN401"),
    # one range per target: two adaptive draws of one target would share it
    ("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.1)\n block.mass *~ adaptive(1, 1, 0.2, 3, 0.1) }",
     "SCN407"),
])
def test_mistakes_are_located_diagnostics(extra: str, code: str) -> None:
    assert code in codes(scenario_text(extra))


def test_adr_without_a_success_condition_needs_a_return_measure() -> None:
    text = scenario_text("randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.1) }").replace(
        "; success when |x.q| < 5 cm", "")
    assert "SCN406" in codes(text)
    assert codes(text + "adaptive { measure = return; thresholds = [-2, -1] }\n") == []


def test_formatting_round_trips() -> None:
    from scenario_dsl.lang.formatter import format_source
    from scenario_dsl.lang.source import SourceFile

    def format_text(text: str) -> str:
        formatted, diagnostics = format_source(SourceFile("t.scn", text))
        assert formatted is not None, diagnostics
        return formatted

    text = scenario_text(BOTH)
    once = format_text(text)
    assert format_text(once) == once
    assert "stage middle until mean_return > -1 and success_rate >= 0.5 over 5 { reach = 10 cm }" in once


# ---- the sampler ------------------------------------------------------------------------------

def test_sampler_draws_in_the_schedules_ranges_and_pins_a_boundary() -> None:
    scenario = loads(scenario_text(ADR))
    schedule = Schedule.of(scenario)
    assert schedule is not None and schedule.ranges == {"offset": (0.0, 0.1), "block.mass": (1.0, 1.0)}
    sampler = Sampler(scenario, nominal={"block.mass": 0.7, "x.q": 0.0}, schedule=schedule)
    rng = np.random.default_rng(0)
    values = sampler.sample(2000, rng).values
    assert values["offset"].min() >= 0.0 and values["offset"].max() <= 0.1
    np.testing.assert_allclose(values["block.mass"], 0.7)  # *~ a range of [1, 1]: the nominal
    np.testing.assert_array_equal(values["x.q"], values["offset"])
    schedule.update({"ranges": {"block.mass": [0.5, 2.0]}})
    masses = sampler.sample(4000, rng).values["block.mass"] / 0.7
    assert 0.5 <= masses.min() < 0.55 and 1.95 < masses.max() <= 2.0
    schedule.pin = ("offset", "high")
    np.testing.assert_allclose(sampler.sample(10, rng).values["offset"], 0.1)
    pins = []
    for _ in range(20000):
        schedule.choose_pin(rng)
        pins.append(schedule.pin)
    pinned = [p for p in pins if p is not None]
    assert abs(len(pinned) / len(pins) - 0.5) < 0.015  # boundary_probability
    for choice in [("offset", "low"), ("offset", "high"), ("block.mass", "low"), ("block.mass", "high")]:
        assert abs(pinned.count(choice) / len(pinned) - 0.25) < 0.015  # 3.5 standard deviations


def test_curriculum_values_are_read_by_draws_in_the_current_stage() -> None:
    scenario = loads(scenario_text(CURRICULUM))
    schedule = Schedule.of(scenario)
    assert schedule is not None
    sampler = Sampler(scenario, schedule=schedule)
    rng = np.random.default_rng(1)
    assert np.abs(sampler.sample(500, rng).values["x.q"]).max() <= 0.02
    schedule.update({"stage": 2})
    far = sampler.sample(500, rng).values["x.q"]
    assert np.abs(far).max() <= 0.3 and np.abs(far).max() > 0.25


# ---- the ADR rule ------------------------------------------------------------------------------

def run_adr(keeper: ScheduleKeeper, schedule: Schedule, succeeds: Callable[[dict[str, tuple[float, float]]], bool],
            episodes: int, seed: int = 0) -> list[dict[str, list[float]]]:
    """Workers' episodes (pins chosen by the worker's `Schedule`), scored by the keeper; the
    ranges after each episode."""
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(episodes):
        schedule.choose_pin(rng)
        if keeper.record(schedule.tag(), succeeds(schedule.ranges), 0.0, 20):
            schedule.update(keeper.snapshot())
        history.append({k: list(v) for k, v in keeper.ranges.items()})
    return history


def test_always_succeeding_widens_every_range_to_its_bound_in_the_predicted_updates() -> None:
    scenario = loads(scenario_text(ADR))
    keeper, schedule = ScheduleKeeper(scenario), Schedule.of(scenario)
    assert schedule is not None
    parameters = {p.key: p for p in adaptive_parameters(scenario)}
    assert predicted_updates(parameters["block.mass"]) == {"low": 2, "high": 4}  # (1 - 0.5) / 0.25, (2 - 1) / 0.25
    assert predicted_updates(parameters["offset"]) == {"low": 4, "high": 4}
    decisions: dict[str, int] = {}
    rng = np.random.default_rng(3)
    for _ in range(5000):
        schedule.choose_pin(rng)
        tag = schedule.tag()
        before = {k: list(v) for k, v in keeper.ranges.items()}
        if keeper.record(tag, True, 0.0, 20):
            schedule.update(keeper.snapshot())
            key, _, side = tag["boundary"].rpartition(":")
            assert keeper.ranges[key] != before[key]
            decisions[tag["boundary"]] = decisions.get(tag["boundary"], 0) + 1
        if all(keeper.ranges[k] == [p.bounds[0], p.bounds[1]] for k, p in parameters.items()):
            break
    for key, p in parameters.items():
        assert keeper.ranges[key] == pytest.approx([p.bounds[0], p.bounds[1]])
        for side, count in predicted_updates(p).items():
            assert decisions[f"{key}:{side}"] == count
    # past the bounds nothing moves
    history = run_adr(keeper, schedule, lambda ranges: True, 400)
    assert history[-1] == {k: [p.bounds[0], p.bounds[1]] for k, p in parameters.items()}


def test_always_failing_keeps_the_nominal_and_shrinks_back_to_it() -> None:
    scenario = loads(scenario_text(ADR))
    keeper, schedule = ScheduleKeeper(scenario), Schedule.of(scenario)
    assert schedule is not None
    history = run_adr(keeper, schedule, lambda ranges: False, 500)
    assert all(h == {"block.mass": [1.0, 1.0], "offset": [0.0, 0.1]} for h in history)
    assert keeper.updates > 20  # decisions were taken, and each kept the range where it was
    run_adr(keeper, schedule, lambda ranges: True, 300, seed=4)  # widen some...
    assert keeper.ranges != {"block.mass": [1.0, 1.0], "offset": [0.0, 0.1]}
    history = run_adr(keeper, schedule, lambda ranges: False, 2000, seed=5)  # ...then fail: back to the nominal
    assert history[-1] == {"block.mass": [1.0, 1.0], "offset": pytest.approx([0.0, 0.1])}


def test_success_only_inside_a_band_settles_the_range_at_its_edge() -> None:
    """A policy that succeeds while the mass is at most 1.5 times nominal: the high end stops there."""
    scenario = loads(scenario_text(ADR))
    keeper, schedule = ScheduleKeeper(scenario), Schedule.of(scenario)
    assert schedule is not None

    def succeeds(ranges: dict[str, tuple[float, float]]) -> bool:
        pin = schedule.pin
        return not (pin == ("block.mass", "high") and ranges["block.mass"][1] > 1.5)

    history = run_adr(keeper, schedule, succeeds, 4000)
    assert max(h["block.mass"][1] for h in history[-500:]) <= 1.75
    assert history[-1]["block.mass"][1] in (1.5, 1.75)
    assert history[-1]["block.mass"][0] == 0.5


def test_the_keepers_state_restores_exactly(tmp_path: Path) -> None:
    scenario = loads(scenario_text(BOTH))
    keeper, schedule = ScheduleKeeper(scenario), Schedule.of(scenario)
    assert schedule is not None
    run_adr(keeper, schedule, lambda ranges: bool(np.random.default_rng(len(keeper.window)).random() < 0.7), 333)
    saved = tmp_path / "state.json"
    saved.write_text(json.dumps(keeper.state()))
    restored = ScheduleKeeper(scenario)
    restored.restore(json.loads(saved.read_text()))
    assert restored.state() == json.loads(json.dumps(keeper.state()))
    assert restored.snapshot() == keeper.snapshot()
    # and both go on alike
    a, b = Schedule.of(scenario), Schedule.of(scenario)
    assert a is not None and b is not None
    a.update(keeper.snapshot())
    b.update(restored.snapshot())
    assert run_adr(keeper, a, lambda r: True, 200, seed=9) == run_adr(restored, b, lambda r: True, 200, seed=9)


# ---- the curriculum ----------------------------------------------------------------------------

def test_stages_change_when_their_criteria_hold_over_the_window() -> None:
    scenario = loads(scenario_text(CURRICULUM))
    keeper = ScheduleKeeper(scenario)
    near = {"boundary": None, "stage": 0}
    for i in range(9):
        assert not keeper.record(near, True, -0.5, 20), i  # 9 episodes: the window is 10
    assert keeper.record(near, True, -0.5, 20) and keeper.stage == 1
    assert not keeper.record(near, True, -0.5, 20)  # an episode drawn in the old stage does not count
    middle = {"boundary": None, "stage": 1}
    for _ in range(5):
        keeper.record(middle, True, -3.0, 20)  # successes, but the return criterion fails
    assert keeper.stage == 1
    for _ in range(4):
        keeper.record(middle, True, -0.5, 20)
    assert keeper.stage == 1  # the last 5: one return of -3 still in the window
    keeper.record(middle, True, -0.5, 20)
    assert keeper.stage == 2 and keeper.stage_changes == [(10, 1), (21, 2)]
    for _ in range(50):
        keeper.record({"boundary": None, "stage": 2}, True, 0.0, 20)
    assert keeper.stage == 2  # the last stage lasts


def test_stage_changes_are_deterministic_for_a_seed() -> None:
    scenario = loads(scenario_text(CURRICULUM))

    def changes(seed: int) -> list[tuple[int, int]]:
        keeper, rng = ScheduleKeeper(scenario), np.random.default_rng(seed)
        for _ in range(300):
            keeper.record({"boundary": None, "stage": keeper.stage}, bool(rng.random() < 0.7),
                          float(-rng.exponential(0.5)), 20)
        return keeper.stage_changes

    assert changes(0) == changes(0)
    assert changes(0) and changes(0) != changes(1)


def test_a_range_that_cannot_move_is_a_warning() -> None:
    analysis = analyze_text(scenario_text("randomize { block.mass *~ adaptive(1, 1, 1, 1, 0.1) }"), "t.scn")
    assert [(d.code, d.level.value) for d in analysis.diagnostics] == [("SCN408", "warning")]
    assert "cannot move" in analysis.diagnostics[0].message


def test_scn_sample_draws_a_later_stage_and_the_widest_ranges(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import csv
    import io

    from scn_fixtures import run_cli

    (tmp_path / "scn.toml").touch()
    path = tmp_path / "slide.scn"
    path.write_text(scenario_text(BOTH))

    def drawn(*options: str) -> dict[str, np.ndarray]:
        code, out, err = run_cli(capsys, "sample", str(path), "-n", "400", "--format", "csv", *options)
        assert code == 0, err
        rows = list(csv.DictReader(io.StringIO(out)))
        return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}

    first, middle, widest = drawn(), drawn("--stage", "middle"), drawn("--widest")
    assert np.allclose(first["reach"], 0.02) and np.allclose(middle["reach"], 0.1)
    assert np.abs(middle["x.v"]).max() > 0.05  # the middle stage's reach, in the draw that reads it
    assert np.ptp(first["block.mass"]) == 0 and widest["block.mass"].min() < 0.6 and widest["block.mass"].max() > 1.9
    code, _, err = run_cli(capsys, "sample", str(path), "--stage", "farther")
    assert code == 2 and "stages: near, middle, far" in err


def test_steps_that_do_not_add_up_exactly_still_reach_the_bound_in_the_predicted_updates() -> None:
    """0.5 + 0.1 + 0.1 + 0.1 is 0.7999999999999999 in floating point: the end snaps to 0.8, not
    a fourth decision; likewise back to the nominal."""
    scenario = loads(scenario_text("""\
randomize {
    block.mass *~ adaptive(0.5, 0.5, 0, 0.8, 0.1)
    let offset ~ adaptive(0, 0, 0, 1, 0.1) m
    x.q ~ offset
}
adaptive { thresholds = [0.2, 0.8]; buffer = 1; boundary_probability = 1 }
"""))
    keeper = ScheduleKeeper(scenario)
    parameters = {p.key: p for p in adaptive_parameters(scenario)}
    assert predicted_updates(parameters["block.mass"]) == {"low": 5, "high": 3}
    assert predicted_updates(parameters["offset"]) == {"low": 0, "high": 10}
    for key, p in parameters.items():
        for side, bound in (("low", p.bounds[0]), ("high", p.bounds[1])):
            moves = 0
            while keeper.record({"boundary": f"{key}:{side}", "stage": 0}, True, 0.0, 20):
                moves += 1
            assert moves == predicted_updates(p)[side] and keeper.ranges[key][side == "high"] == bound
            while keeper.record({"boundary": f"{key}:{side}", "stage": 0}, False, 0.0, 20):
                moves -= 1
            assert moves == 0 and keeper.ranges[key][side == "high"] == p.start[side == "high"]


def test_an_episode_keeps_the_boundary_and_stage_it_was_drawn_under() -> None:
    """Vector envs start the next episode before the learner has scored the last step, so a new
    snapshot can arrive mid-episode: the episode's tag is the one of its reset, and the learner
    does not score an episode pinned where a boundary was before it moved."""
    scenario = loads(scenario_text(BOTH))
    keeper, schedule = ScheduleKeeper(scenario), Schedule.of(scenario)
    assert schedule is not None
    rng = np.random.default_rng(0)
    while True:
        schedule.choose_pin(rng)
        if schedule.pin == ("block.mass", "high"):
            break
    drawn_under = schedule.tag()
    assert drawn_under == {"boundary": "block.mass:high", "stage": 0, "value": 1.0}
    keeper.ranges["block.mass"] = [1.0, 1.25]  # the boundary moved while the episode ran
    keeper.stage = 1
    schedule.update(keeper.snapshot())
    assert schedule.tag() == drawn_under  # still the reset's
    buffered = list(keeper.buffers["block.mass:high"])
    keeper.record(schedule.tag(), True, 0.0, 20)
    assert keeper.buffers["block.mass:high"] == buffered and keeper.window == []  # neither scored
    schedule.choose_pin(rng)  # the next episode is drawn under the new state
    assert schedule.tag()["stage"] == 1
