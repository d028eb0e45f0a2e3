"""The `scn` command line: wires the pipeline's stages and renders their diagnostics at the edge.

Each subcommand is one function registered with `@command(name, help, *arguments)`; it takes
the parsed arguments and the output streams and returns the exit code. To add one (`compile`,
`check`, `train`, `eval`, `sample`, `plot`), write one such function and import what it needs
(Drake, NumPy, torch, Gymnasium) inside it: `scn lint` and `scn fmt` must start without them.

Exit codes, for every subcommand:
    0  success (warnings allowed, unless `--strict`)
    1  problems found: any error diagnostic (or warning with `--strict`); files `fmt --check`
       would change
    2  usage error, or an internal error: an unexpected exception becomes an SCN901 diagnostic
       (set SCN_DEBUG=1 to also print its traceback), never a bare traceback
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scenario_dsl.lang.diagnostics import Diagnostic, Severity
from scenario_dsl.emitters import FORMATS, human, render

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2  # also internal errors

PROG = "scn"


@dataclass(frozen=True)
class Streams:
    """Where a command writes: `out` for its results, `err` for summaries and messages."""

    out: TextIO
    err: TextIO


@dataclass(frozen=True)
class Arg:
    """The arguments of one `ArgumentParser.add_argument` call."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def arg(*flags: str, **options: Any) -> Arg:
    """Declare a subcommand argument, as `ArgumentParser.add_argument(*flags, **options)` would."""
    return Arg(flags, options)


Handler = Callable[[argparse.Namespace, Streams], int]


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, one-line help, arguments and the function that runs it."""

    name: str
    help: str
    arguments: tuple[Arg, ...]
    run: Handler


#: subcommand name -> Command, in the order `scn --help` lists them.
COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, *arguments: Arg) -> Callable[[Handler], Handler]:
    """Register the decorated function as subcommand `name`."""

    def register(run: Handler) -> Handler:
        COMMANDS[name] = Command(name, help, arguments, run)
        return run

    return register


# ---- the parser and the entry point ------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for `scn` and every registered subcommand."""
    from scenario_dsl import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, description="scn: a domain-randomization scenario language for robot learning on Drake.",
        epilog="Exit codes: 0 clean, 1 problems found, 2 usage or internal error.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        for a in cmd.arguments:
            p.add_argument(*a.flags, **a.options)
        p.set_defaults(handler=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `scn` with `argv` (default: `sys.argv[1:]`) and return the exit code; never raises
    for bad input or internal errors (a `SystemExit` from argparse becomes its code)."""
    streams = Streams(sys.stdout, sys.stderr)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a usage error
            return exc.code if isinstance(exc.code, int) else EXIT_USAGE
        if getattr(args, "handler", None) is None:
            parser.print_usage(streams.err)
            streams.err.write(f"{PROG}: error: a command is required (one of: {', '.join(COMMANDS)})\n")
            return EXIT_USAGE
        code: int = args.handler(args, streams)
        streams.out.flush()
        return code
    except UsageError as exc:
        streams.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        streams.err.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`scn lint ... | head`): stop quietly, and keep Python from
        # complaining when it flushes stdout at exit.
        _silence_stdout()
        return EXIT_PROBLEMS
    except Exception as exc:
        _write_internal_error(streams.err, internal_error(exc))
        return EXIT_USAGE


class UsageError(Exception):
    """Arguments that do not go together, found by a handler: `main` prints the message (one
    line) and exits 2."""


def internal_error(exc: BaseException, path: str | None = None) -> Diagnostic:
    """An unexpected exception as an SCN901 diagnostic (with the traceback when SCN_DEBUG is set)."""
    if os.environ.get("SCN_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    return Diagnostic("SCN901", f"internal error: {type(exc).__name__}: {exc}", None,
                      "this is a bug in scn: please report it with the input that caused it "
                      "(SCN_DEBUG=1 prints the traceback)", path=path or PROG)


def _write_internal_error(err: TextIO, diagnostic: Diagnostic) -> None:
    try:
        err.write(human.render([diagnostic]))
    except Exception:  # the last resort must not raise
        pass


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# ---- helpers shared by subcommands -------------------------------------------------------


def expand_paths(paths: Iterable[str]) -> tuple[list[str], list[Diagnostic]]:
    """The files to process: each file path as given, and every `*.scn` file below each folder
    (sorted, skipping hidden folders and files); a folder without any gives an SCN007 warning.
    A path that does not exist is kept, so the loader reports it (SCN001). Duplicates go."""
    files: list[str] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()

    def add(path: Path, shown: str) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(shown)

    for given in paths:
        p = Path(given)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*.scn")
                           if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                diagnostics.append(Diagnostic("SCN007", "the folder holds no .scn files", None,
                                              "pass .scn files or a folder that holds some", path=given))
            for f in found:
                add(f, str(f))
        else:
            add(p, given)
    return files, diagnostics


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse `type=`: a whole number of at least `minimum` (else a usage error, exit 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def parse_param(text: str) -> tuple[str, str]:
    """`NAME=VALUE` from the command line (argparse `type=`); the value is scn source text."""
    name, eq, value = text.partition("=")
    name = name.strip()
    if not eq or not name.isidentifier() or not value.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE (e.g. mass=2kg), got {text!r}")
    return name, value.strip()


#: `--param NAME=VALUE`, for every subcommand that loads a scenario.
PARAM_ARG = arg("--param", action="append", default=[], type=parse_param, metavar="NAME=VALUE",
                help="override a `param` of the scenario (repeatable), e.g. --param mass=2kg")


def exit_code(diagnostics: Iterable[Diagnostic], *, strict: bool = False) -> int:
    """2 for an internal error (SCN9xx), 1 for an error (or a warning when `strict`), else 0."""
    code = EXIT_OK
    for d in diagnostics:
        if d.code.startswith("SCN9"):
            return EXIT_USAGE
        if d.level is Severity.ERROR or strict:
            code = EXIT_PROBLEMS
    return code


def summary(diagnostics: Sequence[Diagnostic], files: int) -> str:
    """`Found 3 errors and 1 warning.`, or a line saying that the files are clean."""
    errors = sum(d.level is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    if not diagnostics:
        return f"All checks passed ({_plural(files, 'file')})."
    parts = [_plural(n, word) for n, word in ((errors, "error"), (warnings, "warning")) if n]
    return f"Found {' and '.join(parts)}."


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("ty") else f"{n} {word}s"


def _dedupe(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    # A file included by two linted files would otherwise report its problems twice.
    seen: set[tuple[object, ...]] = set()
    out = []
    for d in diagnostics:
        key = (d.file, d.code, d.message, d.span.start if d.span else None, d.span.end if d.span else None)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _cwd() -> Path | None:
    try:
        return Path.cwd()
    except OSError:
        return None


def emit(diagnostics: Sequence[Diagnostic], fmt: str, stream: TextIO) -> None:
    """Write `diagnostics` in `fmt`; human output is coloured only on a terminal."""
    root = _cwd()
    if fmt == "human" and _wants_colour(stream):
        from rich.console import Console

        Console(file=stream, highlight=False, soft_wrap=True).print(human.render_rich(diagnostics, root=root), end="")
        return
    stream.write(render(fmt, diagnostics, root=root))


def _wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty() or bool(os.environ.get("FORCE_COLOR"))
    except (AttributeError, ValueError):
        return False


# ---- subcommands -------------------------------------------------------------------------


@command(
    "lint", "check scenario files without running them; report every problem",
    arg("paths", nargs="+", metavar="PATH", help=".scn files, or folders (every *.scn below them)"),
    arg("--format", choices=list(FORMATS), default="human", help="output format (default: human)"),
    arg("--strict", action="store_true", help="treat warnings as errors for the exit code"),
    arg("--output", "-o", metavar="FILE", help="write the report to FILE instead of standard output"),
    PARAM_ARG,
)
def lint(args: argparse.Namespace, io: Streams) -> int:
    """Front end only (parse, includes, validate): no Drake, NumPy, torch or Gymnasium."""
    from scenario_dsl.lang.loader import analyze_file

    files, diagnostics = expand_paths(args.paths)
    params = dict(args.param)
    for path in files:
        try:
            analysis = analyze_file(path, params=params)
        except Exception as exc:  # a bug: report it for this file and go on with the others
            diagnostics.append(internal_error(exc, path))
            continue
        diagnostics.extend(sorted(analysis.diagnostics, key=Diagnostic.sort_key))
    diagnostics = _dedupe(diagnostics)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                emit(diagnostics, args.format, f)
        except OSError as exc:
            io.err.write(f"{PROG}: error: cannot write {args.output}: {exc.strerror or exc}\n")
            return EXIT_USAGE
    else:
        emit(diagnostics, args.format, io.out)
    if args.format == "human":
        io.err.write(summary(diagnostics, len(files)) + "\n")
    return exit_code(diagnostics, strict=args.strict)


@command(
    "fmt", "format scenario files in place (only files that change are written)",
    arg("paths", nargs="+", metavar="PATH", help=".scn files, or folders (every *.scn below them)"),
    arg("--check", action="store_true", help="write nothing; list the files that would change and exit 1 if any"),
    arg("--diff", action="store_true", help="write nothing; print a unified diff of the changes and exit 1 if any"),
)
def fmt(args: argparse.Namespace, io: Streams) -> int:
    """Rewrite each file as `formatter.format_source` prints it. A file with syntax errors is
    left alone and its diagnostics go to standard error (exit 1)."""
    from scenario_dsl.lang.formatter import format_source
    from scenario_dsl.lang.loader import read_source

    files, diagnostics = expand_paths(args.paths)
    changed: list[str] = []
    failed = 0
    for path in files:
        source, problems = read_source(path)
        diagnostics.extend(problems)
        if source is None:
            failed += 1
            continue
        try:
            formatted, problems = format_source(source)
        except Exception as exc:
            diagnostics.append(internal_error(exc, path))
            continue
        diagnostics.extend(problems)
        if formatted is None:
            failed += 1
            continue
        if formatted == source.text:
            continue
        changed.append(path)
        if args.diff:
            io.out.write(_unified_diff(path, source.text, formatted))
        if args.check:
            io.out.write(f"Would reformat: {path}\n")
        elif not args.diff:
            _write_atomically(Path(path), formatted)
    if diagnostics:
        emit(diagnostics, "human", io.err)
    dry = args.check or args.diff
    done = "would be reformatted" if dry else "reformatted"
    left = len(files) - len(changed) - failed
    parts = [f"{_plural(len(changed), 'file')} {done}", f"{left} left unchanged"]
    if failed:
        parts.append(f"{failed} with errors")
    io.err.write(", ".join(parts) + ".\n")
    code = exit_code(diagnostics)
    if code == EXIT_OK and dry and changed:
        code = EXIT_PROBLEMS
    return code


def _unified_diff(path: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` (UTF-8, newlines as given) without a window where it is partial;
    a symbolic link keeps pointing at its (rewritten) target."""
    import tempfile

    path = path.resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---- sampling: the randomization without simulating ---------------------------------------


@command(
    "sample", "draw N episodes' randomization without simulating; statistics per drawn quantity",
    arg("path", metavar="FILE", help="a .scn file"),
    arg("-n", type=at_least(1), default=1000, metavar="N", help="episodes to draw (default: 1000)"),
    arg("--seed", type=at_least(0), default=0, metavar="S", help="seed of the draws (default: 0)"),
    arg("--format", choices=["table", "json", "csv"], default="table",
        help="table: statistics (default); json: statistics, acceptance and timing; csv: one row per episode"),
    arg("--plot", metavar="PNG", help="also write a histogram of each quantity to this PNG file"),
    arg("--scope", choices=["episode", "step", "build"], default="episode",
        help="which `randomize` blocks to draw (default: episode)"),
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
    from scenario_dsl.sampling.sampler import Sampler, SamplingError, columns, plot_histograms, statistics

    try:
        compiled = compile_scenario(scenario)
        if args.scope == "build":  # the nominal values are the scenario's own, not a context's
            builder = compiled.build_randomizer
            sampler = builder.sampler if builder else Sampler(scenario, scopes=("build",), nominal={})
        else:
            sampler = compiled.randomizer.sampler_for(compiled.diagram, (args.scope,))
    except Exception as exc:
        return _compile_failure(exc, io)
    start = time.perf_counter()
    try:
        samples = sampler.sample(args.n, np.random.default_rng(args.seed))
    except SamplingError as exc:
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_PROBLEMS
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
        try:
            plot_histograms(samples, args.plot)
        except (OSError, ValueError) as exc:  # ValueError: matplotlib knows no such image format
            io.err.write(f"{PROG}: error: cannot write {args.plot}: {getattr(exc, 'strerror', None) or exc}\n")
            return EXIT_USAGE
        io.err.write(f"wrote {args.plot}\n")
    return EXIT_OK


# ---- building: compile and check ----------------------------------------------------------


def build_scenario(path: str, params: dict[str, str], io: Streams) -> Any:
    """The validated `Scenario` of a `.scn` file (or of a JSON file written by `scn compile`), or
    None after writing its diagnostics to standard error; `--param` with a JSON file raises
    `UsageError`."""
    from scenario_dsl.lang.loader import analyze_file

    if path.endswith(".json"):
        from scenario_dsl.compiler.artifacts import CompiledFileError, load_compiled

        if params:
            raise UsageError(f"--param needs the .scn file; {path} is already compiled")
        try:
            return load_compiled(path)
        except CompiledFileError as exc:
            io.err.write(f"{PROG}: error: {exc}\n")
            return None
    analysis = analyze_file(path, params=params)
    if not analysis.ok:
        problems = sorted(analysis.diagnostics, key=Diagnostic.sort_key)
        if not any(d.level is Severity.ERROR for d in problems):  # a fragment: no `scenario` line
            problems.append(Diagnostic("SCN008", "this file is a fragment (no `scenario` declaration): "
                                       "there is nothing to build", None, "build the file that includes it",
                                       path=path))
        emit(problems, "human", io.err)
        return None
    emit(analysis.diagnostics, "human", io.err)  # warnings
    return analysis.scenario


def _compile_failure(exc: Exception, io: Streams) -> int:
    """Report a failed build as diagnostics: `CompileError` with its span, anything else SCN901."""
    from scenario_dsl.compiler import CompileError

    if isinstance(exc, CompileError):
        emit([exc.to_diagnostic()], "human", io.err)
        return EXIT_PROBLEMS
    _write_internal_error(io.err, internal_error(exc))
    return EXIT_USAGE



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
    from scenario_dsl.compiler.artifacts import scenario_hash, write_artifacts
    from scenario_dsl.compiler import compile_scenario

    try:
        compiled = compile_scenario(scenario)
    except Exception as exc:
        return _compile_failure(exc, io)
    graphviz = compiled.diagram.GetGraphvizString(max_depth=args.depth)
    try:
        written = write_artifacts(compiled.scenario, graphviz, args.out)
    except OSError as exc:
        io.err.write(f"{PROG}: error: cannot write to {args.out}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    systems = compiled.diagram.GetSystems()
    io.out.write(f"Compiled {args.path}: scenario `{scenario.name}` ({scenario_hash(compiled.scenario)[:19]}), "
                 f"{_plural(len(systems), 'system')}, plant with {_plural(compiled.plant.num_positions(), 'position')} "
                 f"and {_plural(compiled.plant.num_velocities(), 'velocity')}\n")
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
        return _compile_failure(exc, io)
    try:
        report = check_environment(env, steps=args.steps, seed=args.seed)
    finally:
        env.close()
    _print_report(report, scenario, io.out)
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
            verdict += f" ({_plural(len(warned), 'warning')})"
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


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(f"{v:.4g}" for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ---- training commands: train, eval, plot ------------------------------------------------------


@command(
    "train", "train an agent on a scenario (stable-baselines3 / sb3-contrib) into a run directory",
    arg("path", nargs="?", metavar="FILE", help="a .scn file, or a JSON file written by `scn compile`"),
    arg("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint (no FILE needed)"),
    arg("--algo", choices=["ppo", "sac", "td3", "a2c", "ddpg", "trpo", "ars", "tqc"],
        help="the algorithm (default: the train block's, else ppo)"),
    arg("--timesteps", type=int, metavar="N", help="timesteps to train (with --resume: the new total)"),
    arg("--n-envs", type=int, metavar="K", help="environments in parallel (subprocesses when K > 1)"),
    arg("--seed", type=at_least(0), metavar="S", help="the run's seed (default: the train block's, else random)"),
    PARAM_ARG,
    arg("--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a hyperparameter (repeatable), e.g. --set learning_rate=1e-3 --set net_arch=[256,256]"),
    arg("--out", default="runs", metavar="DIR", help="where run directories go (default: runs/)"),
    arg("--device", choices=["cpu", "cuda", "auto"], help="torch device (default: auto)"),
    arg("--threads", type=at_least(1), metavar="N", help="torch threads in the training process (default: 1)"),
    arg("--progress", action=argparse.BooleanOptionalAction, default=None,
        help="a live progress bar (default: on a terminal; otherwise a status line every 30 s)"),
)
def train(args: argparse.Namespace, io: Streams) -> int:
    """Settings errors (unknown or mistyped hyperparameters, an algorithm that cannot act in the
    action space) exit 2 before any training; a scenario with errors exits 1."""
    from scenario_dsl.train import training
    from scenario_dsl.compiler.artifacts import CompiledFileError
    from scenario_dsl.train.hyperparams import ConfigError, check_spaces, parse_set, resolve
    from scenario_dsl.train.rundir import RunDirError

    def log(text: str) -> None:
        io.err.write(text + "\n")
        io.err.flush()

    import torch

    # One thread unless asked: on shared cores two torch threads made SAC 10x slower (docs/results.md).
    torch.set_num_threads(max(1, args.threads or 1))
    try:
        if args.resume:
            changed = [flag for flag, value in (("FILE", args.path), ("--algo", args.algo), ("--n-envs", args.n_envs),
                                                ("--seed", args.seed), ("--param", args.param), ("--set", args.set))
                       if value]
            if changed:
                raise ConfigError(f"--resume continues a run with its saved settings; {', '.join(changed)} "
                                  "cannot change (only --timesteps, --device, --threads)")
            run = training.resume(args.resume, n_timesteps=args.timesteps, device=args.device, log=log,
                                  progress=args.progress)
            io.out.write(f"{run}\n")
            return EXIT_OK
        if not args.path:
            raise ConfigError("a scenario FILE (or --resume RUN_DIR) is required")
        sets = [parse_set(text) for text in args.set]
        scenario = build_scenario(args.path, dict(args.param), io)
        if scenario is None:
            return EXIT_PROBLEMS
        source = "the train block" if not args.path.endswith(".json") else "the compiled train block"
        config, notes = resolve(scenario.train, sets, algo=args.algo, n_timesteps=args.timesteps,
                                n_envs=args.n_envs, seed=args.seed, device=args.device or "auto", source=source)
        for note in notes + [n for n in (training.rollout_note(config),) if n]:
            log(f"note: {note}")
        from scenario_dsl.compiler import CompileError
        from scenario_dsl.runtime.env import make_env
        from scenario_dsl.sampling.sampler import SamplingError

        try:  # build one env here: compile errors come with their spans, before any worker starts
            env = make_env(scenario)
        except Exception as exc:
            return _compile_failure(exc, io)
        try:
            check_spaces(config, env.action_space)
            env.reset(seed=config.seed)  # a `require` that always rejects fails here, in one line
            # a rare draw Drake refuses fails here too, with its place, not later in a worker
            env.compiled.randomizer.check_domains(env.compiled.diagram, seed=config.seed)
        except SamplingError as exc:
            io.err.write(f"{PROG}: error: {exc}\n")
            return EXIT_PROBLEMS
        except CompileError as exc:  # a drawn value Drake or the env cannot take (a size <= 0, a huge delay)
            return _compile_failure(exc, io)
        finally:
            env.close()
        run = training.start(scenario, config, args.out, source=args.path, command=sys.argv, log=log,
                             progress=args.progress)
    except (ConfigError, RunDirError, CompiledFileError) as exc:  # CompiledFileError: a run's scenario.json
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    except training.TrainingDiverged as exc:
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_PROBLEMS
    io.out.write(f"{run}\n")
    return EXIT_OK


@command(
    "eval", "evaluate a trained agent: returns, episode lengths, success rate, reward terms",
    arg("path", metavar="RUN_DIR_OR_MODEL", help="a run directory (its best model) or a model .zip inside one"),
    arg("--episodes", type=at_least(1), default=10, metavar="N", help="episodes to run (default: 10)"),
    arg("--deterministic", action="store_true", help="act with the policy's mean action (default: sample)"),
    arg("--seed", type=at_least(0), default=0, metavar="S", help="episode i is reset with seed S + i (default: 0)"),
    arg("--record", metavar="OUT.html", help="also write one episode as a self-contained Meshcat HTML animation"),
    arg("--video", metavar="OUT.gif", help="also write one episode as a GIF (or MP4 with imageio-ffmpeg) "
        "from the scenario's camera"),
    arg("--format", choices=["human", "json"], default="human", help="output format (default: human)"),
    arg("--device", choices=["cpu", "cuda", "auto"], default="auto", help="torch device (default: auto)"),
)
def eval_(args: argparse.Namespace, io: Streams) -> int:
    """Loads pickles: only run directories you trust (your own)."""
    import json

    from scenario_dsl.train import evaluation
    from scenario_dsl.compiler.artifacts import CompiledFileError
    from scenario_dsl.train.rundir import RunDirError

    try:
        loaded = evaluation.load_policy(args.path, device=args.device)
    except (RunDirError, CompiledFileError) as exc:
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    results = evaluation.evaluate(loaded, args.episodes, args.seed, args.deterministic)
    summary_ = evaluation.summarize(results)
    if args.format == "json":
        io.out.write(json.dumps({"model": str(loaded.model_path), "deterministic": args.deterministic,
                                 "seed": args.seed, **summary_.to_json()}, indent=2) + "\n")
    else:
        io.out.write(evaluation.format_summary(summary_, model=str(loaded.model_path),
                                               deterministic=args.deterministic))
    try:
        if args.record:
            evaluation.record_html(loaded, Path(args.record), args.seed, args.deterministic)
            io.err.write(f"wrote {args.record} (open it in a browser and press play under Animation)\n")
        if args.video:
            evaluation.record_video(loaded, Path(args.video), args.seed, args.deterministic)
            io.err.write(f"wrote {args.video}\n")
    except (ValueError, OSError) as exc:
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    return EXIT_OK


@command(
    "plot", "plot a run's learning curve (return vs timesteps, reward terms) as a PNG",
    arg("path", metavar="RUN_DIR", help="a run directory of `scn train`"),
    arg("--output", "-o", metavar="OUT.png", help="where to write the PNG (default: RUN_DIR/curve.png)"),
    arg("--window", type=at_least(1), default=20, metavar="N", help="episodes in the moving average (default: 20)"),
)
def plot(args: argparse.Namespace, io: Streams) -> int:
    from scenario_dsl.train.plotting import plot_run
    from scenario_dsl.train.rundir import RunDirError

    try:
        out = plot_run(args.path, args.output, window=args.window)
    except (RunDirError, OSError) as exc:
        io.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    except ValueError as exc:  # an image format matplotlib does not know
        io.err.write(f"{PROG}: error: cannot write {args.output}: {exc}\n")
        return EXIT_USAGE
    io.out.write(f"{out}\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
