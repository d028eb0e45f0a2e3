"""The `json` format: a JSON list with one flat object per diagnostic, in the given order.

    [{"code": "SCN301", "severity": "error", "message": "unknown unit `kgg`",
      "hint": "did you mean `kg`?", "file": "a.scn",
      "line": 3, "column": 19, "end_line": 3, "end_column": 22}]

Lines and columns are 1-based and count Unicode characters; `end_line`/`end_column` point
just past the span (exclusive). A whole-file diagnostic has null line and column fields, and
`hint` is null when there is none. The output is always a list (`[]` for no diagnostics).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scenario_dsl.emitters._common import display_path, location
from scenario_dsl.lang.diagnostics import Diagnostic


def to_dict(diagnostic: Diagnostic, *, root: Path | None = None) -> dict[str, Any]:
    """One diagnostic as the object this format writes."""
    loc = location(diagnostic)
    return {
        "code": diagnostic.code,
        "severity": str(diagnostic.level),
        "message": diagnostic.message,
        "hint": diagnostic.hint,
        "file": display_path(diagnostic.file, root),
        "line": loc.line if loc else None,
        "column": loc.column if loc else None,
        "end_line": loc.end_line if loc else None,
        "end_column": loc.end_column if loc else None,
    }


def render(diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> str:
    """The JSON text (indented, ending with a newline)."""
    return json.dumps([to_dict(d, root=root) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
