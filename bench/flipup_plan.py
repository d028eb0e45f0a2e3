"""Is the flip-up possible under a physics setting, and how? A cross-entropy search over open-loop
plans (20 finger targets, each held 0.5 s) for one reset of a flip-up scenario, then the best
plan replayed in other scenarios (e.g. found at the fast physics, replayed at the lecture's).
No learning: a check that the task can be done at all before training on it.

    .venv/bin/python -m bench.flipup_plan [--scenario box_flipup_fast] [--replay box_flipup]
        [--seed 0] [--iterations 12] [--samples 48]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import SCENARIOS

KNOTS, HOLD = 20, 5  # targets per episode, env steps each


def rollout(env, plan: np.ndarray, seed: int) -> tuple[float, bool, np.ndarray]:  # type: ignore[no-untyped-def]
    """Return, success and the final observation of one episode following `plan`."""
    observation, _ = env.reset(seed=seed)
    total, info = 0.0, {}
    for t in range(KNOTS * HOLD):
        observation, reward, terminated, truncated, info = env.step(plan[min(t // HOLD, KNOTS - 1)])
        total += float(reward)
        if terminated or truncated:
            break
    return total, bool(info.get("is_success")), observation


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scenario", default="box_flipup_fast")
    parser.add_argument("--replay", nargs="*", default=["box_flipup"])
    parser.add_argument("--seed", type=int, default=0, help="the reset's seed (the box's position)")
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--samples", type=int, default=48)
    options = parser.parse_args()
    from scenario_dsl import load
    from scenario_dsl.runtime.env import make_env

    env = make_env(load(SCENARIOS / f"{options.scenario}.scn"))
    rng = np.random.default_rng(options.seed)
    mean, spread = np.zeros((KNOTS, 2)), np.full((KNOTS, 2), 0.8)
    start = time.perf_counter()
    for iteration in range(options.iterations):
        plans = np.clip(mean + spread * rng.standard_normal((options.samples, KNOTS, 2)), -1, 1)
        results = [rollout(env, plan, options.seed) for plan in plans]
        returns = np.array([r[0] for r in results])
        elite = plans[np.argsort(returns)[-max(2, options.samples // 8):]]
        mean, spread = elite.mean(axis=0), np.maximum(elite.std(axis=0), 0.05)
        print(f"iteration {iteration}: best return {returns.max():.1f}, mean {returns.mean():.1f}, "
              f"flipped {np.mean([r[1] for r in results]):.0%} of the samples, {time.perf_counter() - start:.0f} s")
    for name in [options.scenario, *options.replay]:
        total, success, final = rollout(make_env(load(SCENARIOS / f"{name}.scn")), mean, options.seed)
        print(f"the mean plan in {name}: return {total:.1f}, flipped {success}, final box x {final[0]:.3f} "
              f"z {final[1]:.3f} angle {final[2]:.3f} rad")


if __name__ == "__main__":
    main()
