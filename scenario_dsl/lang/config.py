"""The project's configuration: `scn.toml` (keys at the top) and the `[tool.scn]` table of
`pyproject.toml`, read by one function (`config_tables`) for every setting: `line-length`
(`scn fmt`, here) and `allow_paths` (`scenario_dsl.lang.project`).

The project folder is the one `scenario_dsl.lang.project` finds for a file: the nearest folder at
or above it that holds `pyproject.toml`, `scn.toml` or `.git`. Its width, as ruff and black
read theirs, is `line-length = N` at the top of `scn.toml` or in the `[tool.scn]` table of
`pyproject.toml`; `scn.toml` wins when both set it. A configuration file that links outside the
project is not read (as for `allow_paths`, which `scenario_dsl.lang.project` reads from the same
tables).

A value that is not a whole number of at least `MIN_LINE_LENGTH`, or a file that cannot be
read as TOML, is the error SCN011 at its place in the file; `scn fmt` then leaves that project's
files alone and exits 2, as for a bad `--line-length`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.reader import read_bounded
from scenario_dsl.lang.source import SourceFile, Span

MIN_LINE_LENGTH = 40
LINE_LENGTH_KEY = "line-length"
CONFIG_FILES = (("scn.toml", ()), ("pyproject.toml", ("tool", "scn")))  # the file, and the table in it
_CONFIG_BYTES = 1 << 20
_HEADER = re.compile(r"[ \t]*\[([^\[\]]*)\][ \t]*(#.*)?$")
_KEY = re.compile(r"[ \t]*(?:line-length|\"line-length\"|'line-length')[ \t]*=[ \t]*([^#\n]*?)[ \t]*(#.*)?$")
_TOML_PLACE = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class ConfigTable:
    """scn's table in one configuration file of a project: its settings (empty when the file
    could not be read: then `problem` says why, as SCN011 at its place)."""

    name: str  # "scn.toml" or "pyproject.toml"
    path: Path
    table: tuple[str, ...]  # where scn's settings sit in the file: () or ("tool", "scn")
    values: dict[str, Any]
    source: SourceFile | None = None
    problem: Diagnostic | None = None
    outside: bool = False  # the file links outside the project and was not read


def config_tables(root: Path) -> Iterator[ConfigTable]:
    """scn's table of each configuration file of the project folder `root`, `scn.toml` first. A
    file that links outside the project is not read; reads are bounded."""
    for name, table in CONFIG_FILES:
        config = root / name
        if not os.path.lexists(config):
            continue
        resolved = Path(os.path.realpath(config))
        if not resolved.is_relative_to(Path(os.path.realpath(root))):
            yield ConfigTable(name, config, table, {}, outside=True)
            continue
        try:
            text = read_bounded(resolved, _CONFIG_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            yield ConfigTable(name, config, table, {}, problem=Diagnostic(
                "SCN011", f"cannot read {name} ({type(exc).__name__})", None, "fix the file", path=str(config)))
            continue
        source = SourceFile(str(config), text)
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            yield ConfigTable(name, config, table, {}, source, Diagnostic(
                "SCN011", f"{name} is not valid TOML: {exc}", _toml_error_span(source, str(exc)), "fix the file",
                path=str(config)))
            continue
        for key in table:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        yield ConfigTable(name, config, table, data if isinstance(data, dict) else {}, source)


def configured_line_length(root: Path) -> tuple[int | None, list[Diagnostic]]:
    """`line-length` of the project folder `root` (None when no file sets it), and the problems
    with it (SCN011)."""
    for found in config_tables(root):
        if found.problem is not None:
            hint = "fix the file, or pass --line-length"
            return None, [Diagnostic(found.problem.code, found.problem.message, found.problem.span, hint,
                                     path=found.problem.path)]
        if LINE_LENGTH_KEY not in found.values or found.source is None:
            continue
        table, source, value = found.table, found.source, found.values[LINE_LENGTH_KEY]
        if isinstance(value, int) and not isinstance(value, bool) and value >= MIN_LINE_LENGTH:
            return value, []
        return None, [Diagnostic(
            "SCN011", f"`{LINE_LENGTH_KEY}` must be a whole number of at least {MIN_LINE_LENGTH}, not {_shown(value)}",
            _value_span(source, ".".join(table)), f"for example `{LINE_LENGTH_KEY} = 100`",
            path=str(found.path))]
    return None, []


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value) if isinstance(value, int | float) else type(value).__name__


def _value_span(source: SourceFile, table: str) -> Span | None:
    """Where `line-length = ...` sets the value in `table` ("" for the top level), or None."""
    current = ""
    offset = 0
    for line in source.text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        header = _HEADER.match(body)
        if header is not None and not body.lstrip().startswith("[["):
            current = header.group(1).strip().replace(" ", "").replace('"', "")
        elif body.lstrip().startswith("[["):
            current = "\x00"  # an array of tables: not ours
        elif current == table and (key := _KEY.match(body)) is not None:
            return Span(source, offset + key.start(1), offset + key.end(1))
        offset += len(line)
    return None


def _toml_error_span(source: SourceFile, message: str) -> Span | None:
    place = _TOML_PLACE.search(message)
    if place is None:
        return None
    start = source.offset(int(place.group(1)), int(place.group(2)))
    return Span(source, start, min(start + 1, len(source.text)))
