"""The two tasks newcomers wrote from the docs (issue 19), as bundled scenarios: Gymnasium's
Reacher-v5 (`reacher.scn`) and a planar iiwa reach (`iiwa_reach.scn`) train with SAC from their
own `train` block and are evaluated with a success rate. Short runs: that the pipeline carries
them, not how well they learn (docs/results.md has the measured runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scn_fixtures import SCENARIOS

from scenario_dsl.cli import main
from scenario_dsl.train import rundir


@pytest.mark.parametrize("name", ["reacher", "iiwa_reach"])
def test_the_newcomers_tasks_train_and_report_success(name: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", str(SCENARIOS / f"{name}.scn"), "--timesteps", "200", "--set", "learning_starts=100",
                 "--set", "eval_freq=0", "--set", "batch_size=32", "--out", str(tmp_path), "--threads", "1",
                 "--no-progress"]) == 0
    (run,) = [p for p in tmp_path.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
    meta = json.loads((run / rundir.RUN_JSON).read_text())
    assert meta["config"]["algo"] == "sac" and meta["config"]["n_timesteps"] == 200
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "2", "--deterministic", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["episodes"] == 2 and 0.0 <= report["success_rate"] <= 1.0
    assert set(report["term_means"]) >= {"distance"}


def test_the_flip_up_trains_on_pixels_with_a_cnn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """box_flipup_pixels.scn: SAC with SB3's MultiInputPolicy (a CNN on the 64 x 64 image, an
    MLP on the state), chosen from the Dict observation; evaluated and its policy's layers checked."""
    from stable_baselines3 import SAC

    assert main(["train", str(SCENARIOS / "box_flipup_pixels.scn"), "--timesteps", "120", "--set",
                 "learning_starts=60", "--set", "batch_size=16", "--set", "buffer_size=500", "--set", "eval_freq=0",
                 "--out", str(tmp_path), "--threads", "1", "--no-progress"]) == 0
    (run,) = [p for p in tmp_path.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
    model = SAC.load(run / "final" / "model.zip", device="cpu")
    assert type(model.policy).__name__ == "MultiInputPolicy"
    assert set(model.observation_space.spaces) == {"pixels", "state"}
    assert "NatureCNN" in repr(model.policy.actor.features_extractor)
    capsys.readouterr()
    assert main(["eval", str(run), "--episodes", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["episodes"] == 1
