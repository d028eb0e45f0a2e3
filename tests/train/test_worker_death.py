"""A worker process killed under `scn train --n-envs` / `--worlds` and `scn eval --n-envs`: SCN606
with what ended it and how to go on, exit 1, never SCN901 (a bug report) or a traceback.

Real runs of the bundled pendulum from the command line; the test sends SIGKILL to one worker
process, as the kernel's out-of-memory killer would, and the run resumes afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from scn_fixtures import SCENARIOS

from scenario_dsl.cli import main
from scenario_dsl.train import rundir

ROOT = Path(__file__).resolve().parents[2]
PENDULUM = SCENARIOS / "pendulum.scn"
SCN = [sys.executable, "-m", "scenario_dsl"]
QUIET = ["--threads", "1", "--no-progress"]
PPO = ["--algo", "ppo", "--seed", "1", "--set", "n_steps=64", "--set", "batch_size=64", "--set", "eval_freq=0"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _workers(pid: int) -> list[int]:
    """The worker processes of scn process `pid`: the forkserver's children (the forkserver and
    the resource tracker are its own children)."""
    return sorted(grandchild for child in _children(pid) for grandchild in _children(child))


def _kill_a_worker(command: list[str], ready: Callable[[], bool], workers: int = 2) -> tuple[int, str]:
    """Run `command`, SIGKILL its first worker once `ready()` and all `workers` run; (exit code, stderr)."""
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    killed, err = False, ""
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            found = _workers(proc.pid)
            if len(found) >= workers and ready():
                os.kill(found[0], signal.SIGKILL)
                killed = True
                break
            time.sleep(0.1)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert killed, f"the command ended (or timed out) before its workers ran:\n{err}"
    return proc.returncode, err


@pytest.mark.parametrize("layout", [["--n-envs", "2"], ["--n-envs", "2", "--worlds", "2"]],
                         ids=["subprocess workers", "worlds in worker processes"])
def test_a_training_worker_killed_is_scn606_and_the_run_resumes(tmp_path: Path, layout: list[str]) -> None:
    command = [*SCN, "train", str(PENDULUM), *PPO, "--timesteps", "1000000", "--set", "save_freq=512",
               *layout, "--out", str(tmp_path), *QUIET]

    def checkpointed() -> bool:
        return any(rundir.checkpoints(run) for run in tmp_path.glob("*/*") if (run / rundir.RUN_JSON).is_file())

    code, err = _kill_a_worker(command, checkpointed)
    (run,) = [p for p in tmp_path.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
    assert code == 1, err
    assert "error[SCN606]" in err and "was killed by signal 9 (SIGKILL)" in err, err
    assert "out-of-memory killer" in err and f"scn train --resume {run}" in err
    assert "Traceback" not in err and "SCN901" not in err
    meta = json.loads((run / rundir.RUN_JSON).read_text())
    assert meta["status"] == "failed" and meta["error"].startswith("SCN606 env worker process")
    last = rundir.checkpoints(run)[-1].timesteps
    assert f"from its checkpoint at {last} timesteps" in err
    resumed = subprocess.run([*SCN, "train", "--resume", str(run), "--timesteps", str(last + 512), *QUIET],
                             cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run / rundir.RUN_JSON).read_text())["status"] == "finished"


def test_an_evaluation_worker_killed_is_scn606(tmp_path: Path) -> None:
    assert main(["train", str(PENDULUM), *PPO, "--timesteps", "128", "--out", str(tmp_path), *QUIET]) == 0
    (run,) = [p for p in tmp_path.glob("*/*") if (p / rundir.RUN_JSON).is_file()]
    # far more episodes than the test waits for: the evaluation is still running when a worker dies
    command = [*SCN, "eval", str(run), "--episodes", "100000", "--n-envs", "2", "--json"]
    code, err = _kill_a_worker(command, lambda: True)
    assert code == 1, err
    assert "error[SCN606]" in err and "fewer --n-envs" in err, err
    assert "Traceback" not in err and "SCN901" not in err and "BrokenProcessPool" not in err
