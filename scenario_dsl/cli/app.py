"""The frame of the `scn` command line: subcommands registered with `@command`, the entry point
`main`, and what every subcommand shares (paths, `--param`, exit codes, rendering diagnostics,
building a scenario for a command). Each command lives in a module of its own beside this one.

Every error scn raises for its user is a `ScnError` carrying diagnostics; `main` renders them
like lint's and exits with the error's `exit_code`. Anything else is a bug: SCN901, exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from scenario_dsl.emitters import human, render
from scenario_dsl.lang.diagnostics import Diagnostic, ScnError, Severity
from scenario_dsl.lang.loader import analyze_file
from scenario_dsl.lang.project import allowing, project_of

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
    from scenario_dsl.support.version import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, description="scn: a domain-randomization scenario language for robot learning on Drake.",
        epilog="Exit codes: 0 clean, 1 problems found, 2 usage or internal error.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        for a in cmd.arguments:
            p.add_argument(*a.flags, **a.options)
        if PARAM_ARG in cmd.arguments:  # every command that reads a scenario
            p.add_argument(*ALLOW_PATH_ARG.flags, **ALLOW_PATH_ARG.options)
        p.set_defaults(handler=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `scn` with `argv` (default: `sys.argv[1:]`) and return the exit code; never raises
    for bad input or internal errors (a `SystemExit` from argparse becomes its code)."""
    streams = Streams(sys.stdout, sys.stderr)
    args: argparse.Namespace | None = None
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
        with allowing(getattr(args, "allow_path", None) or ()):
            code: int = args.handler(args, streams)
        streams.out.flush()
        return code
    except UsageError as exc:
        streams.err.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    except ScnError as exc:  # what a user can meet: its diagnostics, like lint's
        report(exc, streams.err, fallback=getattr(args, "path", None))
        return exc.exit_code
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


def report(exc: ScnError, stream: TextIO, fallback: str | None = None) -> None:
    """Write `exc`'s diagnostics; one without a place names `fallback` (the command's file) or `scn`."""
    where = fallback or PROG
    emit([d if d.span is not None or d.path is not None else dataclasses.replace(d, path=where)
          for d in exc.diagnostics], "human", stream)


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
    A path that does not exist is kept, so the loader reports it (SCN001). Duplicates go.

    A file given by name is a root: its own project applies when it is read. A file met in a
    folder walk must resolve inside the walked folder's project (`scenario_dsl.lang.project`): a
    symlink that leads out of it is skipped with SCN005, and one to a device, FIFO or socket with
    SCN001, without being opened; links to folders are not followed."""
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
            project = project_of(p)
            found = _walk(p)
            if not found:
                diagnostics.append(Diagnostic("SCN007", "the folder holds no .scn files", None,
                                              "pass .scn files or a folder that holds some", path=given))
            for f in found:
                refused = project.check_readable(f) if f.is_symlink() else None
                if refused is not None:
                    diagnostics.append(dataclasses.replace(refused, hint=f"skipped, not opened; {refused.hint}"))
                elif f.is_file():
                    add(f, str(f))
        else:
            add(p, given)
    return files, diagnostics


def _walk(folder: Path) -> list[Path]:
    """The `*.scn` entries below `folder` (files and symlinks, not folders), sorted, without hidden
    folders or files; symlinks to folders are not followed."""
    found: list[Path] = []
    for here, folders, names in os.walk(folder, followlinks=False):
        folders[:] = [f for f in folders if not f.startswith(".")]
        found.extend(Path(here) / n for n in names if n.endswith(".scn") and not n.startswith("."))
    return sorted(found)


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

#: `--allow-path DIR`, added by `build_parser` to every subcommand that takes `--param`.
ALLOW_PATH_ARG = arg("--allow-path", action="append", default=[], metavar="DIR",
                     help="also read model and included files from DIR, outside the project folder "
                          "(repeatable; see allow_paths in docs/language.md)")


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
        return f"All checks passed ({plural(files, 'file')})."
    parts = [plural(n, word) for n, word in ((errors, "error"), (warnings, "warning")) if n]
    return f"Found {' and '.join(parts)}."


def plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("ty") else f"{n} {word}s"


def dedupe(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
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




# ---- building a scenario for a command ------------------------------------------------------


def build_scenario(path: str, params: dict[str, str], io: Streams) -> Any:
    """The validated `Scenario` of a `.scn` file (or of a JSON file written by `scn compile`), or
    None after writing its diagnostics to standard error; `--param` with a JSON file raises
    `UsageError`."""
    if path.endswith(".json"):
        from scenario_dsl.compiler.artifacts import load_compiled  # Drake's stage: imported when needed

        if params:
            raise UsageError(f"--param needs the .scn file; {path} is already compiled")
        return load_compiled(path)  # a CompiledFileError reaches `main`: SCN009, exit 2
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


def compile_failure(exc: Exception, io: Streams, path: str | None = None) -> int:
    """Report a failed build: a `ScnError` (a `CompileError` with its place) as its diagnostics,
    anything else as SCN901."""
    if isinstance(exc, ScnError):
        report(exc, io.err, fallback=path)
        return exc.exit_code
    _write_internal_error(io.err, internal_error(exc))
    return EXIT_USAGE
