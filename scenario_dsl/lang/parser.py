"""Stage 2: source text -> Lark parse tree, with syntax errors turned into diagnostics.

The grammar lives in `grammars/scn.lark` (shipped inside the wheel as
`scenario_dsl/grammars/scn.lark`). This module owns the newline rules (`NewlineFilter`), the
nesting limit, and the translation of Lark's exceptions into `SCN1xx` diagnostics that name
the expected tokens in words. Valid text is parsed by `scenario_dsl.lang.fastparse` (Lark's own
tables and callbacks in one loop); Lark alone parses what that loop gives up on, and reports it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import ContextualLexer
from lark.parser_frontends import PostLexConnector

from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.fastparse import FastParser, NewlineRules
from scenario_dsl.lang.source import SourceFile, Span

MAX_NESTING = 100

# Tokens after which a newline cannot end an item, so the line goes on.
_CONTINUES_AFTER = frozenset(
    {"{", "(", "[", ",", "=", "->", "~", "+~", "*~", "+", "-", "*", "/", "^", "mod", "and", "or",
     "not", "<", "<=", ">", ">=", "==", "!=", ":", "in", "as", "at", "from", "on", "when", "|"}
)
# Terminals named in words for "expected ..." messages.
_TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "UNIT": "a unit",
    "_NL": "a new line", "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "EQUAL": "'='", "COLON": "':'",
    "DRAW_OP": "'~', '+~' or '*~'", "ADD_OP": "'+' or '-'", "STAR": "'*'", "SLASH": "'/'",
    "MOD": "'mod'", "POW": "'^'", "COMPARE": "a comparison", "VBAR": "'|'", "DOT": "'.'",
    "AND": "'and'", "OR": "'or'", "NOT": "'not'", "$END": "the end of the file",
}
_STATEMENT_KEYWORDS = (
    "scenario", "include", "param", "let", "plant", "model", "frame", "body", "joint", "weld",
    "controller", "marker", "camera", "light", "action", "observation", "randomize", "adaptive",
    "curriculum", "reward", "episode", "train",
)


def grammar_path() -> Path:
    """The grammar file: inside the installed package, or at the repository root."""
    package = Path(__file__).resolve().parent.parent  # scenario_dsl/
    packaged = package / "grammars" / "scn.lark"
    return packaged if packaged.exists() else package.parent / "grammars" / "scn.lark"


class _NestingTooDeep(Exception):
    def __init__(self, token: Token) -> None:
        self.token = token


class _RunOnKeyword(Exception):
    """A keyword that is only the start of a longer word (`rewards`, `bodyx`)."""

    def __init__(self, token: Token, word: str) -> None:
        self.token = token
        self.word = word


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


_OPERANDS = frozenset({"NAME", "NUMBER", "STRING", "UNIT"})
_LINE_END = re.compile(r"[\r\n]")  # where a comment stops: LF, CRLF or a lone CR


class NewlineFilter:
    """Postlexer: keeps a newline only where it ends a statement or block item."""

    always_accept = ("_NL",)

    def __init__(self) -> None:
        self.text = ""  # the text being parsed, to see what follows a keyword

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        # This runs once per token: plain flags and set lookups on `token.value` (a str).
        # No look-ahead here: the contextual lexer picks its terminals from the parser state,
        # so a token held back would be lexed in the wrong state.
        text = self.text
        depth = 0
        ends_item = False  # would a newline here end an item? (not at the start, not twice)
        after_operand = False  # did the last token end an operand (a name, `)`, a closing `|`)?
        for token in stream:
            kind = token.type
            if kind == "_NL":
                if ends_item and depth == 0:
                    ends_item = after_operand = False
                    yield token
                continue
            # Names, numbers and strings never continue a line, even when they are spelled like
            # an operator (a name `mod` in a context where `mod` is no keyword).
            if kind in _OPERANDS:
                ends_item = after_operand = True
                yield token
                continue
            value: str = token.value
            # Keywords are string terminals, and Lark matches a string even when it is only the
            # start of a word; a keyword must stand alone.
            end = token.end_pos or 0
            if value[:1].isalpha() and end < len(text) and _is_word_char(text[end]):
                stop = end
                while stop < len(text) and _is_word_char(text[stop]):
                    stop += 1
                raise _RunOnKeyword(token, text[token.start_pos or 0 : stop])
            if value in ("(", "["):
                depth += 1
                if depth > MAX_NESTING:
                    raise _NestingTooDeep(token)
            elif value in (")", "]"):
                depth = max(0, depth - 1)
            # A `|` right after an operand closes a norm (`|x|`), and a line may end there;
            # anywhere else it opens one, and the line goes on.
            if value == "|" and after_operand:
                ends_item = True
            else:
                ends_item = value not in _CONTINUES_AFTER
                after_operand = value in (")", "]")
            yield token


_NEWLINES = NewlineFilter()
# The same rules, for the fast parser's copy of the filter.
NEWLINE_RULES = NewlineRules(operands=_OPERANDS, continues_after=_CONTINUES_AFTER, is_word_char=_is_word_char,
                             max_nesting=MAX_NESTING)


@functools.cache
def _lark(transformer: Transformer[Token, Any] | None = None) -> Lark:
    return Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_NEWLINES,
        keep_all_tokens=True,  # the builder needs keywords and brackets to know spans
        maybe_placeholders=False,
        strict=True,
        lexer_callbacks={"COMMENT": _COMMENTS},
        transformer=transformer,
        cache=_cache_file(transformer is not None),
    )


def _cache_file(with_transformer: bool) -> str:
    # Lark pickles the built parse table; a fresh interpreter then loads the grammar in a few
    # milliseconds instead of rebuilding the LALR tables (~0.6 s). The name carries the
    # grammar's hash, so checkouts with different grammars do not share a cache.
    import hashlib
    import os
    import tempfile

    digest = hashlib.sha256(grammar_path().read_bytes()).hexdigest()[:16]
    name = f"scn-grammar-{digest}{'-t' if with_transformer else ''}.lark-cache"
    folder = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scn"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".probe").touch()
        return str(folder / name)
    except OSError:
        return str(Path(tempfile.gettempdir()) / name)


@dataclass
class ParseResult:
    """A parse tree (None on a syntax error), the comments seen, and the diagnostics."""

    tree: Any  # a Lark Tree, or what the transformer given to `parse` built; None on error
    comments: list[Token] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def parse(source: SourceFile, transformer: Transformer[Token, Any] | None = None) -> ParseResult:
    """Parse one source file; never raises for bad input.

    Without a transformer the result is Lark's parse tree (every token kept). With one, Lark
    applies it rule by rule while parsing and keeps no tree, which is much faster.
    """
    comments: list[Token] = []
    parser = _lark(transformer)
    try:
        # Comments are ignored by the grammar but kept for `scn fmt`: the lexer hands
        # them to a callback on their way out.
        tree = _parse_collecting_comments(parser, source.text, comments)
    except _NestingTooDeep as exc:
        span = _token_span(source, exc.token)
        return ParseResult(None, comments, [Diagnostic(
            "SCN105", f"brackets nested more than {MAX_NESTING} deep", span,
            "split the expression with `let` bindings")])
    except _RunOnKeyword as exc:
        start = exc.token.start_pos or 0
        span = Span(source, start, start + len(exc.word))
        hint = f"did you mean `{exc.token.value}`?"  # the keyword the grammar took at the start of the word
        return ParseResult(None, comments, [Diagnostic("SCN102", f"unexpected word '{exc.word}'", span, hint)])
    except UnexpectedInput as exc:
        return ParseResult(None, comments, [_syntax_diagnostic(source, exc)])
    except LarkError as exc:  # pragma: no cover - a grammar bug, not user input
        return ParseResult(None, comments, [Diagnostic("SCN901", f"parser failure: {exc}", None,
                                                       "please report this", path=source.path)])
    return ParseResult(tree, comments, [])


class _CommentCollector:
    """The lexer callback for COMMENT; `target` is swapped for each parse."""

    def __init__(self) -> None:
        self.target: list[Token] = []

    def __call__(self, token: Token) -> Token:
        self.target.append(token)
        return token


_COMMENTS = _CommentCollector()


def _parse_collecting_comments(parser: Lark, text: str, comments: list[Token]) -> Any:
    _COMMENTS.target = comments
    _NEWLINES.text = text
    try:
        fast = _fast_parser(parser)
        if fast is not None:
            try:
                return fast.parse(text)
            except Exception:  # any problem at all: Lark parses again and says what it is
                del comments[:]
        return parser.parse(text)
    finally:
        _COMMENTS.target = []


@functools.cache
def _fast_parser(parser: Lark) -> FastParser | None:
    """The fast loop for a parser built by `_lark`, or None where Lark is not set up as this
    module expects (another Lark version), so that Lark parses alone."""
    try:
        frontend = parser.parser
        callbacks = frontend.parser.parser.callbacks
        connector = frontend.lexer
        if (not isinstance(connector, PostLexConnector) or connector.postlexer is not _NEWLINES
                or not isinstance(connector.lexer, ContextualLexer)
                or any(isinstance(key, str) for key in callbacks)):  # terminal callbacks: not handled
            return None
        return FastParser(parser, connector.lexer, full_tokens=parser.options.transformer is None,
                          comments=_COMMENTS, rules=NEWLINE_RULES)
    except Exception:
        return None


def _token_span(source: SourceFile, token: Token) -> Span:
    start = token.start_pos if token.start_pos is not None else len(source.text)
    end = token.end_pos if token.end_pos is not None else start
    return Span(source, start, max(end, start + 1) if start < len(source.text) else start)


def _expected_words(expected: Iterable[str]) -> str:
    words = sorted({_TOKEN_WORDS.get(name, f"'{name.lower()}'") for name in expected if name != "COMMENT"})
    if not words:
        return "nothing more"
    if len(words) > 6:
        return ", ".join(words[:6]) + " or another token"
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1]


def _syntax_diagnostic(source: SourceFile, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        pos: int = exc.pos_in_stream or 0
        char = source.text[pos] if pos < len(source.text) else ""
        span = Span(source, pos, pos + 1)
        if char == '"':
            return Diagnostic("SCN104", "string is not closed on this line", span,
                              'close it with `"`; strings cannot span lines')
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}" if char else "end of input"
        return Diagnostic("SCN101", f"unexpected character {shown}", span,
                          f"expected {_expected_words(exc.allowed or set())}")
    if isinstance(exc, UnexpectedEOF):
        span = Span(source, len(source.text), len(source.text))
        return Diagnostic("SCN103", "the file ends in the middle of a statement", span,
                          f"expected {_expected_words(str(t) for t in exc.expected)}")
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    if token.type == "$END":
        span = Span(source, len(source.text), len(source.text))
        return Diagnostic("SCN103", "the file ends in the middle of a statement", span,
                          f"expected {_expected_words(str(t) for t in exc.expected)}")
    span = _token_span(source, token)
    shown = "a new line" if token.type == "_NL" else f"'{token}'"
    message, hint = _friendly(exc, str(token), source.text)
    return Diagnostic("SCN102", message or f"unexpected {shown}", span,
                      hint or f"expected {_expected_words(str(t) for t in exc.expected)}")


def _friendly(exc: UnexpectedToken, text: str, source: str) -> tuple[str | None, str | None]:
    """Messages for the common mistakes, recognised from what the parser expected and from the
    text just before the unexpected token."""
    expected = set(exc.expected)
    start = exc.token.start_pos or 0
    if text == "=" and source[start - 1 : start] == "=":  # the lexer splits `==` where only '=' can come
        return "a setting uses '=', not '=='", "write `name = value`; '==' compares, in conditions"
    if text == "=" and "DRAW_OP" in expected:
        return ("a randomization uses '~', not '='",
                "write `target ~ uniform(lo, hi)` (or '+~' to offset, '*~' to scale)")
    if text in ("=", ":") and expected & {"NAME"} and not expected - {"NAME", "STRING"}:
        return f"unexpected '{text}': a name is missing before it", None
    if exc.token.type in ("NAME", "UNIT") and "RBRACE" not in expected and _at_statement_start(expected):
        return (f"'{text}' does not start a statement",
                "a statement starts with one of: " + ", ".join(_STATEMENT_KEYWORDS))
    if "RBRACE" in expected and "_NL" in expected and exc.token.type in ("NAME", "UNIT") and _in_block(source, start):
        return (f"unexpected '{text}': items in a block are separated by new lines or ';'",
                "put each item on its own line, or separate them with ';'")
    unit_like = exc.token.type == "UNIT" or (exc.token.type == "NAME" and "UNIT" in expected)
    if unit_like and _after_operand(source, start):
        return f"unexpected '{text}'", "a unit follows its number directly, e.g. `1 ms`; operators need '*'"
    if text == "==" and "DRAW_OP" in expected:
        return ("a randomization uses '~', not '=='",
                "write `target ~ uniform(lo, hi)` (or '+~' to offset, '*~' to scale)")
    return None, None


def _in_block(source: str, at: int) -> bool:
    """Whether offset `at` lies inside `{ ... }` (braces in strings and comments do not count)."""
    depth, i = 0, 0
    while i < at:
        ch = source[i]
        if ch == '"':  # a string, with its escapes (`\"`)
            i += 1
            while i < at and source[i] != '"':
                i += 2 if source[i] == "\\" else 1
        elif ch == "#":
            end = _LINE_END.search(source, i, at)
            i = at if end is None else end.start()
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        i += 1
    return depth > 0


def _after_operand(source: str, at: int) -> bool:
    """Whether the text before offset `at` ends with a number, a name or a closing bracket (where a
    unit or an operator could follow), not with a keyword or a string."""
    before = source[:at].rstrip(" \t")
    if not before:
        return False
    if before[-1] in ")]|":
        return True
    if not _is_word_char(before[-1]):
        return False
    word_start = len(before)
    while word_start > 0 and _is_word_char(before[word_start - 1]):
        word_start -= 1
    word = before[word_start:]
    return word[0].isdigit() or word not in _keywords()


@functools.cache
def _keywords() -> frozenset[str]:
    """The grammar's keywords: its string terminals spelled with letters (`"from"`, `"per"`)."""
    return frozenset(re.findall(r'"([a-z_]+)"', grammar_path().read_text(encoding="utf-8")))


def _at_statement_start(expected: set[str]) -> bool:
    return {"PLANT", "REWARD", "EPISODE"} <= expected
