"""`scn train FILE --trained-agent RUN` (RL Zoo's `-i`): a new run that starts from a trained
policy's weights, e.g. to fine-tune a policy learned at fast physics at slower, truer physics."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from scn_fixtures import SCENARIOS, run_cli

from scenario_dsl import load
from scenario_dsl.train.hyperparams import resolve
from scenario_dsl.train.training import build_model, warm_start

PENDULUM = str(SCENARIOS / "pendulum.scn")
SHORT = ["--no-progress", "--set", "n_steps=64", "--set", "batch_size=64", "--set", "eval_freq=0", "--seed", "3"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("first")
    from scenario_dsl import cli

    assert cli.main(["train", PENDULUM, "--algo", "ppo", "--timesteps", "128", "--out", str(out), *SHORT]) == 0
    return next(out.glob("pendulum/*"))


def test_the_new_model_starts_from_the_trained_weights(trained: Path) -> None:
    scenario = load(PENDULUM)
    config, _ = resolve(scenario.train, [("n_steps", 64), ("batch_size", 64)], algo="ppo", seed=9)
    fresh = build_model(scenario, config)
    try:
        before = {k: v.clone() for k, v in fresh.policy.state_dict().items()}
        warm_start(fresh, trained, scenario, config)
        from stable_baselines3 import PPO

        source = PPO.load(trained / "final" / "model.zip").policy.state_dict()
        after = fresh.policy.state_dict()
        assert all(torch.equal(after[k], source[k]) for k in source)
        assert not all(torch.equal(before[k], after[k]) for k in before)  # the seeds differ: it was copied
    finally:
        fresh.get_env().close()


def test_scn_train_with_a_trained_agent_records_it(trained: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "train", PENDULUM, "--algo", "ppo", "--timesteps", "64", "-i", str(trained),
                             "--out", str(tmp_path), *SHORT)
    assert code == 0, err
    meta = json.loads((Path(out.strip().splitlines()[-1]) / "run.json").read_text())
    assert meta["trained_agent"] == str(trained)


def test_a_fine_tune_killed_before_its_first_checkpoint_resumes_from_the_trained_weights(
        trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--resume` of a run with no complete checkpoint starts it again: from the `-i` weights it
    started from, not from a fresh network. A learning rate of 1e-30 keeps the weights where they
    start, so the resumed run's final weights show where that was."""
    code, out, err = run_cli(capsys, "train", PENDULUM, "--algo", "ppo", "--timesteps", "64", "-i", str(trained),
                             "--out", str(tmp_path), *SHORT, "--seed", "5", "--set", "learning_rate=1e-30")
    assert code == 0, err
    run = Path(out.strip().splitlines()[-1])
    shutil.rmtree(run / "checkpoints", ignore_errors=True)  # as if killed before its first checkpoint
    shutil.rmtree(run / "final")
    meta = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**meta, "status": "running"}))
    code, _, err = run_cli(capsys, "train", "--resume", str(run), "--no-progress")
    assert code == 0, err
    assert f"from the weights of {trained}" in err
    from stable_baselines3 import PPO

    source = PPO.load(trained / "final" / "model.zip").policy.state_dict()
    resumed = PPO.load(run / "final" / "model.zip").policy.state_dict()
    assert all(torch.allclose(resumed[k], source[k], atol=1e-6) for k in source)


def test_another_algorithm_or_other_spaces_are_refused(trained: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "train", PENDULUM, "--algo", "a2c", "--timesteps", "64", "-i", str(trained),
                           "--out", str(tmp_path), "--no-progress", "--set", "n_steps=64")
    assert code == 2 and "is a PPO model" in err and "--algo ppo" in err
    code, _, err = run_cli(capsys, "train", str(SCENARIOS / "cart_pole.scn"), "--algo", "ppo", "--timesteps", "64",
                           "-i", str(trained), "--out", str(tmp_path), *SHORT)
    assert code == 2 and "SCN604" in err
    assert not list(tmp_path.glob("*/*/run.json"))  # nothing was created


def test_an_exported_policy_is_refused_with_the_run_to_use(trained: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    exported = tmp_path / "policy.zip"
    code, _, err = run_cli(capsys, "export", str(trained), "-o", str(exported))
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", PENDULUM, "--algo", "ppo", "--timesteps", "64", "-i", str(exported),
                           "--out", str(tmp_path / "runs"), *SHORT)
    assert code != 0 and "keeps the actor only" in err and "run directory it was exported from" in err
    assert "Traceback" not in err and not list(tmp_path.glob("runs/*/*/run.json"))
