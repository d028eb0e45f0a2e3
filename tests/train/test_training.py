"""scn train / eval / plot: real (short) stable-baselines3 training, no mocks.

The end-to-end test trains the bundled pendulum with 2 subprocess workers from the command line,
kills the whole process group with SIGKILL once checkpoints exist, resumes it with
`scn train --resume`, and checks that it ends at the requested timestep count with every
checkpoint intact. Other tests run the CLI in this process (no interpreter start-up) on small
runs; the HTML recording is screenshotted in headless Chromium when one is installed.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces
from scn_fixtures import SCENARIOS

import scenario_dsl
from scenario_dsl.cli import main
from scenario_dsl.train import rundir
from scenario_dsl.train.hyperparams import ConfigError, TrainConfig, check_spaces, parse_set, resolve

ROOT = Path(__file__).resolve().parents[2]
PENDULUM = SCENARIOS / "pendulum.scn"
SCN = [sys.executable, "-m", "scenario_dsl"]
QUIET = ["--threads", "1", "--no-progress"]


def _only_run(out: Path) -> Path:
    (run,) = [p for p in out.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
    return run


def _train(tmp: Path, *args: str) -> Path:
    """`scn train` in this process; the run directory it made."""
    code = main(["train", *args, "--out", str(tmp), *QUIET])
    assert code == 0
    return _only_run(tmp)


# ---- the end-to-end run: SIGKILL mid-run, resume -------------------------------------------------

TOTAL, ROLLOUT = 4096, 512  # PPO, n_steps 256 x 2 workers


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("runs")
    command = [*SCN, "train", str(PENDULUM), "--algo", "ppo", "--timesteps", str(TOTAL), "--n-envs", "2",
               "--seed", "3", "--set", "n_steps=256", "--set", f"save_freq={ROLLOUT}", "--set", "eval_freq=1024",
               "--set", "eval_episodes=2", "--out", str(out), *QUIET]
    # Its own session: SIGKILL goes to the trainer and its worker processes alike.
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 90
    killed_at = None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            runs = [p for p in out.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
            if runs and any(c.timesteps >= 2 * ROLLOUT for c in rundir.checkpoints(runs[0])):
                killed_at = max(c.timesteps for c in rundir.checkpoints(runs[0]))
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None and killed_at is None:
            os.killpg(proc.pid, signal.SIGKILL)
        output = proc.communicate()[0].decode(errors="replace")
    assert killed_at is not None, f"no checkpoint before the run ended or timed out:\n{output}"
    assert proc.returncode == -signal.SIGKILL
    run = _only_run(out)
    before = json.loads((run / rundir.RUN_JSON).read_text())
    resumed = subprocess.run([*SCN, "train", "--resume", str(run), *QUIET], cwd=ROOT, capture_output=True,
                             text=True, timeout=180)
    return {"run": run, "killed_at": killed_at, "before": before, "resumed": resumed}


def test_ctrl_c_marks_the_run_interrupted_and_says_how_to_go_on(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C, or `timeout -s INT`) to `scn train`: exit 130, no traceback, run.json's
    status "interrupted", and the `--resume` command on standard error."""
    command = [*SCN, "train", str(PENDULUM), "--algo", "ppo", "--timesteps", "100000", "--seed", "3",
               "--set", "n_steps=256", "--set", "save_freq=256", "--set", "eval_freq=0", "--n-envs", "1",
               "--out", str(tmp_path), *QUIET]
    # SIGINT back to its default in the child: a shell that starts jobs in the background (CI's)
    # ignores it, and Python raises KeyboardInterrupt only where SIGINT was not ignored at start.
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            runs = [p for p in tmp_path.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
            if runs and rundir.checkpoints(runs[0]):
                proc.send_signal(signal.SIGINT)
                break
            time.sleep(0.05)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    run = _only_run(tmp_path)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted at" in err and f"scn train --resume {run}" in err
    assert json.loads((run / rundir.RUN_JSON).read_text())["status"] == "interrupted"


def test_a_killed_run_resumes_to_the_requested_timesteps(killed_and_resumed: dict) -> None:
    run: Path = killed_and_resumed["run"]
    resumed = killed_and_resumed["resumed"]
    assert resumed.returncode == 0, resumed.stderr
    assert killed_and_resumed["before"]["status"] == "running"  # it really was killed mid-run
    assert "resuming" in resumed.stderr and resumed.stdout.strip() == str(run)
    meta = json.loads((run / rundir.RUN_JSON).read_text())
    assert meta["status"] == "finished" and meta["timesteps"] == TOTAL
    (entry,) = meta["resumed"]
    assert 2 * ROLLOUT <= entry["timesteps"] < TOTAL
    assert meta["config"]["algo"] == "ppo" and meta["seed"] == 3 and meta["versions"]["stable-baselines3"]


def test_checkpoints_are_intact_and_load(killed_and_resumed: dict) -> None:
    from stable_baselines3 import PPO

    run: Path = killed_and_resumed["run"]
    found = rundir.checkpoints(run)
    assert [c.timesteps for c in found] == [TOTAL - 2 * ROLLOUT, TOTAL - ROLLOUT, TOTAL]  # keeps the newest 3
    assert not [p for p in (run / rundir.CHECKPOINTS).iterdir() if p.name.startswith(".tmp-")]
    for c in found:
        assert {p.name for p in c.path.iterdir()} == {rundir.MODEL, rundir.RNG, rundir.STATE}
        assert PPO.load(c.model, device="cpu").num_timesteps == c.timesteps
    assert PPO.load(run / rundir.FINAL / rundir.MODEL, device="cpu").num_timesteps == TOTAL
    best = run / rundir.BEST
    assert best.is_symlink() and (best / rundir.MODEL).is_file()


def test_logs_hold_no_rows_from_the_lost_work(killed_and_resumed: dict) -> None:
    run: Path = killed_and_resumed["run"]
    progress = [int(r["time/total_timesteps"]) for r in rundir.read_csv(run / rundir.PROGRESS_CSV)]
    assert progress == sorted(set(progress)) and progress[-1] == TOTAL
    assert progress == list(range(ROLLOUT, TOTAL + 1, ROLLOUT))  # one row per update, none twice
    evaluations = [int(r["timesteps"]) for r in rundir.read_csv(run / rundir.EVALUATIONS_CSV)]
    assert evaluations == [1024, 2048, 3072, 4096]
    # the time axis of a curve: training wall time, growing, and within the run's own wall time
    walls = [float(r["wall_seconds"]) for r in rundir.read_csv(run / rundir.EVALUATIONS_CSV)]
    assert walls == sorted(walls) and 0 < walls[0] and walls[-1] <= rundir.read_run(run)["wall_seconds"] + 1
    episodes = rundir.read_csv(run / rundir.EPISODES_CSV)
    steps = [int(r["timesteps"]) for r in episodes]
    assert steps == sorted(steps) and len(episodes) >= 16  # 200-step episodes, 2 workers
    assert {r["ending"] for r in episodes} == {"time_limit"}
    for r in episodes:
        assert float(r["return"]) == pytest.approx(float(r["term_cost"]), abs=1e-3)


def test_eval_reports_returns_and_reward_terms(killed_and_resumed: dict, capsys: pytest.CaptureFixture) -> None:
    run: Path = killed_and_resumed["run"]
    assert main(["eval", str(run), "--episodes", "2", "--deterministic"]) == 0
    text = capsys.readouterr().out
    assert f"model: {run / rundir.BEST / rundir.MODEL}" in text
    assert "episodes: 2 (deterministic actions)" in text and "cost" in text and "time_limit (2)" in text
    assert "success rate" not in text  # the pendulum declares no success condition
    assert main(["eval", str(run / rundir.FINAL / rundir.MODEL), "--episodes", "2", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["episodes"] == 2 and report["mean_length"] == 200.0 and report["failed"] == 0
    assert report["term_means"]["cost"] == pytest.approx(report["mean_return"])
    assert report["min_return"] <= report["mean_return"] <= report["max_return"]
    # the same seed, the same episodes
    assert main(["eval", str(run), "--episodes", "2", "--format", "json", "--deterministic"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert main(["eval", str(run), "--episodes", "2", "--format", "json", "--deterministic"]) == 0
    assert json.loads(capsys.readouterr().out)["mean_return"] == again["mean_return"]


def test_plot_writes_a_png(killed_and_resumed: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "curve.png"
    assert main(["plot", str(killed_and_resumed["run"]), "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert capsys.readouterr().out.strip() == str(out)


# ---- smaller runs in this process -----------------------------------------------------------------

def test_sac_resume_extends_a_run_with_its_replay_buffer(tmp_path: Path) -> None:
    run = _train(tmp_path, str(PENDULUM), "--timesteps", "300", "--seed", "1", "--set", "learning_starts=100",
                 "--set", "save_freq=150", "--set", "eval_freq=0", "--set", "batch_size=64")
    assert [c.timesteps for c in rundir.checkpoints(run)] == [150, 300]
    assert main(["train", "--resume", str(run), "--timesteps", "450", *QUIET]) == 0
    last = rundir.checkpoints(run)[-1]
    assert last.timesteps == 450
    with open(last.path / rundir.REPLAY_BUFFER, "rb") as f:
        buffer = pickle.load(f)
    assert buffer.size() == 450  # the first 300 transitions came back with the checkpoint
    meta = json.loads((run / rundir.RUN_JSON).read_text())
    assert meta["config"]["n_timesteps"] == 450 and meta["config"]["algo"] == "sac"
    assert meta["config"]["hyperparams"] == {"learning_rate": 0.001, "learning_starts": 100, "batch_size": 64}


def test_failed_simulations_are_counted_not_fatal(tmp_path: Path) -> None:
    # sqrt of a negative number: the env truncates the episode ("evaluation failure"), training goes on
    text = re.sub(r"^reward \{.*?^\}", "reward {\n    sqrt(cos(pendulum.q)) as root\n}", PENDULUM.read_text(),
                  flags=re.S | re.M)
    scenario_file = tmp_path / "nan_pendulum.scn"
    scenario_file.write_text(text)
    run = _train(tmp_path / "runs", str(scenario_file), "--algo", "ppo", "--timesteps", "256", "--seed", "0",
                 "--set", "n_steps=128", "--set", "batch_size=64", "--set", "eval_freq=0")
    meta = json.loads((run / rundir.RUN_JSON).read_text())
    assert meta["status"] == "finished" and meta["timesteps"] == 256 and meta["failed_episodes"] > 0
    episodes = rundir.read_csv(run / rundir.EPISODES_CSV)
    assert sum(r["ending"] == "evaluation failure" for r in episodes) == meta["failed_episodes"]
    progress = rundir.read_csv(run / rundir.PROGRESS_CSV)
    assert int(progress[-1]["rollout/failed_episodes"]) == meta["failed_episodes"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflows are the point
def test_a_learner_poisoned_by_huge_rewards_stops_with_one_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    # Rewards near float32's limit (the env truncates beyond it) are finite, but squaring them in
    # the value loss is not: the policy turns NaN. That is a clean error, exit 1, not a traceback.
    text = PENDULUM.read_text().replace("-(wrap(pendulum.q)^2", "1e37 * (1 + pendulum.v^2) - (wrap(pendulum.q)^2")
    assert "1e37" in text
    huge = tmp_path / "huge.scn"
    huge.write_text(text)
    code = main(["train", str(huge), "--algo", "ppo", "--timesteps", "512", "--seed", "0", "--set", "n_steps=128",
                 "--set", "batch_size=64", "--set", "eval_freq=0", "--out", str(tmp_path / "runs"), *QUIET])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "huge.scn: error[SCN603]: training diverged at " in err.splitlines()[-1], err
    # the run's logs are closed even though training stopped with an error
    fds = Path("/proc/self/fd")
    if fds.is_dir():
        open_files = [os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink()]
        assert not [f for f in open_files if f.startswith(str(tmp_path))], open_files


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "batch_sise=64"], "`batch_sise` (from --set) is not a setting of SAC; did you mean `batch_size`?"),
    (["--set", "gamma=fast"], "`gamma` = 'fast' (from --set) is not valid for SAC: expected float"),
    (["--set", "use_sde=3"], "`use_sde` = 3 (from --set) is not valid for SAC: expected bool"),
    (["--set", "n_envs=0"], "`n_envs` must be at least 1"),
    (["--algo", "ppo", "--set", "buffer_size=100"], "`buffer_size` (from --set) is not a setting of PPO"),
    (["--algo", "ppo", "--set", "batch_size=1", "--timesteps", "64"], "PPO rejects these settings: "),
    (["--set", "oops"], "--set expects KEY=VALUE"),
])
def test_bad_settings_exit_2_before_training(tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str],
                                             message: str) -> None:
    assert main(["train", str(PENDULUM), *args, "--out", str(tmp_path), *QUIET]) == 2
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if "error[SCN601]: " in line]
    assert len(error_lines) == 1 and message in error_lines[0], err
    assert not list(tmp_path.iterdir())  # nothing created


def test_resume_refuses_new_settings_and_non_runs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--resume", str(tmp_path), "--set", "gamma=0.9"]) == 2
    assert "--set cannot change" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["eval", str(tmp_path)]) == 2
    assert main(["plot", str(tmp_path)]) == 2


def _fake_run(tmp_path: Path) -> Path:
    """A run directory with its descriptions and no model (nothing trained)."""
    from scenario_dsl.compiler.artifacts import compiled_document

    run = tmp_path / "run"
    run.mkdir()
    rundir.write_json(run / rundir.SCENARIO_JSON, compiled_document(scenario_dsl.load(PENDULUM)))
    rundir.write_json(run / rundir.RUN_JSON, {"format": rundir.RUN_FORMAT, "scenario": "pendulum", "seed": 0,
                                              "config": TrainConfig().to_json()})
    return run


def test_eval_of_a_file_that_is_no_model_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = _fake_run(tmp_path)
    (run / "notes.zip").write_text("not a zip")
    for path in (run / rundir.RUN_JSON, run / "notes.zip"):
        assert main(["eval", str(path), "--episodes", "1"]) == 2
        err = capsys.readouterr().err
        assert "SCN901" not in err and err.startswith(f"{path}: error[SCN602]: "), err


def test_resume_of_a_run_with_an_edited_scenario_is_a_one_line_error(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    run = _fake_run(tmp_path)
    document = json.loads((run / rundir.SCENARIO_JSON).read_text())
    document["scenario"]["episode"]["time_limit"] = 99.0
    (run / rundir.SCENARIO_JSON).write_text(json.dumps(document))
    assert main(["train", "--resume", str(run), *QUIET]) == 1  # a broken input file, as `scn check` says of it
    err = capsys.readouterr().err
    assert "SCN901" not in err and "scenario.json: error[SCN009]: its hash does not match" in err, err


@pytest.mark.parametrize("timesteps", ["0", "-5"])
def test_resume_refuses_a_total_below_one_as_a_new_run_does(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                             timesteps: str) -> None:
    run = _fake_run(tmp_path)
    before = (run / rundir.RUN_JSON).read_text()
    assert main(["train", "--resume", str(run), "--timesteps", timesteps, *QUIET]) == 2
    assert "`n_timesteps` must be at least 1" in capsys.readouterr().err
    assert (run / rundir.RUN_JSON).read_text() == before and not (run / rundir.FINAL).exists()


def test_a_snapshot_folder_names_its_own_model(tmp_path: Path) -> None:
    # `scn eval RUN/final` (or RUN/best, or a checkpoint folder): that folder's model.zip
    run = _fake_run(tmp_path)
    for folder in (run / rundir.FINAL, rundir.checkpoint_folder(run, 64)):
        folder.mkdir(parents=True)
        (folder / rundir.MODEL).write_bytes(b"")
        assert rundir.model_in(folder) == folder / rundir.MODEL


def test_plot_writes_the_format_its_output_names(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = _fake_run(tmp_path)
    (run / rundir.EPISODES_CSV).write_text("timesteps,return,length,term_cost,success,ending,time\n"
                                           "200,-5.0,200,-5.0,,time_limit,0\n400,-4.0,200,-4.0,,time_limit,0\n")
    assert main(["plot", str(run), "-o", str(tmp_path / "curve.svg")]) == 0
    assert b"<svg" in (tmp_path / "curve.svg").read_bytes()[:1000]
    assert main(["plot", str(run), "-o", str(tmp_path / "curve.xyz")]) == 2
    err = capsys.readouterr().err
    assert "SCN901" not in err and "curve.xyz" in err
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_require_that_always_rejects_stops_train_with_one_line(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    text = PENDULUM.read_text().replace("scenario pendulum", "randomize {\n    let k ~ uniform(0, 1)\n"
                                        "    require k > 1.5 \"k is large\"\n}\nscenario pendulum")
    scenario_file = tmp_path / "never.scn"
    scenario_file.write_text(text)
    code = main(["train", str(scenario_file), "--algo", "ppo", "--timesteps", "64", "--seed", "0",
                 "--out", str(tmp_path / "runs"), *QUIET])
    err = capsys.readouterr().err
    assert code == 1 and "SCN901" not in err and "error[SCN411]" in err and '"k is large"' in err, err
    assert "require k > 1.5" in err  # the requirement's line, under its place
    assert not (tmp_path / "runs").exists()  # nothing created


def test_bad_set_exits_2_from_the_command_line() -> None:
    result = subprocess.run([*SCN, "train", str(PENDULUM), "--set", "learning_rte=1e-3"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "scenarios/pendulum.scn: error[SCN601]: `learning_rte` (from --set) is not a setting of SAC; "
        "did you mean `learning_rate`?")


# ---- settings ---------------------------------------------------------------------------------------

def test_precedence_block_then_set_then_flags() -> None:
    train = scenario_dsl.load(PENDULUM).train  # sac, 20000 timesteps, learning_rate 1e-3
    config, notes = resolve(train, [parse_set("learning_rate=3e-4"), parse_set("n_timesteps=5000")],
                            n_timesteps=7000, seed=5)
    assert config.algo == "sac" and config.n_timesteps == 7000 and config.seed == 5 and not notes
    assert config.hyperparams == {"learning_rate": 3e-4}
    assert config.net_arch == [64, 64] and config.eval_freq == 350 and config.save_freq == 700
    switched, notes = resolve(train, [], algo="ppo", seed=0)
    assert switched.hyperparams == {} and notes == [
        "the train block sets hyperparameters for sac, not ppo; ignored: learning_rate"]
    default, _ = resolve(None, [], seed=0)
    assert (default.algo, default.net_arch, default.n_envs) == ("ppo", [64, 64], 1)


def test_set_values_are_typed() -> None:
    assert parse_set("net_arch=[256, 256]") == ("net_arch", [256, 256])
    assert parse_set("normalize=true") == ("normalize", True)
    assert parse_set("activation=tanh") == ("activation", "tanh")
    config, _ = resolve(None, [parse_set("learning_rate=lin_1e-3"), parse_set("n_steps=1e3"),
                               parse_set("activation=tanh"), parse_set("ortho_init=false")], seed=0)
    assert config.hyperparams == {"learning_rate": "lin_1e-3", "n_steps": 1000}
    assert config.policy_kwargs == {"ortho_init": False} and config.activation == "tanh"
    from scenario_dsl.train.hyperparams import algorithm_kwargs

    kwargs = algorithm_kwargs(config)
    assert kwargs["learning_rate"](0.5) == pytest.approx(5e-4) and kwargs["n_steps"] == 1000
    assert kwargs["policy_kwargs"]["activation_fn"].__name__ == "Tanh"
    assert TrainConfig.from_json(json.loads(json.dumps(config.to_json()))) == config


def test_algorithm_and_action_space_mismatch() -> None:
    with pytest.raises(ConfigError, match="SAC needs a continuous"):
        check_spaces(TrainConfig(algo="sac"), spaces.Discrete(3))
    check_spaces(TrainConfig(algo="ppo"), spaces.Discrete(3))
    with pytest.raises(ConfigError, match="`noise_type`"):
        resolve(None, [("noise_type", "normal")], algo="ppo", seed=0)


# ---- run directory -------------------------------------------------------------------------------

def test_half_written_checkpoints_are_ignored_and_logs_truncated(tmp_path: Path) -> None:
    folder = tmp_path / rundir.CHECKPOINTS
    (folder / ".tmp-ckpt-000000000200-x").mkdir(parents=True)  # killed while writing
    (folder / "ckpt-000000000300").mkdir()  # no state.json: never renamed into place by us
    (folder / "ckpt-000000000300" / rundir.MODEL).write_bytes(b"")
    done = folder / "ckpt-000000000100"
    done.mkdir()
    (done / rundir.MODEL).write_bytes(b"")
    rundir.write_json(done / rundir.STATE, {"timesteps": 100})
    assert rundir.checkpoints(tmp_path) == [rundir.Checkpoint(done, 100)]
    rundir.remove_partial(folder)
    assert not (folder / ".tmp-ckpt-000000000200-x").exists()
    (tmp_path / "best-000000000100").mkdir()
    os.symlink("best-000000000100", tmp_path / ".tmp-best-link-123")  # killed before the swap
    rundir.remove_partial(tmp_path)
    assert not os.path.lexists(tmp_path / ".tmp-best-link-123") and (tmp_path / "best-000000000100").is_dir()
    (tmp_path / "best-000000000100").rmdir()
    log = tmp_path / "episodes.csv"
    log.write_text("timesteps,return\n50,1.0\n100,2.0\n150,3.0\n17")  # a partial last line
    mode = log.stat().st_mode
    rundir.truncate_csv(log, "timesteps", 100)
    assert log.read_text().splitlines() == ["timesteps,return", "50,1.0", "100,2.0"]
    assert log.stat().st_mode == mode  # a plain file still, not the temporary file's private mode
    assert sorted(p.name for p in tmp_path.iterdir()) == [rundir.CHECKPOINTS, "episodes.csv"]


def test_snapshot_folders_get_a_plain_folders_mode(tmp_path: Path) -> None:
    class Model:
        def save(self, path: Path) -> None:
            Path(path).write_bytes(b"zip")

    plain = tmp_path / "plain"
    plain.mkdir()
    folder = rundir.checkpoint_folder(tmp_path, 64)
    rundir.save_snapshot(folder, Model(), None, {"timesteps": 64})
    assert folder.stat().st_mode == plain.stat().st_mode  # not mkdtemp's private 0700
    assert (folder / rundir.MODEL).stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o666


# ---- recording -------------------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome", "google-chrome-stable",
            "chrome", "headless_shell")


def _browser() -> str | None:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    for pattern in ("chromium*/chrome-linux/chrome", "chromium_headless_shell*/chrome-linux/headless_shell"):
        for found_path in sorted((Path.home() / ".cache" / "ms-playwright").glob(pattern)):
            return str(found_path)
    return None


def _screenshot(browser: str, html: Path, png: Path) -> np.ndarray:
    from PIL import Image

    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                    "--window-size=640,480", "--virtual-time-budget=4000", f"--screenshot={png}", html.as_uri()],
                   capture_output=True, timeout=120, check=True)
    return np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)


def test_recorded_html_shows_the_scene_in_headless_chromium(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium or Chrome found (looked for " + ", ".join(BROWSERS) + " and playwright's "
                    "browsers): on Debian, `apt-get install chromium-headless-shell`")
    from pydrake.geometry import Meshcat

    run = _train(tmp_path / "runs", str(SCENARIOS / "cart_pole.scn"), "--timesteps", "64", "--seed", "0",
                 "--set", "n_steps=64", "--set", "batch_size=32", "--set", "eval_freq=0")
    html = tmp_path / "rollout.html"
    assert main(["eval", str(run), "--episodes", "1", "--record", str(html)]) == 0
    assert "wrote" in capsys.readouterr().err
    text = html.read_text()
    assert "<script" in text and "src=\"http" not in text  # self-contained: no scripts to fetch
    empty = tmp_path / "empty.html"
    empty.write_text(Meshcat().StaticHtml())  # the same viewer with nothing in it
    shot = _screenshot(browser, html, tmp_path / "rollout.png")
    blank = _screenshot(browser, empty, tmp_path / "empty.png")
    assert shot.shape == blank.shape and shot.std() > 5  # not a blank page
    changed = np.abs(shot - blank).max(axis=2) > 40
    assert changed.sum() > 200, f"only {changed.sum()} pixels differ from an empty scene"


def test_a_log_written_by_an_older_scn_keeps_its_header(tmp_path: Path) -> None:
    path = tmp_path / "evaluations.csv"
    path.write_text("timesteps,mean_return,time\n100,-5.0,1.5\n")
    log = rundir.CsvLog(path, ["timesteps", "mean_return", "time", "wall_seconds"])
    log.write({"timesteps": 200, "mean_return": -4.0, "time": 2.5, "wall_seconds": 9.0})
    log.close()
    assert rundir.read_csv(path) == [{"timesteps": "100", "mean_return": "-5.0", "time": "1.5"},
                                     {"timesteps": "200", "mean_return": "-4.0", "time": "2.5"}]

