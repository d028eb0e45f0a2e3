"""Follow `include "other.scn"` statements: each included file is parsed once, cycles and
paths that leave the project folder are diagnostics at the `include` that caused them.

An include acts as if the included file's statements were written in its place: `Included.statements`
lists every statement in that order (the first include of a file expands it; a later include of
the same file adds nothing), so the order of observations, actions, reward terms and draws,
which fixes the layout of the vectors a policy reads, is the order a reader sees.

The project folder is the nearest folder above the root file that holds `pyproject.toml`,
`scn.toml` or `.git`, or else the root file's own folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenario_dsl.lang import ast
from scenario_dsl.lang.build import build
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.reader import read_source

_PROJECT_MARKERS = ("pyproject.toml", "scn.toml", ".git")


def project_root(start: Path) -> Path:
    """The project folder that includes may not leave."""
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return folder
    return start


@dataclass(frozen=True)
class Included:
    """A root file with everything it includes."""

    files: list[ast.File]  # the root file first, then each included file once, depth first
    statements: list[ast.Statement]  # in source order, each include replaced by its file's statements


def resolve_includes(root: ast.File, base_dir: Path) -> tuple[Included, list[Diagnostic]]:
    """The root file and every file it includes (each once), with their statements in order."""
    project = project_root(base_dir.resolve())
    files = [root]
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    expansion: dict[int, ast.File] = {}  # id of an `include` statement -> the file it brings in
    root_path = Path(root.span.path).resolve() if Path(root.span.path).exists() else None
    if root_path is not None:
        seen.add(root_path)

    def visit(file: ast.File, folder: Path, chain: tuple[Path, ...]) -> None:
        for statement in file.statements:
            if not isinstance(statement, ast.Include):
                continue
            target = (folder / statement.path).resolve()
            if not target.is_relative_to(project):
                diagnostics.append(Diagnostic(
                    "SCN005", f"`{statement.path}` is outside the project folder {project}", statement.span,
                    "keep included files inside the project (the folder with pyproject.toml, scn.toml or .git)"))
                continue
            if target in chain:
                cycle = " -> ".join(p.name for p in (*chain, target))
                diagnostics.append(Diagnostic("SCN004", f"include cycle: {cycle}", statement.span,
                                              "remove one of the includes"))
                continue
            if target in seen:
                continue
            if not target.is_file():
                diagnostics.append(Diagnostic("SCN006", f"included file `{statement.path}` not found", statement.span,
                                              f"looked for {target}"))
                continue
            seen.add(target)
            source, problems = read_source(target)
            diagnostics.extend(problems)
            if source is None:
                continue
            included, problems = build(source)
            diagnostics.extend(problems)
            if included is None:
                continue
            files.append(included)
            expansion[id(statement)] = included
            visit(included, target.parent, (*chain, target))

    visit(root, base_dir, (root_path,) if root_path else ())

    def in_order(file: ast.File) -> list[ast.Statement]:
        out: list[ast.Statement] = []
        for statement in file.statements:
            if not isinstance(statement, ast.Include):
                out.append(statement)
            elif id(statement) in expansion:
                out.extend(in_order(expansion[id(statement)]))
        return out

    return Included(files, in_order(root)), diagnostics
