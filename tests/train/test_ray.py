"""`scn train --ray`: env workers as actors of a real two-node Ray cluster on this machine.

The cluster: `ray start --head` and a second `ray start --address ...` with a resource of its
own, each with one CPU (so that two workers of one CPU each must use both nodes), on localhost
ports, both stopped at the end. The runs are `scn train` processes, as a user starts them."""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")

ROOT = Path(__file__).resolve().parents[2]
PENDULUM = str(ROOT / "scenarios" / "pendulum.scn")
BIN = Path(sys.executable).parent
RAY = str(BIN / "ray")
SHORT_RUN = ["--algo", "ppo", "--n-envs", "2", "--seed", "5", "--no-progress", "--set", "n_steps=128",
             "--set", "batch_size=64", "--set", "eval_episodes=1"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


# Ray's token authentication (on by default for local clusters since Ray 2.59), with a token of
# this test's own: the nodes and every driver get it in their environment, and nothing is read
# from or written to ~/.ray.
TOKEN_ENV = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0"}
ENV = {**os.environ, **TOKEN_ENV}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A head node and a second node, each started with `ray start --block` (stopping that
    process stops its node); yields the head's address."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="scnray-", dir="/tmp")  # Ray's socket paths must stay short
    env = {**ENV, "PYTHONPATH": str(ROOT)}
    common = ["--num-cpus", "1", "--block", "--disable-usage-stats"]
    head = subprocess.Popen([RAY, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                             "--include-dashboard", "false", "--temp-dir", temp, *common],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    nodes = [head]
    try:
        address = f"127.0.0.1:{port}"

        def head_up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                assert head.poll() is None, "ray start --head exited"
                return False

        _wait(head_up, 120, "the head node")
        nodes.append(subprocess.Popen([RAY, "start", "--address", address, "--node-ip-address", "127.0.0.1",
                                       "--resources", json.dumps({"scn_second_node": 1}), *common],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        yield address
    finally:
        for node in reversed(nodes):
            node.send_signal(signal.SIGTERM)
        for node in reversed(nodes):
            try:
                node.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def _scn(*args: str) -> list[str]:
    return [str(BIN / "scn"), *args]


def _run_dir(out: Path) -> Path | None:
    found = sorted(out.glob("pendulum/*/run.json"))
    return found[0].parent if found else None


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_workers_on_both_nodes_survive_a_lost_worker(cluster: str, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    driver = subprocess.Popen(_scn("train", PENDULUM, *SHORT_RUN, "--timesteps", "8192", "--ray", cluster,
                                   "--out", str(out)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=ENV)
    try:
        _wait(lambda: (r := _run_dir(out)) is not None and (r / "workers.json").is_file(), 240, "workers.json")
        run = _run_dir(out)
        assert run is not None
        workers = json.loads((run / "workers.json").read_text())["workers"]
        assert len(workers) == 2
        assert len({w["node"] for w in workers}) == 2  # one CPU per node: the two workers use both nodes
        # mid-run, after the first episodes: kill one worker's process, as a lost node or an OOM would
        _wait(lambda: len(_rows(run / "episodes.csv")) >= 2 if (run / "episodes.csv").is_file() else False,
              240, "the first episodes")
        assert driver.poll() is None, "the run ended before a worker could be killed"
        os.kill(int(workers[1]["pid"]), signal.SIGKILL)
        _, err = driver.communicate(timeout=400)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, err[-3000:]
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "finished" and meta["timesteps"] >= 8192
    assert meta["lost_workers"] == 1
    assert meta["dropped_episodes"] >= 1
    endings = [r["ending"] for r in _rows(run / "episodes.csv")]
    assert endings.count("worker_lost") == meta["dropped_episodes"]
    assert "dropped_episodes" in " ".join(_rows(run / "progress.csv")[-1].keys())
    after = json.loads((run / "workers.json").read_text())
    assert [lost["pid"] for lost in after["lost"]] == [workers[1]["pid"]]
    assert after["workers"][1]["pid"] != workers[1]["pid"]
    assert "env worker 1 was lost" in err


def test_a_killed_driver_resumes_on_the_cluster(cluster: str, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    driver = subprocess.Popen(_scn("train", PENDULUM, *SHORT_RUN, "--timesteps", "2048", "--set", "save_freq=512",
                                   "--ray", cluster, "--out", str(out)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path, env=ENV)
    try:
        _wait(lambda: (r := _run_dir(out)) is not None and any((r / "checkpoints").glob("ckpt-*")), 240,
              "the first checkpoint")
    finally:
        driver.kill()  # SIGKILL: no clean-up of any kind; its actors die with their owner
        driver.wait()
    run = _run_dir(out)
    assert run is not None and json.loads((run / "run.json").read_text())["status"] == "running"
    resumed = subprocess.run(_scn("train", "--resume", str(run), "--ray", cluster, "--no-progress"),
                             capture_output=True, text=True, timeout=400, cwd=tmp_path, env=ENV)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "finished" and meta["timesteps"] >= 2048
    assert meta["resumed"] and meta["resumed"][0]["timesteps"] >= 512
    workers = json.loads((run / "workers.json").read_text())
    assert len(workers["before"]) == 1  # the killed driver's workers, kept
    assert {w["pid"] for w in workers["workers"]}.isdisjoint({w["pid"] for w in workers["before"][0]["workers"]})


def test_the_same_seed_gives_the_same_run_with_ray_as_without(cluster: str, tmp_path: Path) -> None:
    runs = {}
    for name, extra in (("ray", ["--ray", cluster]), ("processes", [])):
        done = subprocess.run(_scn("train", PENDULUM, *SHORT_RUN, "--timesteps", "512", *extra,
                                   "--out", str(tmp_path / name)), capture_output=True, text=True, timeout=400,
                              env=ENV)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[name] = Path(done.stdout.strip().splitlines()[-1])
    columns = ("timesteps", "return", "length", "term_cost")
    rows = {name: [tuple(r[c] for c in columns) for r in _rows(run / "episodes.csv")] for name, run in runs.items()}
    assert rows["ray"] and rows["ray"] == rows["processes"]


def test_an_unreachable_cluster_is_a_clear_error(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    done = subprocess.run(_scn("train", PENDULUM, *SHORT_RUN, "--timesteps", "256", "--ray", f"127.0.0.1:{port}",
                               "--out", str(tmp_path)), capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "SCN605" in done.stderr and f"127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("pendulum/*"))  # no run directory for a run that never started


def test_a_sweep_of_two_values_by_two_seeds_and_its_resume(cluster: str, tmp_path: Path) -> None:
    sweep = subprocess.run(_scn("sweep", PENDULUM, "--grid", "learning_rate=1e-3,3e-4", "--seeds", "0..1",
                                "--algo", "ppo", "--timesteps", "256", "--set", "n_steps=128",
                                "--set", "eval_episodes=1", "--ray", cluster, "--out", str(tmp_path)),
                           capture_output=True, text=True, timeout=600, cwd=tmp_path, env=ENV)
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    (folder,) = tmp_path.glob("pendulum-*")
    summary = _rows(folder / "summary.csv")
    names = ["learning_rate=1e-3,seed=0", "learning_rate=1e-3,seed=1", "learning_rate=3e-4,seed=0",
             "learning_rate=3e-4,seed=1"]
    assert [r["trial"] for r in summary] == names
    assert all(r["status"] == "finished" and int(r["timesteps"]) == 256 and r["final_return"] for r in summary)
    for name, learning_rate, seed in zip(names, [1e-3, 1e-3, 3e-4, 3e-4], [0, 1, 0, 1], strict=True):
        meta = json.loads((folder / name / "run.json").read_text())  # each trial a normal run directory
        assert meta["seed"] == seed and meta["config"]["hyperparams"]["learning_rate"] == learning_rate
    table = sweep.stdout.splitlines()
    assert table[0].split()[:3] == ["trial", "status", "timesteps"] and len(table) == 1 + 4 + 1
    assert (folder / "summary.png").stat().st_size > 0
    # resumable: a trial whose run directory is gone runs again, and only that one
    kept = (folder / names[0] / "run.json").stat().st_mtime_ns
    shutil.rmtree(folder / names[3])
    resumed = subprocess.run(_scn("sweep", "--resume", str(folder), "--ray", cluster), capture_output=True,
                             text=True, timeout=600, cwd=tmp_path, env=ENV)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "1 of 4 trials to run" in resumed.stderr
    assert (folder / names[0] / "run.json").stat().st_mtime_ns == kept
    assert json.loads((folder / names[3] / "run.json").read_text())["status"] == "finished"


ALWAYS_SUCCEEDS = """\
scenario slide "a block on a rail that always succeeds"
plant { time_step = 10 ms; gravity = [0, 0, 0] }
body block { mass = 1 kg; shape = box(0.1, 0.1, 0.1) }
joint x: prismatic(world -> block, axis = [1, 0, 0]) { actuated }
action push = x.effort in [-1, 1] N
observation obs = [x.q, x.v]
randomize { block.mass *~ adaptive(1, 1, 0.5, 2, 0.25) }
adaptive { thresholds = [0.2, 0.8]; buffer = 3; boundary_probability = 1 }
reward { -(x.q^2) as cost }
episode { step = 50 ms; time_limit = 100 ms; success when |x.q| < 10 m }
"""


def test_adr_keeps_one_state_for_the_ray_workers(cluster: str, tmp_path: Path) -> None:
    """The learner's ADR ranges reach the Ray actors: with the same seed, the ranges logged (and
    the masses the workers drew) are those of the same run on local processes."""
    source = tmp_path / "slide.scn"
    source.write_text(ALWAYS_SUCCEEDS)
    logs = {}
    for name, extra in (("ray", ["--ray", cluster]), ("processes", [])):
        done = subprocess.run(_scn("train", str(source), *SHORT_RUN, "--timesteps", "512", *extra,
                                   "--out", str(tmp_path / name)), capture_output=True, text=True, timeout=400,
                              env=ENV)
        assert done.returncode == 0, done.stderr[-3000:]
        run = Path(done.stdout.strip().splitlines()[-1])
        logs[name] = [(r["time/total_timesteps"], r["adaptive/block.mass_low"], r["adaptive/block.mass_high"])
                      for r in _rows(run / "progress.csv") if r.get("adaptive/block.mass_high")]
    assert logs["ray"] == logs["processes"]
    assert float(logs["ray"][-1][1]) == 0.5 and float(logs["ray"][-1][2]) == 2.0  # widened to the bounds


def test_a_replaced_worker_draws_from_the_learners_schedule() -> None:
    """A worker lost mid-run is replaced by a new actor, which gets the learner's last ADR
    snapshot before its first reset (not the starting ranges until the next change)."""
    import numpy as np
    import ray

    from scenario_dsl import loads
    from scenario_dsl.runtime.ray_env import RayVecEnv, connect, disconnect

    connect(None, num_cpus=2)
    try:
        venv = RayVecEnv(loads(ALWAYS_SUCCEEDS), 2, seed=1, cpus_per_worker=0.5)
        try:
            venv.reset()
            venv.env_method("set_schedule", {"ranges": {"block.mass": [0.75, 1.5]}, "stage": 0})
            ray.kill(venv.actors[0])
            venv.step(np.zeros((2, 1)))
            assert len(venv.lost) == 1  # worker 0 was replaced
            assert [s.ranges["block.mass"] for s in venv.get_attr("schedule")] == [(0.75, 1.5)] * 2
        finally:
            venv.close()
    finally:
        disconnect()
