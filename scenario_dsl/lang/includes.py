"""Follow `include "other.scn"` statements: each included file is parsed once, cycles and
paths that leave the project folder are diagnostics at the `include` that caused them.

An include acts as if the included file's statements were written in its place: `Included.statements`
lists every statement in that order (the first include of a file expands it; a later include of
the same file adds nothing), so the order of observations, actions, reward terms and draws,
which fixes the layout of the vectors a policy reads, is the order a reader sees.

The project folder and the rule for which files may be read are `scenario_dsl.lang.project`'s:
an included file must resolve, after symlinks, inside the project (or a folder the user allowed),
else SCN005, and must be a regular file (SCN001); nothing else is opened. Includes nest at most
`MAX_INCLUDE_DEPTH` deep (SCN010). The walk keeps its own stack (no Python recursion), so no
chain of files can exhaust the interpreter's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scenario_dsl.lang import ast
from scenario_dsl.lang.build import build
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.project import ALLOW_A_FOLDER, project_of, project_root
from scenario_dsl.lang.reader import read_source

__all__ = ["MAX_INCLUDE_DEPTH", "Included", "project_root", "resolve_includes"]

MAX_INCLUDE_DEPTH = 64  # files in one chain of includes below the root file


@dataclass(frozen=True)
class Included:
    """A root file with everything it includes."""

    files: list[ast.File]  # the root file first, then each included file once, depth first
    statements: list[ast.Statement]  # in source order, each include replaced by its file's statements


def resolve_includes(root: ast.File, base_dir: Path) -> tuple[Included, list[Diagnostic]]:
    """The root file and every file it includes (each once), with their statements in order."""
    project = project_of(base_dir)
    files = [root]
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
    expansion: dict[int, ast.File] = {}  # id of an `include` statement -> the file it brings in
    root_path = Path(root.span.path).resolve() if Path(root.span.path).exists() else None
    if root_path is not None:
        seen.add(root_path)

    # Depth first, as a recursive walk would go: each frame is a file being read, the folder its
    # includes are relative to, the chain of files that led to it, and where it stands in its statements.
    stack: list[tuple[Iterator[ast.Statement], Path, tuple[Path, ...]]] = [
        (iter(root.statements), base_dir, (root_path,) if root_path else ())]
    while stack:
        statements, folder, chain = stack[-1]
        statement = next((s for s in statements if isinstance(s, ast.Include)), None)
        if statement is None:
            stack.pop()
            continue
        target = (folder / statement.path).resolve()
        refused = project.refusal(folder / statement.path, statement.path)
        if refused is not None and refused.code == "SCN005":
            diagnostics.append(Diagnostic(
                "SCN005", f"`{statement.path}` is outside the project folder {project.root}", statement.span,
                "keep included files inside the project (the nearest folder, from the file's own up, with "
                f"pyproject.toml, scn.toml or .git; an empty scn.toml in a folder makes it one), or {ALLOW_A_FOLDER}"))
            continue
        if target in chain:
            cycle = " -> ".join(p.name for p in (*chain, target))
            diagnostics.append(Diagnostic("SCN004", f"include cycle: {cycle}", statement.span,
                                          "remove one of the includes"))
            continue
        if target in seen:
            continue
        if refused is not None:  # inside the project, but a device, FIFO, socket...: never opened
            diagnostics.append(Diagnostic(refused.code, refused.message, statement.span, refused.hint))
            continue
        if not target.is_file():
            diagnostics.append(Diagnostic("SCN006", f"included file `{statement.path}` not found", statement.span,
                                          f"looked for {target}"))
            continue
        if len(chain) > MAX_INCLUDE_DEPTH:
            diagnostics.append(Diagnostic(
                "SCN010", f"includes nest more than {MAX_INCLUDE_DEPTH} files deep", statement.span,
                f"`{statement.path}` was not read; flatten the chain of includes"))
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
        stack.append((iter(included.statements), target.parent, (*chain, target)))

    return Included(files, _in_order(root, expansion)), diagnostics


def _in_order(root: ast.File, expansion: dict[int, ast.File]) -> list[ast.Statement]:
    """The root file's statements with each expanded include replaced by its file's, in place."""
    out: list[ast.Statement] = []
    stack = [iter(root.statements)]
    while stack:
        statement = next(stack[-1], None)
        if statement is None:
            stack.pop()
        elif not isinstance(statement, ast.Include):
            out.append(statement)
        elif id(statement) in expansion:
            stack.append(iter(expansion[id(statement)].statements))
    return out
