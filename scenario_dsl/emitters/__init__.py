"""Renderers: one small module per output format over the same `list[Diagnostic]`.

Every emitter is a pure function `render(diagnostics, *, root=None) -> str`: no printing, no
terminal detection, no side effects. `root` (a folder) makes absolute paths under it relative,
so output reads the same on every machine; the CLI passes the current folder. Colour is a
separate concern of `human.render_rich`, used by the CLI only when writing to a terminal.

| format | module | for |
| --- | --- | --- |
| `human` | `human` | people: the source line, a caret under the span, the hint |
| `json` | `json` | scripts: a list of flat objects |
| `github` | `github` | GitHub Actions workflow commands (`::error file=...::`) |
| `sarif` | `sarif` | SARIF 2.1.0 for code-scanning dashboards |
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from scenario_dsl.emitters import github, human, json, sarif
from scenario_dsl.lang.diagnostics import Diagnostic

Renderer = Callable[..., str]

#: format name -> renderer; the CLI's `--format` choices, in this order.
FORMATS: dict[str, Renderer] = {
    "human": human.render,
    "json": json.render,
    "github": github.render,
    "sarif": sarif.render,
}


def render(fmt: str, diagnostics: Sequence[Diagnostic], *, root: Path | None = None) -> str:
    """Render `diagnostics` in format `fmt` (a key of `FORMATS`; `KeyError` otherwise)."""
    return FORMATS[fmt](diagnostics, root=root)


__all__ = ["FORMATS", "render"]
