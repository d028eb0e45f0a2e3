"""The `sarif` format: a SARIF 2.1.0 log for code-scanning tools (GitHub code scanning, IDEs).

One run whose `tool.driver` lists every code of `diagnostics.CODES` as a rule, and a `results`
array that is always present, empty when the files are clean (consumers such as GitHub's
upload action reject a run without it). Columns count Unicode code points (`columnKind`), and
`endColumn` points just past the span. A whole-file diagnostic has a location without a region.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from scenario_dsl.emitters._common import display_path, location
from scenario_dsl.lang.diagnostics import CODES, Diagnostic
from scenario_dsl.support.version import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
TOOL_NAME = "scn"
INFORMATION_URI = "https://pypi.org/project/scenario-dsl/"

_RULE_INDEX = {code: i for i, code in enumerate(CODES)}


def rules() -> list[dict[str, Any]]:
    """One reportingDescriptor per catalog code, in catalog order (results index into it)."""
    return [
        {"id": code, "shortDescription": {"text": summary}, "defaultConfiguration": {"level": str(severity)}}
        for code, (severity, summary) in CODES.items()
    ]


def artifact_uri(path: str) -> str:
    """A path as a SARIF artifact URI: a relative reference, or `file://` when absolute."""
    p = Path(path)
    if p.is_absolute():
        return p.as_uri()
    return quote(p.as_posix())


def result(diagnostic: Diagnostic, *, root: Path | None = None) -> dict[str, Any]:
    """One SARIF result object."""
    text = diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(display_path(diagnostic.file, root))}}
    loc = location(diagnostic)
    if loc is not None:
        physical["region"] = {"startLine": loc.line, "startColumn": loc.column,
                              "endLine": loc.end_line, "endColumn": loc.end_column}
    out: dict[str, Any] = {"ruleId": diagnostic.code}
    if diagnostic.code in _RULE_INDEX:
        out["ruleIndex"] = _RULE_INDEX[diagnostic.code]
    out.update({"level": str(diagnostic.level), "message": {"text": text},
                "locations": [{"physicalLocation": physical}]})
    return out


def log(diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [{
            "tool": {"driver": {"name": TOOL_NAME, "version": __version__, "informationUri": INFORMATION_URI,
                                "rules": rules()}},
            "columnKind": "unicodeCodePoints",
            "results": [result(d, root=root) for d in diagnostics],
        }],
    }


def render(diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> str:
    """The SARIF log as JSON text (indented, ending with a newline)."""
    return json.dumps(log(diagnostics, root=root), indent=2, ensure_ascii=False) + "\n"
