"""Follow `include "other.scn"` statements: each included file is parsed once, cycles and
paths that leave the project folder are diagnostics at the `include` that caused them.

The project folder is the nearest folder above the root file that holds `pyproject.toml`,
`scn.toml` or `.git`, or else the root file's own folder.
"""

from __future__ import annotations

from pathlib import Path

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostic

_PROJECT_MARKERS = ("pyproject.toml", "scn.toml", ".git")


def project_root(start: Path) -> Path:
    """The project folder that includes may not leave."""
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _PROJECT_MARKERS):
            return folder
    return start


def resolve_includes(root: ast.File, base_dir: Path) -> tuple[list[ast.File], list[Diagnostic]]:
    """The root file followed by every file it includes (depth first, each once)."""
    from scenario_dsl.lang.loader import parse_source, read_source

    project = project_root(base_dir.resolve())
    files = [root]
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()
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
            included, problems = parse_source(source)
            diagnostics.extend(problems)
            if included is None:
                continue
            files.append(included)
            visit(included, target.parent, (*chain, target))

    visit(root, base_dir, (root_path,) if root_path else ())
    return files, diagnostics
