"""Stage 3 backwards: an AST (`scenario_dsl.lang.ast`) printed as canonical scn text, for `scn fmt`.

`format_source` parses a file and prints it; `format_file` prints a parsed `ast.File`;
`format_expr` prints one expression. Both files take the line width, `line_length` (default
`LINE_LENGTH`, 100 columns; `scn fmt --line-length N` or `line-length` in the project's
configuration, `scenario_dsl.lang.config`). The printed text parses back to the same AST (spans
and comment positions aside), and formatting it again changes nothing.

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
  one line, `{ a = 1; b = 2 }`, when that line fits in the width (comments not counted),
  no comment lies between its braces and none of its items has a block of its own; otherwise
  one item per line. `model`, `randomize`, `reward` and `episode` blocks are always one item
  per line. An empty block is `{}`.
- Expressions print on one line when it fits (else see wrapping below): single spaces around
  binary, comparison and boolean operators except `^` (`x^2`); unary `-x` and `not x`;
  `[a, b]`; `f(a, k = v)` with positional arguments first; `|x|`; a unit follows its number,
  vector, call or parenthesis after one space (`1 ms`, `[0, 0, 1] m`, `(a + b) m`).
  Parentheses are printed only where precedence needs them (loosest first: or, and, not,
  comparison, `+ -`, `* / mod`, unary `+ -`, `^`, indexing, atoms); the right operand of a
  left-associative operator of the same precedence is parenthesised (`a - (b - c)`), and so is
  a unit-carrying left operand of `^`, whose unit would otherwise swallow the `^`. Parentheses
  written around a quantity with a unit (a number, vector, call or parenthesis with a unit)
  are kept too: `torque / (200 N*m)`, `(2 m) * x` (the AST records them in `parenthesized`,
  which tree equality ignores). Numbers and strings keep the text written.
  An item followed by another never ends with a norm's closing `|` (the parser would read
  the line as going on): its last expression keeps parentheses, `let a = (|v|)`.
- Reward terms print as `expr as name`.
- A line wider than the width (comments not counted) is wrapped at a list in brackets: a
  vector `[...]`, the arguments of a call `f(...)`, of a joint or a controller, or a pose's
  `at (...)`. The list's opening bracket ends the line, each element follows on a line of its
  own one level deeper with its comma (no comma after the last one: the grammar takes none),
  and the closing bracket starts a line at the first line's indent, followed by the rest of the
  line (`] m`, `) {`, `) - x`). The list split is a top-level one of the line (brackets split
  outermost first): the last one whose first and closing lines then fit, else the first whose
  first line fits, else the first. Each new line that is still too wide is wrapped the same
  way, so nested brackets split only as far as needed. A line without such brackets (a long
  sum or condition) stays long. A list that fits is printed on one line, however it was
  written. An item that wraps is not "on one line" for the grouping of statements above.
- Comments are kept, each exactly once, trailing whitespace removed. A comment on a line of
  its own goes before the item that follows it, at that item's indent; one after code stays
  at the end of its item's printed line, two spaces after the code; one after an opening `{`
  stays after it. When an item holds more comments than its one line can (comments inside a
  multi-line expression), all but the last move to their own lines just before it. In a
  wrapped list each line is such an item: a comment after an element stays after its comma,
  one on a line of its own stays before the next element (or before the closing bracket), and
  one after the opening bracket stays there. Comments before a closing `}` stay before it;
  comments at the end of the file stay at the end. A block holding a comment prints one item
  per line.
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
LINE_LENGTH = 100  # the default line width: `scn fmt --line-length`, `[tool.scn] line-length`

# ---- documents: text with brackets that may split -------------------------------------------

@dataclass(eq=False)
class _Brackets:
    """A comma-separated list in brackets that may split one element per line: a vector's
    `[...]`, the arguments of a call, a joint or a controller, a pose's `at (...)`. Each element
    keeps its source span (for the comments around it); `at` is where the search for the opening
    bracket starts in the source."""

    open: str
    items: list[tuple[Doc, int, int]]
    close: str
    at: int

    def flat(self) -> str:
        return self.open + ", ".join(_flat(doc) for doc, _, _ in self.items) + self.close


# What an expression or a head prints as: the concatenation of its parts, each part a piece of
# text or a list in brackets. Parts are never merged, so a sub-expression's document is a run of
# the document around it.
Doc = list["str | _Brackets"]


def _flat(doc: Doc) -> str:
    """A document on one line."""
    return "".join(part if isinstance(part, str) else part.flat() for part in doc)


def _listed(open_: str, close: str, at: int, elements: Sequence[tuple[Doc, int, int]]) -> Doc:
    return [_Brackets(open_, list(elements), close, at)] if elements else [open_ + close]


def _element(doc: Doc, node: ast.Node) -> tuple[Doc, int, int]:
    return doc, node.span.start, node.span.end


# ---- expressions ----------------------------------------------------------------------------

# Precedence levels, loosest first; an operand printed where a tighter level is required gets
# parentheses.
OR, AND, NOT, COMPARE, SUM, PRODUCT, UNARY, POWER, POSTFIX, ATOM = range(1, 11)
_BINARY_LEVEL = {"or": OR, "and": AND, "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "mod": PRODUCT, "^": POWER}


def format_expr(expr: ast.Expr) -> str:
    """One expression on one line, with parentheses only where precedence needs them (and the
    ones written around a quantity with a unit)."""
    return _flat(_doc(expr))


def _doc(expr: ast.Expr) -> Doc:
    return _expr(expr, 0)


def _level(expr: ast.Expr) -> int:
    if isinstance(expr, ast.Binary):
        return _BINARY_LEVEL[expr.op]
    if isinstance(expr, ast.Unary):
        return NOT if expr.op == "not" else UNARY
    if isinstance(expr, ast.Compare):
        return COMPARE
    if isinstance(expr, ast.Index | ast.Slice):
        return POSTFIX
    return ATOM


def _expr(expr: ast.Expr, required: int) -> Doc:
    """`expr` printed where the grammar needs at least level `required`."""
    doc = _EXPR_PRINTERS[type(expr)](expr)
    if _level(expr) < required or getattr(expr, "parenthesized", False):
        return ["(", *doc, ")"]
    return doc


def _with_unit(doc: Doc, unit: str | None) -> Doc:
    return [*doc, f" {unit}"] if unit else doc


def _binary(e: ast.Binary) -> Doc:
    level = _BINARY_LEVEL[e.op]
    if e.op == "^":  # `postfix ^ unary`: right-associative, and printed without spaces
        left = _expr(e.left, POSTFIX)
        if getattr(e.left, "unit", None) and not getattr(e.left, "parenthesized", False):
            left = ["(", *left, ")"]  # `2 m^2` would read as the unit `m^2`
        return [*left, "^", *_expr(e.right, UNARY)]
    return [*_expr(e.left, level), f" {e.op} ", *_expr(e.right, level + 1)]


def _unary(e: ast.Unary) -> Doc:
    if e.op == "not":
        return ["not ", *_expr(e.operand, NOT)]
    return [e.op, *_expr(e.operand, UNARY)]


def _compare(e: ast.Compare) -> Doc:  # non-associative: both sides are sums
    return [*_expr(e.left, SUM), f" {e.op} ", *_expr(e.right, SUM)]


def _kwarg(k: ast.KwArg) -> Doc:
    return [f"{k.name.name} = ", *_doc(k.value)]


def _call(e: ast.Call) -> Doc:
    args = [_element(_doc(a), a) for a in e.args] + [_element(_kwarg(k), k) for k in e.kwargs]
    return _with_unit([e.func.name, *_listed("(", ")", e.func.span.end, args)], e.unit)


def _vector(e: ast.Vector) -> Doc:
    return _with_unit(_listed("[", "]", e.span.start, [_element(_doc(i), i) for i in e.items]), e.unit)


_EXPR_PRINTERS: dict[type, Callable[[Any], Doc]] = {
    ast.Number: lambda e: _with_unit([e.text], e.unit),
    ast.Ref: lambda e: [e.dotted],
    ast.Call: _call,
    ast.Vector: _vector,
    ast.Group: lambda e: _with_unit(["(", *_doc(e.expr), ")"], e.unit),
    ast.Norm: lambda e: ["|", *_doc(e.expr), "|"],
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Compare: _compare,
    ast.Index: lambda e: [*_expr(e.target, POSTFIX), "[", *_doc(e.index), "]"],
    ast.Slice: lambda e: [*_expr(e.target, POSTFIX), "[", *(_doc(e.start) if e.start is not None else []), ":",
                          *(_doc(e.stop) if e.stop is not None else []), "]"],
}


# ---- statements and block items -------------------------------------------------------------

@dataclass(frozen=True)
class _Shape:
    """How a statement or block item prints: a head, then maybe a braced block of items."""

    head: Doc
    items: Sequence[ast.Node] | None = None  # None: no braces at all
    inline: bool = False  # the block may print on one line


# Statements that read as one list when they follow each other on single lines.
_GROUPS: dict[type, str] = {
    ast.FrameDecl: "plant", ast.BodyDecl: "plant", ast.JointDecl: "plant", ast.Weld: "plant",
    ast.ControllerDecl: "plant", ast.MarkerDecl: "plant", ast.CameraDecl: "plant", ast.LightDecl: "plant",
    ast.ActionDecl: "ports", ast.ObservationDecl: "ports",
}


def _group(item: ast.Node) -> str:
    return _GROUPS.get(type(item), type(item).__name__)


def _quoted(text: str | None) -> str:
    """A string literal (with its leading space): the AST holds the text unescaped."""
    if text is None:
        return ""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f' "{escaped}"'


def _string(text: str | None) -> Doc:
    """A string literal after an expression, or nothing (no empty part: see `_head`)."""
    return [_quoted(text)] if text is not None else []


def _pose(pose: ast.Pose | None) -> Doc:
    if pose is None:
        return []
    return [" at ", *_listed("(", ")", pose.span.start, [_element(_kwarg(k), k) for k in pose.kwargs])]


def _settings(head: Doc, settings: Sequence[ast.Setting] | None) -> _Shape:
    return _Shape(head, settings, inline=True)


def _setting(s: ast.Setting) -> _Shape:
    if s.text is not None:
        return _Shape([f"{s.key.name} =", _quoted(s.text)])
    if s.value is not None:
        return _Shape([f"{s.key.name} = ", *_doc(s.value), *_pose(s.pose)])
    return _settings([s.key.name], s.block)


def _joint(j: ast.JointDecl) -> _Shape:
    link: tuple[Doc, int, int] = ([f"{j.parent.dotted} -> {j.child.dotted}"], j.parent.span.start, j.child.span.end)
    args = _listed("(", ")", j.kind.span.end, [link] + [_element(_kwarg(k), k) for k in j.kwargs])
    return _settings([f"joint {j.name.name}: {j.kind.name}", *args], j.settings)


def _controller(c: ast.ControllerDecl) -> _Shape:
    joints = _listed("(", ")", c.kind.span.end, [_element([r.dotted], r) for r in c.joints])
    return _settings([f"controller {c.name.name}: {c.kind.name}", *joints], c.settings)


def _action(a: ast.ActionDecl) -> _Shape:
    bounds = [" in ", *_doc(a.bounds)] if a.bounds is not None else []
    return _settings([f"action {a.name.name} = {a.target.dotted}", *bounds], a.settings)


def _randomize(r: ast.RandomizeBlock) -> _Shape:
    head = "randomize"
    if r.scope is not None:
        head += f" per {r.scope.name.name}"
        if r.scope.every is not None and r.scope.every_unit is not None:
            head += f" every {r.scope.every} {r.scope.every_unit.name}"
    return _Shape([head], r.items)


def _let(x: ast.Let) -> _Shape:
    return _Shape([f"let {x.name.name} {'~' if x.drawn else '='} ", *_doc(x.value)])


def _term(t: ast.RewardTerm) -> _Shape:
    return _Shape([*_doc(t.expr), *([f" as {t.name.name}"] if t.name is not None else [])])


_SHAPES: dict[type, Callable[[Any], _Shape]] = {
    ast.ScenarioDecl: lambda s: _Shape([f"scenario {s.name.name}{_quoted(s.description)}"]),
    ast.Include: lambda s: _Shape([f"include{_quoted(s.path)}"]),
    ast.Param: lambda s: _Shape([f"param {s.name.name} = ", *_doc(s.value)]),
    ast.Let: _let,
    ast.PlantBlock: lambda s: _settings(["plant"], s.settings),
    ast.ModelDecl: lambda s: _Shape([f"model {s.name.name} from{_quoted(s.url)}"], s.items),
    ast.FrameDecl: lambda s: _Shape([f"frame {s.name.name} on {s.parent.dotted}", *_pose(s.pose)]),
    ast.BodyDecl: lambda s: _settings([f"body {s.name.name}"], s.settings),
    ast.MarkerDecl: lambda s: _settings([f"marker {s.name.name}"], s.settings),
    ast.LightDecl: lambda s: _settings([f"light {s.name.name}"], s.settings),
    ast.CameraDecl: lambda s: _settings([f"camera {s.name.name} on {s.parent.dotted}", *_pose(s.pose)], s.settings),
    ast.JointDecl: _joint,
    ast.Weld: lambda s: _Shape([f"weld {s.parent.dotted} -> {s.child.dotted}", *_pose(s.pose)]),
    ast.ControllerDecl: _controller,
    ast.ActionDecl: _action,
    ast.ObservationDecl: lambda s: _settings([f"observation {s.name.name} = ", *_doc(s.value),
                                              *([" in ", *_doc(s.bounds)] if s.bounds is not None else [])],
                                             s.settings),
    ast.RandomizeBlock: _randomize,
    ast.RewardBlock: lambda s: _Shape(["reward"], s.items),
    ast.EpisodeBlock: lambda s: _Shape(["episode"], s.items),
    ast.TrainBlock: lambda s: _settings(["train"], s.settings),
    ast.AdaptiveBlock: lambda s: _settings(["adaptive"], s.settings),
    ast.CurriculumBlock: lambda s: _Shape(["curriculum"], s.stages),
    ast.Stage: lambda s: _settings([f"stage {s.name.name}",
                                    *([" until ", *_doc(s.until)] if s.until is not None else []),
                                    *([" over ", *_doc(s.over)] if s.over is not None else [])], s.settings),
    ast.Setting: _setting,
    ast.Draw: lambda s: _Shape([f"{s.target.dotted} {s.op} ", *_doc(s.value)]),
    ast.Require: lambda s: _Shape(["require ", *_doc(s.condition), *_string(s.message)]),
    ast.RewardTerm: _term,
    ast.Terminate: lambda s: _Shape(["terminate when ", *_doc(s.condition), *_string(s.reason)]),
    ast.Success: lambda s: _settings(["success when ", *_doc(s.condition),
                                      *([" for ", *_doc(s.hold)] if s.hold is not None else [])], s.settings),
}


def _shape(node: ast.Node) -> _Shape:
    return _SHAPES[type(node)](node)


def _head(node: ast.Node, shape: _Shape, followed: bool) -> Doc:
    """The head of an item; `followed` when another item comes after it in its block or file.

    The parser reads a `|` before a line break or `;` as an opening bar, so the line goes on:
    an item followed by another cannot end with a norm's closing `|`. Its last expression
    keeps parentheses then (a parenthesis without a unit leaves the AST unchanged).
    """
    last = shape.head[-1] if shape.head else ""
    if not (followed and shape.items is None and isinstance(last, str) and last.endswith("|")):
        return shape.head
    tail = _doc(cast(ast.Expr, list(node.children())[-1]))
    return [*shape.head[: len(shape.head) - len(tail)], "(", *tail, ")"]


# ---- layout with comments -------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t\f\r]*\n")
T = TypeVar("T")


def _last_and_rest(notes: list[T]) -> tuple[list[T], T | None]:
    return (notes[:-1], notes[-1]) if notes else ([], None)


class _Printer:
    """Prints one file. Comments are handed out in source order from a queue: each item takes
    the comments before it (leading), inside it, and after it on its line (trailing)."""

    def __init__(self, file: ast.File, width: int = LINE_LENGTH) -> None:
        self.width = width
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
        lines: list[str] = []
        if shape.items is None:
            split = self.layout(_head(node, shape, followed), depth, node.span.end, node.span.end, limit, lines)
            return lines, not split

        close = self.closing_brace(node)
        first = shape.items[0].span.start if shape.items else close
        brace = self.opening_brace(node, first)
        commented = self.comment_before(close)
        if not shape.items and not commented:
            split = self.layout([*shape.head, " {}"], depth, node.span.end, node.span.end, limit, lines)
            return lines, not split
        nested = any(_shape(i).items is not None for i in shape.items)
        if shape.inline and not commented and not nested:
            line = indent + _flat(shape.head) + _one_line_block(shape.items)
            if len(line) <= self.width:
                return [line + _trailing(*self.take_trailing(node.span.end, limit))], True
        self.layout([*shape.head, " {"], depth, brace, brace + 1, first, lines)
        lines.extend(self.sequence(shape.items, depth + 1, close, top=False))
        lines.append(indent + "}" + _trailing(*self.take_trailing(node.span.end, limit)))
        return lines, False

    def layout(self, doc: Doc, depth: int, end: int, trail_from: int, limit: int, out: list[str]) -> bool:
        """Append `doc` to `out` as lines at `depth`, split where it is wider than the width;
        whether it split. The last line takes the comments before `end` (all but the last move
        to lines of their own before it) and the one on its line after `trail_from`, before
        `limit` (the next item)."""
        indent = INDENT * depth
        text = _flat(doc)
        split = None if len(indent) + len(text) <= self.width else _split_point(doc, len(indent), self.width)
        if split is None:
            moved, last = _last_and_rest(self.take_before(end) + self.take_trailing(trail_from, limit))
            out.extend(indent + c.text for c in moved)
            out.append(indent + text + _trailing(last))
            return False
        brackets = cast(_Brackets, doc[split])
        # The head line: the text up to the opening bracket, with the comments in it and after it.
        opening = self.find(brackets.open, brackets.at)
        moved, last = _last_and_rest(self.take_before(opening) + self.take_trailing(opening + 1, brackets.items[0][1]))
        out.extend(indent + c.text for c in moved)
        out.append(indent + _flat(doc[:split]) + brackets.open + _trailing(last))
        # One element per line, one level deeper, each but the last followed by a comma.
        inner = indent + INDENT
        closing = self.find(brackets.close, max(stop for _, _, stop in brackets.items))  # (arguments reorder)
        count = len(brackets.items)
        for n, (element, start, stop) in enumerate(brackets.items):
            out.extend(inner + c.text for c in self.take_before(start))
            following = brackets.items[n + 1][1] if n + 1 < count else closing
            self.layout([*element, ","] if n + 1 < count else element, depth + 1, stop, stop, following, out)
        out.extend(inner + c.text for c in self.take_before(closing))
        # The closing bracket at the starting indent, then the rest of the line (which may split again).
        self.layout([brackets.close, *doc[split + 1:]], depth, end, trail_from, limit, out)
        return True

    def find(self, bracket: str, start: int) -> int:
        """The offset of the first `bracket` at or after `start` in the source (`start` when
        there is none: a tree built by hand)."""
        found = self.text.find(bracket, start)
        return found if found >= 0 else start


def _split_point(doc: Doc, indent: int, width: int) -> int | None:
    """Which list in brackets to split in `doc`, too wide for one line at `indent` columns (None
    when it has none): the last whose head line (up to the opening bracket) and closing line
    (from the closing bracket on) both fit in `width`, else the first whose head line fits, else
    the first. (The closing line may split again.)"""
    sizes = [len(part) if isinstance(part, str) else len(part.flat()) for part in doc]
    candidates = [k for k, part in enumerate(doc) if isinstance(part, _Brackets)]
    if not candidates:
        return None
    both: list[int] = []
    head: list[int] = []
    for k in candidates:
        brackets = cast(_Brackets, doc[k])
        if indent + sum(sizes[:k]) + len(brackets.open) <= width:
            head.append(k)
            if indent + len(brackets.close) + sum(sizes[k + 1:]) <= width:
                both.append(k)
    return both[-1] if both else head[0] if head else candidates[0]


def _one_line_block(items: Sequence[ast.Node]) -> str:
    """` { a = 1; b = 2 }`, or ` {}`: a block whose items have no blocks of their own."""
    if not items:
        return " {}"
    heads = (_flat(_head(item, _shape(item), n + 1 < len(items))) for n, item in enumerate(items))
    return f" {{ {'; '.join(heads)} }}"


def _trailing(comment: ast.Comment | None = None) -> str:
    return f"  {comment.text}" if comment is not None else ""


def format_file(file: ast.File, line_length: int = LINE_LENGTH) -> str:
    """The canonical text of a parsed file (see the module docstring for the layout), its lines
    wrapped at `line_length` columns where they can be."""
    return _Printer(_stripped(file), line_length).file(file)


def _stripped(file: ast.File) -> ast.File:
    comments = tuple(ast.Comment(c.span, c.text.rstrip()) for c in file.comments)
    return ast.File(file.span, file.statements, comments)


def format_source(source: SourceFile, line_length: int = LINE_LENGTH) -> tuple[str | None, list[Diagnostic]]:
    """Parse a source file and print it canonically; None and the diagnostics on syntax errors."""
    file, diagnostics = parse_source(source)
    if file is None:
        return None, diagnostics
    return format_file(file, line_length), diagnostics
