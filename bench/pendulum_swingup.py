"""Does a trained pendulum swing up and stay up? Measures a run of `scn train scenarios/pendulum.scn`.

    python bench/pendulum_swingup.py RUN_DIR [--episodes 20] [--seed 0]

For each model of the run (best and final), runs deterministic episodes (episode i reset with
seed + i, as `scn eval` does) and prints the mean return and how much of each episode the rod
spends within 0.3 rad (17 degrees) of upright. The swing-up threshold of docs/results.md: the
rod is upright for at least half of the episode on average (a swing-up takes about 1 to 2 s of
the 10 s episode), and the mean return is at least -200, the level at which Pendulum-v1 is
usually called solved.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from scenario_dsl.runtime.env import make_env
from scenario_dsl.train import rundir
from scenario_dsl.train.evaluation import load_policy, make_policy

UPRIGHT = 0.3  # rad


def measure(model_path: Path, episodes: int, seed: int) -> dict[str, float]:
    loaded = load_policy(model_path, device="cpu")
    policy = make_policy(loaded.model, loaded.vec_normalize, deterministic=True)
    env = make_env(loaded.scenario)
    returns, upright, upright_end = [], [], []
    for i in range(episodes):
        observation, _ = env.reset(seed=seed + i)
        total, angles = 0.0, []
        while True:
            observation, reward, terminated, truncated, _ = env.step(policy(observation))
            total += float(reward)
            angles.append(abs(float(np.arctan2(observation[1], observation[0]))))  # [cos q, sin q, v]
            if terminated or truncated:
                break
        held = np.array(angles) < UPRIGHT
        returns.append(total)
        upright.append(held.mean())
        upright_end.append(held[len(held) // 2:].mean())
    env.close()
    return {"mean_return": float(np.mean(returns)), "min_return": float(np.min(returns)),
            "upright_fraction": float(np.mean(upright)), "upright_second_half": float(np.mean(upright_end)),
            "episodes_upright_at_end": float(np.mean([u == 1.0 for u in upright_end]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run = rundir.find_run_dir(args.run)
    for name in (rundir.BEST, rundir.FINAL):
        path = run / name / rundir.MODEL
        if path.is_file():
            m = measure(path, args.episodes, args.seed)
            print(f"{name:5}  mean return {m['mean_return']:8.1f}  worst {m['min_return']:8.1f}  "
                  f"upright {m['upright_fraction']:.0%} of steps, {m['upright_second_half']:.0%} of the second "
                  f"half; {m['episodes_upright_at_end']:.0%} of episodes upright for the whole second half")


if __name__ == "__main__":
    main()
