"""Cameras (issue 16): what rendering an observed image costs per env step, against the image's
size and the number of cameras, on box_flipup_pixels.scn (the flip-up at fast physics, its
colour drawn per episode). Each configuration steps one `ScenarioEnv` with random actions
(`--steps` steps, resets included), taking turns over `--repeats` repeats; the row without a
camera is the same scenario observing only the state. Prints env steps per second (median of
the repeats) and the milliseconds a step costs beyond the state-only row.

    .venv/bin/python -m bench.bench_cameras [--steps 300] [--repeats 3] [--sizes 32,64,128,256]
        [--cameras 1,2,4] [--wall]
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.common import SCENARIOS, clock_name, interleaved, machine, median, rate, runs_text, use_wall_clock
from scenario_dsl import loads
from scenario_dsl.runtime.env import ScenarioEnv

BASE = (SCENARIOS / "box_flipup_pixels.scn").read_text()
CAMERA = BASE[BASE.index("camera front"):BASE.index("observation pixels")]


def variant(size: int, cameras: int) -> str:
    """box_flipup_pixels.scn with `cameras` cameras of size x size pixels, each observed (0: none)."""
    text = BASE.replace(CAMERA, "").replace("observation pixels = front.color\n", "")
    text = "\n".join(line for line in text.splitlines() if "front." not in line)
    extra = []
    for i in range(cameras):
        camera = CAMERA.replace("camera front", f"camera cam{i}").replace("width = 64", f"width = {size}") \
            .replace("height = 64", f"height = {size}").replace("[0, -0.9, 0.15]", f"[{0.05 * i}, -0.9, 0.15]")
        extra.append(camera + f"observation pixels{i} = cam{i}.color\n")
    return text.replace('include "box_flipup_fast_physics.scn"\n',
                        'include "box_flipup_fast_physics.scn"\n' + "".join(extra))


def stepper(text: str, steps: int):  # type: ignore[no-untyped-def]
    env = ScenarioEnv(loads(text, base_dir=SCENARIOS), seed=0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(env.action_space.low, env.action_space.high, (steps, *env.action_space.shape))

    def run() -> float:
        def go() -> None:
            env.reset(seed=0)
            for action in actions:
                _, _, terminated, truncated, _ = env.step(action.astype(np.float32))
                if terminated or truncated:
                    env.reset()
        return rate(steps, go)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="32,64,128,256")
    parser.add_argument("--cameras", default="1,2,4")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock (default: CPU time)")
    options = parser.parse_args()
    use_wall_clock(options.wall)
    sizes = [int(s) for s in options.sizes.split(",")]
    counts = [int(c) for c in options.cameras.split(",")]
    configs = {"no camera (state only)": variant(64, 0)}
    configs.update({f"1 camera {s}x{s}": variant(s, 1) for s in sizes})
    configs.update({f"{c} cameras 64x64": variant(64, c) for c in counts if c != 1})
    runs = {name: stepper(text, options.steps) for name, text in configs.items()}
    figures = interleaved(runs, options.repeats)
    print(f"# {machine()}; {clock_name()}; {options.steps} steps x {options.repeats} repeats, box_flipup_pixels")
    base = median(figures["no camera (state only)"])
    print(f"{'configuration':26s} {'steps/s':>9s} {'ms/step over state':>19s}  runs")
    for name, values in figures.items():
        steps_per_second = median(values)
        extra = 1e3 / steps_per_second - 1e3 / base
        print(f"{name:26s} {steps_per_second:9.1f} {extra:19.2f}  {runs_text(values)}")


if __name__ == "__main__":
    main()
