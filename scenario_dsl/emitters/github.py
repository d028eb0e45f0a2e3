"""The `github` format: GitHub Actions workflow commands, one line per diagnostic.

    ::error file=a.scn,line=3,col=19,endLine=3,endColumn=22,title=SCN301::unknown unit `kgg`%0A= hint: ...

GitHub turns these lines into annotations on the pull request. Warnings use `::warning`.
Escaping follows GitHub's rules for workflow commands: in the message `%`, CR and LF become
`%25`, `%0D` and `%0A`; in properties `:` and `,` also become `%3A` and `%2C`. A whole-file
diagnostic carries only `file` and `title`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scenario_dsl.emitters._common import display_path, location
from scenario_dsl.lang.diagnostics import Diagnostic, Severity


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def line(diagnostic: Diagnostic, *, root: Path | None = None) -> str:
    """The workflow command for one diagnostic (without a newline)."""
    command = "error" if diagnostic.level is Severity.ERROR else "warning"
    props = [("file", display_path(diagnostic.file, root))]
    loc = location(diagnostic)
    if loc is not None:
        props += [("line", str(loc.line)), ("col", str(loc.column)),
                  ("endLine", str(loc.end_line)), ("endColumn", str(loc.end_column))]
    props.append(("title", diagnostic.code))
    message = diagnostic.message + (f"\n= hint: {diagnostic.hint}" if diagnostic.hint else "")
    return f"::{command} " + ",".join(f"{k}={escape_property(v)}" for k, v in props) + f"::{escape_data(message)}"


def render(diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> str:
    """One workflow command per line; "" for no diagnostics."""
    return "".join(line(d, root=root) + "\n" for d in diagnostics)
