"""Differential test: scn's fast parser against plain Lark, on every .scn text the repository holds.

`scenario_dsl.lang.parser` parses with `fastparse.FastParser` (Lark's LALR tables, contextual-lexer
scanners and rule callbacks, driven by its own loop) and falls back to `Lark.parse` on the same
`Lark` object when the fast loop raises. The fast path's contract, from its docstrings:

* on input Lark accepts, `FastParser.parse(text)` returns what `Lark.parse(text)` returns: the
  same tree (rule names, children, and every token's type, value, line, column, end_line,
  end_column, start_pos and end_pos), or with the AST builder as transformer the same AST; and
  the lexer's COMMENT callback sees the same comment tokens;
* on input Lark rejects (an `UnexpectedInput`, or the postlexer's `_NestingTooDeep` /
  `_RunOnKeyword`), the fast loop raises *something* (it never reports errors itself and its
  exception is not looked at); `parse` then parses again with Lark, so the public results
  (`parse`'s diagnostics and comments, `build`'s diagnostics) are exactly those of plain Lark.

Both halves are checked for the raw Lark tree (no transformer) and for the builder transformer,
on the bundled scenarios, the test fixtures (formatter ones included), the bad-input and golden
files, the ```scn blocks of docs/language.md and docs/diagnostics.md, and on mutations of them.

Lark is pinned in pyproject.toml to the versions this file was run against (1.2.2 and 1.3.1),
because the fast parser reads Lark internals (`lark.parser.parser.parser`, `Shift`, `PostLexConnector`,
`BasicLexer.scanner._mres`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lark import Token, Tree

from scenario_dsl.lang import build as build_module
from scenario_dsl.lang import parser as parser_module
from scenario_dsl.lang.build import build
from scenario_dsl.lang.parser import _fast_parser, _lark, parse
from scenario_dsl.lang.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]
FILE_PATTERNS = ("scenarios/**/*.scn", "tests/fixtures/**/*.scn", "tests/bad_input/*.scn", "tests/golden/**/*.scn")
DOC_PAGES = ("docs/language.md", "docs/diagnostics.md")
TOKEN_FIELDS = ("type", "value", "line", "column", "end_line", "end_column", "start_pos", "end_pos")


# ---- the inputs ---------------------------------------------------------------------------


def _file_cases() -> list[tuple[str, str]]:
    cases: dict[str, str] = {}
    for pattern in FILE_PATTERNS:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file():  # tests/golden/scn001_is_a_folder.scn is a folder
                # Undecodable bytes (the SCN002 goldens) never reach the parser; their replaced
                # text is still a fine parser input.
                cases[path.relative_to(ROOT).as_posix()] = path.read_bytes().decode("utf-8-sig", errors="replace")
    return sorted(cases.items())


def _doc_cases() -> list[tuple[str, str]]:
    from test_docs import read_page  # the docs test's own Markdown reader

    cases = []
    for page in DOC_PAGES:
        for block in read_page(ROOT / page).blocks:
            if block.lang == "scn" or block.options.get("file", "").endswith(".scn"):
                cases.append((f"{page}:{block.line}", block.text))
    return cases


FILE_CASES = _file_cases()
DOC_CASES = _doc_cases()
CASES = FILE_CASES + DOC_CASES


# ---- running both paths -------------------------------------------------------------------


@contextmanager
def _plain_lark() -> Iterator[None]:
    """`parse` and `build` with the fast path switched off: `Lark.parse` alone."""
    with mock.patch.object(parser_module, "_fast_parser", lambda _lark: None):
        yield


def _raw(text: str, transformer: Any, fast: bool) -> tuple[bool, Any, list[Token]]:
    """(accepted, tree or exception, comments) from one path, set up as `parse` sets it up."""
    lark = _lark(transformer)
    comments: list[Token] = []
    if transformer is not None:
        transformer.source = SourceFile("t.scn", text)
    parser_module._COMMENTS.target = comments
    parser_module._NEWLINES.text = text
    try:
        if fast:
            fast_parser = _fast_parser(lark)
            assert fast_parser is not None, "the fast path is off for this Lark version"
            result = fast_parser.parse(text)
        else:
            result = lark.parse(text)
    except Exception as exc:
        return False, exc, comments
    finally:
        parser_module._COMMENTS.target = []
    return True, result, comments


def _token_fields(token: Token) -> tuple[Any, ...]:
    return (str(token), *(getattr(token, name, "<missing>") for name in TOKEN_FIELDS))


Path = tuple[Any, str] | None  # (the parent's path, this step): built in O(1), rendered on failure


def _render(path: Path) -> str:
    steps = []
    while path is not None:
        path, step = path
        steps.append(step)
    return "".join(reversed(steps)) or "the root"


def first_difference(a: Any, b: Any) -> str | None:
    """Where two parse results differ (trees, tokens with their positions, lists, AST nodes).
    Iterative: the trees of the deep bad-input files are deeper than the recursion limit."""
    stack: list[tuple[Any, Any, Path]] = [(a, b, None)]
    while stack:
        x, y, path = stack.pop()
        if type(x) is not type(y):
            return f"at {_render(path)}: {type(x).__name__} {x!r} vs {type(y).__name__} {y!r}"
        if isinstance(x, Token):
            if _token_fields(x) != _token_fields(y):
                return f"at {_render(path)}: token {_token_fields(x)} vs {_token_fields(y)}"
        elif isinstance(x, Tree):
            if first_difference(x.data, y.data) is not None:
                return f"at {_render(path)}: rule {x.data!r} vs {y.data!r}"
            if len(x.children) != len(y.children):
                return f"at {_render(path)}/{x.data}: {len(x.children)} vs {len(y.children)} children"
            pairs = enumerate(zip(x.children, y.children, strict=True))
            stack.extend((cx, cy, (path, f"/{x.data}[{i}]")) for i, (cx, cy) in pairs)
        elif isinstance(x, (list, tuple)):  # lists of comments, the builder's tuples of items
            if len(x) != len(y):
                return f"at {_render(path)}: {len(x)} vs {len(y)} items"
            stack.extend((cx, cy, (path, f"[{i}]")) for i, (cx, cy) in enumerate(zip(x, y, strict=True)))
        elif dataclasses.is_dataclass(x):  # AST nodes, spans: field by field, without recursion
            stack.extend((getattr(x, f.name), getattr(y, f.name), (path, f".{f.name}"))
                         for f in dataclasses.fields(x) if f.compare)
        elif x != y:  # strings, numbers, None
            return f"at {_render(path)}: {x!r} vs {y!r}"
    return None


def check_same(text: str) -> bool:
    """Assert both paths agree on `text` (see the module docstring); whether Lark accepted it."""
    outcomes = []
    for transformer in (None, build_module._BUILDER):
        ok, plain, plain_comments = _raw(text, transformer, fast=False)
        fast_ok, fast, fast_comments = _raw(text, transformer, fast=True)
        outcomes.append(ok)
        if transformer is None:
            lark_tree, lark_comments = plain, plain_comments
        kind = "tree" if transformer is None else "AST"
        if ok:
            assert fast_ok, f"{kind}: Lark accepts the text, the fast path raises {fast!r}"
            assert (diff := first_difference(plain, fast)) is None, f"{kind}: {diff}"
            assert (diff := first_difference(plain_comments, fast_comments)) is None, f"{kind} comments: {diff}"
        else:
            assert not fast_ok, f"{kind}: Lark raises {plain!r}, the fast path accepts the text"
    assert outcomes[0] == outcomes[1], "the builder changes what Lark accepts"

    # The public entry points: Lark's tree on valid text; on invalid text, after the fallback,
    # exactly the diagnostics and comments that plain Lark gives.
    source = SourceFile("t.scn", text)
    result = parse(source)
    if outcomes[0]:
        assert result.diagnostics == []
        assert (diff := first_difference(lark_tree, result.tree)) is None, f"parse tree: {diff}"
        assert (diff := first_difference(lark_comments, result.comments)) is None, f"parse comments: {diff}"
    else:
        with _plain_lark():
            plain_parse, plain_build = parse(source), build(source)
        assert result.tree is None and plain_parse.tree is None
        assert result.diagnostics == plain_parse.diagnostics
        assert (diff := first_difference(plain_parse.comments, result.comments)) is None, f"parse comments: {diff}"
        assert build(source) == plain_build
    return outcomes[0]


# ---- the repository's .scn texts ------------------------------------------------------------


def test_the_inputs_are_found() -> None:
    folders = {name.split("/")[0] if name.startswith("scenarios") else "/".join(name.split("/")[:2])
               for name, _ in FILE_CASES}
    assert {"scenarios", "tests/fixtures", "tests/bad_input", "tests/golden"} <= folders, folders
    assert any(name.startswith("tests/fixtures/format/") for name, _ in FILE_CASES)
    assert len(DOC_CASES) > 50


def test_the_fast_path_is_on() -> None:
    """Otherwise everything below compares Lark with itself: the fast parser must accept this
    Lark version's setup (`_fast_parser` returns None where Lark is not laid out as expected)."""
    assert _fast_parser(_lark(None)) is not None
    assert _fast_parser(_lark(build_module._BUILDER)) is not None


@pytest.mark.parametrize(("name", "text"), CASES, ids=[name for name, _ in CASES])
def test_same_result_as_lark(name: str, text: str) -> None:
    check_same(text)


def test_inputs_cover_both_outcomes() -> None:
    accepted = [parse(SourceFile(name, text)).tree is not None for name, text in FILE_CASES]
    assert any(accepted) and not all(accepted)


@pytest.mark.parametrize("text", [
    "", "\n", ";", "# only a comment", "scenario t", "scenario t\n", "let x = 1 # c\n# d",
    "let x = " + "(" * 101 + "1" + ")" * 101,  # SCN105 in the postlexer
    "rewards { }",  # a run-on keyword
    'scenario t "unclosed', "let x = 1 @", "let x =", "plant { time_step = 1 ms\r\n}\r\n",
    "let x = 1\tm", "let x = a + b\n  + c", "\ufeffscenario t",
], ids=repr)
def test_same_result_on_edge_cases(text: str) -> None:
    check_same(text)


# ---- mutations ------------------------------------------------------------------------------

_PIECES = re.compile(r'\s|\w+|"[^"\n]*"|#[^\n]*|.', re.S)
_VOCABULARY = (
    "scenario", "include", "param", "let", "plant", "model", "frame", "body", "joint", "weld", "controller",
    "action", "observation", "randomize", "reward", "episode", "train", "per", "every", "from", "on", "at", "in",
    "as", "when", "terminate", "success", "require", "not", "and", "or", "mod", "x", "box.mass", "1", "2.5", "3 m",
    '"s"', "{", "}", "(", ")", "[", "]", "=", "~", "+~", "*~", "->", ",", ":", ";", "\n", "\r\n", "|", "+", "-",
    "*", "/", "^", "<", "==", ".", "# c\n", " ", "\t", "@", '"', "rewards", "kg", "1e3",
)
MUTATION_SOURCES = [text for _, text in CASES if len(text) < 20_000]


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(MUTATION_SOURCES))
    for _ in range(draw(st.integers(1, 3))):
        pieces = _PIECES.findall(text)
        lines = text.splitlines(keepends=True)
        op = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "delete line", "duplicate line",
                                   "splice line"]))
        if op.endswith("line"):
            at = draw(st.integers(0, max(len(lines) - 1, 0)))
            if op == "delete line":
                lines[at:at + 1] = []
            elif op == "duplicate line":
                lines[at:at] = lines[at:at + 1]
            else:
                donor = draw(st.sampled_from(MUTATION_SOURCES)).splitlines(keepends=True) or ["\n"]
                lines.insert(at, donor[draw(st.integers(0, len(donor) - 1))])
            text = "".join(lines)
        else:
            at = draw(st.integers(0, len(pieces)))
            if op == "insert":
                pieces.insert(at, draw(st.sampled_from(_VOCABULARY)))
            elif op == "delete":
                pieces[at:at + 1] = []
            elif op == "duplicate":
                pieces[at:at] = pieces[at:at + 1]
            else:
                pieces[at:at + 2] = pieces[at:at + 2][::-1]
            text = "".join(pieces)
    return text


_WORDS = st.lists(st.sampled_from(_VOCABULARY), max_size=40).map(" ".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_mutated(), _mutated(), _mutated(), _WORDS))
def test_same_result_on_mutations(text: str) -> None:
    event("accepted" if check_same(text) else "rejected")
