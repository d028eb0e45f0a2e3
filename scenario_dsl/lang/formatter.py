"""Stage 3 backwards: an AST (`scenario_dsl.lang.ast`) printed as canonical scn text, for `scn fmt`.

`format_source` parses a file and prints it; `format_file` prints a parsed `ast.File`;
`format_expr` prints one expression. The printed text parses back to the same AST (spans and
comment positions aside), and formatting it again changes nothing.

The canonical layout:

- Indent by 4 spaces, one statement or block item per line (`;` separators become new lines).
- Top-level statements are separated by one blank line, except that consecutive statements of
  the same group that print on one line each stay together: the plant's `frame`, `body`,
  `joint`, `weld` and `controller` lines; `action` and `observation` lines; runs of `param`,
  of `let` or of `include`. A blank line the user wrote between two statements, block items or
  comments is kept (at most one), except inside a block printed on one line; no other blank
  lines are printed.
- Blocks of settings (`plant`, `body`, `joint`, `controller`, `train`, `action` and
  `observation` settings, flag blocks such as `actuated { effort_limit = 2 N*m }`) print on
  one line, `{ a = 1; b = 2 }`, when that line fits in 100 columns (comments not counted),
  no comment lies between its braces and none of its items has a block of its own; otherwise
  one item per line. `model`, `randomize`, `reward` and `episode` blocks are always one item
  per line. An empty block is `{}`.
- Expressions print on one line: single spaces around binary, comparison and boolean
  operators except `^` (`x^2`); unary `-x` and `not x`; `[a, b]`; `f(a, k = v)` with
  positional arguments first; `|x|`; a unit follows its number, vector, call or parenthesis
  after one space (`1 ms`, `[0, 0, 1] m`, `(a + b) m`). Parentheses are printed only where
  precedence needs them (loosest first: or, and, not, comparison, `+ -`, `* / mod`, unary
  `+ -`, `^`, indexing, atoms); the right operand of a left-associative operator of the same
  precedence is parenthesised (`a - (b - c)`), and so is a unit-carrying left operand of `^`,
  whose unit would otherwise swallow the `^`. Numbers and strings keep the text written.
  An item followed by another never ends with a norm's closing `|` (the parser would read
  the line as going on): its last expression keeps parentheses, `let a = (|v|)`.
- Reward terms print as `expr as name`.
- Comments are kept, each exactly once, trailing whitespace removed. A comment on a line of
  its own goes before the item that follows it, at that item's indent; one after code stays
  at the end of its item's printed line, two spaces after the code; one after an opening `{`
  stays after it. When an item holds more comments than its one line can (comments inside a
  multi-line expression), all but the last move to their own lines just before it. Comments
  before a closing `}` stay before it; comments at the end of the file stay at the end. A
  block holding a comment prints one item per line.
- The text ends with exactly one new line (an empty file stays empty), with no trailing
  whitespace on any line.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.loader import parse_source
from scenario_dsl.lang.source import SourceFile

INDENT = "    "
MAX_WIDTH = 100

# ---- expressions ----------------------------------------------------------------------------

# Precedence levels, loosest first; an operand printed where a tighter level is required gets
# parentheses.
OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, POWER, POSTFIX, ATOM = range(1, 11)
_BINARY_LEVEL = {"or": OR, "and": AND, "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "mod": PRODUCT, "^": POWER}


def format_expr(expr: ast.Expr) -> str:
    """One expression on one line, with parentheses only where precedence needs them."""
    return _expr(expr, 0)


def _level(expr: ast.Expr) -> int:
    if isinstance(expr, ast.Binary):
        return _BINARY_LEVEL[expr.op]
    if isinstance(expr, ast.Unary):
        return NOT if expr.op == "not" else UNARY
    if isinstance(expr, ast.Compare):
        return COMPARE
    if isinstance(expr, ast.Index):
        return POSTFIX
    return ATOM


def _expr(expr: ast.Expr, required: int) -> str:
    """`expr` printed where the grammar needs at least level `required`."""
    text = _EXPR_PRINTERS[type(expr)](expr)
    return f"({text})" if _level(expr) < required else text


def _with_unit(text: str, unit: str | None) -> str:
    return f"{text} {unit}" if unit else text


def _binary(e: ast.Binary) -> str:
    level = _BINARY_LEVEL[e.op]
    if e.op == "^":  # `postfix ^ unary`: right-associative, and printed without spaces
        left = _expr(e.left, POSTFIX)
        if getattr(e.left, "unit", None):  # `2 m^2` would read as the unit `m^2`
            left = f"({left})"
        return f"{left}^{_expr(e.right, UNARY)}"
    return f"{_expr(e.left, level)} {e.op} {_expr(e.right, level + 1)}"


def _unary(e: ast.Unary) -> str:
    if e.op == "not":
        return f"not {_expr(e.operand, NOT)}"
    return f"{e.op}{_expr(e.operand, UNARY)}"


def _compare(e: ast.Compare) -> str:  # non-associative: both sides are sums
    return f"{_expr(e.left, SUM)} {e.op} {_expr(e.right, SUM)}"


def _kwarg(k: ast.KwArg) -> str:
    return f"{k.name.name} = {format_expr(k.value)}"


def _call(e: ast.Call) -> str:
    args = [format_expr(a) for a in e.args] + [_kwarg(k) for k in e.kwargs]
    return _with_unit(f"{e.func.name}({', '.join(args)})", e.unit)


_EXPR_PRINTERS: dict[type, Callable[[Any], str]] = {
    ast.Number: lambda e: _with_unit(e.text, e.unit),
    ast.Ref: lambda e: e.dotted,
    ast.Call: _call,
    ast.Vector: lambda e: _with_unit(f"[{', '.join(format_expr(i) for i in e.items)}]", e.unit),
    ast.Group: lambda e: _with_unit(f"({format_expr(e.expr)})", e.unit),
    ast.Norm: lambda e: f"|{format_expr(e.expr)}|",
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Compare: _compare,
    ast.Index: lambda e: f"{_expr(e.target, POSTFIX)}[{format_expr(e.index)}]",
}


# ---- statements and block items -------------------------------------------------------------

@dataclass(frozen=True)
class _Shape:
    """How a statement or block item prints: a head, then maybe a braced block of items."""

    head: str
    items: Sequence[ast.Node] | None = None  # None: no braces at all
    inline: bool = False  # the block may print on one line


# Statements that read as one list when they follow each other on single lines.
_GROUPS: dict[type, str] = {
    ast.FrameDecl: "plant", ast.BodyDecl: "plant", ast.JointDecl: "plant", ast.Weld: "plant",
    ast.ControllerDecl: "plant", ast.ActionDecl: "ports", ast.ObservationDecl: "ports",
}


def _group(item: ast.Node) -> str:
    return _GROUPS.get(type(item), type(item).__name__)


def _quoted(text: str | None) -> str:
    """A string literal (with its leading space): the AST holds the text unescaped."""
    if text is None:
        return ""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f' "{escaped}"'


def _pose(pose: ast.Pose | None) -> str:
    return f" at ({', '.join(_kwarg(k) for k in pose.kwargs)})" if pose is not None else ""


def _settings(head: str, settings: Sequence[ast.Setting] | None) -> _Shape:
    return _Shape(head, settings, inline=True)


def _setting(s: ast.Setting) -> _Shape:
    if s.value is not None:
        return _Shape(f"{s.key.name} = {format_expr(s.value)}")
    return _settings(s.key.name, s.block)


def _joint(j: ast.JointDecl) -> _Shape:
    args = [f"{j.parent.dotted} -> {j.child.dotted}"] + [_kwarg(k) for k in j.kwargs]
    return _settings(f"joint {j.name.name}: {j.kind.name}({', '.join(args)})", j.settings)


def _controller(c: ast.ControllerDecl) -> _Shape:
    joints = ", ".join(r.dotted for r in c.joints)
    return _settings(f"controller {c.name.name}: {c.kind.name}({joints})", c.settings)


def _action(a: ast.ActionDecl) -> _Shape:
    bounds = f" in {format_expr(a.bounds)}" if a.bounds is not None else ""
    return _settings(f"action {a.name.name} = {a.target.dotted}{bounds}", a.settings)


def _randomize(r: ast.RandomizeBlock) -> _Shape:
    head = "randomize"
    if r.scope is not None:
        head += f" per {r.scope.name.name}"
        if r.scope.every is not None and r.scope.every_unit is not None:
            head += f" every {r.scope.every} {r.scope.every_unit.name}"
    return _Shape(head, r.items)


def _let(x: ast.Let) -> _Shape:
    return _Shape(f"let {x.name.name} {'~' if x.drawn else '='} {format_expr(x.value)}")


def _term(t: ast.RewardTerm) -> _Shape:
    return _Shape(format_expr(t.expr) + (f" as {t.name.name}" if t.name is not None else ""))


_SHAPES: dict[type, Callable[[Any], _Shape]] = {
    ast.ScenarioDecl: lambda s: _Shape(f"scenario {s.name.name}{_quoted(s.description)}"),
    ast.Include: lambda s: _Shape(f"include{_quoted(s.path)}"),
    ast.Param: lambda s: _Shape(f"param {s.name.name} = {format_expr(s.value)}"),
    ast.Let: _let,
    ast.PlantBlock: lambda s: _settings("plant", s.settings),
    ast.ModelDecl: lambda s: _Shape(f"model {s.name.name} from{_quoted(s.url)}", s.items),
    ast.FrameDecl: lambda s: _Shape(f"frame {s.name.name} on {s.parent.dotted}{_pose(s.pose)}"),
    ast.BodyDecl: lambda s: _settings(f"body {s.name.name}", s.settings),
    ast.JointDecl: _joint,
    ast.Weld: lambda s: _Shape(f"weld {s.parent.dotted} -> {s.child.dotted}{_pose(s.pose)}"),
    ast.ControllerDecl: _controller,
    ast.ActionDecl: _action,
    ast.ObservationDecl: lambda s: _settings(f"observation {s.name.name} = {format_expr(s.value)}", s.settings),
    ast.RandomizeBlock: _randomize,
    ast.RewardBlock: lambda s: _Shape("reward", s.items),
    ast.EpisodeBlock: lambda s: _Shape("episode", s.items),
    ast.TrainBlock: lambda s: _settings("train", s.settings),
    ast.Setting: _setting,
    ast.Draw: lambda s: _Shape(f"{s.target.dotted} {s.op} {format_expr(s.value)}"),
    ast.Require: lambda s: _Shape(f"require {format_expr(s.condition)}{_quoted(s.message)}"),
    ast.RewardTerm: _term,
    ast.Terminate: lambda s: _Shape(f"terminate when {format_expr(s.condition)}{_quoted(s.reason)}"),
    ast.Success: lambda s: _Shape(f"success when {format_expr(s.condition)}"),
}


def _shape(node: ast.Node) -> _Shape:
    return _SHAPES[type(node)](node)


def _head(node: ast.Node, shape: _Shape, followed: bool) -> str:
    """The head of an item; `followed` when another item comes after it in its block or file.

    The parser reads a `|` before a line break or `;` as an opening bar, so the line goes on:
    an item followed by another cannot end with a norm's closing `|`. Its last expression
    keeps parentheses then (a parenthesis without a unit leaves the AST unchanged).
    """
    if not (followed and shape.items is None and shape.head.endswith("|")):
        return shape.head
    tail = format_expr(cast(ast.Expr, list(node.children())[-1]))
    return f"{shape.head[: len(shape.head) - len(tail)]}({tail})"


# ---- layout with comments -------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t\f\r]*\n")
T = TypeVar("T")


def _last_and_rest(notes: list[T]) -> tuple[list[T], T | None]:
    return (notes[:-1], notes[-1]) if notes else ([], None)


class _Printer:
    """Prints one file. Comments are handed out in source order from a queue: each item takes
    the comments before it (leading), inside it, and after it on its line (trailing)."""

    def __init__(self, file: ast.File) -> None:
        self.text = file.span.source.text
        self.comments = deque(sorted(file.comments, key=lambda c: c.span.start))
        self.comment_starts = {c.span.end: c.span.start for c in file.comments}

    # -- the comment queue
    def take_before(self, offset: int) -> list[ast.Comment]:
        """The comments that start before `offset`."""
        taken = []
        while self.comments and self.comments[0].span.start < offset:
            taken.append(self.comments.popleft())
        return taken

    def take_trailing(self, end: int, limit: int) -> list[ast.Comment]:
        """The comment on the same line as `end`, when it comes before `limit` (the next item)."""
        if self.comments:
            start = self.comments[0].span.start
            if end <= start < limit and "\n" not in self.text[end:start]:
                return [self.comments.popleft()]
        return []

    def comment_before(self, offset: int) -> bool:
        return bool(self.comments) and self.comments[0].span.start < offset

    # -- positions in the source
    def gap(self, end: int, start: int) -> bool:
        """Whether the source has a blank line between offsets `end` and `start`."""
        return bool(_BLANK_LINE.search(self.text, end, max(end, start)))

    def closing_brace(self, node: ast.Node) -> int:
        end = node.span.end
        return end - 1 if 0 < end <= len(self.text) and self.text[end - 1] == "}" else end

    def opening_brace(self, node: ast.Node, first: int) -> int:
        """The offset of the `{` before `first` (the first item, or the closing brace):
        only blanks, `;`, comments and the parentheses that open the first item lie between."""
        i = first
        while node.span.start < i <= len(self.text):
            if i in self.comment_starts:
                i = self.comment_starts[i]
            elif self.text[i - 1].isspace() or self.text[i - 1] in ";(":
                i -= 1
            else:
                break
        return i - 1 if node.span.start < i <= len(self.text) and self.text[i - 1] == "{" else node.span.start

    # -- printing
    def file(self, file: ast.File) -> str:
        lines = self.sequence(file.statements, 0, len(self.text) + 1, top=True)
        return "".join(line.rstrip() + "\n" for line in lines)

    def sequence(self, items: Sequence[ast.Node], depth: int, close: int, *, top: bool) -> list[str]:
        """Items of a block (or the file's statements) with their comments, then the comments
        left before `close`."""
        indent = INDENT * depth
        out: list[str] = []
        previous_end: int | None = None
        previous: tuple[str, bool] | None = None  # the group of the previous item, and whether it was one line

        def put(start: int, end: int, lines: list[str], blank: bool = False) -> None:
            nonlocal previous_end
            if previous_end is not None and (blank or self.gap(previous_end, start)):
                out.append("")
            out.extend(lines)
            previous_end = end

        for i, item in enumerate(items):
            limit = items[i + 1].span.start if i + 1 < len(items) else close
            leading = self.take_before(item.span.start)
            lines, one_line = self.item(item, depth, limit, followed=i + 1 < len(items))
            blank = top and previous is not None and not (previous == (_group(item), True) and one_line)
            for comment in leading:
                put(comment.span.start, comment.span.end, [indent + comment.text], blank)
                blank = False
            put(item.span.start, item.span.end, lines, blank)
            previous = (_group(item), one_line)
        for comment in self.take_before(close):
            put(comment.span.start, comment.span.end, [indent + comment.text])
        return out

    def item(self, node: ast.Node, depth: int, limit: int, *, followed: bool) -> tuple[list[str], bool]:
        """The lines of one statement or block item (comments moved before it first), and
        whether the item itself is one line. `limit` is where the next item starts."""
        indent = INDENT * depth
        shape = _shape(node)
        if shape.items is None:
            notes = self.take_before(node.span.end) + self.take_trailing(node.span.end, limit)
            moved, last = _last_and_rest(notes)
            return [indent + c.text for c in moved] + [indent + _head(node, shape, followed) + _trailing(last)], True

        close = self.closing_brace(node)
        first = shape.items[0].span.start if shape.items else close
        brace = self.opening_brace(node, first)
        head_notes = self.take_before(brace) + self.take_trailing(brace + 1, first)
        commented = bool(head_notes) or self.comment_before(close)
        nested = any(_shape(i).items is not None for i in shape.items)
        if not commented and not nested:
            line = indent + shape.head + _one_line_block(shape.items)
            if not shape.items or (shape.inline and len(line) <= MAX_WIDTH):
                return [line + _trailing(*self.take_trailing(node.span.end, limit))], True
        moved, last = _last_and_rest(head_notes)
        lines = [indent + c.text for c in moved]
        lines.append(f"{indent}{shape.head} {{{_trailing(last)}")
        lines.extend(self.sequence(shape.items, depth + 1, close, top=False))
        lines.append(indent + "}" + _trailing(*self.take_trailing(node.span.end, limit)))
        return lines, False


def _one_line_block(items: Sequence[ast.Node]) -> str:
    """` { a = 1; b = 2 }`, or ` {}`: a block whose items have no blocks of their own."""
    if not items:
        return " {}"
    return f" {{ {'; '.join(_head(item, _shape(item), n + 1 < len(items)) for n, item in enumerate(items))} }}"


def _trailing(comment: ast.Comment | None = None) -> str:
    return f"  {comment.text}" if comment is not None else ""


def format_file(file: ast.File) -> str:
    """The canonical text of a parsed file (see the module docstring for the layout)."""
    return _Printer(_stripped(file)).file(file)


def _stripped(file: ast.File) -> ast.File:
    comments = tuple(ast.Comment(c.span, c.text.rstrip()) for c in file.comments)
    return ast.File(file.span, file.statements, comments)


def format_source(source: SourceFile) -> tuple[str | None, list[Diagnostic]]:
    """Parse a source file and print it canonically; None and the diagnostics on syntax errors."""
    file, diagnostics = parse_source(source)
    if file is None:
        return None, diagnostics
    return format_file(file), diagnostics
