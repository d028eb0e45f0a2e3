"""`scn sample`: draw a scenario's randomization without simulating, and show what was drawn."""

from __future__ import annotations

import argparse
from typing import Any

from scenario_dsl.cli.app import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    PARAM_ARG,
    PROG,
    Streams,
    UsageError,
    arg,
    at_least,
    build_scenario,
    command,
    compile_failure,
)
from scenario_dsl.support.plots import pyplot
from scenario_dsl.support.suggest import did_you_mean

#: How many quantities `--plot` draws without `--vars`: a corner plot of k quantities has k*k panels.
MAX_CORNER = 6


@command(
    "sample", "draw N episodes' randomization without simulating; statistics per drawn quantity",
    arg("path", metavar="FILE", help="a .scn file"),
    arg("-n", type=at_least(1), default=1000, metavar="N", help="episodes to draw (default: 1000)"),
    arg("--seed", type=at_least(0), default=0, metavar="S", help="seed of the draws (default: 0)"),
    arg("--format", choices=["table", "json", "csv"], default="table",
        help="table: statistics (default); json: statistics, acceptance and timing; csv: one row per episode"),
    arg("--plot", metavar="PNG", help="also write a corner plot to this PNG file: each quantity's histogram on the "
        "diagonal, each pair's scatter below it"),
    arg("--vars", metavar="NAME,...", type=lambda text: [v.strip() for v in text.split(",") if v.strip()],
        help=f"the quantities --plot draws, as the table names them (default: the first {MAX_CORNER})"),
    arg("--scope", choices=["episode", "step", "build"], default="episode",
        help="which `randomize` blocks to draw (default: episode)"),
    arg("--render", type=at_least(1), metavar="N", help="also render the first frame of N episodes (seeds S to "
        "S+N-1) into a contact sheet PNG (--sheet)"),
    arg("--sheet", metavar="PNG", help="where --render writes (default: SCENARIO_frames.png)"),
    arg("--camera", metavar="VIEW_OR_NAME", help="--render's camera: one of the scenario's cameras (default: "
        "its first) or a view of the recording camera: auto, front, side, top, iso (default without cameras: auto)"),
    arg("--stage", metavar="NAME", help="draw in this curriculum stage (default: the first)"),
    arg("--widest", action="store_true", help="draw every `adaptive(...)` parameter from its widest range "
        "(min to max), as ADR would at its bounds (default: the starting range)"),
    PARAM_ARG,
)
def sample(args: argparse.Namespace, io: Streams) -> int:
    """Draw the blocks of one scope for N episodes at once (`sampling.Sampler`, nominal values
    from the compiled diagram); exit 1 when the scenario has errors or a `require` rejects too often."""
    scenario = build_scenario(args.path, dict(args.param), io)
    if scenario is None:
        return EXIT_PROBLEMS
    import json
    import time

    import numpy as np

    from scenario_dsl.compiler import compile_scenario
    from scenario_dsl.sampling.sampler import Sampler, columns, statistics

    try:
        compiled = compile_scenario(scenario)
        if args.scope == "build":  # the nominal values are the scenario's own, not a context's
            builder = compiled.build_randomizer
            sampler = builder.sampler if builder else Sampler(scenario, scopes=("build",), nominal={})
        else:
            sampler = compiled.randomizer.sampler_for(compiled.diagram, (args.scope,))
    except Exception as exc:
        return compile_failure(exc, io, args.path)
    problem = _schedule(sampler, scenario, args.stage, args.widest)
    if problem is not None:
        io.err.write(f"{PROG}: error: {problem}\n")
        return EXIT_USAGE
    start = time.perf_counter()
    try:
        samples = sampler.sample(args.n, np.random.default_rng(args.seed))
    except MemoryError:
        io.err.write(f"{PROG}: error: {args.n:,} episodes do not fit in memory; draw fewer (-n)\n")
        return EXIT_USAGE
    seconds = time.perf_counter() - start
    stats = statistics(samples)
    summary_line = (f"{args.n} episodes of `{scenario.name}` (per {args.scope}), seed {args.seed}: "
                    f"acceptance rate {samples.acceptance:.4g}, drawn in {seconds * 1e3:.1f} ms")
    if args.format == "json":
        io.out.write(json.dumps({
            "scenario": scenario.name, "scope": args.scope, "n": args.n, "seed": args.seed,
            "acceptance": samples.acceptance, "rejections": samples.rejections, "unchecked": samples.unchecked,
            "seconds": seconds, "quantities": {s.name: {"mean": s.mean, "std": s.std, "min": s.min, "max": s.max}
                                               for s in stats}}, indent=2) + "\n")
    elif args.format == "csv":
        import csv

        data = columns(samples)
        writer = csv.writer(io.out, lineterminator="\n")
        writer.writerow(data)
        writer.writerows(np.column_stack(list(data.values())).tolist() if data else [])
        io.err.write(summary_line + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=summary_line, title_justify="left")
        for name in ("quantity", "mean", "std", "min", "max"):
            table.add_column(name, justify="left" if name == "quantity" else "right")
        for s in stats:
            table.add_row(s.name, *(f"{v:.6g}" for v in (s.mean, s.std, s.min, s.max)))
        console = Console(file=io.out, highlight=False, soft_wrap=True, width=100)
        console.print(table)
        for label, count in samples.rejections.items():
            console.print(f"require {label}: rejected {count} draws")
        for label in samples.unchecked:
            console.print(f"require {label}: reads the simulated scene; checked at reset, not here")
        if not stats:
            console.print(f"no `randomize per {args.scope}` draws")
    if args.plot:
        data = columns(samples)
        chosen = args.vars or list(data)[:MAX_CORNER]
        unknown = [v for v in chosen if v not in data]
        if unknown:
            hint = did_you_mean(unknown[0], list(data)) or f"drawn: {', '.join(data) or 'nothing'}"
            raise UsageError(f"--vars: `{unknown[0]}` is not a drawn quantity; {hint}")
        if not args.vars and len(data) > MAX_CORNER:
            io.err.write(f"note: --plot draws the first {MAX_CORNER} of {len(data)} quantities; "
                         "choose others with --vars\n")
        try:
            plot_corner({name: data[name] for name in chosen}, args.plot,
                        f"{samples.n} episodes, acceptance rate {samples.acceptance:.3g}")
        except (OSError, ValueError) as exc:  # ValueError: matplotlib knows no such image format
            io.err.write(f"{PROG}: error: cannot write {args.plot}: {getattr(exc, 'strerror', None) or exc}\n")
            return EXIT_USAGE
        io.err.write(f"wrote {args.plot}\n")
    if args.render:
        return render_sheet(scenario, args, io)
    return EXIT_OK


def render_sheet(scenario: Any, args: argparse.Namespace, io: Streams) -> int:
    """`--render N`: the contact sheet of N first frames (runtime.sheet)."""
    from pathlib import Path

    from scenario_dsl.runtime.sheet import MAX_FRAMES, write_sheet

    if args.render > MAX_FRAMES:
        raise UsageError(f"--render draws at most {MAX_FRAMES} frames, not {args.render}")
    camera = args.camera or (scenario.cameras[0].name if scenario.cameras else "auto")
    out = Path(args.sheet or f"{scenario.name}_frames.png")
    try:
        width, height = write_sheet(scenario, args.render, args.seed, camera, out)
    except ValueError as exc:  # an unknown camera
        raise UsageError(f"--camera: {exc}") from None
    except OSError as exc:
        io.err.write(f"{PROG}: error: cannot write {out}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    io.err.write(f"wrote {out} ({args.render} first frames from camera `{camera}`, {width} x {height} px)\n")
    return EXIT_OK


def plot_corner(data: dict[str, Any], out: str, title: str, *, bins: int = 40, points: int = 2000) -> None:
    """Write a corner (pair) plot of `data` (name -> n values): each quantity's histogram on the
    diagonal, the scatter of each pair below it (at most `points` points, evenly spaced), so that
    "are my targets uniform in the disk?" is answered at a glance."""
    plt = pyplot()
    names = list(data)
    k = max(len(names), 1)
    fig, axes = plt.subplots(k, k, figsize=(2.2 * k + 1, 2.2 * k + 0.6), squeeze=False)
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = axes[i][j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(data[x], bins=bins, color="#4c72b0")
            else:
                step = max(1, len(data[x]) // points)
                ax.scatter(data[x][::step], data[y][::step], s=3, alpha=0.5, color="#4c72b0", linewidths=0)
            ax.tick_params(labelsize=6)
            if i == k - 1:
                ax.set_xlabel(x, fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(y, fontsize=8)
            elif j == 0:
                ax.set_title(x, fontsize=8)
    if not names:
        axes[0][0].axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=100)
    finally:
        plt.close(fig)


def _schedule(sampler: Any, scenario: Any, stage: str | None, widest: bool) -> str | None:
    """Point the sampler's schedule at a curriculum stage and/or the adaptive bounds; a problem
    with the options, or None."""
    from scenario_dsl.sampling.adaptive import adaptive_parameters

    schedule = sampler.schedule
    if stage is not None:
        names = [s.name for s in scenario.curriculum.stages] if scenario.curriculum is not None else []
        if stage not in names:
            return (f"no curriculum stage `{stage}`" + (f"; stages: {', '.join(names)}" if names else
                                                         ": the scenario has no curriculum"))
        schedule.update({"stage": names.index(stage)})
    if widest:
        parameters = adaptive_parameters(scenario)
        if not parameters:
            return "--widest: the scenario draws nothing from `adaptive(...)`"
        schedule.update({"ranges": {p.key: list(p.bounds) for p in parameters}})
    return None
