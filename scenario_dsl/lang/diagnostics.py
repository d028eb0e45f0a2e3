"""Diagnostics: problems found in a scenario, as values.

Every stage appends `Diagnostic`s to a list instead of printing or raising; the CLI renders
them at the edge (see `scenario_dsl.emitters`). Codes are stable: once published, a code keeps
its meaning. `CODES` is the catalog that `docs/language.md` documents.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from scenario_dsl.lang.source import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


# code -> (severity, one-line summary). Ranges: SCN0xx files and includes, SCN1xx syntax,
# SCN2xx names, SCN3xx units, shapes and types, SCN4xx values, SCN5xx compiling to Drake,
# SCN9xx internal errors.
CODES: dict[str, tuple[Severity, str]] = {
    "SCN001": (Severity.ERROR, "file not found or not readable"),
    "SCN002": (Severity.ERROR, "file is not valid UTF-8 text"),
    "SCN003": (Severity.ERROR, "file is too large"),
    "SCN004": (Severity.ERROR, "include cycle"),
    "SCN005": (Severity.ERROR, "include leaves the project folder"),
    "SCN006": (Severity.ERROR, "included file not found"),
    "SCN007": (Severity.WARNING, "folder holds no .scn files"),
    "SCN008": (Severity.ERROR, "nothing to build"),
    "SCN101": (Severity.ERROR, "unexpected character"),
    "SCN102": (Severity.ERROR, "unexpected token"),
    "SCN103": (Severity.ERROR, "unexpected end of file"),
    "SCN104": (Severity.ERROR, "unterminated string"),
    "SCN105": (Severity.ERROR, "nesting too deep"),
    "SCN106": (Severity.ERROR, "statement not allowed here"),
    "SCN201": (Severity.ERROR, "undefined name"),
    "SCN202": (Severity.ERROR, "duplicate name"),
    "SCN203": (Severity.ERROR, "unknown setting"),
    "SCN204": (Severity.ERROR, "unknown attribute"),
    "SCN205": (Severity.ERROR, "unknown function or distribution"),
    "SCN206": (Severity.ERROR, "name refers to the wrong kind of thing"),
    "SCN207": (Severity.ERROR, "required section missing"),
    "SCN208": (Severity.ERROR, "setting given twice"),
    "SCN209": (Severity.WARNING, "unused binding or parameter"),
    "SCN210": (Severity.ERROR, "unknown parameter override"),
    "SCN211": (Severity.ERROR, "section given twice"),
    "SCN301": (Severity.ERROR, "unknown unit"),
    "SCN302": (Severity.ERROR, "dimension mismatch"),
    "SCN303": (Severity.ERROR, "vector length mismatch"),
    "SCN304": (Severity.ERROR, "expected a scalar"),
    "SCN305": (Severity.ERROR, "wrong number of arguments"),
    "SCN306": (Severity.ERROR, "type mismatch"),
    "SCN307": (Severity.ERROR, "value must be a constant"),
    "SCN308": (Severity.ERROR, "distribution not allowed here"),
    "SCN401": (Severity.ERROR, "value out of range"),
    "SCN402": (Severity.ERROR, "bounds not ordered"),
    "SCN403": (Severity.ERROR, "episode step is not a multiple of the plant time step"),
    "SCN404": (Severity.ERROR, "unknown option value"),
    "SCN405": (Severity.ERROR, "invalid distribution parameters"),
    "SCN406": (Severity.ERROR, "required setting missing"),
    "SCN407": (Severity.ERROR, "conflicting settings"),
    "SCN408": (Severity.WARNING, "suspicious value"),
    "SCN409": (Severity.ERROR, "division by zero in a constant"),
    "SCN410": (Severity.WARNING, "randomization rebuilds the diagram"),
    "SCN501": (Severity.ERROR, "model file not found"),
    "SCN502": (Severity.ERROR, "package URL cannot be resolved offline"),
    "SCN503": (Severity.ERROR, "name not found in the loaded model"),
    "SCN504": (Severity.ERROR, "controller over unactuated joints"),
    "SCN505": (Severity.ERROR, "option not supported by the installed Drake"),
    "SCN506": (Severity.ERROR, "Drake rejected the scenario"),
    "SCN507": (Severity.ERROR, "model file could not be parsed"),
    "SCN901": (Severity.ERROR, "internal error"),
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem: a stable `code`, where it is (`span`, absent for whole-file problems
    such as an unreadable file), what is wrong (`message`) and what to do (`hint`)."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    path: str | None = None  # used when there is no span (e.g. a file that cannot be read)
    severity: Severity | None = None  # None: the catalog's severity for `code`

    @property
    def level(self) -> Severity:
        return self.severity or CODES[self.code][0]

    @property
    def file(self) -> str:
        return self.span.path if self.span is not None else (self.path or "<unknown>")

    @property
    def line(self) -> int:
        return self.span.line if self.span is not None else 1

    @property
    def column(self) -> int:
        return self.span.column if self.span is not None else 1

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.span.start if self.span else -1, 0, self.code)


class Diagnostics:
    """An ordered collection that stages append to; knows whether any error was seen."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def add(self, code: str, message: str, span: Span | None = None, hint: str | None = None,
            *, path: str | None = None) -> None:
        self._items.append(Diagnostic(code, message, span, hint, path))

    def extend(self, items: Iterable[Diagnostic]) -> None:
        self._items.extend(items)

    @property
    def has_errors(self) -> bool:
        return any(d.level is Severity.ERROR for d in self._items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self._items, key=Diagnostic.sort_key)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


class ScenarioError(Exception):
    """Raised by `load`/`loads` when a scenario has errors; carries every diagnostic."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        errors = [d for d in self.diagnostics if d.level is Severity.ERROR]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = f"{first.file}:{first.line}:{first.column}: {first.code} {first.message}" if first else ""
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(summary + more)
