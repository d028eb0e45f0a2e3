"""Scaling (issue 6, item 6): total env steps per second with N worker processes, as efficiency
= throughput(N) / (N x throughput(1)), for SB3's `SubprocVecEnv` (one env per process, each
observation pickled through a pipe) and scn's `ScenarioVecEnv` (`--per-worker` envs per
process, shared-memory buffers, one message per worker per step).

Cases: the lecture's env (manipulation.envs.box_flipup, SubprocVecEnv only), box_flipup.scn with
the lecture's physics, box_flipup.scn with cheap physics (point contact, lagged, 2 ms) and
pendulum.scn (physics almost free: the IPC is all there is). `in-process` is one env stepped
directly (no vector env), the per-core throughput that IPC eats into. The worker counts default to
1, 2, 4, 8, 16 up to the number of CPUs; every vector env of a case is built first, then all take
turns in each repeat (startup not timed). Random actions; episode ends reset automatically.

    .venv/bin/python -m bench.bench_scaling [--quick] [--workers 1,2] [--per-worker 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import SCENARIOS, interleaved, load_variant, machine, median, runs_text, worker_counts

CHEAP = "time_step = 2 ms; contact_model = point; discrete_contact_approximation = lagged"
#: case -> (env steps per worker per run, full; quick)
STEPS = {"lecture box_flipup": (30, 10), "box_flipup.scn": (30, 10), "box_flipup.scn cheap": (120, 40),
         "pendulum.scn": (3000, 1000)}


def factories(case: str) -> Callable[[], Any]:
    from scenario_dsl import load
    from scenario_dsl.runtime.env import EnvFactory

    if case == "lecture box_flipup":
        from manipulation.envs.box_flipup import BoxFlipUpEnv

        return BoxFlipUpEnv
    if case == "box_flipup.scn":
        return EnvFactory(load(SCENARIOS / "box_flipup.scn"))
    if case == "box_flipup.scn cheap":
        return EnvFactory(load_variant("box_flipup", plant=CHEAP))
    return EnvFactory(load(SCENARIOS / "pendulum.scn"))


def vector_rate(venv: Any, vector_steps: int, seed: int = 0) -> Callable[[], float]:
    """A run: `vector_steps` steps of random actions; returns env steps per second."""
    rng = np.random.default_rng(seed)
    space = venv.action_space
    actions = rng.uniform(space.low, space.high, (vector_steps, venv.num_envs, *space.shape)).astype(space.dtype)
    venv.seed(seed)
    venv.reset()
    venv.step(actions[0])  # warm up

    def run() -> float:
        start = time.perf_counter()
        for a in actions:
            venv.step(a)
        return vector_steps * venv.num_envs / (time.perf_counter() - start)

    return run


def single_rate(make: Callable[[], Any], steps: int) -> Callable[[], float]:
    env = make()
    rng = np.random.default_rng(0)
    space = env.action_space
    actions = rng.uniform(space.low, space.high, (steps, *space.shape)).astype(space.dtype)
    env.reset(seed=0)

    def run() -> float:
        start = time.perf_counter()
        for a in actions:
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()
        return steps / (time.perf_counter() - start)

    return run


def bench_case(case: str, workers: list[int], per_worker: int, steps: int, repeats: int) -> None:
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from scenario_dsl.runtime.vec_env import ScenarioVecEnv

    make = factories(case)
    venvs: list[Any] = []
    runs: dict[str, Callable[[], float]] = {"in-process": single_rate(make, steps)}
    try:
        for n in workers:
            venv = SubprocVecEnv([make] * n)
            venvs.append(venv)
            runs[f"subproc {n}"] = vector_rate(venv, steps)
        if case != "lecture box_flipup":
            for n in workers:
                venv = ScenarioVecEnv([make] * (n * per_worker), n_workers=n)
                venvs.append(venv)
                runs[f"scn {n}"] = vector_rate(venv, max(1, steps // per_worker))
        figures = interleaved(runs, repeats)
    finally:
        for venv in venvs:
            venv.close()
    single = median(figures["in-process"])
    print(f"\n{case}: in-process {single:.1f} steps/s  (runs [{runs_text(figures['in-process'])}])")
    print(f"  {'vector env':<34} {'workers':>7} {'envs':>5} {'steps/s':>9} {'efficiency':>10} "
          f"{'vs in-process':>13}  runs")
    for kind, label, envs_per in (("subproc", "SubprocVecEnv", 1), ("scn", f"ScenarioVecEnv ({per_worker}/worker)",
                                                                      per_worker)):
        if f"{kind} {workers[0]}" not in figures:
            continue
        base = figures[f"{kind} 1"] if f"{kind} 1" in figures else None
        for n in workers:
            values = figures[f"{kind} {n}"]
            efficiency = (median(v / (n * b) for v, b in zip(values, base, strict=True)) if base else float("nan"))
            print(f"  {label:<34} {n:>7} {n * envs_per:>5} {median(values):>9.1f} {efficiency:>10.2f} "
                  f"{median(values) / single:>13.2f}  [{runs_text(values)}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, 2 repeats")
    parser.add_argument("--workers", default=None, help="worker counts, comma separated (default 1,2,4,8,16 "
                        "up to the CPU count)")
    parser.add_argument("--per-worker", type=int, default=4, help="envs per ScenarioVecEnv worker")
    parser.add_argument("--repeats", type=int, default=None, help="default 3, quick 2")
    parser.add_argument("--case", nargs="*", default=list(STEPS), choices=list(STEPS))
    options = parser.parse_args()
    workers = worker_counts(options.workers)
    repeats = options.repeats or (2 if options.quick else 3)
    print(f"scaling: {machine()}; workers {workers}; median of {repeats} repeats "
          "(all vector envs of a case take turns)")
    print("efficiency = steps/s(N) / (N x steps/s(1)), per repeat, median; vs in-process = steps/s / one env "
          "stepped in this process")
    for case in options.case:
        full, quick = STEPS[case]
        bench_case(case, workers, options.per_worker, quick if options.quick else full, repeats)


if __name__ == "__main__":
    main()
