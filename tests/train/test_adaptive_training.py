"""ADR and curricula through real workers and real training: scripted policies stepping real
Drake envs (a vector env of processes' worth of envs and a batch of worlds), the learner's keeper
moving the ranges, the workers drawing from them; `scn train` logging the ranges and `--resume`
restoring them from the checkpoint."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scn_fixtures import run_cli
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from scenario_dsl import loads
from scenario_dsl.runtime.batch_env import ScenarioBatchEnv
from scenario_dsl.runtime.env import ScenarioEnv
from scenario_dsl.sampling.adaptive import ScheduleKeeper, adaptive_parameters, predicted_updates
from scenario_dsl.train.adaptive import score

# Success is decided by `reach`, a parameter: 10 m succeeds at the first step whatever happens
# (a scripted policy that always succeeds), 0 m never does (one that always fails).
SLIDE = """\
scenario slide "a block on a rail"
param reach = 10 m
plant {{ time_step = 10 ms; gravity = [0, 0, 0] }}
body block {{ mass = 1 kg; shape = box(0.1, 0.1, 0.1) }}
joint x: prismatic(world -> block, axis = [1, 0, 0]) {{ actuated }}
action push = x.effort in [-1, 1] N
observation obs = [x.q, x.v]
randomize {{
    block.mass *~ adaptive(1, 1, 0.5, 2, 0.5)
    x.q ~ adaptive(0, 0, -0.1, 0.1, 0.05) m
}}
adaptive {{ thresholds = [0.2, 0.8]; buffer = 3; boundary_probability = 1 }}
{curriculum}
reward {{ -(x.q^2) as cost }}
episode {{ step = 50 ms; time_limit = 100 ms; success when |x.q| < reach }}
"""


def slide(reach: float, curriculum: str = "") -> str:
    return SLIDE.format(curriculum=curriculum).replace("param reach = 10 m", f"param reach = {reach} m")


def drive(venv: object, keeper: ScheduleKeeper, steps: int) -> tuple[dict[str, int], list[float]]:
    """A scripted policy (no force) through `venv`; the keeper scores every finished episode and
    the workers get its snapshot when it moves. Returns the decisions that moved a boundary,
    and the masses the workers drew."""
    env: object = venv
    moved: dict[str, int] = {}
    masses: list[float] = []
    actions = np.zeros((env.num_envs, 1))  # type: ignore[attr-defined]
    env.reset()  # type: ignore[attr-defined]
    for _ in range(steps):
        _, _, dones, infos = env.step(actions)  # type: ignore[attr-defined]
        before = {k: list(v) for k, v in keeper.ranges.items()}
        if score(keeper, infos, dones):
            env.env_method("set_schedule", keeper.snapshot())  # type: ignore[attr-defined]
            for key in before:
                for i, side in enumerate(("low", "high")):
                    if keeper.ranges[key][i] != before[key][i]:
                        moved[f"{key}:{side}"] = moved.get(f"{key}:{side}", 0) + 1
        for i, done in enumerate(dones):  # the next episode's draws, in SB3's `reset_infos`
            drawn = env.venv.reset_infos[i].get("randomization", {}) if done else {}  # type: ignore[attr-defined]
            if "block.mass" in drawn:
                masses.append(float(drawn["block.mass"]))
    return moved, masses


@pytest.mark.parametrize("kind", ["processes", "worlds"])
def test_a_policy_that_always_succeeds_widens_every_range_to_its_bound(kind: str) -> None:
    scenario = loads(slide(10))
    keeper = ScheduleKeeper(scenario)
    if kind == "processes":
        venv: object = VecMonitor(DummyVecEnv([lambda i=i: ScenarioEnv(scenario, seed=i) for i in range(2)]))
    else:
        venv = VecMonitor(ScenarioBatchEnv(scenario, 3, seed=0))
    moved, masses = drive(venv, keeper, 400)
    parameters = adaptive_parameters(scenario)
    for p in parameters:
        assert keeper.ranges[p.key] == pytest.approx([p.bounds[0], p.bounds[1]])
        for side, count in predicted_updates(p).items():
            assert moved[f"{p.key}:{side}"] == count  # the rule's number of updates, no more
    assert max(masses) == pytest.approx(2.0) and min(masses) == pytest.approx(0.5)  # the workers drew them


def test_a_policy_that_always_fails_keeps_the_nominal_ranges() -> None:
    scenario = loads(slide(0))
    keeper = ScheduleKeeper(scenario)
    venv = VecMonitor(DummyVecEnv([lambda: ScenarioEnv(scenario, seed=3)]))
    moved, _ = drive(venv, keeper, 300)
    assert moved == {} and keeper.updates >= 20
    assert keeper.ranges == {p.key: [p.start[0], p.start[1]] for p in adaptive_parameters(scenario)}


def test_curriculum_stages_reach_the_workers() -> None:
    curriculum = ("curriculum {\n stage calm until success_rate >= 0.9 over 6 episodes { kick = 0 m/s }\n"
                  " stage windy { kick = 0.5 m/s }\n}\nrandomize { x.v ~ kick }")
    scenario = loads(slide(10, curriculum))
    keeper = ScheduleKeeper(scenario)
    venv = VecMonitor(DummyVecEnv([lambda: ScenarioEnv(scenario, seed=1)]))
    venv.reset()
    speeds = []
    for _ in range(40):
        _, _, dones, infos = venv.step(np.zeros((1, 1)))
        if score(keeper, infos, dones):
            venv.env_method("set_schedule", keeper.snapshot())
        if dones[0]:  # the episode just started (auto-reset): the stage it was drawn in, its speed
            env = venv.envs[0].unwrapped
            plant = env.compiled.plant
            speeds.append((env.schedule.tag()["stage"],
                           plant.GetVelocities(plant.GetMyContextFromRoot(env.simulator.get_context()))[0]))
    assert keeper.stage_changes == [[6, 1]] or keeper.stage_changes == [(6, 1)]
    assert {stage for stage, _ in speeds} == {0, 1}
    assert all(abs(v) < 1e-9 for stage, v in speeds if stage == 0)  # drawn with kick 0


def progress_ranges(run: Path) -> list[dict[str, str]]:
    with open(run / "progress.csv", newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("adaptive/block.mass_high")]


def test_scn_train_logs_the_ranges_and_resume_restores_them(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "slide.scn"
    source.write_text(slide(10))
    out = tmp_path / "runs"
    common = ["--no-progress", "--set", "n_steps=64", "--set", "batch_size=64", "--set", "save_freq=128",
              "--set", "eval_freq=0"]
    code, _, err = run_cli(capsys, "train", str(source), "--algo", "ppo", "--timesteps", "256", "--seed", "0",
                           "--out", str(out), *common)
    assert code == 0, err
    run = next(out.glob("slide/*"))
    rows = progress_ranges(run)
    assert len(rows) >= 3 and float(rows[-1]["adaptive/block.mass_high"]) > 1.0  # widening, logged
    last = sorted((run / "checkpoints").iterdir())[-1]
    saved = json.loads((last / "state.json").read_text())["schedule"]
    assert saved["episodes"] > 0 and saved["ranges"]["block.mass"][1] > 1.0
    code, _, err = run_cli(capsys, "train", "--resume", str(run), "--timesteps", "512", "--no-progress")
    assert code == 0, err
    final = json.loads((sorted((run / "checkpoints").iterdir())[-1] / "state.json").read_text())["schedule"]
    # the resumed run went on from the checkpoint's state: its episode count continues, and the
    # ranges never fall back to the nominal (always succeeding, they only widen)
    assert final["episodes"] > saved["episodes"]
    resumed_rows = progress_ranges(run)[len(rows):]
    assert resumed_rows and all(float(r["adaptive/block.mass_high"]) >= saved["ranges"]["block.mass"][1]
                                for r in resumed_rows)


def test_restored_ranges_reach_the_workers_before_their_first_reset() -> None:
    """`scn train --resume` sends the keeper's restored state before SB3's first reset
    (`ScheduleCallback.broadcast(model.get_env())`): the first episodes are drawn from it."""
    from scenario_dsl.train.adaptive import ScheduleCallback

    scenario = loads(slide(10))
    keeper = ScheduleKeeper(scenario)
    keeper.restore({"ranges": {"block.mass": [0.5, 2.0], "x.q": [-0.1, 0.1]}, "episodes": 40})
    venv = VecMonitor(DummyVecEnv([lambda i=i: ScenarioEnv(scenario, seed=i) for i in range(4)]))
    try:
        ScheduleCallback(keeper, None, print).broadcast(venv)
        venv.reset()
        masses = [float(info["randomization"]["block.mass"]) for info in venv.venv.reset_infos]
        tags = [env.unwrapped.schedule.tag() for env in venv.envs]
    finally:
        venv.close()
    assert all(0.5 <= mass <= 2.0 for mass in masses) and any(mass != 1.0 for mass in masses)
    for tag in tags:  # each pinned boundary at its restored value, not the nominal
        key, _, side = tag["boundary"].rpartition(":")
        assert tag["value"] == keeper.ranges[key][side == "high"]
