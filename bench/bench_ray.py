"""Ray (issue 15, item 6): env steps per second with Ray actors (`RayVecEnv`, one actor per
worker) against `SubprocVecEnv` (one process per env) on this machine, for pendulum.scn (physics
almost free: the round trip is all there is) and box_flipup_fast.scn (contact); and the cost of
one actor round trip (a call that does nothing) against one pipe round trip. From these: when
Ray pays, i.e. how much simulation per step hides its round trip.

Ray starts inside the benchmark (`ray.init(address="local")`), with as many CPUs as the machine
has; every vector env of a case is built first, then all take turns in each repeat (startup not
timed). Random actions; episode ends reset automatically.

    .venv/bin/python -m bench.bench_ray [--quick] [--workers 1,2] [--repeats 3] [--worlds 1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from typing import Any

from bench.bench_scaling import vector_rate
from bench.common import SCENARIOS, interleaved, machine, median, runs_text, worker_counts

#: case -> (vector steps per run, full; quick)
STEPS = {"pendulum.scn": (2000, 500), "box_flipup_fast.scn": (200, 60)}


def _echo(remote: Any) -> None:
    while True:
        message = remote.recv()
        if message is None:
            return
        remote.send(message)


def round_trips(calls: int) -> tuple[float, float]:
    """Microseconds per round trip: a Ray actor method that returns its argument, and a pipe to a
    process that echoes (what `SubprocVecEnv` pays per env per step, before pickling)."""
    import ray

    @ray.remote(num_cpus=0)
    class Echo:
        def echo(self, x: Any) -> Any:
            return x

    actor: Any = Echo.remote()  # type: ignore[attr-defined]
    ray.get(actor.echo.remote(0))
    start = time.perf_counter()
    for i in range(calls):
        ray.get(actor.echo.remote(i))
    ray_us = (time.perf_counter() - start) / calls * 1e6
    ray.kill(actor)
    parent, child = mp.Pipe()
    process = mp.get_context("spawn").Process(target=_echo, args=(child,), daemon=True)
    process.start()
    parent.send(0)
    parent.recv()
    start = time.perf_counter()
    for i in range(calls):
        parent.send(i)
        parent.recv()
    pipe_us = (time.perf_counter() - start) / calls * 1e6
    parent.send(None)
    process.join()
    return ray_us, pipe_us


def bench_case(case: str, workers: list[int], worlds: int, steps: int, repeats: int) -> None:
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from scenario_dsl import load
    from scenario_dsl.runtime.env import EnvFactory
    from scenario_dsl.runtime.ray_env import RayVecEnv

    scenario = load(SCENARIOS / case)
    venvs: list[Any] = []
    runs = {}
    try:
        for n in workers:
            subproc = SubprocVecEnv([EnvFactory(scenario)] * (n * worlds))
            venvs.append(subproc)
            runs[f"SubprocVecEnv {n * worlds}"] = vector_rate(subproc, steps)
            actors = RayVecEnv(scenario, n, worlds, seed=0, cpus_per_worker=0.01)
            venvs.append(actors)
            runs[f"RayVecEnv {n}x{worlds}"] = vector_rate(actors, steps)
        figures = interleaved(runs, repeats)
    finally:
        for venv in venvs:
            venv.close()
    print(f"\n{case}: env steps/s, median of {repeats} repeats")
    print(f"  {'vector env':<28} {'steps/s':>9}  {'Ray vs processes':>16}  runs")
    for n in workers:
        processes = figures[f"SubprocVecEnv {n * worlds}"]
        actors = figures[f"RayVecEnv {n}x{worlds}"]
        ratio = median(a / p for a, p in zip(actors, processes, strict=True))
        print(f"  {f'SubprocVecEnv, {n * worlds} envs':<28} {median(processes):>9.1f}  {'':>16}  "
              f"[{runs_text(processes)}]")
        print(f"  {f'RayVecEnv, {n} actors x {worlds}':<28} {median(actors):>9.1f}  {ratio:>16.2f}  "
              f"[{runs_text(actors)}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, 2 repeats")
    parser.add_argument("--workers", default=None, help="worker counts, comma separated (default 1,2,4,8,16 "
                        "up to the CPU count)")
    parser.add_argument("--worlds", type=int, default=1, help="worlds per Ray actor (default 1)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3, quick 2")
    parser.add_argument("--case", nargs="*", default=list(STEPS), choices=list(STEPS))
    options = parser.parse_args()
    workers = worker_counts(options.workers)
    repeats = options.repeats or (2 if options.quick else 3)
    import ray

    ray.init(address="local", include_dashboard=False, log_to_driver=False, configure_logging=False)
    print(f"ray: {machine()}; ray {ray.__version__}; workers {workers}; {options.worlds} world(s) per actor")
    calls = 300 if options.quick else 2000
    ray_us, pipe_us = round_trips(calls)
    print(f"round trip: Ray actor call {ray_us:.0f} us, pipe {pipe_us:.0f} us ({calls} calls each, "
          f"ratio {ray_us / pipe_us:.1f})")
    for case in options.case:
        full, quick = STEPS[case]
        bench_case(case, workers, options.worlds, quick if options.quick else full, repeats)
    ray.shutdown()


if __name__ == "__main__":
    main()
