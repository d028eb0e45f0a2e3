"""`scn eval --scenario`: a policy in another scenario with the same spaces (held-out physics),
SCN604 when the spaces differ, the success rate's 95% interval; and `scn train --worlds`.

Real short PPO runs on the bundled pendulum, trained in this process."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scn_fixtures import SCENARIOS

from scenario_dsl.cli import main
from scenario_dsl.train import rundir
from scenario_dsl.train.evaluation import wilson_interval

PENDULUM = SCENARIOS / "pendulum.scn"
QUIET = ["--threads", "1", "--no-progress"]


@pytest.fixture(scope="module")
def worlds_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """512 PPO timesteps on 4 worlds of the pendulum in one simulator."""
    out = tmp_path_factory.mktemp("runs")
    code = main(["train", str(PENDULUM), "--algo", "ppo", "--timesteps", "512", "--worlds", "4", "--seed", "2",
                 "--set", "n_steps=64", "--set", "batch_size=64", "--set", "eval_freq=0", "--out", str(out), *QUIET])
    assert code == 0
    (run,) = [p for p in out.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
    return run


def test_train_with_worlds_steps_every_world(worlds_run: Path) -> None:
    meta = rundir.read_run(worlds_run)
    assert meta["config"]["worlds"] == 4 and meta["config"]["n_envs"] == 1
    assert meta["status"] == "finished" and meta["timesteps"] == 512  # 2 rollouts of 64 steps x 4 worlds
    progress = rundir.read_csv(worlds_run / rundir.PROGRESS_CSV)
    assert [int(r["time/total_timesteps"]) for r in progress] == [256, 512]


def test_eval_in_another_scenario_with_the_same_spaces(worlds_run: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    heavier = tmp_path / "heavier.scn"  # the same observations and action, stronger gravity, 5 s episodes
    heavier.write_text(PENDULUM.read_text().replace("gravity = [0, 0, -10]", "gravity = [0, 0, -14]")
                       .replace("time_limit = 10 s", "time_limit = 5 s"))
    (tmp_path / "scn.toml").write_text("")
    assert main(["eval", str(worlds_run), "--episodes", "2", "--deterministic", "--json"]) == 0
    own = json.loads(capsys.readouterr().out)
    assert main(["eval", str(worlds_run), "--episodes", "2", "--deterministic", "--json",
                 "--scenario", str(heavier)]) == 0
    other = json.loads(capsys.readouterr().out)
    assert own["mean_length"] == 200.0 and other["mean_length"] == 100.0  # it ran in the other scenario
    assert other["scenario"] == str(heavier) and own["scenario"] == "the run's"
    assert other["mean_return"] != own["mean_return"]


def test_eval_in_a_scenario_of_other_spaces_is_scn604(worlds_run: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["eval", str(worlds_run), "--episodes", "1", "--scenario", str(SCENARIOS / "cart_pole.scn")]) == 2
    err = capsys.readouterr().err
    assert "error[SCN604]" in err and "Box(3,)" in err and "Box(4,)" in err and "Traceback" not in err


def test_eval_with_another_action_range_is_scn604_for_a_run_and_an_export(
        worlds_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The agent's actions are normalized (-1 to 1): on `in [-4, 4] N*m` instead of `[-2, 2]` the
    same policy would push twice as hard, though the spaces the agent sees are the same."""
    stronger = tmp_path / "stronger.scn"
    stronger.write_text(PENDULUM.read_text().replace("in [-2, 2] N*m", "in [-4, 4] N*m"))
    (tmp_path / "scn.toml").write_text("")
    exported = tmp_path / "policy.zip"
    assert main(["export", str(worlds_run), "-o", str(exported)]) == 0
    capsys.readouterr()
    for policy in (worlds_run, exported):
        assert main(["eval", str(policy), "--episodes", "1", "--scenario", str(stronger)]) == 2
        err = capsys.readouterr().err
        assert "error[SCN604]" in err and "trained on actions in [-2, 2]" in err, err
        assert "`torque` is in [-4, 4]" in err and "Traceback" not in err


def test_an_export_with_malformed_action_bounds_is_scn604(worlds_run: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    """An exported zip may come from anyone: a scn.json whose `action_bounds` is not two lists of
    numbers is a diagnostic, not a traceback."""
    import zipfile

    exported = tmp_path / "policy.zip"
    assert main(["export", str(worlds_run), "-o", str(exported)]) == 0
    with zipfile.ZipFile(exported) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for bounds in ({"lower": 5}, [1, 2], {"lower": ["a"], "upper": ["b"]}, {"lower": [1], "upper": [1, 2]},
                   {"lower": [float("nan")], "upper": [1e999]}, {"lower": [True], "upper": [1]}):
        info = json.loads(members["scn.json"])
        info["action_bounds"] = bounds
        hostile = tmp_path / "hostile.zip"
        with zipfile.ZipFile(hostile, "w") as archive:
            for name, data in {**members, "scn.json": json.dumps(info).encode()}.items():
                archive.writestr(name, data)
        capsys.readouterr()
        assert main(["eval", str(hostile), "--episodes", "1", "--scenario", str(PENDULUM)]) == 2
        err = capsys.readouterr().err
        assert "error[SCN604]" in err and "action_bounds" in err and "Traceback" not in err, bounds


def test_eval_json_records_the_param_overrides(worlds_run: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    with_param = tmp_path / "with_param.scn"
    with_param.write_text(PENDULUM.read_text().replace("gravity = [0, 0, -10]", "gravity = [0, 0, -g]")
                          .replace("plant {", "param g = 10\nplant {", 1))
    (tmp_path / "scn.toml").write_text("")
    assert main(["eval", str(worlds_run), "--episodes", "1", "--json", "--scenario", str(with_param),
                 "--param", "g=12"]) == 0
    assert json.loads(capsys.readouterr().out)["params"] == {"g": "12"}


def test_eval_json_has_each_episode_with_its_seed(worlds_run: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    """Episode i is reset with `--seed` + i: the records let two policies evaluated on the same seeds be
    compared episode by episode (the per-episode draws are the same)."""
    with_success = tmp_path / "with_success.scn"  # drawn starts: some episodes end near the top, some not
    success = "reward_at = step_start\n    success when cos(pendulum.q) > 0 { end_episode = false }"
    with_success.write_text(PENDULUM.read_text().replace("reward_at = step_start", success))
    (tmp_path / "scn.toml").write_text("")
    runs = []
    for _ in range(2):
        assert main(["eval", str(worlds_run), "--episodes", "6", "--seed", "5", "--deterministic", "--json",
                     "--scenario", str(with_success)]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    first, again = runs
    records = first["per_episode"]
    assert [r["seed"] for r in records] == [5, 6, 7, 8, 9, 10]
    assert sum(r["return"] for r in records) / 6 == pytest.approx(first["mean_return"])
    assert all(isinstance(r["success"], bool) and r["length"] == 200 for r in records)
    assert sum(r["success"] for r in records) / 6 == pytest.approx(first["success_rate"])
    assert len({round(r["return"], 6) for r in records}) == 6  # each seed its own draw
    starts = [r["draws"]["pendulum.q"] for r in records]  # what each reset drew, in radians
    assert all(-math.pi <= q <= math.pi for q in starts) and len(set(starts)) == 6
    assert again["per_episode"] == records  # the same seeds, the same episodes


def test_eval_in_processes_gives_the_episodes_of_one_process(worlds_run: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture) -> None:
    """`--n-envs K` shares the episodes among K worker processes: each episode depends on its seed
    alone, so the records (draws included), in order, and the summary are those of one process;
    for a run directory (stochastic actions too) and for an exported policy."""
    exported = tmp_path / "policy.zip"
    assert main(["export", str(worlds_run), "-o", str(exported)]) == 0
    capsys.readouterr()
    for policy, extra in ((worlds_run, ["--deterministic"]), (worlds_run, []),
                          (exported, ["--deterministic", "--scenario", str(PENDULUM)])):
        outputs = []
        for n_envs in ("1", "3"):
            assert main(["eval", str(policy), "--episodes", "7", "--seed", "11", "--json", "--n-envs", n_envs,
                         *extra]) == 0
            outputs.append(json.loads(capsys.readouterr().out))
        one, three = outputs
        assert [r["seed"] for r in three["per_episode"]] == list(range(11, 18))
        assert len({r["draws"]["pendulum.q"] for r in three["per_episode"]}) == 7
        assert three == one, (policy, extra)


def test_param_without_a_scenario_is_a_usage_error(worlds_run: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["eval", str(worlds_run), "--episodes", "1", "--param", "x=1"]) == 2
    assert "--scenario" in capsys.readouterr().err


@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (8, 10, 0.4902, 0.9433), (160, 200, 0.7391, 0.8495)])
def test_wilson_interval(successes: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=5e-4)
    assert got[0] <= successes / n <= got[1]


def test_worlds_past_the_limit_are_found_at_lint_with_their_place(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    text = PENDULUM.read_text().replace("train { algo = sac;", "train { worlds = 5000; algo = sac;")
    assert "worlds = 5000" in text
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "many.scn").write_text(text)
    assert main(["lint", str(tmp_path / "many.scn")]) == 1
    err = capsys.readouterr().out
    assert "error[SCN412]" in err and "at most 4,096" in err and "many.scn:" in err
