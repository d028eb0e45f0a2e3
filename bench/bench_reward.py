"""Reward evaluation cost: `ExpressionSystem`'s backends against a hand-written Python LeafSystem.

    .venv/bin/python bench/bench_reward.py [--quick] [--no-env]

Cases (each an expression IR, as the front end produces):
- `flipup`: the lecture's box_flipup reward (manipulation.envs.box_flipup.RewardSystem) as one
  expression over the 10-number plant state and the 2-number action; the Python baseline is
  that RewardSystem's arithmetic over the same 12-number input.
- `flipup.scn`: the reward terms of scenarios/box_flipup.scn, as the compiler builds them (4
  outputs over the 8 gathered numbers they read).
- `large`: a ten-term manipulation reward (distances, exp, acos, wrap, atan2, where, clip,
  dot, min/max, ...) over 41 numbers.
- `wide`: sums and norms over two 200-vectors (where NumPy's vectorisation might pay).

Figures, each the median over interleaved repeats of a block's mean:
- per evaluation: set the input (in place, notifying the context) then `port.Eval(context)`;
  the time to set the input alone is printed too, and subtracted in the `net` columns;
- per env step in a small diagram (see `step_run`), once discrete only and once with a
  continuous state, where the symbolic backend needs `continuous=True` (`sym+state`);
- unless `--no-env`: `ScenarioEnv.step` on scenarios/box_flipup.scn, real physics.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
from pydrake.systems.analysis import Simulator
from pydrake.systems.framework import BasicVector, Context, DiagramBuilder, LeafSystem, System
from pydrake.systems.primitives import Integrator, LinearSystem

import scenario_dsl
from scenario_dsl.compiler import expressions
from scenario_dsl.compiler.expressions import ExpressionSystem
from scenario_dsl.lang.evaluate import collect_signals
from scenario_dsl.lang.model import Apply, Const, Expr, Signal

ROOT = Path(__file__).resolve().parents[1]


# ---- IR shorthands --------------------------------------------------------------------------

def c(value: float | list[float]) -> Const:
    return Const(value=value, size=len(value) if isinstance(value, list) else None)


def s(source: str, name: str, attribute: str, size: int | None = None) -> Signal:
    return Signal(source=source, name=name, attribute=attribute, size=size)  # type: ignore[arg-type]


def f(fn: str, *args: Expr, size: int | None = None) -> Apply:
    return Apply(fn=fn, args=list(args), size=size)


def at(v: Expr, i: int) -> Apply:
    return f("index", v, c(float(i)))


# ---- cases ----------------------------------------------------------------------------------

STATE, ACTION = s("plant", "plant", "state", 10), s("action", "target", "value", 2)


def flipup() -> list[Expr]:
    """10 - (2 angle^2 + 0.1 omega^2 + 0.1 |u - q_finger|^2 + 0.1 |v_finger|^2), state =
    [box x, z, theta, finger x, z, box vx, vz, omega, finger vx, vz] (the lecture's layout)."""
    angle = f("sub", f("mod", at(STATE, 2), c(np.pi)), c(np.pi / 2))
    finger_q = f("vector", at(STATE, 3), at(STATE, 4), size=2)
    finger_v = f("vector", at(STATE, 8), at(STATE, 9), size=2)
    effort = f("sub", ACTION, finger_q, size=2)
    cost = f("add", f("add", f("add", f("mul", c(2.0), f("pow", angle, c(2.0))),
                                      f("mul", c(0.1), f("pow", at(STATE, 7), c(2.0)))),
                             f("mul", c(0.1), f("dot", effort, effort))),
             f("mul", c(0.1), f("dot", finger_v, finger_v)))
    return [f("sub", c(10.0), cost)]


class LectureReward(LeafSystem):
    """The lecture's RewardSystem, by hand, over one input [state (10); action (2)]."""

    def __init__(self) -> None:
        super().__init__()
        self.DeclareVectorInputPort("signals", 12)
        self.DeclareVectorOutputPort("reward", 1, self.calc)

    def calc(self, context: Context, output: BasicVector) -> None:
        x = self.get_input_port(0).Eval(context)
        box_state, finger_state, actions = x[[0, 1, 2, 5, 6, 7]], x[[3, 4, 8, 9]], x[10:12]
        angle_from_vertical = (box_state[2] % np.pi) - np.pi / 2
        cost = 2 * angle_from_vertical**2
        cost += 0.1 * box_state[5] ** 2
        effort = actions - finger_state[:2]
        cost += 0.1 * effort.dot(effort)
        cost += 0.1 * finger_state[2:].dot(finger_state[2:])
        output[0] = 10 - cost


def flipup_scn() -> list[Expr]:
    scenario = scenario_dsl.load(ROOT / "scenarios" / "box_flipup.scn")
    return [term.value for term in scenario.reward]


def large() -> list[Expr]:
    ee, box, goal = s("body", "finger", "position", 3), s("body", "box", "position", 3), s("random", "goal", "value", 3)
    quat, box_v = s("body", "box", "quaternion", 4), s("body", "box", "velocity", 3)
    box_w = s("body", "box", "angular_velocity", 3)
    q, v, u, t = (s("controller", "arm", "q", 7), s("controller", "arm", "v", 7), s("action", "arm", "value", 7),
                  s("time", "time", "value"))
    reach = f("norm", f("sub", ee, box, size=3))
    to_goal = f("norm", f("sub", box, goal, size=3))
    tilt = f("mul", c(2.0), f("acos", f("clip", f("abs", at(quat, 0)), c(0.0), c(1.0))))
    heading = f("atan2", f("sub", at(goal, 1), at(box, 1)), f("sub", at(goal, 0), at(box, 0)))
    done = f("and", f("lt", to_goal, c(0.02)), f("lt", f("norm", box_v), c(0.05)))
    return [
        f("exp", f("mul", c(-5.0), reach)),
        f("div", c(1.0), f("add", c(1.0), f("mul", c(10.0), f("sq", to_goal)))),
        f("mul", c(-0.5), f("sq", f("wrap", tilt))),
        f("mul", c(-0.01), f("sum", f("sq", f("sub", u, q, size=7), size=7))),
        f("mul", c(-0.001), f("dot", v, v)),
        f("where", done, c(10.0), c(0.0)),
        f("neg", f("sum", f("max", f("sub", f("abs", q, size=7), c(2.5), size=7), c(0.0), size=7))),
        f("mul", c(-0.01), t),
        f("mul", c(-0.1), f("min", f("norm", box_w), c(5.0))),
        f("cos", f("sub", heading, f("wrap", f("mul", c(0.5), tilt)))),
    ]


def wide() -> list[Expr]:
    x, y = s("plant", "plant", "q", 200), s("plant", "plant", "v", 200)
    return [f("sum", f("sq", f("sub", x, y, size=200), size=200)), f("norm", x),
            f("max", f("abs", y, size=200)), f("dot", x, y)]


# ---- measurement ----------------------------------------------------------------------------

Run = Callable[[int], None]  # run(k): k iterations


def interleaved_us(runs: dict[str, Run], n: int, repeats: int) -> dict[str, float]:
    """Per name, the median over `repeats` of the mean time per iteration of `run(n)`, in
    microseconds. The runs take turns within each repeat, so a load that comes and goes on
    the machine falls on all of them alike."""
    for run in runs.values():
        run(max(1, n // 10))  # warm up
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run(n)
            times[name].append((time.perf_counter() - start) / n * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def inputs(width: int, count: int = 256) -> np.ndarray:
    """In-domain inputs: small numbers (quaternion-like entries stay within acos's domain)."""
    return np.random.default_rng(0).uniform(-0.9, 0.9, size=(count, width))


def evaluation_runs(system: System, port_name: str, width: int) -> tuple[Run, Run]:
    """(set the input and Eval the port, set the input alone)."""
    context = system.CreateDefaultContext()
    fixed = system.get_input_port(0).FixValue(context, np.zeros(width))
    port = system.GetOutputPort(port_name)
    xs = inputs(width)

    def change_and_eval(k: int) -> None:
        for i in range(k):
            fixed.GetMutableData().get_mutable_value().SetFromVector(xs[i & 255])  # notifies dependents
            port.Eval(context)

    def change(k: int) -> None:
        for i in range(k):
            fixed.GetMutableData().get_mutable_value().SetFromVector(xs[i & 255])

    return change_and_eval, change


def step_run(make: Callable[[], System], port_name: str, width: int, n_action: int, continuous: bool) -> Run:
    """Env steps in a small diagram: a discrete LinearSystem (10 ms) outputs [state; action]
    into the reward system; with `continuous`, an `Integrator` of the action too (as a PID's
    integral term), so the simulator integrates between the discrete updates. A step sets a
    new action, advances 100 ms and evaluates the reward, as an env does."""
    n_state = width - n_action
    builder = DiagramBuilder()
    rng = np.random.default_rng(1)
    a = 0.95 * np.eye(n_state) + 0.01 / np.sqrt(n_state) * rng.standard_normal((n_state, n_state))  # stable
    b = 0.1 * rng.standard_normal((n_state, n_action))
    cm = np.vstack([np.eye(n_state), np.zeros((n_action, n_state))])
    dm = np.vstack([np.zeros((n_state, n_action)), np.eye(n_action)])
    dynamics = builder.AddNamedSystem("dynamics", LinearSystem(a, b, cm, dm, time_period=0.01))
    reward = builder.AddNamedSystem("reward", make())
    builder.Connect(dynamics.get_output_port(), reward.get_input_port(0))
    builder.ExportInput(dynamics.get_input_port(), "action")
    if continuous:
        integral = builder.AddNamedSystem("integral", Integrator(n_action))
        builder.ConnectInput("action", integral.get_input_port())
    builder.ExportOutput(reward.GetOutputPort(port_name), "reward")
    diagram = builder.Build()
    simulator = Simulator(diagram)
    context = simulator.get_mutable_context()
    action_port, reward_port = diagram.GetInputPort("action"), diagram.GetOutputPort("reward")
    actions = inputs(n_action)
    action_port.FixValue(context, actions[0])
    simulator.Initialize()

    def steps(k: int) -> None:
        for i in range(k):
            action_port.FixValue(context, actions[i & 255])
            simulator.AdvanceTo(context.get_time() + 0.1)
            reward_port.Eval(context)

    return steps


def env_run(backend: str) -> tuple[Run, Callable[[], float]]:
    """`ScenarioEnv.step` on box_flipup.scn with its expression systems built with `backend`
    (symbolic: with `continuous=True`, the diagram has a PID integral), and a function giving
    the integrator's derivative evaluations per step so far. The compiler picks the backend
    itself (`diagram.expression_backend`); the bench overrides that choice for the comparison."""
    from scenario_dsl.compiler import diagram
    from scenario_dsl.runtime.env import ScenarioEnv

    chosen = diagram.expression_backend
    built = expressions.ExpressionSystem
    diagram.expression_backend = lambda scenario: backend  # type: ignore[assignment,return-value]
    expressions.ExpressionSystem = functools.partial(built, continuous=True)  # type: ignore[misc,assignment]
    try:
        env = ScenarioEnv(scenario_dsl.load(ROOT / "scenarios" / "box_flipup.scn"), seed=0)
    finally:
        diagram.expression_backend = chosen
        expressions.ExpressionSystem = built  # type: ignore[misc]
    env.reset(seed=0)
    actions = np.random.default_rng(2).uniform(-1, 1, size=(256, 2)).astype(np.float32)
    integrator = env.simulator.get_integrator()
    counts = [0, 0]

    def steps(k: int) -> None:
        for i in range(k):
            before = integrator.get_num_derivative_evaluations()
            _, _, terminated, truncated, _ = env.step(actions[i & 255])
            counts[0] += integrator.get_num_derivative_evaluations() - before
            counts[1] += 1
            if terminated or truncated:
                env.reset()

    return steps, lambda: counts[0] / max(1, counts[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke test)")
    parser.add_argument("--no-env", action="store_true", help="skip the ScenarioEnv step on box_flipup.scn")
    options = parser.parse_args()
    n_eval, n_step, n_env, repeats = (2_000, 100, 10, 3) if options.quick else (20_000, 1_000, 100, 9)
    print(f"drake {version('drake')}, numpy {np.__version__}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus; each figure the median of {repeats} interleaved repeats")
    cases: list[tuple[str, list[Expr], list[Signal], int]] = [
        ("flipup (lecture)", flipup(), [STATE, ACTION], 2),
        ("flipup.scn terms", flipup_scn(), collect_signals(flipup_scn()), 2),
        ("large", large(), collect_signals(large()), 7),
        ("wide (2x200)", wide(), collect_signals(wide()), 1),
    ]

    def system(backend: str, exprs: list[Expr], signals: list[Signal], continuous: bool = False) -> System:
        return ExpressionSystem({"out": exprs}, signals, backend=backend, continuous=continuous)  # type: ignore[arg-type]

    print(f"\nper evaluation, us: set the input in place, then port.Eval ({n_eval} per block); "
          "net = minus setting the input alone")
    print(f"{'case':<17} {'in':>3} {'out':>3} {'set':>5} {'python':>7} {'numpy':>7} {'symbolic':>8} "
          f"{'net py':>7} {'net np':>7} {'net sym':>7} {'np/sym':>6} {'py/sym':>6}")
    for name, exprs, signals, _ in cases:
        width = sum(sig.size or 1 for sig in signals)
        runs: dict[str, Run] = {}
        runs["numpy"], runs["set"] = evaluation_runs(system("numpy", exprs, signals), "out", width)
        runs["symbolic"], _ = evaluation_runs(system("symbolic", exprs, signals), "out", width)
        if name == "flipup (lecture)":
            runs["python"], _ = evaluation_runs(LectureReward(), "reward", width)
        us = interleaved_us(runs, n_eval, repeats)
        net = {k: v - us["set"] for k, v in us.items()}
        py, net_py, py_ratio = (f"{us['python']:7.2f}", f"{net['python']:7.2f}",
                                f"{net['python'] / net['symbolic']:6.1f}") if "python" in us else ("-", "-", "-")
        print(f"{name:<17} {width:>3} {sum(e.size or 1 for e in exprs):>3} {us['set']:5.2f} {py:>7} "
              f"{us['numpy']:7.2f} {us['symbolic']:8.2f} {net_py:>7} {net['numpy']:7.2f} {net['symbolic']:7.2f} "
              f"{net['numpy'] / net['symbolic']:6.1f} {py_ratio:>6}")

    for continuous in (False, True):
        what = "discrete only" if not continuous else "with a continuous Integrator"
        print(f"\nper env step in a small diagram ({what}), us: LinearSystem 10 x 10 ms -> reward "
              f"({n_step} steps per block); sym+state = symbolic with continuous=True")
        print(f"{'case':<17} {'python':>7} {'numpy':>7} {'symbolic':>8} {'sym+state':>9} {'np/sym':>6} {'py/sym':>6}")
        for name, exprs, signals, n_action in cases:
            width = sum(sig.size or 1 for sig in signals)
            step = functools.partial(step_run, port_name="out", width=width, n_action=n_action, continuous=continuous)
            runs = {"numpy": step(functools.partial(system, "numpy", exprs, signals)),
                    "sym+state": step(functools.partial(system, "symbolic", exprs, signals, True))}
            if not continuous:  # a stateless SymbolicVectorSystem aborts the process in a continuous diagram
                runs["symbolic"] = step(functools.partial(system, "symbolic", exprs, signals))
            if name == "flipup (lecture)":
                runs["python"] = step_run(LectureReward, "reward", width, n_action, continuous)
            us = interleaved_us(runs, n_step, repeats)
            fastest_symbolic = us.get("symbolic", us["sym+state"])
            cells = [f"{us[k]:.1f}" if k in us else ("abort" if k == "symbolic" else "-")
                     for k in ("python", "numpy", "symbolic", "sym+state")]
            py_ratio = f"{us['python'] / fastest_symbolic:6.2f}" if "python" in us else "-"
            print(f"{name:<17} {cells[0]:>7} {cells[1]:>7} {cells[2]:>8} {cells[3]:>9} "
                  f"{us['numpy'] / fastest_symbolic:6.2f} {py_ratio:>6}")

    if not options.no_env:
        print(f"\nScenarioEnv.step on scenarios/box_flipup.scn (real plant, 1 ms, PID integral; 100 ms step), "
              f"us ({n_env} steps per block)")
        made = {backend: env_run(backend) for backend in ("numpy", "symbolic")}
        us = interleaved_us({backend: run for backend, (run, _) in made.items()}, n_env, repeats)
        evaluations = made["symbolic"][1]()
        print(f"numpy {us['numpy']:.0f}   symbolic (continuous=True) {us['symbolic']:.0f}   "
              f"np/sym {us['numpy'] / us['symbolic']:.3f}   ({evaluations:.0f} derivative evaluations per step)")


if __name__ == "__main__":
    main()
