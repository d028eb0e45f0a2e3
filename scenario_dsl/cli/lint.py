"""`scn lint`, `scn fmt` and `scn lsp`: the front end only, so they start without Drake, NumPy, torch or
Gymnasium."""

from __future__ import annotations

import argparse
from pathlib import Path

from scenario_dsl.cli.app import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    PARAM_ARG,
    PROG,
    Streams,
    arg,
    at_least,
    command,
    dedupe,
    emit,
    exit_code,
    expand_paths,
    internal_error,
    plural,
    summary,
)
from scenario_dsl.emitters import FORMATS
from scenario_dsl.lang.config import MIN_LINE_LENGTH
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.support.files import write_text_atomically
from scenario_dsl.support.gcpause import paused_gc


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
    # The analyses make no reference cycles (reference counting frees them): the cyclic collector
    # would only walk the heap they leave, 1.7 of 24 s on a 100,000-body file. Paused, not
    # switched off: a caller in the same process (the tests, an editor) gets it back.
    with paused_gc():
        for path in files:
            try:
                analysis = analyze_file(path, params=params)
            except Exception as exc:  # a bug: report it for this file and go on with the others
                diagnostics.append(internal_error(exc, path))
                continue
            diagnostics.extend(sorted(analysis.diagnostics, key=Diagnostic.sort_key))
    diagnostics = dedupe(diagnostics)
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
    arg("--line-length", type=at_least(MIN_LINE_LENGTH), metavar="N",
        help=f"wrap lines longer than N columns (at least {MIN_LINE_LENGTH}; default: line-length in the "
             "project's [tool.scn] or scn.toml, else 100)"),
)
def fmt(args: argparse.Namespace, io: Streams) -> int:
    """Rewrite each file as `formatter.format_source` prints it. A file with syntax errors is
    left alone and its diagnostics go to standard error (exit 1); so are the files of a project
    whose configured line-length is invalid (SCN011, exit 2)."""
    from scenario_dsl.lang.config import configured_line_length
    from scenario_dsl.lang.formatter import LINE_LENGTH, format_source
    from scenario_dsl.lang.loader import read_source
    from scenario_dsl.lang.project import check_root, root_of_file

    files, diagnostics = expand_paths(args.paths)
    changed: list[str] = []
    failed = 0
    configured: dict[Path, int | None] = {}  # project folder -> its line-length; None: invalid
    for path in files:
        refused = check_root(path)  # as lint: a symlink out of its project is not read (nor written)
        source, problems = (None, [refused]) if refused is not None else read_source(path)
        diagnostics.extend(problems)
        if source is None:
            failed += 1
            continue
        width = args.line_length
        if width is None:
            root = root_of_file(path)
            if root not in configured:
                value, problems = configured_line_length(root)
                diagnostics.extend(problems)
                configured[root] = None if problems else value or LINE_LENGTH
            width = configured[root]
            if width is None:
                failed += 1
                continue
        try:
            formatted, problems = format_source(source, width)
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
            write_text_atomically(Path(path), formatted)
    if diagnostics:
        emit(diagnostics, "human", io.err)
    dry = args.check or args.diff
    done = "would be reformatted" if dry else "reformatted"
    left = len(files) - len(changed) - failed
    parts = [f"{plural(len(changed), 'file')} {done}", f"{left} left unchanged"]
    if failed:
        parts.append(f"{failed} with errors")
    io.err.write(", ".join(parts) + ".\n")
    code = exit_code(diagnostics)
    if code == EXIT_OK and dry and changed:
        code = EXIT_PROBLEMS
    if any(d.code == "SCN011" for d in diagnostics):  # a bad configured width, as a bad --line-length
        code = EXIT_USAGE
    return code


def _unified_diff(path: str, before: str, after: str) -> str:
    import difflib

    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"a/{path}", tofile=f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@command(
    "lsp", "run the language server of .scn files over standard input and output (for editors: docs/editors.md)",
)
def lsp(args: argparse.Namespace, io: Streams) -> int:
    """pygls is the `lsp` extra's (and the test extra's): without it, a one-line error and exit 2."""
    import importlib.util

    if importlib.util.find_spec("pygls") is None:
        io.err.write(f"{PROG}: error: the language server needs pygls: pip install -e '.[lsp]'\n")
        return EXIT_USAGE
    import os

    from scenario_dsl.editor.server import main  # only here: pygls starts with the server

    main()
    io.err.flush()
    os._exit(EXIT_OK)  # the client's `exit` closed standard output: nothing is left to flush there
