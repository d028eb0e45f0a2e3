"""Env steps per second: scn's compiled box_flipup against the lecture's hand-written env
(manipulation.envs.box_flipup), in one process, plus the per-step cost of scn's signal
gathering and expressions (observation + reward + reward terms after a state change).

    .venv/bin/python bench/bench_env.py [--steps 300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from scenario_dsl import load
from scenario_dsl.env import make_env

ROOT = Path(__file__).resolve().parent.parent


def steps_per_second(env, actions: np.ndarray) -> float:
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        *_, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def output_cost(env, observation: str, reward: str, extra: tuple[str, ...] = (), n: int = 2000) -> float:
    """Microseconds to evaluate the agent's outputs after the plant state changes."""
    diagram = env.simulator.get_system()
    context = env.simulator.get_mutable_context()
    plant = diagram.GetSubsystemByName("plant")
    plant_context = plant.GetMyMutableContextFromRoot(context)
    x = plant.GetPositionsAndVelocities(plant_context)
    ports = [diagram.GetOutputPort(name) for name in (observation, reward, *extra)]

    def run(evaluate: bool) -> float:
        start = time.perf_counter()
        for i in range(n):
            x[0] = 1e-6 * i
            plant.SetPositionsAndVelocities(plant_context, x)
            if evaluate:
                for port in ports:
                    port.Eval(context)
        return time.perf_counter() - start

    return (run(True) - run(False)) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from manipulation.envs.box_flipup import BoxFlipUpEnv

    reference = BoxFlipUpEnv()
    ours = make_env(load(ROOT / "scenarios" / "box_flipup.scn"))
    rng = np.random.default_rng(0)
    low, high = reference.action_space.low.astype(float), reference.action_space.high.astype(float)
    physical = rng.uniform(low, high, (args.steps, 2))
    agent = np.array([ours.compiled.to_agent(a) for a in physical], dtype=np.float32)
    results: dict[str, list[float]] = {"lecture": [], "scn": []}
    for _ in range(args.repeats):  # alternate, so that drifts of the machine hit both
        results["lecture"].append(steps_per_second(reference, physical.astype(np.float32)))
        results["scn"].append(steps_per_second(ours, agent))
    for name, values in results.items():
        print(f"box_flipup {name:8s} steps/s: median {np.median(values):6.1f}  (runs: "
              + ", ".join(f"{v:.1f}" for v in values) + ")")
    print(f"outputs after a state change, us/step: lecture {output_cost(reference, 'observations', 'reward'):.1f}, "
          f"scn {output_cost(ours, 'observation', 'reward', ('reward_terms',)):.1f} "
          f"(expressions backend: {ours.compiled.systems['reward'].backend})")
    pendulum = make_env(ROOT / "scenarios" / "pendulum.scn")
    values = [steps_per_second(pendulum, rng.uniform(-1, 1, (2000, 1)).astype(np.float32)) for _ in range(3)]
    print(f"pendulum scn steps/s: median {np.median(values):.0f}; outputs us/step: "
          f"{output_cost(pendulum, 'observation', 'reward', ('reward_terms',)):.1f} "
          f"(backend: {pendulum.compiled.systems['reward'].backend})")


if __name__ == "__main__":
    main()
