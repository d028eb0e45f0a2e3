"""Many worlds in one diagram (issue 13): env steps per second of `ScenarioBatchEnv` (N worlds of a
scenario in one MultibodyPlant, one simulator) against N = 1, 4, 16, 64, 256, per bundled scenario,
side by side with scn's single `ScenarioEnv`, Gymnasium's Pendulum-v1, CartPole-v1 and Acrobot-v1
(single, `gym.make_vec(..., vectorization_mode="sync")`, and CartPole's own vectorized env,
`vectorization_mode="vector_entry_point"`), SB3's `SubprocVecEnv` and scn's `ScenarioVecEnv`
(worker processes), all in one run. Also per N: the batch's build time (`ScenarioBatchEnv(...)`:
`compile_batch` and the simulator, then the first `reset()`) and its memory (this process's RSS,
read from /proc/self/statm, before and after the build, every earlier batch still alive). Each
scenario runs in a fresh interpreter (memory freed by one scenario would hide the next one's).

Every contestant steps actions drawn before timing (uniform over the action space; random
integers for Gymnasium's discrete ones) and resets what ends, inside the timed loop (vector envs
do it themselves). env steps/s counts every world's step: a batch step of N worlds is N env steps.
"vs scn single" is the median over repeats of contestant / scn's `ScenarioEnv` of the same
scenario measured in the same repeat (all contestants of a scenario take turns in each repeat).
In-process contestants are timed with the benchmark clock (CPU time of this process unless
`--wall`); the ones with worker processes always with wall time, and their ratio is against the
single env's wall time in the same repeats. The contact scenarios (push_box, box_flipup,
box_flipup_dr: 30 to 300 env steps/s single) run fewer steps and up to `--contact-worlds`.

Targets (printed as met or missed; nothing is asserted): pendulum at N = 64 at least 10x scn's
single env and at least 2x Gymnasium's Pendulum-v1 single env; cart_pole and acrobot at N = 64
at least 5x their single env; box_flipup at N = 16: cost per env step at most 1.1x the single env's.

    .venv/bin/python -m bench.bench_batch [--quick] [--scenarios pendulum ...] [--worlds 1,4,16,64,256]
        [--contact-worlds 1,4,16] [--repeats 3] [--workers 2] [--per-worker 8] [--no-processes] [--wall]
"""

from __future__ import annotations

import argparse
import datetime
import gc
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from bench.common import ROOT, SCENARIOS, clock_name, interleaved, machine, median, now, paired_ratio, use_wall_clock

#: scenario -> (env steps per run, at least this many vector steps per run), about 0.3 to 1 s of
#: CPU for the single env here
BUDGET = {"pendulum": (4000, 40), "cart_pole": (2000, 20), "acrobot": (1000, 4),
          "push_box": (60, 2), "box_flipup": (48, 3), "box_flipup_dr": (24, 2)}
#: scn scenario -> the Gymnasium env it is modelled on
GYM = {"pendulum": "Pendulum-v1", "cart_pole": "CartPole-v1", "acrobot": "Acrobot-v1"}
CONTACT = ("push_box", "box_flipup", "box_flipup_dr")
#: the N at which each scenario's target is set
TARGETS = {"pendulum": 64, "cart_pole": 64, "acrobot": 64, "box_flipup": 16}
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """This process's resident set size now, from /proc/self/statm (0 where there is none)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return 0


@dataclass
class Contestant:
    """One env (or vector env) of a scenario's table, and its figures."""

    label: str
    worlds: int  # env steps per vector step
    steps: int  # env steps per run
    body: Callable[[], None]  # one run: `steps` env steps
    processes: bool = False  # worker processes: timed with wall time
    build_s: float | None = None  # construction, in the benchmark clock
    reset_s: float | None = None  # the first reset
    rss: int | None = None  # RSS growth over construction and first reset, bytes
    rates: list[float] = field(default_factory=list)  # env steps/s per repeat (its own clock)
    wall: list[float] = field(default_factory=list)  # env steps/s per repeat, wall time
    close: Callable[[], None] | None = None

    def run(self) -> float:
        gc.disable()  # a collection of the other envs' garbage falls on whoever runs then
        try:
            start, start_wall = now(), time.perf_counter()
            self.body()
            elapsed, elapsed_wall = now() - start, time.perf_counter() - start_wall
        finally:
            gc.enable()
        self.wall.append(self.steps / elapsed_wall)
        return self.steps / elapsed_wall if self.processes else self.steps / elapsed


def draw_actions(space: Any, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Actions for `shape` (steps, or steps x worlds) from a single env's `space`, drawn now."""
    import gymnasium as gym

    rng = np.random.default_rng(seed)
    if isinstance(space, gym.spaces.Discrete):
        return (space.start + rng.integers(space.n, size=shape)).astype(space.dtype)
    return rng.uniform(space.low, space.high, (*shape, *space.shape)).astype(space.dtype)


def built(make: Callable[[], Any], reset: Callable[[Any], Any], wall: bool = False) -> tuple[Any, float, float, int]:
    """`make()` then `reset(env)`: the env, both times (benchmark clock, or wall time where the
    work is in worker processes) and this process's RSS growth."""
    clock = time.perf_counter if wall else now
    gc.collect()
    before = rss_bytes()
    start = clock()
    env = make()
    middle = clock()
    reset(env)
    end = clock()
    gc.collect()
    return env, middle - start, end - middle, rss_bytes() - before


def single(label: str, make: Callable[[], Any], steps: int, seed: int = 0) -> Contestant:
    """A Gymnasium env stepped one step at a time, reset (timed) when an episode ends."""
    env, build_s, reset_s, rss = built(make, lambda e: e.reset(seed=seed))
    actions = draw_actions(env.action_space, (steps,), seed)

    def body() -> None:
        for a in actions:
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()

    return Contestant(label, 1, steps, body, build_s=build_s, reset_s=reset_s, rss=rss, close=env.close)


def sb3_vector(label: str, make: Callable[[], Any], vector_steps: int, processes: bool = False,
               seed: int = 0) -> Contestant:
    """An SB3 `VecEnv` (automatic resets), one warm-up step before timing."""
    def reset(venv: Any) -> None:
        venv.seed(seed)
        venv.reset()

    venv, build_s, reset_s, rss = built(make, reset, wall=processes)
    space = venv.action_space
    actions = draw_actions(space, (vector_steps, venv.num_envs), seed)
    venv.step(actions[0])

    def body() -> None:
        for a in actions:
            venv.step(a)

    return Contestant(label, venv.num_envs, vector_steps * venv.num_envs, body, processes=processes,
                      build_s=build_s, reset_s=reset_s, rss=None if processes else rss, close=venv.close)


def gym_vector(label: str, make: Callable[[], Any], vector_steps: int, seed: int = 0) -> Contestant:
    """A Gymnasium `VectorEnv` (its own autoreset), one warm-up step before timing."""
    venv, build_s, reset_s, rss = built(make, lambda v: v.reset(seed=seed))
    actions = draw_actions(venv.single_action_space, (vector_steps, venv.num_envs), seed)
    venv.step(actions[0])

    def body() -> None:
        for a in actions:
            venv.step(a)

    return Contestant(label, venv.num_envs, vector_steps * venv.num_envs, body, build_s=build_s,
                      reset_s=reset_s, rss=rss, close=venv.close)


def vector_steps_for(name: str, worlds: int, scale: float) -> int:
    budget, least = BUDGET.get(name, (200, 2))
    return max(least, math.ceil(budget * scale / worlds))


def contestants(name: str, worlds: list[int], scale: float, procs: tuple[int, int] | None) -> list[Contestant]:
    """Every contestant of scenario `name`, built (batches in order of N, for the RSS figures)."""
    import gymnasium as gym
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from scenario_dsl import load
    from scenario_dsl.runtime.batch_env import ScenarioBatchEnv, ScenarioVectorEnv
    from scenario_dsl.runtime.env import EnvFactory, ScenarioEnv
    from scenario_dsl.runtime.vec_env import ScenarioVecEnv

    spec = load(SCENARIOS / f"{name}.scn")
    budget = max(1, round(BUDGET.get(name, (200, 2))[0] * scale))
    out = [single("scn ScenarioEnv", lambda: ScenarioEnv(spec, seed=0), budget)]
    for n in worlds:
        label = "scn ScenarioBatchEnv"
        out.append(sb3_vector(label, partial(ScenarioBatchEnv, spec, n, seed=0), vector_steps_for(name, n, scale)))
        print(f"  built {label} N={n}: {out[-1].build_s:.2f} + {out[-1].reset_s:.2f} s", flush=True)
    target = TARGETS.get(name)
    if name in GYM and target is not None and target in worlds:  # the Gymnasium VectorEnv, at the target's N
        out.append(gym_vector("scn ScenarioVectorEnv", partial(ScenarioVectorEnv, spec, target, seed=0),
                              vector_steps_for(name, target, scale)))
    if name in GYM:
        gym_id = GYM[name]
        out.append(single(f"gym {gym_id}", lambda: gym.make(gym_id), budget))
        entry = gym.spec(gym_id).vector_entry_point is not None
        for n in (n for n in worlds if n > 1):
            steps = vector_steps_for(name, n, scale)
            out.append(gym_vector("gym make_vec sync", partial(gym.make_vec, gym_id, num_envs=n,
                                                               vectorization_mode="sync"), steps))
            if entry:
                out.append(gym_vector("gym make_vec vector_entry_point", partial(
                    gym.make_vec, gym_id, num_envs=n, vectorization_mode="vector_entry_point"), steps))
    if procs is not None:
        workers, per_worker = procs
        factory = EnvFactory(spec)
        out.append(sb3_vector(f"SB3 SubprocVecEnv ({workers} workers)",
                              lambda: SubprocVecEnv([factory] * workers), vector_steps_for(name, workers, scale),
                              processes=True))
        envs = workers * per_worker
        out.append(sb3_vector(f"scn ScenarioVecEnv ({workers}x{per_worker})",
                              lambda: ScenarioVecEnv([factory] * envs, n_workers=workers),
                              vector_steps_for(name, envs, scale), processes=True))
    return out


def bench(name: str, worlds: list[int], scale: float, repeats: int, procs: tuple[int, int] | None) -> None:
    print(f"\n{name}: building", flush=True)
    everyone = contestants(name, worlds, scale, procs)
    try:
        labels = [f"{c.label} N={c.worlds} #{i}" for i, c in enumerate(everyone)]
        by_label = dict(zip(labels, everyone, strict=True))
        figures = interleaved({k: c.run for k, c in by_label.items()}, repeats)
        for k, c in by_label.items():
            c.rates = figures[k]
    finally:
        for c in everyone:
            if c.close is not None:
                c.close()
    report(name, everyone)


def ratio(c: Contestant, base: Contestant | None) -> float:
    """c's env steps/s over base's, per repeat, median; wall time on both sides where c has workers."""
    if base is None:
        return float("nan")
    return paired_ratio(c.wall, base.wall) if c.processes else paired_ratio(c.rates, base.rates)


def ratio_text(c: Contestant, base: Contestant | None) -> str:
    return "" if base is None else f"{ratio(c, base):.2f}"


def report(name: str, everyone: list[Contestant]) -> None:
    scn = everyone[0]
    gym_single = next((c for c in everyone if c.label.startswith("gym ") and c.worlds == 1), None)
    print(f"\n{name}: scn ScenarioEnv {median(scn.rates):.1f} env steps/s"
          + (f", {gym_single.label[4:]} {median(gym_single.rates):.1f}" if gym_single else "")
          + f" (wall: {median(scn.wall):.1f})")
    print(f"  {'contestant':<34} {'N':>4} {'steps':>6} {'env steps/s':>11} {'us/step':>9} {'vs scn single':>13} "
          f"{'vs gym single':>13} {'build s':>8} {'reset s':>8} {'RSS MB':>7} {'KB/world':>8}  runs")
    for c in everyone:
        rate = median(c.rates)
        rss = "" if c.rss is None else f"{c.rss / 2**20:.1f}"
        per_world = "" if c.rss is None else f"{c.rss / c.worlds / 1024:.0f}"
        clock = " (wall)" if c.processes else ""
        print(f"  {c.label + clock:<34} {c.worlds:>4} {c.steps:>6} {rate:>11.1f} {1e6 / rate:>9.1f} "
              f"{ratio_text(c, scn):>13} {ratio_text(c, gym_single):>13} {c.build_s:>8.3f} {c.reset_s:>8.3f} "
              f"{rss:>7} {per_world:>8}  [{', '.join(f'{v:.0f}' for v in c.rates)}]")
    batches = [c for c in everyone if c.label == "scn ScenarioBatchEnv" and c.rss is not None]
    if len(batches) >= 2:
        low, high = batches[0], batches[-1]
        growth = (high.rss - low.rss) / (high.worlds - low.worlds)  # type: ignore[operator]
        print(f"  memory: RSS growth of the N={high.worlds} batch over the N={low.worlds} batch, per extra world: "
              f"{growth / 1024:.0f} KB ({high.rss / 2**20:.1f} MB against {low.rss / 2**20:.1f} MB)")  # type: ignore[operator]
    targets(name, everyone, scn, gym_single)


def targets(name: str, everyone: list[Contestant], scn: Contestant, gym_single: Contestant | None) -> None:
    n = TARGETS.get(name)
    if n is None:
        return
    batch = next((c for c in everyone if c.label == "scn ScenarioBatchEnv" and c.worlds == n), None)
    if batch is None:
        print(f"  target at N={n}: not measured (N={n} not among the worlds)")
        return

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    if name == "box_flipup":
        cost = paired_ratio(scn.rates, batch.rates)  # cost per env step, batch / single
        print(f"  target: box_flipup N={n} cost per env step {cost:.3f}x the single env's (<= 1.1): "
              f"{verdict(cost <= 1.1)}")
        return
    want = 10.0 if name == "pendulum" else 5.0
    r = ratio(batch, scn)
    print(f"  target: {name} N={n} {r:.3f}x scn's single env (>= {want:g}x): {verdict(r >= want)}")
    if name == "pendulum" and gym_single is not None:
        g = ratio(batch, gym_single)
        print(f"  target: pendulum N={n} {g:.3f}x Gymnasium's Pendulum-v1 single env (>= 2x): {verdict(g >= 2.0)}")


def commit() -> str:
    """HEAD's short hash, and whether scenario_dsl/ differs from it (read-only git commands)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "?"

    changed = git("status", "--porcelain", "--", "scenario_dsl")
    state = "with local changes" if changed else "as committed"
    return f"{git('rev-parse', '--short', 'HEAD')} (scenario_dsl/ {state})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: a quarter of the steps, N up to 16 "
                        "(contact scenarios up to 4), 2 repeats, worker processes for the first scenario only")
    bundled = [*BUDGET, *sorted(p.stem for p in SCENARIOS.glob("*.scn") if p.stem not in BUDGET)]
    parser.add_argument("--scenarios", nargs="+", default=bundled, help="default: every bundled scenario")
    parser.add_argument("--worlds", default=None, help="N, comma separated (default 1,4,16,64,256; quick 1,4,16)")
    parser.add_argument("--contact-worlds", default=None, help=f"N for {', '.join(CONTACT)}, comma separated "
                        "(default 1,4,16; quick 1,4)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3, quick 2")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of SubprocVecEnv and ScenarioVecEnv")
    parser.add_argument("--per-worker", type=int, default=8, help="envs per ScenarioVecEnv worker")
    parser.add_argument("--no-processes", action="store_true", help="leave out SubprocVecEnv and ScenarioVecEnv")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    parser.add_argument("--no-header", action="store_true", help=argparse.SUPPRESS)  # one scenario of a run
    options = parser.parse_args()
    use_wall_clock(options.wall)

    def parse(text: str | None, default: str) -> list[int]:
        return sorted({int(x) for x in (text or default).split(",")})

    worlds = parse(options.worlds, "1,4,16" if options.quick else "1,4,16,64,256")
    contact = parse(options.contact_worlds, "1,4" if options.quick else "1,4,16")
    repeats = options.repeats or (2 if options.quick else 3)
    scale = 0.25 if options.quick else 1.0
    procs = None if options.no_processes else (options.workers, options.per_worker)
    if not options.no_header:
        print(f"many worlds in one diagram: {machine()}; median of {repeats} interleaved repeats; "
              f"clock: {clock_name()} (worker-process contestants: wall time)")
        print(f"commit {commit()}; {datetime.datetime.now().isoformat(timespec='seconds')}")
        print(f"worlds {worlds}; contact scenarios ({', '.join(CONTACT)}) {contact}; random actions drawn before "
              "timing; each scenario in a fresh interpreter")
        print("env steps/s counts every world's steps; vs scn/gym single = median over repeats of contestant / that "
              "single env in the same repeat; build s = construction, reset s = first reset (benchmark clock); "
              "RSS MB = this process's RSS growth over both, KB/world = that / N", flush=True)
    if len(options.scenarios) == 1:
        name = options.scenarios[0]
        bench(name, contact if name in CONTACT else worlds, scale, repeats, procs)
        return
    # One interpreter per scenario: memory freed by one scenario's envs would be reused by the
    # next one's, and their RSS would not grow.
    for i, name in enumerate(options.scenarios):
        command = [sys.executable, "-m", "bench.bench_batch", "--no-header", "--scenarios", name,
                   "--worlds", ",".join(map(str, worlds)), "--contact-worlds", ",".join(map(str, contact)),
                   "--repeats", str(repeats), "--workers", str(options.workers),
                   "--per-worker", str(options.per_worker)]
        command += ["--quick"] if options.quick else []
        command += ["--wall"] if options.wall else []
        # quick: worker processes (seconds to start) for the first scenario only
        command += ["--no-processes"] if procs is None or (options.quick and i > 0) else []
        code = subprocess.run(command, cwd=ROOT).returncode
        if code:
            print(f"{name}: exit {code}", flush=True)

if __name__ == "__main__":
    main()
