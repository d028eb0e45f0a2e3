"""The `human` format: rustc/ruff-style text with the source line and a caret under the span.

    scenarios/a.scn:3:19: error[SCN301]: unknown unit `kgg`
      |
    3 | body box { mass = 1 kgg }
      |                   ^^^^^
      = hint: did you mean `kg`?

A whole-file diagnostic (no span) is one line, `path: error[SCN001]: message`, and its hint.
Diagnostics are separated by a blank line. The span is clipped to its first line and always
gets at least one caret; tabs are expanded, wide characters take two columns, control and
invisible format characters are shown as U+FFFD (so a file cannot drive the terminal), and a
long line is cut to a window around the span. The summary line (`Found 3 errors.`) is the
CLI's job, not this module's.

`render` returns plain text (golden files, pipes); `render_rich` returns the same text with
styles for a terminal. Both come from one list of styled segments, so they cannot drift apart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from scenario_dsl.emitters._common import display_path
from scenario_dsl.lang.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from rich.text import Text

TAB_WIDTH = 4
#: Characters of a long source line shown before the span starts, and in all.
CONTEXT_BEFORE = 40
MAX_SHOWN = 120
ELLIPSIS = "…"

Segment = tuple[str, str]  # (text, rich style; "" for none)

_LEVEL_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow"}
_GUTTER = "bold blue"


def render(diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> str:
    """Plain text for `diagnostics`, in the given order; "" for none, else ends with a newline."""
    return "".join(text for text, _ in segments(diagnostics, root=root))


def render_rich(diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> Text:
    """The same text as `render`, styled for a terminal (imports rich only when called)."""
    from rich.text import Text

    out = Text()
    for text, style in segments(diagnostics, root=root):
        out.append(text, style=style or None)
    return out


def segments(diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> list[Segment]:
    """The styled pieces of the rendering; joining their texts gives `render`'s output."""
    out: list[Segment] = []
    for i, diagnostic in enumerate(diagnostics):
        if i:
            out.append(("\n", ""))
        out.extend(_one(diagnostic, root))
    return out


def _one(d: Diagnostic, root: Path | None) -> list[Segment]:
    level_style = _LEVEL_STYLE[d.level]
    path = _printable(display_path(d.file, root))
    where = f"{path}:{d.line}:{d.column}" if d.span is not None else path
    out: list[Segment] = [
        (f"{where}: ", "bold"),
        (f"{d.level}[{d.code}]", level_style),
        (f": {_printable(d.message)}\n", "bold"),
    ]
    pad = " "
    if d.span is not None:
        line_no = str(d.line)
        pad = " " * len(line_no)
        shown, caret_at, caret_len = _excerpt(d)
        out += [
            (f"{pad} |\n", _GUTTER),
            (f"{line_no} |", _GUTTER), (f" {shown}\n" if shown else "\n", ""),
            (f"{pad} |", _GUTTER), (" " + " " * caret_at, ""), ("^" * caret_len, level_style), ("\n", ""),
        ]
    if d.hint:
        out += [(f"{pad} = ", _GUTTER), ("hint", "bold cyan"), (f": {_printable(d.hint)}\n", "")]
    return out


def _excerpt(d: Diagnostic) -> tuple[str, int, int]:
    """The source line of `d` as displayed, the display column where its carets start
    (0-based) and how many carets (at least one)."""
    assert d.span is not None
    source = d.span.source
    line_start, line_end = source.line_bounds(d.line)
    length = line_end - line_start
    start = min(d.column - 1, length)
    end_line, end_column = d.span.end_line_col
    end = min(end_column - 1, length) if end_line == d.line else length
    end = max(end, start)
    # A long line is cut to a window that shows the span's start with some context (only the
    # window is read: many diagnostics on one long line must not copy it for each).
    first = max(0, start - CONTEXT_BEFORE) if length > MAX_SHOWN else 0
    last = min(length, first + MAX_SHOWN)
    text = source.text[line_start + first : line_start + last]
    prefix = ELLIPSIS if first > 0 else ""
    suffix = ELLIPSIS if last < length else ""
    if text.isascii() and text.isprintable():  # one column per character (no tab, no control): no loop
        return ((prefix + text + suffix).rstrip(), len(prefix) + min(start, last) - first,
                max(1, min(end, last) - min(start, last)))
    shown, col = [prefix], len(prefix)
    caret_at = caret_end = -1
    for i in range(first, last):
        if i == start:
            caret_at = col
        if i == end:
            caret_end = col
        cell = _cell(text[i - first], col)
        shown.append(cell)
        col += _width(cell)
    if caret_at < 0:  # the span starts at (or past) the end of the shown text
        caret_at = col
    if caret_end < 0:
        caret_end = col
    shown.append(suffix)
    return "".join(shown).rstrip(), caret_at, max(1, caret_end - caret_at)


def _cell(ch: str, col: int) -> str:
    if ch == "\t":
        return " " * (TAB_WIDTH - col % TAB_WIDTH)
    return _printable(ch)


def _width(cell: str) -> int:
    width = 0
    for ch in cell:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _printable(text: str) -> str:
    """`text` with control, format and line/paragraph-separator characters as U+FFFD."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else "\ufffd" for ch in text)
