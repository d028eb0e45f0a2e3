"""`scn fmt`'s engine (`scenario_dsl.lang.formatter`).

Fixtures do most of the work, as sqlglot's identity.sql does:
- `fixtures/format/*.scn` are in canonical form and must format to themselves byte for byte;
- `fixtures/format/messy/NAME.scn` must format to `NAME.expected.scn`.
Every fixture must also reparse to the same AST (spans aside), keep every comment exactly once
and format idempotently. Hypothesis adds random expressions and comments in random places.
The line width (wrapping at brackets, `--line-length`, `[tool.scn] line-length`) and the kept
parentheses around quantities have their own tests in test_formatter_width.py.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenario_dsl.lang import ast
from scenario_dsl.lang.build import MAX_DEPTH
from scenario_dsl.lang.formatter import LINE_LENGTH, format_expr, format_file, format_source
from scenario_dsl.lang.loader import parse_source
from scenario_dsl.lang.source import SourceFile, Span

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "format"
IDENTITY = sorted(FIXTURES.glob("*.scn"))
MESSY = sorted(p for p in (FIXTURES / "messy").glob("*.scn") if not p.name.endswith(".expected.scn"))
ALL_INPUTS = IDENTITY + MESSY


# ---- helpers --------------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """A node as nested tuples of its type and fields, without spans, without a file's comments
    (which `comment_texts` compares) and without what AST equality ignores (`compare=False`: the
    parentheses around a quantity, which `kept_parentheses` checks): equal trees give equal values."""
    if isinstance(value, ast.Node):
        skip = ("span", "comments")
        return (type(value).__name__,
                *(plain(getattr(value, f.name)) for f in fields(value) if f.name not in skip and f.compare))
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value


def parse(text: str, name: str = "<test>") -> ast.File:
    file, diagnostics = parse_source(SourceFile(name, text))
    assert file is not None, f"does not parse: {[str(d.message) for d in diagnostics]}\n{text}"
    return file


def fmt(text: str, width: int = LINE_LENGTH) -> str:
    formatted, diagnostics = format_source(SourceFile("<test>", text), width)
    assert formatted is not None, [d.message for d in diagnostics]
    return formatted


def comment_texts(file: ast.File) -> list[str]:
    return [c.text.rstrip() for c in file.comments]


def parenthesized(file: ast.File) -> list[bool]:
    """Whether each node, in walk order, was written in parentheses (a quantity with a unit)."""
    return [getattr(node, "parenthesized", False) for node in file.walk()]


def kept_parentheses(original: ast.File, reparsed: ast.File) -> bool:
    """Every parenthesis written around a quantity is still there (the formatter may add some:
    `(2 m)^2`)."""
    return all(after or not before for before, after in zip(parenthesized(original), parenthesized(reparsed),
                                                             strict=True))


def check_round_trip(text: str, width: int = LINE_LENGTH) -> str:
    """Format `text` at `width` and check the contract: same AST, same comments, every written
    parenthesis around a quantity kept, idempotent, tidy lines."""
    original = parse(text)
    formatted = format_file(original, width)
    reparsed = parse(formatted, "<formatted>")
    assert plain(reparsed) == plain(original), formatted
    assert kept_parentheses(original, reparsed), formatted
    assert comment_texts(reparsed) == comment_texts(original), formatted
    assert format_file(reparsed, width) == formatted, "not idempotent"
    if formatted:
        assert formatted.endswith("\n") and not formatted.endswith("\n\n")
    assert all(line == line.rstrip() for line in formatted.split("\n"))
    return formatted


# ---- fixtures -------------------------------------------------------------------------------

def test_there_are_enough_fixtures() -> None:
    assert len(IDENTITY) >= 8 and len(MESSY) >= 5


@pytest.mark.parametrize("path", IDENTITY, ids=lambda p: p.name)
def test_canonical_files_format_to_themselves(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert fmt(text) == text


@pytest.mark.parametrize("path", MESSY, ids=lambda p: p.name)
def test_messy_files_format_as_expected(path: Path) -> None:
    expected = path.with_name(path.stem + ".expected.scn").read_text(encoding="utf-8")
    assert fmt(path.read_text(encoding="utf-8")) == expected


@pytest.mark.parametrize("path", ALL_INPUTS, ids=lambda p: p.name)
def test_formatting_keeps_the_ast_and_every_comment(path: Path) -> None:
    check_round_trip(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.scn")),
                         ids=lambda p: p.name)
def test_bundled_scenarios_round_trip(path: Path) -> None:
    check_round_trip(path.read_text(encoding="utf-8"))


# ---- small cases: input -> expected output ---------------------------------------------------

CASES = [
    ("", ""),
    ("\n\n  \n", ""),
    ("body a;body b", "body a\nbody b\n"),
    ("body a\r\n# note  \r\n\r\n\r\nbody b\r\n", "body a\n# note\n\nbody b\n"),
    ("plant {\n}", "plant {}\n"),
    ("reward {}", "reward {}\n"),
    ("episode { step = 1 ms }", "episode {\n    step = 1 ms\n}\n"),
    ("let x = (|v|)\nlet y = (|v|)", "let x = (|v|)\nlet y = |v|\n"),
    ("body b { a = (|v|); c = |w| }", "body b { a = (|v|); c = |w| }\n"),
    ("let x = a - (b - c) - (d + e)", "let x = a - (b - c) - (d + e)\n"),
    ("let x = f(k = 1, a)", "let x = f(a, k = 1)\n"),
    ("let x = 3e6 m", "let x = 3e6 m\n"),
    ("let x = (2 m)^2", "let x = (2 m)^2\n"),
    ("let x = (a\n  + b)  # sum", "let x = a + b  # sum\n"),
    ("# only\n", "# only\n"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_small_cases(text: str, expected: str) -> None:
    assert fmt(text) == expected
    assert fmt(expected) == expected


def test_syntax_errors_give_no_text_and_the_diagnostics() -> None:
    formatted, diagnostics = format_source(SourceFile("broken.scn", "scenario s\nplant {"))
    assert formatted is None
    assert [d.code for d in diagnostics] == ["SCN103"]


def test_a_one_line_block_may_take_exactly_100_columns() -> None:
    items = "; ".join(f"k{i} = {i}" for i in range(10))
    line = f"train {{ {items}; last = 1 }}"
    line = line.replace("last", "last" + "t" * (100 - len(line)))
    assert len(line) == 100
    assert fmt(line) == line + "\n"
    assert fmt(line.replace("last", "lastt")).count("\n") == 13  # 11 settings, the head and the brace


def test_the_deepest_expression_the_parser_accepts() -> None:
    text = "let x = " + "-" * (MAX_DEPTH - 53) + "a^" * 50 + "b"  # File > Let > ... > Ref > Ident: 200 deep
    assert fmt(text) == text + "\n"


def test_a_tree_built_by_hand_formats_without_source_text() -> None:
    here = Span(SourceFile("<built>", ""), 0, 0)
    setting = ast.Setting(here, ast.Ident(here, "time_step"), ast.Number(here, "1", "ms"), None)
    flag = ast.Setting(here, ast.Ident(here, "actuated"), None, ())
    file = ast.File(here, (ast.PlantBlock(here, (setting,)), ast.BodyDecl(here, ast.Ident(here, "b"), (flag,))), ())
    assert format_file(file) == "plant { time_step = 1 ms }\n\nbody b {\n    actuated {}\n}\n"


# ---- random expressions ---------------------------------------------------------------------

NOWHERE = Span(SourceFile("<generated>", ""), 0, 0)
_idents = st.sampled_from(["a", "b", "x1", "box_joint", "theta", "q"]).map(lambda n: ast.Ident(NOWHERE, n))
_units = st.sampled_from(["m", "ms", "deg", "N*m", "m/s^2", "kg*m^2"])
_leaves = st.one_of(
    st.builds(ast.Number, st.just(NOWHERE), st.sampled_from(["0", "1", "2.5", "3e6", "1.5E-3", ".5", "1."]),
              st.none() | _units),
    st.lists(_idents, min_size=1, max_size=3).map(lambda parts: ast.Ref(NOWHERE, tuple(parts))),
)


def _tuples(children: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(children, max_size=most).map(tuple)


def _compound(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    here = st.just(NOWHERE)
    kwargs = _tuples(st.builds(ast.KwArg, here, _idents, children), 2)
    return st.one_of(
        st.builds(ast.Binary, here, st.sampled_from(["or", "and", "+", "-", "*", "/", "mod", "^"]), children, children),
        st.builds(ast.Compare, here, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children, children),
        st.builds(ast.Unary, here, st.sampled_from(["-", "+", "not"]), children),
        st.builds(ast.Index, here, children, children),
        st.builds(ast.Norm, here, children),
        st.builds(ast.Group, here, children, _units),  # the parser keeps a group only with a unit
        st.builds(ast.Vector, here, _tuples(children, 3), st.none() | _units),
        st.builds(ast.Call, here, _idents, _tuples(children, 2), kwargs, st.none() | _units),
    )


expressions = st.recursive(_leaves, _compound, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(expressions)
def test_random_expressions_reparse_to_themselves(expr: ast.Expr) -> None:
    text = format_expr(expr)
    let = parse(f"let x = {text}").statements[0]
    assert isinstance(let, ast.Let)
    assert plain(let.value) == plain(expr), text
    assert format_expr(let.value) == text


STATEMENT_TEMPLATES = [
    "param p = ({})",
    "reward {{ ({}) as r; ({}) }}",
    "body b {{ k = ({}); j = ({}) }}",
    "episode {{\n success when ({})\n terminate when ({})\n}}",
    "randomize {{\n require ({})\n x ~ ({})\n}}",
]


@settings(max_examples=150, deadline=None)
@given(expressions, expressions, st.sampled_from(STATEMENT_TEMPLATES))
def test_random_expressions_inside_statements(first: ast.Expr, second: ast.Expr, template: str) -> None:
    # Parenthesised, the input always parses; the formatter keeps only the parentheses needed.
    check_round_trip(template.format(format_expr(first), format_expr(second)) + "\nlet last = 1")


# ---- random comments ------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.data())
def test_comments_anywhere_survive_exactly_once(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(ALL_INPUTS), label="fixture")
    lines = path.read_text(encoding="utf-8").split("\n")
    places = data.draw(st.lists(st.tuples(st.integers(0, len(lines) - 1), st.booleans()), max_size=8), label="places")
    for n, (index, own_line) in enumerate(sorted(places, reverse=True)):
        if own_line:
            lines.insert(index, f"  # note {n}")
        else:
            lines[index] += f" # note {n}"
    text = "\n".join(lines)
    formatted = check_round_trip(text)
    assert len(parse(formatted).comments) == len(parse(text).comments)
