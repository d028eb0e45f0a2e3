"""Stage 3: Lark parse tree -> AST (`scenario_dsl.lang.ast`).

One small method per grammar rule, named after it. Lark applies them while it parses (LALR
reductions: no recursion, no intermediate tree), and the finished AST is checked for depth,
so later (recursive) stages never meet a tree deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from lark import Token, Transformer

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.parser import parse
from scenario_dsl.lang.source import SourceFile, Span
from scenario_dsl.lang.text import check_text, replaces_syntax_error
from scenario_dsl.support.gcpause import paused_gc

MAX_DEPTH = 200


# Terminals that carry meaning; the others (keywords, brackets, newlines) only delimit.
_VALUE_TERMINALS = frozenset({"NAME", "NUMBER", "STRING", "UNIT", "DRAW_OP", "ADD_OP", "STAR", "SLASH", "MOD", "POW",
                              "COMPARE", "OR", "AND", "NOT"})
Meta = Span  # what each rule method receives first: the span of everything the rule matched


class _Seq(tuple):  # type: ignore[type-arg]
    """The items of a braced block, remembering where its braces were."""

    start: int
    end: int


def _unquote(token: Token) -> str:
    r"""The text of a string literal: `\"` and `\\` are its only escapes."""
    text = str(token)[1:-1]
    return text.replace('\\\\', "\x00").replace('\\"', '"').replace("\x00", "\\") if "\\" in text else text


def _bounds(child: Any) -> tuple[int, int] | None:
    if isinstance(child, Token):
        return (child.start_pos or 0, child.end_pos or 0)
    if isinstance(child, ast.Node):
        return (child.span.start, child.span.end)
    if isinstance(child, _Seq):
        return (child.start, child.end)
    return None


def _span_of(source: SourceFile, children: list[Any]) -> Span:
    """From the first child that has a place to the last one (empty optionals are None)."""
    for child in children:
        if (first := _bounds(child)) is not None:
            break
    else:
        return Span(source, 0, 0)
    for child in reversed(children):
        if (last := _bounds(child)) is not None:
            return Span(source, first[0], last[1])
    raise AssertionError  # pragma: no cover - the first loop found one


def _rule(method: Callable[[Any, Span, list[Any]], Any]) -> Callable[[Any, list[Any]], Any]:
    """Adapt a rule method to Lark's internal-transformer call: compute the span of all the
    children (keywords and brackets included) and pass on only the meaningful ones."""
    def call(self: _Builder, children: list[Any]) -> Any:
        # One call per reduction: the usual case (the first and last children are tokens or
        # nodes) is handled here without calls; `_span_of` handles the others.
        values = [c for c in children if (c.type in _VALUE_TERMINALS if isinstance(c, Token) else c is not None)]
        if children:
            first, last = children[0], children[-1]
            start = (first.start_pos or 0) if first.__class__ is Token else first.span.start if isinstance(
                first, ast.Node) else None
            end = (last.end_pos or 0) if last.__class__ is Token else last.span.end if isinstance(
                last, ast.Node) else None
            if start is not None and end is not None:
                return method(self, Span(self.source, start, end), values)
        return method(self, _span_of(self.source, children), values)
    return call


class _Builder(Transformer[Token, Any]):
    """Runs inside Lark's LALR parser: one call per reduced rule, no recursion and no parse
    tree kept. Spans come from the tokens (Lark's propagate_positions costs 40% of parsing).
    `source` is set before each parse."""

    def __init__(self) -> None:
        super().__init__()
        self.source = SourceFile("<none>", "")

    def __init_subclass__(cls) -> None:  # pragma: no cover - no subclasses
        raise TypeError

    # -- helpers
    @staticmethod
    def _span(span: Span) -> Span:
        return span

    def _tok(self, token: Token) -> Span:
        return Span(self.source, token.start_pos or 0, token.end_pos or 0)

    def _ident(self, token: Token) -> ast.Ident:
        return ast.Ident(self._tok(token), str(token))

    @staticmethod
    def _settings(value: Any) -> tuple[ast.Setting, ...] | None:
        return value if isinstance(value, tuple) else None

    # -- statements
    def start(self, meta: Meta, children: list[Any]) -> ast.File:
        return ast.File(Span(self.source, 0, len(self.source.text)), tuple(children), ())

    def scenario(self, meta: Meta, c: list[Any]) -> ast.ScenarioDecl:
        return ast.ScenarioDecl(self._span(meta), self._ident(c[0]), _unquote(c[1]) if len(c) > 1 else None)

    def include(self, meta: Meta, c: list[Any]) -> ast.Include:
        return ast.Include(self._span(meta), _unquote(c[0]))

    def param(self, meta: Meta, c: list[Any]) -> ast.Param:
        return ast.Param(self._span(meta), self._ident(c[0]), c[1])

    def let(self, meta: Meta, c: list[Any]) -> ast.Let:
        return ast.Let(self._span(meta), self._ident(c[0]), c[1], drawn=False)

    def let_draw(self, meta: Meta, c: list[Any]) -> ast.Let:
        return ast.Let(self._span(meta), self._ident(c[0]), c[1], drawn=True)

    def plant(self, meta: Meta, c: list[Any]) -> ast.PlantBlock:
        return ast.PlantBlock(self._span(meta), c[0])

    def model_body(self, meta: Meta, c: list[Any]) -> tuple[Any, ...]:
        seq = _Seq(c)
        seq.start, seq.end = meta.start, meta.end
        return seq

    def model(self, meta: Meta, c: list[Any]) -> ast.ModelDecl:
        return ast.ModelDecl(self._span(meta), self._ident(c[0]), _unquote(c[1]), c[2] if len(c) > 2 else None)

    def frame(self, meta: Meta, c: list[Any]) -> ast.FrameDecl:
        return ast.FrameDecl(self._span(meta), self._ident(c[0]), c[1], c[2] if len(c) > 2 else None)

    def body(self, meta: Meta, c: list[Any]) -> ast.BodyDecl:
        return ast.BodyDecl(self._span(meta), self._ident(c[0]), self._settings(c[1]) if len(c) > 1 else None)

    def marker(self, meta: Meta, c: list[Any]) -> ast.MarkerDecl:
        return ast.MarkerDecl(self._span(meta), self._ident(c[0]), self._settings(c[1]) if len(c) > 1 else None)

    def light(self, meta: Meta, c: list[Any]) -> ast.LightDecl:
        return ast.LightDecl(self._span(meta), self._ident(c[0]), self._settings(c[1]) if len(c) > 1 else None)

    def camera(self, meta: Meta, c: list[Any]) -> ast.CameraDecl:
        pose = next((x for x in c[2:] if isinstance(x, ast.Pose)), None)
        settings = c[-1] if len(c) > 2 and isinstance(c[-1], tuple) else None
        return ast.CameraDecl(self._span(meta), self._ident(c[0]), c[1], pose, settings)

    def joint(self, meta: Meta, c: list[Any]) -> ast.JointDecl:
        name, kind, parent, child, *rest = c
        kwargs = tuple(x for x in rest if isinstance(x, ast.KwArg))
        settings = rest[-1] if rest and isinstance(rest[-1], tuple) else None
        return ast.JointDecl(self._span(meta), self._ident(name), self._ident(kind), parent, child, kwargs, settings)

    def weld(self, meta: Meta, c: list[Any]) -> ast.Weld:
        return ast.Weld(self._span(meta), c[0], c[1], c[2] if len(c) > 2 else None)

    def pose(self, meta: Meta, c: list[Any]) -> ast.Pose:
        return ast.Pose(self._span(meta), tuple(c))

    def controller(self, meta: Meta, c: list[Any]) -> ast.ControllerDecl:
        name, kind, *rest = c
        joints = tuple(x for x in rest if isinstance(x, ast.Ref))
        settings = rest[-1] if rest and isinstance(rest[-1], tuple) else None
        return ast.ControllerDecl(self._span(meta), self._ident(name), self._ident(kind), joints, settings)

    def action(self, meta: Meta, c: list[Any]) -> ast.ActionDecl:
        name, target, *rest = c
        settings = rest.pop() if rest and isinstance(rest[-1], tuple) else None
        bounds = rest[0] if rest else None
        return ast.ActionDecl(self._span(meta), self._ident(name), target, bounds, settings)

    def observation(self, meta: Meta, c: list[Any]) -> ast.ObservationDecl:
        name, value, *rest = c
        settings = rest.pop() if rest and isinstance(rest[-1], tuple) else None
        bounds = rest[0] if rest else None
        return ast.ObservationDecl(self._span(meta), self._ident(name), value, settings, bounds)

    def randomize(self, meta: Meta, c: list[Any]) -> ast.RandomizeBlock:
        scope = c[0] if c and isinstance(c[0], ast.Scope) else None
        items = tuple(c[1:] if scope is not None else c)
        return ast.RandomizeBlock(self._span(meta), scope, items)

    def scope(self, meta: Meta, c: list[Any]) -> ast.Scope:
        every = str(c[1]) if len(c) > 1 else None
        unit = self._ident(c[2]) if len(c) > 2 else None
        return ast.Scope(self._span(meta), self._ident(c[0]), every, unit)

    def draw(self, meta: Meta, c: list[Any]) -> ast.Draw:
        return ast.Draw(self._span(meta), c[0], str(c[1]), c[2])

    def require(self, meta: Meta, c: list[Any]) -> ast.Require:
        return ast.Require(self._span(meta), c[0], _unquote(c[1]) if len(c) > 1 else None)

    def adaptive(self, meta: Meta, c: list[Any]) -> ast.AdaptiveBlock:
        return ast.AdaptiveBlock(self._span(meta), c[0])

    def curriculum(self, meta: Meta, c: list[Any]) -> ast.CurriculumBlock:
        return ast.CurriculumBlock(self._span(meta), tuple(c))

    def stage(self, meta: Meta, c: list[Any]) -> ast.Stage:
        name, *rest, settings = c
        return ast.Stage(self._span(meta), self._ident(name), settings, rest[0] if rest else None,
                         rest[1] if len(rest) > 1 else None)

    def reward(self, meta: Meta, c: list[Any]) -> ast.RewardBlock:
        return ast.RewardBlock(self._span(meta), tuple(c))

    def term(self, meta: Meta, c: list[Any]) -> ast.RewardTerm:
        return ast.RewardTerm(self._span(meta), c[0], self._ident(c[1]) if len(c) > 1 else None)

    def episode(self, meta: Meta, c: list[Any]) -> ast.EpisodeBlock:
        return ast.EpisodeBlock(self._span(meta), tuple(c))

    def terminate(self, meta: Meta, c: list[Any]) -> ast.Terminate:
        return ast.Terminate(self._span(meta), c[0], _unquote(c[1]) if len(c) > 1 else None)

    def success(self, meta: Meta, c: list[Any]) -> ast.Success:
        condition, *rest = c
        settings = rest.pop() if rest and isinstance(rest[-1], tuple) else None
        return ast.Success(self._span(meta), condition, rest[0] if rest else None, settings)

    def train(self, meta: Meta, c: list[Any]) -> ast.TrainBlock:
        return ast.TrainBlock(self._span(meta), c[0])

    def settings(self, meta: Meta, c: list[Any]) -> tuple[ast.Setting, ...]:
        seq = _Seq(c)
        seq.start, seq.end = meta.start, meta.end
        return seq

    def setting(self, meta: Meta, c: list[Any]) -> ast.Setting:
        return ast.Setting(self._span(meta), self._ident(c[0]), c[1], None, c[2] if len(c) > 2 else None)

    def text_setting(self, meta: Meta, c: list[Any]) -> ast.Setting:
        return ast.Setting(self._span(meta), self._ident(c[0]), None, None, None, _unquote(c[1]))

    def flag(self, meta: Meta, c: list[Any]) -> ast.Setting:
        block = c[1] if len(c) > 1 and isinstance(c[1], tuple) else None
        return ast.Setting(self._span(meta), self._ident(c[0]), None, block)

    def kwarg(self, meta: Meta, c: list[Any]) -> ast.KwArg:
        return ast.KwArg(self._span(meta), self._ident(c[0]), c[1])

    def ref(self, meta: Meta, c: list[Any]) -> ast.Ref:
        return ast.Ref(self._span(meta), tuple(self._ident(t) for t in c))

    # -- expressions
    def binary(self, meta: Meta, c: list[Any]) -> ast.Binary:
        return ast.Binary(self._span(meta), str(c[1]), c[0], c[2])

    def compare(self, meta: Meta, c: list[Any]) -> ast.Compare:
        return ast.Compare(self._span(meta), str(c[1]), c[0], c[2])

    def unary(self, meta: Meta, c: list[Any]) -> ast.Unary:
        return ast.Unary(self._span(meta), str(c[0]), c[1])

    def index(self, meta: Meta, c: list[Any]) -> ast.Index:
        return ast.Index(self._span(meta), c[0], c[1])

    def slice(self, meta: Meta, c: list[Any]) -> ast.Slice:
        return ast.Slice(self._span(meta), c[0], c[1], c[2])

    def slice_from(self, meta: Meta, c: list[Any]) -> ast.Slice:
        return ast.Slice(self._span(meta), c[0], c[1], None)

    def slice_to(self, meta: Meta, c: list[Any]) -> ast.Slice:
        return ast.Slice(self._span(meta), c[0], None, c[1])

    def slice_all(self, meta: Meta, c: list[Any]) -> ast.Slice:
        return ast.Slice(self._span(meta), c[0], None, None)

    def number(self, meta: Meta, c: list[Any]) -> ast.Number:
        return ast.Number(self._span(meta), str(c[0]), str(c[1]) if len(c) > 1 else None)

    def call(self, meta: Meta, c: list[Any]) -> ast.Call:
        func, *rest = c
        unit = str(rest.pop()) if rest and isinstance(rest[-1], Token) else None
        args = tuple(x for x in rest if x is not None and not isinstance(x, ast.KwArg))
        kwargs = tuple(x for x in rest if isinstance(x, ast.KwArg))
        return ast.Call(self._span(meta), self._ident(func), args, kwargs, unit)

    def vector(self, meta: Meta, c: list[Any]) -> ast.Vector:
        unit = str(c.pop()) if c and isinstance(c[-1], Token) else None
        return ast.Vector(self._span(meta), tuple(x for x in c if x is not None), unit)

    def group(self, meta: Meta, c: list[Any]) -> ast.Expr:
        if len(c) > 1:
            return ast.Group(self._span(meta), c[0], str(c[1]))
        # The parentheses leave no node, but diagnostics should underline them too; around a
        # quantity with a unit (`(200 N*m)`) the node remembers them, for the formatter.
        if getattr(c[0], "unit", None) is not None:
            return dataclasses.replace(c[0], span=meta, parenthesized=True)  # type: ignore[no-any-return]
        return dataclasses.replace(c[0], span=meta)  # type: ignore[no-any-return]

    def norm(self, meta: Meta, c: list[Any]) -> ast.Norm:
        return ast.Norm(self._span(meta), c[0])


for _name, _method in list(vars(_Builder).items()):
    if not _name.startswith("_") and callable(_method):
        setattr(_Builder, _name, _rule(_method))
_BUILDER = _Builder()


def build(source: SourceFile) -> tuple[ast.File | None, list[Diagnostic]]:
    """Parse a source file straight into an `ast.File`; reports hidden characters (`text.check_text`:
    every file the front end reads comes through here) and trees too deep for later stages."""
    hidden = check_text(source)
    _BUILDER.source = source
    with paused_gc():  # the parser makes a few objects per character, none in cycles
        result = parse(source, _BUILDER)
    if result.tree is None:  # a hidden character in code stops the parser: SCN107 says more than SCN101
        return None, hidden + [d for d in result.diagnostics if not replaces_syntax_error(hidden, d)]
    built = result.tree
    if not isinstance(built, ast.File):  # pragma: no cover - `start` always builds a File
        built = ast.File(Span(source, 0, len(source.text)), (), ())
    file = ast.File(Span(source, 0, len(source.text)), built.statements, tuple(
        ast.Comment(Span(source, t.start_pos or 0, t.end_pos or 0), str(t)) for t in result.comments))
    deep = _too_deep(file)
    if deep is not None:
        return None, [*hidden, Diagnostic("SCN105", f"expression nested more than {MAX_DEPTH} levels deep",
                                          deep.span, "split the expression with `let` bindings")]
    return file, hidden


def _too_deep(root: ast.Node) -> ast.Node | None:
    """The first node found deeper than MAX_DEPTH below `root`, or None.

    Each node spans more text than each of its children, except the few that wrap one child
    spanning the same text (a one-word `Ref` or flag, a reward term without `as`): a subtree
    is at most 2 levels deep per character of its span, plus 2. Subtrees too short to reach
    MAX_DEPTH are skipped, so on ordinary files only the blocks are visited."""
    stack: list[tuple[ast.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        if depth + 2 * (node.span.end - node.span.start) + 2 <= MAX_DEPTH:
            continue
        stack.extend((child, depth + 1) for child in node.children())
    return None
