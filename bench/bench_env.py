"""Against the lecture (issue 6, item 3): scenarios/box_flipup.scn against the lecture's
hand-written env (manipulation.envs.box_flipup.BoxFlipUpEnv), same physics, in one process:
steps per second (the same random physical actions, resetting at episode ends) and resets per
second, lecture and scn taking turns within each repeat. Target: scn / lecture >= 1.0. Also the
per-step cost of evaluating each env's outputs after a state change, and scn's pendulum.

    .venv/bin/python -m bench.bench_env [--quick] [--steps 60] [--resets 200] [--repeats 5]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.common import clock_name, interleaved, machine, median, now, paired_ratio, runs_text, use_wall_clock
from scenario_dsl import load
from scenario_dsl.runtime.env import make_env

ROOT = Path(__file__).resolve().parent.parent


def steps_per_second(env, actions: np.ndarray) -> float:
    """Steps per second over `actions` from a fresh episode (resets at episode ends included)."""
    env.reset(seed=0)
    start = now()
    for action in actions:
        *_, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (now() - start)


def output_cost(env, observation: str, reward: str, extra: tuple[str, ...] = (), n: int = 2000) -> float:
    """Microseconds to evaluate the agent's outputs after the plant state changes."""
    diagram = env.simulator.get_system()
    context = env.simulator.get_mutable_context()
    plant = diagram.GetSubsystemByName("plant")
    plant_context = plant.GetMyMutableContextFromRoot(context)
    x = plant.GetPositionsAndVelocities(plant_context)
    ports = [diagram.GetOutputPort(name) for name in (observation, reward, *extra)]

    def run(evaluate: bool) -> float:
        start = now()
        for i in range(n):
            x[0] = 1e-6 * i
            plant.SetPositionsAndVelocities(plant_context, x)
            if evaluate:
                for port in ports:
                    port.Eval(context)
        return now() - start

    return (run(True) - run(False)) / n * 1e6


def resets_per_second(env, count: int) -> float:
    start = now()
    for i in range(count):
        env.reset(seed=i)
    return count / (now() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    parser.add_argument("--steps", type=int, default=None, help="env steps per run (default 60, quick 20)")
    parser.add_argument("--resets", type=int, default=None, help="resets per run (default 200, quick 50)")
    parser.add_argument("--repeats", type=int, default=None, help="default 5, quick 3")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    args = parser.parse_args()
    use_wall_clock(args.wall)
    steps = args.steps or (20 if args.quick else 60)
    resets = args.resets or (50 if args.quick else 200)
    repeats = args.repeats or (3 if args.quick else 5)
    from manipulation.envs.box_flipup import BoxFlipUpEnv

    print(f"against the lecture: {machine()}; median of {repeats} repeats, lecture and scn taking turns; "
          f"clock: {clock_name()}")
    reference = BoxFlipUpEnv()
    ours = make_env(load(ROOT / "scenarios" / "box_flipup.scn"))
    rng = np.random.default_rng(0)
    low, high = reference.action_space.low.astype(float), reference.action_space.high.astype(float)
    physical = rng.uniform(low, high, (steps, 2))
    agent = np.array([ours.compiled.to_agent(a) for a in physical], dtype=np.float32)
    lecture_actions = physical.astype(np.float32)
    steps_figures = interleaved({"lecture": lambda: steps_per_second(reference, lecture_actions),
                                 "scn": lambda: steps_per_second(ours, agent)}, repeats)
    reset_figures = interleaved({"lecture": lambda: resets_per_second(reference, resets),
                                 "scn": lambda: resets_per_second(ours, resets)}, repeats)
    for what, figures, count in (("steps/s", steps_figures, f"{steps} steps"),
                                 ("resets/s", reset_figures, f"{resets} resets")):
        ratio = paired_ratio(figures["scn"], figures["lecture"])
        print(f"box_flipup {what:<8} ({count} per run): lecture {median(figures['lecture']):8.1f}  "
              f"scn {median(figures['scn']):8.1f}  scn/lecture {ratio:.3f} "
              f"{'(target >= 1.0: ok)' if ratio >= 1.0 else '(target >= 1.0: MISS)'}")
        print(f"    runs lecture [{runs_text(figures['lecture'])}] scn [{runs_text(figures['scn'])}]")
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
