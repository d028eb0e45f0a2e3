"""Physics settings (issue 6, item 4): simulated seconds per wall second of box_flipup under each
contact model x discrete contact approximation x plant time step that the language offers, so
users can pick a fast setting. Each row is box_flipup.scn with only its `plant { }` block
changed, stepped through `ScenarioEnv` with the same random actions for `--seconds` of simulated
time; `vs lecture` is the speed relative to the lecture's own setting (hydroelastic_with_fallback,
lagged, 1 ms) measured in the same repeat. The settings change the physics too, not only its
speed: check a fast setting's behaviour before training on it. The `box z min` column is the
lowest height of the box's centre during the runs: the box lying on the bin's floor has it at
0.025 m, and a setting under which the box falls through the floor (the lecture's contact
stiffness at point contact and 5 ms does) is marked, its speed meaningless. `--variant` times
box_flipup_fast.scn's bodies (softer point contact) instead of box_flipup.scn's.

    .venv/bin/python -m bench.bench_physics [--quick] [--seconds 2] [--repeats 3] [--steps 1,2,5]
        [--variant box_flipup_fast]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from bench.common import clock_name, machine, median, now, runs_text, use_wall_clock

CONTACT_MODELS = ("hydroelastic_with_fallback", "hydroelastic", "point")
LECTURE = ("hydroelastic_with_fallback", "lagged", 1.0)
BOX_Z = 1  # the box's height in box_flipup's observation (the plant state)
FLOOR = 0.0  # the top of the bin's floor


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 s simulated, 1 repeat, time steps 1 and 2 ms")
    parser.add_argument("--seconds", type=float, default=None, help="simulated seconds per run (default 2)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3")
    parser.add_argument("--steps", default=None, help="plant time steps in ms, comma separated (default 1,2,5)")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    parser.add_argument("--variant", default="box_flipup", help="the bundled scenario whose plant block changes "
                        "(default box_flipup; box_flipup_fast has softer contact)")
    options = parser.parse_args()
    use_wall_clock(options.wall)
    seconds = options.seconds or (1.0 if options.quick else 2.0)
    repeats = options.repeats or (1 if options.quick else 3)
    time_steps = [float(x) for x in (options.steps or ("1,2" if options.quick else "1,2,5")).split(",")]

    from bench.common import load_variant
    from scenario_dsl.compiler.plant import discrete_contact_approximations
    from scenario_dsl.runtime.env import ScenarioEnv

    approximations = discrete_contact_approximations()
    print(f"physics settings: {machine()}; clock: {clock_name()}")
    print(f"{options.variant}, {seconds:g} s simulated per run, median of {repeats} repeats (all settings take turns); "
          f"approximations offered by this Drake: {', '.join(approximations)}")
    envs: dict[tuple[str, str, float], ScenarioEnv | str] = {}
    for model, approximation, dt in itertools.product(CONTACT_MODELS, approximations, time_steps):
        plant = f"time_step = {dt:g} ms; contact_model = {model}; discrete_contact_approximation = {approximation}"
        try:
            envs[(model, approximation, dt)] = ScenarioEnv(load_variant(options.variant, plant=plant), seed=0)
        except Exception as exc:  # a setting that does not build is a row of the table
            envs[(model, approximation, dt)] = f"does not build: {str(exc).splitlines()[0][:80]}"
    first = next(e for e in envs.values() if not isinstance(e, str))
    rng = np.random.default_rng(0)
    n_steps = max(1, round(seconds / first.time_step))
    actions = rng.uniform(first.action_space.low, first.action_space.high, (n_steps, 2)).astype(np.float32)

    figures: dict[tuple[str, str, float], list[float]] = {k: [] for k, e in envs.items() if not isinstance(e, str)}
    notes: dict[tuple[str, str, float], str] = {}
    lowest: dict[tuple[str, str, float], float] = {k: np.inf for k in figures}
    for _ in range(repeats):
        for key in figures:
            env = envs[key]
            assert not isinstance(env, str)
            env.reset(seed=0)
            start = now()
            truncated = False
            for action in actions:
                observation, _, _, truncated, info = env.step(action)
                lowest[key] = min(lowest[key], float(observation[BOX_Z]))
                if truncated and "truncation_reason" in info and info["truncation_reason"] != "time_limit":
                    notes[key] = info["truncation_reason"][:60]
                    break
            elapsed = now() - start
            simulated = env.simulator.get_context().get_time()
            figures[key].append(simulated / elapsed)
    lecture = figures.get(LECTURE)
    print(f"{'contact model':<27} {'approximation':<13} {'dt ms':>5} {'sim s/clock s':>12} {'vs lecture':>10} "
          f"{'box z min':>9}  runs")
    for key, env in envs.items():
        model, approximation, dt = key
        if isinstance(env, str):
            print(f"{model:<27} {approximation:<13} {dt:>5g} {'-':>12} {'-':>10} {'-':>9}  {env}")
            continue
        values = figures[key]
        ratio = median(v / w for v, w in zip(values, lecture, strict=True)) if lecture else float("nan")
        mark = "  <- the lecture's setting" if key == LECTURE else ""
        note = f"  ({notes[key]})" if key in notes else ""
        fell = "  FELL THROUGH THE FLOOR: not the task's physics" if lowest[key] < FLOOR else ""
        print(f"{model:<27} {approximation:<13} {dt:>5g} {median(values):>12.2f} {ratio:>10.2f} {lowest[key]:>9.3f}  "
              f"[{runs_text(values, 2)}]{mark}{note}{fell}")


if __name__ == "__main__":
    main()
