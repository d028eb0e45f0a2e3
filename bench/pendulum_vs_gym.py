"""scn's pendulum against Gymnasium's Pendulum-v1, trained alike (issue 19, item 20).

    python -m bench.pendulum_vs_gym [--seeds 0 1 2] [--timesteps 20000] [--episodes 10] [--log FILE]

Both are trained with stable-baselines3's SAC and RL Zoo's hyperparameters for Pendulum-v1
(20,000 timesteps, MlpPolicy, learning rate 1e-3, the rest SB3's defaults), one run per seed
for each env, taking turns, in this one process (one torch thread). Each final policy is
evaluated on its own env for N deterministic episodes (episode i reset with seed 1000 + i). Prints
each run's mean return and, per env, the mean over seeds with a 95% interval (t distribution),
and the wall time. The two envs are meant to be the same task step for step
(tests/compiler/test_pendulum_reference.py): their returns should agree within the intervals.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import SAC

import scenario_dsl  # noqa: F401  (registers scn/pendulum-v0)

ENVS = {"scn/pendulum-v0": "scn", "Pendulum-v1": "gymnasium"}
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26}  # two-sided, by dof


def run(env_id: str, seed: int, timesteps: int, episodes: int) -> tuple[float, float]:
    env = gym.make(env_id)
    model = SAC("MlpPolicy", env, learning_rate=1e-3, seed=seed, device="cpu", verbose=0)
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps)
    seconds = time.perf_counter() - start
    returns = []
    for i in range(episodes):
        observation, _ = env.reset(seed=1000 + i)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--log", help="also append the output to this file")
    options = parser.parse_args()
    torch.set_num_threads(1)
    log = open(options.log, "a") if options.log else None

    def out(text: str) -> None:
        print(text, flush=True)
        if log:
            log.write(text + "\n")
            log.flush()

    out(f"# {' '.join(sys.argv)}: SAC, RL Zoo's Pendulum-v1 settings, {options.timesteps} timesteps, "
        f"{options.episodes} evaluation episodes per run")
    results: dict[str, list[float]] = {env_id: [] for env_id in ENVS}
    for seed in options.seeds:
        for env_id in ENVS:
            mean, seconds = run(env_id, seed, options.timesteps, options.episodes)
            results[env_id].append(mean)
            out(f"{env_id:18s} seed {seed}: mean return {mean:8.1f}  ({seconds:.0f} s of training)")
    for env_id, means in results.items():
        n = len(means)
        center = statistics.fmean(means)
        half = T95.get(n - 1, 1.96) * statistics.stdev(means) / math.sqrt(n) if n > 1 else math.nan
        out(f"{env_id:18s} over {n} seeds: {center:8.1f} +- {half:.1f} (95% interval), "
            f"runs {', '.join(f'{m:.1f}' for m in means)}")


if __name__ == "__main__":
    main()
