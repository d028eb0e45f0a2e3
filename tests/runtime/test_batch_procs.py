"""K processes of N worlds (`runtime.batch_procs.make_vec_env`) and `scn check --worlds`: real
worker processes, real Drake; the seeds are those K x N single envs would get."""

from __future__ import annotations

import numpy as np
import pytest
from scn_fixtures import SCENARIOS
from scn_fixtures import run_cli as run
from stable_baselines3.common.vec_env import DummyVecEnv

from scenario_dsl.runtime.batch_env import ScenarioBatchEnv
from scenario_dsl.runtime.batch_procs import BatchProcesses, make_vec_env
from scenario_dsl.runtime.env import EnvFactory

CART_POLE = SCENARIOS / "cart_pole.scn"


def test_processes_of_worlds_are_the_single_envs_seeded_alike() -> None:
    processes, worlds, seed = 2, 3, 11
    ours = make_vec_env(CART_POLE, n_envs=processes, worlds=worlds, seed=seed)
    theirs = DummyVecEnv([EnvFactory(CART_POLE, seed=seed + i) for i in range(processes * worlds)])
    try:
        assert isinstance(ours, BatchProcesses) and ours.num_envs == 6
        ours.seed(seed)
        theirs.seed(seed)
        np.testing.assert_array_equal(ours.reset(), theirs.reset())
        assert [info["seed"] for info in ours.reset_infos] == list(range(seed, seed + 6))
        rng = np.random.default_rng(0)
        ended = 0
        for _ in range(120):
            actions = rng.uniform(-1, 1, (6, 1)).astype(np.float32)
            obs_a, rew_a, done_a, info_a = ours.step(actions)
            obs_b, rew_b, done_b, info_b = theirs.step(actions)
            np.testing.assert_array_equal(obs_a, obs_b)
            np.testing.assert_array_equal(rew_a, rew_b)
            np.testing.assert_array_equal(done_a, done_b)
            for i in np.flatnonzero(done_a):
                np.testing.assert_array_equal(info_a[i]["terminal_observation"], info_b[i]["terminal_observation"])
                assert ours.reset_infos[i]["randomization"] == pytest.approx(theirs.reset_infos[i]["randomization"])
            ended += int(done_a.sum())
        assert ended >= 10
        assert ours.get_attr("index") == [0, 1, 2, 0, 1, 2]  # each worker's own worlds
        assert ours.get_attr("index", indices=[4]) == [1]
        ours.set_attr("render_world", 2, indices=[0])
        assert ours.get_attr("render_world", indices=[0, 3]) == [2, 0]  # set in worker 0 only
        assert ours.env_method("render", indices=[5]) == [None]  # no render mode: nothing drawn
    finally:
        ours.close()
        theirs.close()
    assert all(not p.is_alive() for p in ours.processes)


def test_one_process_is_a_batch_in_this_process() -> None:
    venv = make_vec_env(CART_POLE, worlds=4, seed=0)
    assert isinstance(venv, ScenarioBatchEnv) and venv.num_envs == 4


def test_a_worker_error_reaches_the_parent() -> None:
    venv = make_vec_env(CART_POLE, n_envs=2, worlds=2, seed=0)
    try:
        venv.reset()
        with pytest.raises(AttributeError):
            venv.get_attr("no_such_attribute")
        assert venv.get_attr("index") == [0, 1, 0, 1]  # the workers go on after an error
    finally:
        venv.close()


def test_check_with_worlds_reports_their_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", str(SCENARIOS / "pendulum.scn"), "--steps", "200", "--worlds", "8")
    assert code == 0, out + err
    (line,) = [row for row in out.splitlines() if row.startswith("8 worlds in one simulator")]
    assert "200 env steps" in line and "x the single env" in line and "per world" in line
