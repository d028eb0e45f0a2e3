"""Env overhead (issue 6, item 2): per bundled scenario, `ScenarioEnv.step` steps per second
against the physics alone, `Simulator.AdvanceTo` over the same diagram with no Python in the
loop (one call for the whole stretch). Target: env / raw >= 0.97.

Same simulator, same start (`reset(seed=e)`), same constant action (the middle of the action
range), so both runs compute the same trajectory (checked: the final plant states must match;
they cannot where the env adds per-step noise or pushes, as box_flipup_dr does: then the
Python cost of those draws is also timed alone).
A third column, `loop`, calls `AdvanceTo` once per env step from Python and writes the action
in place, evaluating nothing: the floor of any Python env loop. Resets are not timed.

    .venv/bin/python -m bench.bench_overhead [--quick] [--repeats 5] [--scenario NAME ...]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from bench.common import (
    SCENARIOS,
    clock_name,
    interleaved,
    machine,
    median,
    now,
    paired_ratio,
    runs_text,
    use_wall_clock,
)

#: env steps per run, per scenario (about a second of work each on one core here; others: 200)
BUDGET = {"pendulum": 4000, "cart_pole": 1000, "acrobot": 1000, "push_box": 100, "box_flipup": 40, "box_flipup_dr": 40}


def bench(name: str, steps: int, repeats: int) -> None:
    from scenario_dsl import load
    from scenario_dsl.runtime.env import ScenarioEnv

    env = ScenarioEnv(load(SCENARIOS / f"{name}.scn"), seed=0)
    compiled = env.compiled
    action = compiled.to_agent(compiled.neutral_action()).astype(env.action_space.dtype)
    per_episode = min(steps, env.max_steps or steps)
    episodes = math.ceil(steps / per_episode)
    total = per_episode * episodes

    # Read through `env` each time: a seeded reset of a scenario with `randomize per build`
    # (box_flipup_dr) compiles a new diagram with its own simulator.
    def final_state() -> np.ndarray:
        plant = env.compiled.plant
        return plant.GetPositionsAndVelocities(plant.GetMyContextFromRoot(env.simulator.get_context())).copy()

    def timed(body) -> float:  # steps per second over `episodes` episodes; resets untimed
        elapsed = 0.0
        for e in range(episodes):
            env.reset(seed=e)
            start = now()
            body()
            elapsed += now() - start
        return total / elapsed

    def env_steps() -> None:
        for _ in range(per_episode):
            env.step(action)

    def raw() -> None:
        simulator = env.simulator
        env.action_port.FixValue(simulator.get_mutable_context(), action.astype(np.float64))
        simulator.AdvanceTo(per_episode * env.time_step)

    def loop() -> None:
        simulator = env.simulator
        fixed = env.action_port.FixValue(simulator.get_mutable_context(), action.astype(np.float64))
        for k in range(1, per_episode + 1):
            fixed.GetMutableData().get_mutable_value().SetFromVector(action.astype(np.float64))
            simulator.AdvanceTo(k * env.time_step)

    timed(env_steps)
    after_env = final_state()
    timed(raw)
    after_raw = final_state()
    same = "same final state" if np.array_equal(after_env, after_raw) else (
        f"final states differ by {np.max(np.abs(after_env - after_raw)):.1e}")
    figures = interleaved({"env": lambda: timed(env_steps), "raw": lambda: timed(raw),
                           "loop": lambda: timed(loop)}, repeats)
    env_rate, raw_rate, loop_rate = (median(figures[k]) for k in ("env", "raw", "loop"))
    ratio = paired_ratio(figures["env"], figures["raw"])
    overhead_us = (1 / env_rate - 1 / raw_rate) * 1e6
    loop_us = (1 / loop_rate - 1 / raw_rate) * 1e6
    print(f"{name:<14} {total:>5} {env_rate:>9.1f} {raw_rate:>9.1f} {loop_rate:>9.1f} {ratio:>7.3f} "
          f"{'ok' if ratio >= 0.97 else 'MISS':>4} {overhead_us:>8.0f} {loop_us:>8.0f} {1e6 / raw_rate:>9.0f}  {same}")
    print(f"{'':<14} runs env [{runs_text(figures['env'])}] raw [{runs_text(figures['raw'])}]")
    if env.compiled.randomizer.has_noise:
        # What per-step randomization adds in Python, alone: the raw run has no noise, so the two
        # runs follow different trajectories and their difference is not all overhead.
        neutral = np.asarray(action, dtype=np.float64)
        env.reset(seed=0)
        count = 2000
        start = now()
        for _ in range(count):
            env._noisy_action(neutral)  # draws the step's noise and push, fixes the push input
            env._with_noise(np.zeros(env.observation_space.shape))
        print(f"{'':<14} per-step noise and push draws alone: {(now() - start) / count * 1e6:.0f} us per step")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the steps, 3 repeats")
    parser.add_argument("--repeats", type=int, default=None)
    bundled = [*BUDGET, *sorted(p.stem for p in SCENARIOS.glob("*.scn") if p.stem not in BUDGET)]
    parser.add_argument("--scenario", nargs="*", default=bundled, help="default: every bundled scenario")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    options = parser.parse_args()
    use_wall_clock(options.wall)
    repeats = options.repeats or (3 if options.quick else 5)
    print(f"env overhead: {machine()}; median of {repeats} interleaved repeats; clock: {clock_name()}")
    print("steps/s: env = ScenarioEnv.step; raw = one AdvanceTo over the same steps; loop = AdvanceTo per step "
          "from Python, nothing evaluated")
    print("ratio = median over repeats of env/raw (target >= 0.97); overhead, loop = us per step above raw")
    print(f"{'scenario':<14} {'steps':>5} {'env':>9} {'raw':>9} {'loop':>9} {'ratio':>7} {'':>4} "
          f"{'overhead':>8} {'loop':>8} {'raw us':>9}")
    for name in options.scenario:
        steps = BUDGET.get(name, 200)
        bench(name, max(10, steps // 4) if options.quick else steps, repeats)


if __name__ == "__main__":
    main()
