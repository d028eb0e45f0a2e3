"""The limits on the work a scenario may ask of the simulator (`scenario_dsl.lang.limits`, SCN412).

`scn lint` reports plant steps past the limits per env step and per episode, and an action delay
that would keep too many commands in flight, with the numbers, at the setting that causes them.
The compiler (plant steps) and the environment (a drawn delay) check again for a scenario that
did not come through lint: a JSON file written by `scn compile`. Each case goes through the real
command line and ends in a located, coded diagnostic with exit 1; the two resource cases of the
report (a 1e-12 s plant step in `scn check`, a huge delay queue) also run as subprocesses under
a memory limit and a timeout.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scn_fixtures import HOSTILE_BASE, run_cli

import scenario_dsl
from scenario_dsl.compiler.artifacts import compiled_document
from scenario_dsl.lang.limits import (
    MAX_DELAY_STEPS,
    MAX_PLANT_STEPS_PER_ENV_STEP,
    MAX_PLANT_STEPS_PER_EPISODE,
    delay_problem,
    plant_steps_problem,
)
from scenario_dsl.lang.loader import analyze_text

BASE = HOSTILE_BASE
SCN = Path(sys.executable).with_name("scn")
MEMORY = 4 * 2**30  # bytes of address space a subprocess may use


def scenario(*, plant: str = "plant { time_step = 10 ms }",
             episode: str = "episode { step = 50 ms; time_limit = 10 s }", extra: str = "") -> str:
    return BASE.replace("plant { time_step = 10 ms }", plant).replace(
        "episode { step = 50 ms; time_limit = 10 s }", episode) + extra


def write(folder: Path, text: str, name: str = "limits.scn") -> Path:
    (folder / "scn.toml").touch()
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(text: str) -> list[str]:
    return [d.code for d in analyze_text(text, "limits.scn").diagnostics]


def limited() -> None:
    """In the child, before `exec`: at most `MEMORY` of address space."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


# ---- the limits themselves -------------------------------------------------------------------

def test_the_limits_are_generous_for_real_use() -> None:
    assert MAX_PLANT_STEPS_PER_ENV_STEP == 100_000 and MAX_PLANT_STEPS_PER_EPISODE == 10_000_000
    assert MAX_DELAY_STEPS == 100_000
    assert plant_steps_problem(1e-5, 1.0, 100.0) is None  # exactly at both limits
    assert plant_steps_problem(1e-3, 0.1, 3600.0) is None  # an hour of 1 ms steps
    assert plant_steps_problem(1e-12, 0.05, None)[0] == "step"  # type: ignore[index]
    assert plant_steps_problem(1e-3, 0.05, 1e5)[0] == "time_limit"  # type: ignore[index]


def test_a_delay_is_bounded_by_the_shorter_of_itself_and_the_episode() -> None:
    assert delay_problem(0.1, 0.05, None) is None
    assert delay_problem(1e9, 0.05, 10.0) is None  # past the time limit: one episode of commands
    assert delay_problem(5000.0, 0.05, None) is None  # exactly 100,000 env steps
    assert "100,000" in (delay_problem(5000.1, 0.05, None) or "")
    assert "no upper bound" in (delay_problem(float("inf"), 0.05, None) or "")
    assert delay_problem(float("inf"), 0.05, 10.0) is None


# ---- lint --------------------------------------------------------------------------------------

def test_plant_steps_per_env_step_at_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, scenario(plant="plant { time_step = 1e-12 s }"))
    code, out, _ = run_cli(capsys, "lint", str(path))
    assert code == 1
    assert f"{path.name}:2:21: error[SCN412]" in out  # at the plant's time_step
    assert "50,000,000,000 plant steps" in out and "100,000" in out
    assert "SCN403" not in out and "SCN901" not in out


def test_plant_steps_per_env_step_without_a_plant_block_points_at_the_step() -> None:
    text = scenario(plant="", episode="episode { step = 200 s }")  # 200,000 steps of the default 1 ms
    analysis = analyze_text(text, "limits.scn")
    found = [d for d in analysis.diagnostics if d.code == "SCN412"]
    assert len(found) == 1 and found[0].span is not None and found[0].span.text == "200 s"
    assert "200,000 plant steps" in found[0].message


def test_plant_steps_per_episode_at_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, scenario(episode="episode { step = 50 ms; time_limit = 1e6 s }"))
    code, out, _ = run_cli(capsys, "lint", "--format", "json", str(path))
    assert code == 1
    [found] = [d for d in json.loads(out) if d["code"] == "SCN412"]
    assert (found["line"], found["column"]) == (8, 38)  # the time_limit's value
    assert "100,000,000 plant steps" in found["message"] and "10,000,000" in found["message"]


def test_the_limits_let_real_scenarios_through() -> None:
    for path in sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.scn")):
        assert "SCN412" not in [d.code for d in scenario_dsl.lang.loader.analyze_file(path).diagnostics], path


@pytest.mark.parametrize(("block", "episode"), [
    ("randomize { torque.delay ~ uniform(0, 1e9) s }", "episode { step = 50 ms; time_limit = 5e4 s }"),
    ("randomize { torque.delay ~ uniform(0, 1e4) s }", "episode { step = 50 ms }"),
    ("randomize { torque.delay ~ lognormal(-3, 0.5) s }", "episode { step = 50 ms }"),
    ("randomize { torque.delay ~ choice([0.1, 1e4]) s }", "episode { step = 50 ms }"),
    ("randomize { torque.delay ~ 1e4 s }", "episode { step = 50 ms }"),
])
def test_a_delay_queue_past_the_limit_at_lint(block: str, episode: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, scenario(episode=episode, extra=block + "\n"))
    code, out, _ = run_cli(capsys, "lint", str(path))
    assert code == 1
    assert f"{path.name}:9:28: error[SCN412]: `torque.delay`" in out  # at the delay's value
    assert "100,000" in out


@pytest.mark.parametrize("block", ["randomize { torque.delay ~ uniform(0, 100) ms }",
                                   "randomize { torque.delay ~ lognormal(-3, 0.5) s }",  # the time limit bounds it
                                   "randomize { torque.delay ~ 1e9 s }"])
def test_a_delay_within_the_limit_lints_clean(block: str) -> None:
    assert "SCN412" not in codes(scenario(extra=block + "\n"))


# ---- past lint: the compiler and the environment -----------------------------------------------

def compiled_json(folder: Path, text: str, **episode: float) -> Path:
    """A JSON file as `scn compile` writes it, for the scenario of `text` with `episode` changed
    (what a file that never went through lint may hold)."""
    spec = scenario_dsl.load(write(folder, text))
    if episode:
        spec = spec.model_copy(update={"episode": spec.episode.model_copy(update=episode)})
    path = folder / "compiled.json"
    path.write_text(json.dumps(compiled_document(spec)), encoding="utf-8")
    return path


def test_plant_steps_past_the_limit_in_a_compiled_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = compiled_json(tmp_path, scenario(), time_limit=1e6)
    code, _, err = run_cli(capsys, "check", str(path), "--steps", "5")
    assert code == 1
    assert "limits.scn:8:1: error[SCN412]: a time_limit of 1e+06 s is 100,000,000 plant steps" in err


def test_a_drawn_delay_past_the_limit_at_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lint knows an expression's delay only as an expression: the environment checks what it draws."""
    text = scenario(episode="episode { step = 50 ms }",
                    extra="randomize {\n    let k ~ uniform(1, 2)\n    torque.delay ~ k * 1e4 s\n}\n")
    assert "SCN412" not in codes(text)
    code, _, err = run_cli(capsys, "check", str(write(tmp_path, text)), "--steps", "5")
    assert code == 1
    assert "limits.scn:11:5: error[SCN412]: `torque.delay` was drawn as" in err
    assert "commands in flight; scn allows at most 100,000" in err
    assert "SCN901" not in err


def test_a_drawn_delay_that_is_not_finite_at_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = scenario(extra="randomize {\n    let k ~ uniform(1, 2)\n    torque.delay ~ 1 / (k - k) * 1 s\n}\n")
    code, _, err = run_cli(capsys, "check", str(write(tmp_path, text)), "--steps", "5")
    assert code == 1
    assert "limits.scn:11:5: error[SCN405]: `torque.delay` was drawn as inf s" in err


# ---- the two resource cases, as subprocesses under a memory limit --------------------------------

def run_limited(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCN), *argv], capture_output=True, text=True, cwd=cwd, timeout=300,
                          preexec_fn=limited)


@pytest.mark.skipif(not SCN.exists(), reason="the scn script is not installed beside this interpreter")
def test_a_picosecond_plant_step_stops_scn_check(tmp_path: Path) -> None:
    """The report: `time_step = 1e-12 s` passed lint and `scn check` hung."""
    write(tmp_path, scenario(plant="plant { time_step = 1e-12 s }"))
    proc = run_limited("check", "limits.scn", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "limits.scn:2:21: error[SCN412]" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.skipif(not SCN.exists(), reason="the scn script is not installed beside this interpreter")
def test_a_picosecond_plant_step_in_a_compiled_file_stops_scn_check(tmp_path: Path) -> None:
    spec = scenario_dsl.load(write(tmp_path, scenario()))
    spec = spec.model_copy(update={"plant": spec.plant.model_copy(update={"time_step": 1e-12})})
    (tmp_path / "compiled.json").write_text(json.dumps(compiled_document(spec)), encoding="utf-8")
    proc = run_limited("check", "compiled.json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "limits.scn:2:1: error[SCN412]: an env step of 0.05 s is 50,000,000,000 plant steps" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.skipif(not SCN.exists(), reason="the scn script is not installed beside this interpreter")
def test_a_huge_delay_queue_stops_scn_check(tmp_path: Path) -> None:
    """The report: a 5e10 s time limit with a drawn delay filled a queue to about 7 GB."""
    write(tmp_path, scenario(episode="episode { step = 50 ms; time_limit = 5e10 s }",
                             extra="randomize { torque.delay ~ uniform(0, 1e9) s }\n"))
    proc = run_limited("check", "limits.scn", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "limits.scn:8:38: error[SCN412]" in proc.stderr  # the time limit
    assert "limits.scn:9:28: error[SCN412]: `torque.delay`" in proc.stderr  # the delay
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.skipif(not SCN.exists(), reason="the scn script is not installed beside this interpreter")
def test_a_huge_delay_queue_in_a_compiled_file_stops_scn_check(tmp_path: Path) -> None:
    """Past lint (a compiled file), the environment refuses the queue at the first reset."""
    path = compiled_json(tmp_path, scenario(episode="episode { step = 10 ms; time_limit = 1e5 s }",
                                            extra="randomize { torque.delay ~ uniform(0, 100) ms }\n"))
    data = json.loads(path.read_text(encoding="utf-8"))
    spec = scenario_dsl.lang.model.Scenario.model_validate(data["scenario"])
    block = spec.randomizations[0]
    draw = block.draws[0].model_copy(update={"value": block.draws[0].value.model_copy(  # type: ignore[union-attr]
        update={"params": {"low": 1e4, "high": 2e4}})})
    spec = spec.model_copy(update={"randomizations": [block.model_copy(update={"draws": [draw]})]})
    path.write_text(json.dumps(compiled_document(spec)), encoding="utf-8")
    proc = run_limited("check", "compiled.json", "--steps", "5", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "limits.scn:9:13: error[SCN412]: `torque.delay` was drawn as" in proc.stderr  # the draw
    assert "env steps of 0.01 s of commands in flight; scn allows at most 100,000" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


# ---- the step budget (SCN508): a step that makes no progress or runs too long --------------------

def test_the_step_budget_stops_a_step_that_runs_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    from scenario_dsl.compiler import CompileError
    from scenario_dsl.runtime.env import StepBudget, make_env

    env = make_env(scenario_dsl.loads(scenario(plant="plant { time_step = 0.01 ms }"), "limits.scn"))
    budget = env._budget  # 5,000 plant steps per env step: watched
    assert budget is not None and budget.steps == 50_000 and budget.seconds == StepBudget.SECONDS == 60.0
    env.reset(seed=0)
    env.step(env.action_space.sample())
    budget.seconds = 1e-6
    with pytest.raises(CompileError) as raised:
        env.step(env.action_space.sample())
    assert raised.value.code == "SCN508" and raised.value.where is not None and raised.value.where.line == 2
    assert "more than 1e-06 s of CPU time" in raised.value.message
    _, reward, _, truncated, info = env.step(env.action_space.sample())  # the episode is over
    assert truncated and reward == 0.0 and "budget" in info["truncation_reason"]
    budget.seconds, budget.steps = 60.0, 100
    env.reset(seed=0)
    with pytest.raises(CompileError, match="more than 100 simulator steps"):
        env.step(env.action_space.sample())


def test_the_step_budget_counts_cpu_time_not_a_pause() -> None:
    """A process that is suspended (a laptop's sleep, `kill -STOP`) or waits for a core spends
    no CPU time: its step is not over budget (measured in wall-clock time, a pause of a minute
    ended a training run with SCN508); a step that computes past the budget is."""
    from pydrake.systems.framework import EventStatus

    from scenario_dsl.runtime.env import make_env

    env = make_env(scenario_dsl.loads(scenario(plant="plant { time_step = 0.01 ms }"), "limits.scn"))
    budget = env._budget
    assert budget is not None
    env.reset(seed=0)
    budget.seconds = 0.05
    budget.start()
    time.sleep(0.2)  # four times the budget, waiting
    assert budget(env.simulator.get_context()).severity() == EventStatus.Severity.kSucceeded
    assert budget.exceeded is None
    spin_until = time.thread_time() + 0.1
    while time.thread_time() < spin_until:  # twice the budget, computing
        pass
    assert budget(env.simulator.get_context()).severity() == EventStatus.Severity.kFailed
    assert budget.exceeded == "more than 0.05 s of CPU time"


def test_the_step_budget_watches_only_where_it_is_needed() -> None:
    """Each call of the monitor costs about 3 us: a plant of a few steps per env step without
    continuous state goes unwatched (it takes at most 1,000 plant steps per env step)."""
    from scenario_dsl.runtime.env import make_env

    assert make_env(scenario_dsl.loads(scenario(), "limits.scn"))._budget is None  # 5 plant steps
    controlled = scenario(extra="controller hold: pd(hinge) { kp = 10; kd = 1 }\n").replace(
        "action torque = hinge.effort in [-2, 2] N*m", "action torque = hold.desired_position in [-1, 1] rad")
    assert make_env(scenario_dsl.loads(controlled, "limits.scn"))._budget is not None  # an integrator


def test_the_step_budget_in_scn_check(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from scenario_dsl.runtime.env import StepBudget

    monkeypatch.setattr(StepBudget, "SECONDS", 1e-6)
    path = write(tmp_path, scenario(plant="plant { time_step = 0.01 ms }"))
    code, _, err = run_cli(capsys, "check", str(path), "--steps", "5")
    assert code == 1
    assert "limits.scn:2:1: error[SCN508]: the simulation of one env step (0.05 s" in err


# ---- hydroelastic meshes -------------------------------------------------------------------

@pytest.mark.parametrize(("body", "ratio"), [
    ("body ball { shape = sphere(10 cm); mass = 1 kg; resolution_hint = 0.1 mm }", "1,000"),
    ("body pill { shape = capsule(1 cm, 2 m); mass = 1 kg; resolution_hint = 1 cm }", "100"),
    ("body egg { shape = ellipsoid(10, 10, 30) cm; mass = 1 kg; resolution_hint = 4 mm }", "75"),
])
def test_a_mesh_finer_than_the_limit_at_lint(body: str, ratio: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A tiny resolution hint made Drake's mesh take seconds and gigabytes (a 10 cm sphere at 1 mm:
    24 s and 1.5 GB); lint refuses it with the numbers, at the hint, before anything is built."""
    path = write(tmp_path, scenario(extra=body + "\n"))
    code, out, _ = run_cli(capsys, "lint", str(path))
    assert code == 1 and "error[SCN412]" in out and f"{ratio} times finer" in out and "at most 50" in out
    assert "resolution_hint =" in out.split("error[SCN412]")[1]


@pytest.mark.parametrize("body", [
    "body ball { shape = sphere(10 cm); mass = 1 kg; resolution_hint = 2 mm }",  # 50: allowed
    "body ball { shape = sphere(80 cm); mass = 1 kg; hydroelastic = none }",  # no mesh at all
    "body ball { shape = sphere(80 cm); mass = 1 kg }",  # no hint: a coarser one than 1 cm (below)
    "body slab { shape = box(5, 5, 0.1); mass = 1 kg; resolution_hint = 1 mm }",  # boxes are not refined
    "body can { shape = cylinder(10 cm, 20 cm); mass = 1 kg; resolution_hint = 1 mm }",
])
def test_meshes_within_the_limit_lint_clean(body: str) -> None:
    assert "SCN412" not in codes(scenario(extra=body + "\n"))


def test_a_large_round_body_without_a_hint_is_meshed_within_the_limit() -> None:
    """A 1 m sphere at the default 1 cm would be 100 times finer than its radius: without a hint of
    its own it is meshed at radius / 50 instead; smaller shapes keep 1 cm."""
    from scenario_dsl.compiler.plant import proximity
    from scenario_dsl.lang import model as m

    big = proximity(m.Contact(), m.Shape(kind="sphere", size=[1.0]))
    small = proximity(m.Contact(), m.Shape(kind="sphere", size=[0.1]))
    assert big.GetProperty("hydroelastic", "resolution_hint") == pytest.approx(0.02)
    assert small.GetProperty("hydroelastic", "resolution_hint") == pytest.approx(0.01)
    compiled = scenario_dsl.compile_scenario(scenario_dsl.loads(scenario(
        extra="body ball { shape = sphere(1); mass = 1 kg }\n")))
    assert compiled.plant.num_bodies() > 1
