"""`# noqa` comments: warnings a scenario's author has seen and accepted, as in ruff and flake8.

A comment `# noqa: SCN410` (codes separated by commas) silences those warnings on its line;
a bare `# noqa` silences every warning on its line. The line is the one where the warning's
span starts. Errors are never silenced: a scenario with an error cannot be compiled, so
hiding one would only move the failure later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostic, Severity

_NOQA = re.compile(r"#\s*noqa\b(?:\s*:\s*(?P<codes>[A-Za-z0-9]+(?:\s*,\s*[A-Za-z0-9]+)*))?", re.IGNORECASE)
ALL = "*"  # a bare `# noqa`


def noqa_lines(files: Iterable[ast.File]) -> dict[tuple[str, int], frozenset[str]]:
    """(file path, line) -> the codes its `# noqa` comment names (`ALL` for a bare one)."""
    lines: dict[tuple[str, int], frozenset[str]] = {}
    for file in files:
        for comment in file.comments:
            found = _NOQA.search(comment.text)
            if found is None:
                continue
            codes = found.group("codes")
            named = frozenset(c.strip().upper() for c in codes.split(",")) if codes else frozenset({ALL})
            key = (comment.span.source.path, comment.span.line)
            lines[key] = lines.get(key, frozenset()) | named
    return lines


def apply_noqa(files: Iterable[ast.File], diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics without the warnings that a `# noqa` comment on their line names."""
    lines = noqa_lines(files)
    if not lines:
        return diagnostics

    def silenced(d: Diagnostic) -> bool:
        if d.level is not Severity.WARNING or d.span is None:
            return False
        codes = lines.get((d.span.source.path, d.span.line), frozenset())
        return ALL in codes or d.code in codes

    return [d for d in diagnostics if not silenced(d)]
