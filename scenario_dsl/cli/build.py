"""`scn compile` and `scn check`: build the Drake diagram, write it out, check the env."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from scenario_dsl.cli.app import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    PARAM_ARG,
    PROG,
    Streams,
    arg,
    at_least,
    build_scenario,
    command,
    compile_failure,
    plural,
)


@command(
    "compile", "build the Drake diagram; write the resolved scenario (JSON) and the diagram (Graphviz)",
    arg("path", metavar="FILE", help="a .scn file"),
    arg("-o", "--out", default="build", metavar="DIR", help="output folder (default: build)"),
    arg("--depth", type=at_least(0), default=1, metavar="N",
        help="how deep the Graphviz drawing opens subdiagrams (default: 1, the scenario's own systems)"),
    PARAM_ARG,
)
def compile_(args: argparse.Namespace, io: Streams) -> int:
    """Front end, then `compile_scenario`; writes DIR/<name>.json, .dot and (with Graphviz) .svg."""
    scenario = build_scenario(args.path, dict(args.param), io)
    if scenario is None:
        return EXIT_PROBLEMS
    from scenario_dsl.compiler import compile_scenario
    from scenario_dsl.compiler.artifacts import scenario_hash, write_artifacts

    try:
        compiled = compile_scenario(scenario)
    except Exception as exc:
        return compile_failure(exc, io, args.path)
    graphviz = compiled.diagram.GetGraphvizString(max_depth=args.depth)
    try:
        written = write_artifacts(compiled.scenario, graphviz, args.out)
    except OSError as exc:
        io.err.write(f"{PROG}: error: cannot write to {args.out}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    systems = compiled.diagram.GetSystems()
    io.out.write(f"Compiled {args.path}: scenario `{scenario.name}` ({scenario_hash(compiled.scenario)[:19]}), "
                 f"{plural(len(systems), 'system')}, plant with {plural(compiled.plant.num_positions(), 'position')} "
                 f"and {plural(compiled.plant.num_velocities(), 'velocity')}\n")
    for path in written.files:
        io.out.write(f"  wrote {path}\n")
    if written.svg_skipped:
        io.out.write(f"  no SVG: {written.svg_skipped}\n")
    return EXIT_OK


@command(
    "check", "build the env; run Gymnasium's and stable-baselines3's env checkers and N random steps",
    arg("path", metavar="FILE", help="a .scn file, or a JSON file written by `scn compile`"),
    arg("--steps", type=at_least(0), default=1000, metavar="N", help="random steps to take (default: 1000)"),
    arg("--seed", type=at_least(0), default=0, metavar="S",
        help="seed of the resets and of the random actions (default: 0)"),
    arg("--worlds", type=at_least(1), default=1, metavar="N",
        help="also step N copies of the scenario together in one simulator and report env steps/s per world"),
    PARAM_ARG,
)
def check(args: argparse.Namespace, io: Streams) -> int:
    """Exit 0 when both checkers pass, 1 when one fails (or the scenario has errors)."""
    scenario = build_scenario(args.path, dict(args.param), io)
    if scenario is None:
        return EXIT_PROBLEMS
    from scenario_dsl.runtime.env import ScenarioEnv
    from scenario_dsl.runtime.envcheck import check_environment

    try:
        env = ScenarioEnv(scenario, seed=args.seed)
    except Exception as exc:
        return compile_failure(exc, io, args.path)
    try:
        report = check_environment(env, steps=args.steps, seed=args.seed)
    finally:
        env.close()
    _print_report(report, scenario, io.out)
    if args.worlds > 1:
        from scenario_dsl.runtime.envcheck import check_batch

        try:
            batch = check_batch(scenario, args.worlds, max(args.steps, args.worlds), args.seed)
        except Exception as exc:
            return compile_failure(exc, io, args.path)
        report.failures += batch.failures
        io.out.write(_batch_row(batch, report))
    if not report.ok:
        io.err.write(f"{PROG}: {args.path}: the environment fails {len(report.failures)} check(s)\n")
        return EXIT_PROBLEMS
    return EXIT_OK


def _print_report(report: Any, scenario: Any, out: TextIO) -> None:
    rows = [("scenario", f"{scenario.name}: {scenario.description or ''}".rstrip(": ")),
            ("observation space", report.observation_space), ("action space", report.action_space)]
    for checker in ("gymnasium", "stable-baselines3"):
        failed = [f for f in report.failures if f.startswith(checker + ":")]
        warned = [w for w in report.warnings if w.startswith(checker + ":")]
        verdict = "FAILED" if failed else "passed"
        if warned:
            verdict += f" ({plural(len(warned), 'warning')})"
        rows.append((f"{checker} check_env", verdict))
    if report.steps:
        rows.append(("random steps", f"{report.steps:,} ({report.steps_per_second:,.0f} steps/s, "
                                     f"{report.resets_per_second:,.0f} resets/s)"))
        rows.append(("reward per step", f"min {report.reward_min:.4g}, mean {report.reward_mean:.4g}, "
                                        f"max {report.reward_max:.4g}"))
        for name, (low, high) in report.term_ranges.items():
            rows.append((f"  term {name}", f"[{low + 0.0:.4g}, {high + 0.0:.4g}]"))  # no "-0"
        ends = ", ".join(f"{reason} x{n}" for reason, n in report.episodes_ended.most_common()) or "none"
        rows.append(("episodes ended", ends))
        if report.drawn:
            rows.append(("first episode drew", ", ".join(f"{k} = {_short(v)}" for k, v in report.drawn.items())))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        out.write(f"{key:<{width}}  {value}\n")
    for line in report.failures + report.warnings:
        out.write(f"  {line}\n")


def _batch_row(batch: Any, single: Any) -> str:
    """The `--worlds` line: the batch's throughput against the single env's."""
    if batch.failures:
        return f"{batch.worlds} worlds in one simulator: FAILED\n"
    ratio = f" ({batch.steps_per_second / single.steps_per_second:.1f}x the single env)" \
        if single.steps and single.steps_per_second > 0 else ""
    return (f"{batch.worlds} worlds in one simulator: {batch.steps * batch.worlds:,} env steps, "
            f"{batch.steps_per_second:,.0f} env steps/s{ratio}, {batch.per_world:,.0f} per world, "
            f"{batch.episodes_ended} episodes ended\n")


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(f"{v:.4g}" for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
