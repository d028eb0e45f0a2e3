"""The front end as one call: read a file, parse it, build its AST, follow its includes and
validate the result into a `Scenario`.

`analyze_file`/`analyze_text` never raise for bad input: they return an `Analysis` holding the
scenario (when there are no errors) and every diagnostic. `load`/`loads` are the public API
and raise `ScenarioError` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scenario_dsl.lang import ast
from scenario_dsl.lang.build import build
from scenario_dsl.lang.diagnostics import Diagnostic, ScenarioError, Severity
from scenario_dsl.lang.includes import resolve_includes
from scenario_dsl.lang.project import check_root
from scenario_dsl.lang.reader import MAX_FILE_BYTES, decode_source, read_source  # noqa: F401  (re-exported)
from scenario_dsl.lang.source import SourceFile, remember
from scenario_dsl.lang.suppressions import apply_noqa
from scenario_dsl.lang.text import with_lf_line_ends
from scenario_dsl.support.gcpause import paused_gc
from scenario_dsl.support.suggest import hint_budget

if TYPE_CHECKING:
    from scenario_dsl.lang.model import Scenario

ParamValues = Mapping[str, str | float | int]


@dataclass
class Analysis:
    """What the front end learned about one scenario file."""

    path: str
    scenario: Scenario | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: list[ast.File] = field(default_factory=list)  # the root file first, then includes

    @property
    def ok(self) -> bool:
        return self.scenario is not None and not any(d.level is Severity.ERROR for d in self.diagnostics)


def parse_source(source: SourceFile) -> tuple[ast.File | None, list[Diagnostic]]:
    """Parse and build one file's AST (no includes, no validation). For printing it (`scn fmt`),
    the AST's text has LF for each lone CR: same offsets, lines and columns (text.with_lf_line_ends)."""
    return build(with_lf_line_ends(source))


def analyze_text(text: str, path: str = "<string>", *, params: ParamValues | None = None,
                 base_dir: str | Path | None = None) -> Analysis:
    """Run the front end over text; `base_dir` resolves includes (default: the current folder)."""
    source = remember(SourceFile(path, text))
    return _analyze(source, params, Path(base_dir) if base_dir is not None else Path.cwd())


def analyze_file(path: str | Path, *, params: ParamValues | None = None) -> Analysis:
    """Run the front end over a file; never raises for bad input."""
    refused = check_root(path)  # a symlink out of its project, or not a regular file: never opened
    if refused is not None:
        return Analysis(str(path), None, [refused])
    source, diagnostics = read_source(path)
    if source is None:
        return Analysis(str(path), None, diagnostics)
    return _analyze(source, params, Path(path).resolve().parent)


def _analyze(source: SourceFile, params: ParamValues | None, base_dir: Path) -> Analysis:
    # A large file makes millions of objects, none in cycles (support/gcpause.py); its hints
    # compare names with names, so they are limited per file (support/suggest.py).
    with paused_gc(), hint_budget():
        analysis = _analyze_unsuppressed(source, params, base_dir)
    analysis.diagnostics = apply_noqa(analysis.files, analysis.diagnostics)
    return analysis


def _analyze_unsuppressed(source: SourceFile, params: ParamValues | None, base_dir: Path) -> Analysis:
    analysis = Analysis(source.path)
    root, diagnostics = build(source)
    analysis.diagnostics.extend(diagnostics)
    if root is None:
        return analysis
    included, diagnostics = resolve_includes(root, base_dir)
    analysis.files = included.files
    analysis.diagnostics.extend(diagnostics)
    if any(d.level is Severity.ERROR for d in analysis.diagnostics):
        return analysis
    from scenario_dsl.lang.validate import validate  # start-up time: pydantic loads only to validate

    try:
        scenario, diagnostics = validate(included.files, params or {}, str(base_dir), included.statements)
    except Exception as exc:  # a bug in scn, not in the scenario: report it, never a traceback
        message = f"internal error while validating: {type(exc).__name__}: {exc}"
        analysis.diagnostics.append(Diagnostic("SCN901", message, None, "please report this with the scenario file",
                                               path=source.path))
        return analysis
    analysis.diagnostics.extend(diagnostics)
    if not any(d.level is Severity.ERROR for d in diagnostics):
        analysis.scenario = scenario
    return analysis


def load(path: str | Path, *, params: ParamValues | None = None) -> Scenario:
    """Load and validate a `.scn` file; raises `ScenarioError` with every diagnostic."""
    return _unwrap(analyze_file(path, params=params))


def loads(text: str, name: str = "<string>", *, params: ParamValues | None = None,
          base_dir: str | Path | None = None) -> Scenario:
    """Load and validate scenario text; raises `ScenarioError` with every diagnostic."""
    return _unwrap(analyze_text(text, name, params=params, base_dir=base_dir))


def _unwrap(analysis: Analysis) -> Scenario:
    if analysis.scenario is None or not analysis.ok:
        raise ScenarioError(analysis.diagnostics)
    return analysis.scenario
