"""Resets (issue 6, item 5): resets per second of `ScenarioEnv.reset()` with no randomization
(the scenario's `randomize` block removed) against the scenario as bundled (reset-scope draws),
taking turns in each repeat; and rebuilding the env per episode (compile + `ScenarioEnv` + reset),
which is what a build-scope draw (a geometry size, a gain, a time step) costs: the language has
no build scope yet (`randomize per build` is SCN505), so this row is its price tag.

Resets are unseeded, as in training (the generator continues); `--seeded` passes a new seed each
time (adds Gymnasium's and scn's seeding: about 0.1 ms).

    .venv/bin/python -m bench.bench_resets [--quick] [--resets 300] [--repeats 5] [--seeded]
"""

from __future__ import annotations

import argparse

from bench.common import (
    SCENARIOS,
    clock_name,
    interleaved,
    load_variant,
    machine,
    median,
    now,
    paired_ratio,
    runs_text,
    use_wall_clock,
)

#: scenario -> what its randomize block draws
CASES = {
    "box_flipup": "1 draw: box_joint.x (the lecture's)",
    "cart_pole": "3 draws: joint q and v",
    "push_box": "5 draws: free body x, y, yaw, mass (scale), friction (scene graph role)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer resets and repeats")
    parser.add_argument("--resets", type=int, default=None, help="resets per run (default 300, quick 100)")
    parser.add_argument("--repeats", type=int, default=None, help="default 5, quick 3")
    parser.add_argument("--rebuilds", type=int, default=None, help="rebuilds per run (default 5, quick 2)")
    parser.add_argument("--seeded", action="store_true", help="reset(seed=i) instead of reset()")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    options = parser.parse_args()
    use_wall_clock(options.wall)
    count = options.resets or (100 if options.quick else 300)
    repeats = options.repeats or (3 if options.quick else 5)
    rebuilds = options.rebuilds or (2 if options.quick else 5)

    from scenario_dsl import load
    from scenario_dsl.runtime.env import ScenarioEnv

    print(f"resets: {machine()}; {'seeded' if options.seeded else 'unseeded'} resets, {count} per run, "
          f"median of {repeats} repeats (plain and randomized take turns); clock: {clock_name()}")
    print(f"{'scenario':<11} {'plain/s':>9} {'random/s':>9} {'ratio':>6} {'+us/reset':>11}  randomization")

    def resets(env: ScenarioEnv) -> float:
        start = now()
        for i in range(count):
            env.reset(seed=i) if options.seeded else env.reset()
        return count / (now() - start)

    for name, what in CASES.items():
        plain = ScenarioEnv(load_variant(name, randomize=False), seed=0)
        randomized = ScenarioEnv(load(SCENARIOS / f"{name}.scn"), seed=0)
        plain.reset(seed=0)
        randomized.reset(seed=0)
        figures = interleaved({"plain": lambda p=plain: resets(p), "random": lambda r=randomized: resets(r)}, repeats)
        p, r = median(figures["plain"]), median(figures["random"])
        print(f"{name:<11} {p:>9.0f} {r:>9.0f} {paired_ratio(figures['random'], figures['plain']):>6.2f} "
              f"{(1 / r - 1 / p) * 1e6:>11.0f}  {what}")
        print(f"{'':<11} runs plain [{runs_text(figures['plain'], 0)}] randomized [{runs_text(figures['random'], 0)}]")

    scenario = load(SCENARIOS / "box_flipup.scn")
    times = []
    for _ in range(repeats):
        start = now()
        for i in range(rebuilds):
            ScenarioEnv(scenario, seed=i).reset()
        times.append((now() - start) / rebuilds)
    print("box_flipup rebuild per episode (compile_scenario + ScenarioEnv + reset): "
          f"median {median(times) * 1e3:.0f} ms "
          f"= {1 / median(times):.1f} resets/s  (runs, ms: [{runs_text([t * 1e3 for t in times], 0)}])")


if __name__ == "__main__":
    main()
