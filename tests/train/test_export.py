"""`scn export`: a run's policy as one small stable-baselines3 zip that `scn eval --scenario`
evaluates as the run's own model, and the shipped flip-up policy flips the box under the
lecture's physics."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from scn_fixtures import SCENARIOS

from scenario_dsl.cli import main
from scenario_dsl.train import rundir
from scenario_dsl.train.hyperparams import algorithm_class

QUIET = ["--threads", "1", "--no-progress"]


def _eval(capsys: pytest.CaptureFixture, *args: str) -> dict:
    capsys.readouterr()
    assert main(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("algo, sets", [("ppo", ["--set", "n_steps=256", "--set", "normalize=true"]),
                                        ("sac", ["--set", "learning_starts=100"])])
def test_an_exported_policy_acts_as_the_run_does(tmp_path: Path, capsys: pytest.CaptureFixture, algo: str,
                                                 sets: list[str]) -> None:
    assert main(["train", str(SCENARIOS / "pendulum.scn"), "--algo", algo, "--timesteps", "512", "--seed", "1",
                 *sets, "--out", str(tmp_path / "runs"), *QUIET]) == 0
    (run,) = [p for p in (tmp_path / "runs").glob("*/*") if (p / rundir.RUN_JSON).is_file()]
    out = tmp_path / "policy.zip"
    assert main(["export", str(run), "-o", str(out)]) == 0
    model = rundir.model_in(run)
    assert out.stat().st_size < model.stat().st_size / 2  # optimizers emptied, critics zeroed, compressed
    with zipfile.ZipFile(out) as archive:
        info = json.loads(archive.read("scn.json"))
    assert info["algo"] == algo and info["scenario"] == "pendulum"
    assert (info["normalize_observations"] is not None) == (algo == "ppo")  # the statistics, as numbers
    algorithm_class(algo).load(out)  # still the algorithm's own zip
    theirs = _eval(capsys, str(run), "--episodes", "3", "--deterministic")
    mine = _eval(capsys, str(out), "--scenario", str(SCENARIOS / "pendulum.scn"), "--episodes", "3",
                 "--deterministic")
    assert mine["mean_return"] == pytest.approx(theirs["mean_return"], rel=1e-6)


def test_an_exported_policy_needs_a_scenario(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    policy = SCENARIOS / "policies" / "box_flipup.zip"
    capsys.readouterr()
    assert main(["eval", str(policy)]) == 2
    err = capsys.readouterr().err
    assert "SCN602" in err and "--scenario" in err and "Traceback" not in err


def test_the_shipped_flip_up_policy_flips_the_box_under_the_lecture_physics(capsys: pytest.CaptureFixture) -> None:
    """scenarios/policies/box_flipup.zip, trained at the fast physics with adaptive randomization
    (box_flipup_adr.scn) and fine-tuned at the lecture's (box_flipup_finetune.scn), acting at the
    lecture's physics (hydroelastic, 1 ms): 20 flips in these 20 episodes with drake 1.51, 98.0%
    over 200 (docs/results.md; the policy trained at fast physics without randomization: 7 and
    31.5%, seed 0's ADR policy 11 and 57.5%, the policy shipped before this one 18 and 90.5%). The
    issue asks 12 of 20; a policy that never flips scores 0."""
    result = _eval(capsys, str(SCENARIOS / "policies" / "box_flipup.zip"), "--scenario",
                   str(SCENARIOS / "box_flipup.scn"), "--episodes", "20", "--deterministic")
    assert result["episodes"] == 20 and result["failed"] == 0
    assert round(result["success_rate"] * 20) >= 12


class _Touch:
    """A pickle that creates a file when it is loaded: what a hostile policy zip could hold."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.path,))


def test_evaluating_an_exported_policy_unpickles_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import base64
    import pickle

    marker = tmp_path / "pwned"
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(SCENARIOS / "policies" / "box_flipup.zip") as source, \
            zipfile.ZipFile(hostile, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "data":
                fields = json.loads(data)
                fields["hostile"] = {":type:": "<class 'object'>",
                                     ":serialized:": base64.b64encode(pickle.dumps(_Touch(marker))).decode()}
                data = json.dumps(fields).encode()
            target.writestr(name, data)
    algorithm_class("sac").load(hostile)  # stable-baselines3's own loader runs the payload ...
    assert marker.exists()
    marker.unlink()
    result = _eval(capsys, str(hostile), "--scenario", str(SCENARIOS / "box_flipup_fast.scn"), "--episodes", "1",
                   "--deterministic")
    assert result["episodes"] == 1
    assert not marker.exists()  # ... scn's does not
