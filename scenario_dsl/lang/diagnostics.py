"""Diagnostics: problems found in a scenario, as values.

Every stage appends `Diagnostic`s to a list instead of printing or raising; the CLI renders
them at the edge (see `scenario_dsl.emitters`). Codes are stable: once published, a code keeps
its meaning. `CODES` is the catalogue; docs/diagnostics.md has a section for each code.
Errors raised for a user derive from `ScnError` and carry their diagnostics.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scenario_dsl.lang.source import SourceFile, Span, remembered

if TYPE_CHECKING:  # the pydantic model is not needed to render a place: emitters stay light
    from scenario_dsl.lang.model import Where


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


# code -> (severity, one-line summary). Ranges: SCN0xx files and includes, SCN1xx syntax,
# SCN2xx names, SCN3xx units, shapes and types, SCN4xx values, SCN5xx compiling to Drake,
# SCN6xx training and runs, SCN9xx internal errors.
CODES: dict[str, tuple[Severity, str]] = {
    "SCN001": (Severity.ERROR, "file not found or not readable"),
    "SCN002": (Severity.ERROR, "file is not valid UTF-8 text"),
    "SCN003": (Severity.ERROR, "file is too large"),
    "SCN004": (Severity.ERROR, "include cycle"),
    "SCN005": (Severity.ERROR, "file outside the project folder"),
    "SCN006": (Severity.ERROR, "included file not found"),
    "SCN007": (Severity.WARNING, "folder holds no .scn files"),
    "SCN008": (Severity.ERROR, "nothing to build"),
    "SCN009": (Severity.ERROR, "not a compiled scenario"),
    "SCN010": (Severity.ERROR, "includes nested too deep"),
    "SCN011": (Severity.ERROR, "invalid project configuration"),
    "SCN101": (Severity.ERROR, "unexpected character"),
    "SCN102": (Severity.ERROR, "unexpected token"),
    "SCN103": (Severity.ERROR, "unexpected end of file"),
    "SCN104": (Severity.ERROR, "unterminated string"),
    "SCN105": (Severity.ERROR, "nesting too deep"),
    "SCN106": (Severity.ERROR, "statement not allowed here"),
    "SCN107": (Severity.ERROR, "hidden character in code"),
    "SCN108": (Severity.WARNING, "hidden character in a comment or string"),
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
    "SCN411": (Severity.ERROR, "requirements reject too many draws"),
    "SCN412": (Severity.ERROR, "simulation work past a limit"),
    "SCN413": (Severity.ERROR, "mass or inertia not physically valid"),
    "SCN501": (Severity.ERROR, "model file not found"),
    "SCN502": (Severity.ERROR, "package URL cannot be resolved offline"),
    "SCN503": (Severity.ERROR, "name not found in the loaded model"),
    "SCN504": (Severity.ERROR, "controller over unactuated joints"),
    "SCN505": (Severity.ERROR, "option not supported by the installed Drake"),
    "SCN506": (Severity.ERROR, "Drake rejected the scenario"),
    "SCN507": (Severity.ERROR, "model file could not be parsed"),
    "SCN508": (Severity.ERROR, "simulation step over its budget"),
    "SCN601": (Severity.ERROR, "invalid training setting"),
    "SCN602": (Severity.ERROR, "not a usable run directory"),
    "SCN603": (Severity.ERROR, "training diverged"),
    "SCN604": (Severity.ERROR, "the policy does not fit the scenario"),
    "SCN605": (Severity.ERROR, "the Ray cluster cannot be reached or cannot place a worker"),
    "SCN606": (Severity.ERROR, "a worker process ended without an answer"),
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


class ScnError(Exception):
    """The base of every error scn raises for its user: what went wrong as `diagnostics` (each with
    a stable code, a place where there is one, and a hint), rendered at the edge like lint's.

    A subclass names its `code` and the command line's `exit_code` (1: problems found in the
    input; 2: a usage problem, such as a file that is not what the command takes). `where` is a
    place in a scenario file: a `Span`, or a `model.Where` (line and column, for errors found after
    validation), shown in the text the front end read when this process read it.
    """

    code: str = "SCN901"
    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None, where: Span | Where | None = None, *,
                 code: str | None = None, path: str | None = None) -> None:
        if code is not None:
            self.code = code
        self.message, self.hint, self.where, self.path = message, hint, where, path
        place = f"{path}: " if path else ""
        if isinstance(where, Span):
            place = f"{where.path}:{where.line}:{where.column}: "
        elif where is not None:
            place = f"{where.file}:{where.line}:{where.column}: "
        super().__init__(f"{place}{self.code} {message}" + (f" ({hint})" if hint else ""))

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """This error as diagnostics (one, for every subclass but `ScenarioError`)."""
        path = self.path or (self.where.file if self.where is not None and not isinstance(self.where, Span) else None)
        return [Diagnostic(self.code, self.message, span_of(self.where), self.hint, path=path)]


def span_of(where: Span | Where | None) -> Span | None:
    """`where` as a span in the text this process read (re-read from the file only for a scenario
    this process did not read itself: one loaded from a compiled JSON file), or None."""
    if where is None or isinstance(where, Span):
        return where
    source = remembered(where.file)
    if source is None:
        try:
            source = SourceFile.read(where.file)
        except (OSError, UnicodeDecodeError, ValueError):
            return None
    start = source.offset(where.line, where.column)
    return Span(source, start, max(start, source.offset(where.end_line, where.end_column)))


class ScenarioError(ScnError):
    """Raised by `load`/`loads` when a scenario has errors; carries every diagnostic."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self._diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        errors = [d for d in self._diagnostics if d.level is Severity.ERROR]
        first = errors[0] if errors else (self._diagnostics[0] if self._diagnostics else None)
        summary = f"{first.file}:{first.line}:{first.column}: {first.code} {first.message}" if first else ""
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        Exception.__init__(self, summary + more)
        self.message, self.hint, self.where, self.path = summary + more, None, None, None
        if first is not None:
            self.code = first.code

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self._diagnostics
