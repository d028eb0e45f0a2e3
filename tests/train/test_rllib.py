"""RLlib's PPO trains one iteration on a scn scenario through `scenario_dsl.runtime.rllib`.

Run in a child process: RLlib starts Ray (a local instance of its own) and is best kept out of
the test process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the rllib extra is not installed (pip install -e '.[rllib]')")
pytest.importorskip("tree", reason="the rllib extra is not installed (pip install -e '.[rllib]')")

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
import ray
from ray.rllib.algorithms.ppo import PPOConfig
from scenario_dsl.runtime.rllib import register

ray.init(address="local", include_dashboard=False, num_cpus=1, log_to_driver=False)
name = register("scn_test")
config = (PPOConfig().environment(name, env_config={"path": sys.argv[1], "seed": 3})
          .env_runners(num_env_runners=0)
          .training(train_batch_size_per_learner=400, minibatch_size=100, num_epochs=1)
          .debugging(seed=0))
algo = config.build_algo()
result = algo.train()
runners = result["env_runners"]
env = algo.env_runner.env.unwrapped.envs[0].unwrapped
print(json.dumps({"steps": result["num_env_steps_sampled_lifetime"], "return": runners["episode_return_mean"],
                  "length": runners["episode_len_mean"], "env": type(env).__name__,
                  "scenario": env.compiled.scenario.name}))
algo.stop()
ray.shutdown()
"""


def test_rllib_ppo_trains_one_iteration_on_a_scenario(tmp_path: Path) -> None:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(ROOT / "scenarios" / "pendulum.scn")],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["env"] == "ScenarioEnv" and result["scenario"] == "pendulum"
    assert result["steps"] >= 400
    assert result["length"] == 200  # pendulum.scn: 10 s episodes of 50 ms steps
    assert -3000 < result["return"] < 0  # Pendulum-v1's cost: every step costs something


def test_the_creator_seeds_each_env_runner_apart(tmp_path: Path) -> None:
    from scenario_dsl.runtime.rllib import SEED_STRIDE, env_creator

    class Context(dict):  # what RLlib's EnvContext adds to a dict
        worker_index, vector_index = 2, 0

    path = tmp_path / "pendulum.scn"  # a path of this test's own: the creator counts envs per path
    path.write_text((ROOT / "scenarios" / "pendulum.scn").read_text())
    first, second = (env_creator(Context(path=str(path), seed=5)).reset()[0] for _ in range(2))
    twins = [env_creator({"path": str(ROOT / "scenarios" / "pendulum.scn"), "seed": s}).reset()[0]
             for s in (5 + 2 * SEED_STRIDE, 5 + 2 * SEED_STRIDE + 1)]
    assert (first == twins[0]).all() and (second == twins[1]).all()
    assert not (first == second).all()  # two envs of one runner: two seeds
