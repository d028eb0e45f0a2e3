"""What every emitter needs: the location of a diagnostic as numbers, and display paths."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenario_dsl.lang.diagnostics import Diagnostic


@dataclass(frozen=True)
class Location:
    """1-based start and end of a diagnostic's span; the end points just past the span
    (exclusive, as in SARIF). Absent for whole-file diagnostics."""

    line: int
    column: int
    end_line: int
    end_column: int


def location(diagnostic: Diagnostic) -> Location | None:
    """The span of `diagnostic` as line and column numbers, or None when it has no span."""
    span = diagnostic.span
    if span is None:
        return None
    end_line, end_column = span.end_line_col
    return Location(span.line, span.column, end_line, end_column)


def display_path(path: str, root: Path | None) -> str:
    """`path` as shown to users: relative to `root` when it is an absolute path inside it.

    Relative paths (as the user typed them) and pseudo-names such as `<string>` are kept."""
    if root is None:
        return path
    p = Path(path)
    if not p.is_absolute():
        return path
    try:
        return p.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path
