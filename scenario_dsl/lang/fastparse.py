"""scn's fast parser: Lark's LALR parser loop, contextual lexer and postlexer as one loop.

`scenario_dsl.lang.parser` builds the `Lark` object (the grammar, the `NewlineFilter` postlexer,
the comment collector) and parses with `FastParser` first; where `FastParser.parse` raises (a
syntax error, or anything it does not expect), Lark parses the same text again and reports the
error exactly as it would alone. tests/lang/test_parser_fast_path.py checks that both give the
same results, on every .scn text of the repository and on mutations of them. The loop reads Lark
internals (parse table, scanners, callbacks), so Lark is pinned in pyproject.toml.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree
from lark.lexer import ContextualLexer, PatternStr, UnlessCallback
from lark.parse_tree_builder import ChildFilterLALR_NoPlaceholders, ExpandSingleChild
from lark.parsers.lalr_analysis import Shift


@dataclass(frozen=True)
class NewlineRules:
    """What the postlexer (`parser.NewlineFilter`) needs to know, for the fast loop's copy of it."""

    operands: frozenset[str]  # token types that end an operand (names, numbers, strings, units)
    continues_after: frozenset[str]  # token values after which a new line does not end an item
    is_word_char: Callable[[str], bool]  # a keyword followed by one is run into a longer word
    max_nesting: int  # brackets nested deeper are refused (SCN105)


class Reject(Exception):
    """The fast parser met something it leaves to Lark: a syntax error."""


class FastParser:
    """Lark's LALR parser loop, contextual lexer and postlexer, over Lark's own tables, terminals and
    callbacks, as one loop.

    Parsing is most of what `scn lint` does per file, and Lark spends much of it on per-token
    bookkeeping that a grammar without error recovery does not need: a generator per stage (lexer,
    `NewlineFilter`, parser), method calls through the lexer thread, the parser state and the rule
    objects, a token object per blank. This loop does the same steps inline, so valid input gives
    the same tokens (types, positions; lines and columns where the result keeps them), the same
    reductions in the same order and the same result. It never reports errors: on anything
    unexpected it gives up, and the caller parses again with Lark for Lark's exact exception.

    Its shortcuts, each with the same outcome as Lark's way:

    - blanks (`WS`, ignored) are skipped by the token's own regular expression (`[ \\t\\f]*+`
      before Lark's alternation of the state's terminals), not lexed as tokens of their own;
    - a keyword that Lark's lexer finds as a `NAME` or `UNIT` and renames (`UnlessCallback`) is
      renamed by a dictionary look-up;
    - a reduction by a `?rule` of one symbol (Lark's `ExpandSingleChild`, which returns its one
      child) only moves to the next state: no callback, no list of children;
    - a rule that Lark inlines into its parent (`_statement`, `__ref_star_8`...: a name starting
      with `_`) leaves the list of its children, not a `Tree` that the parent's `ChildFilter`
      takes apart again; the parent splices the lists as the filter would (`_reduction`);
    - with a transformer (the AST builder), tokens carry their type, value and offsets; line and
      column are filled only for comments and for the raw tree (`parse` without a transformer),
      the two results that keep them.
    """

    def __init__(self, lark: Lark, lexer: ContextualLexer, *, full_tokens: bool, comments: Callable[[Token], Any],
                 rules: NewlineRules) -> None:
        parser = lark.parser.parser.parser  # frontend -> LALR_Parser -> _Parser
        table = parser.parse_table
        self.start_state = table.start_states["start"]
        self.end_state = table.end_states["start"]
        # state -> token or rule name -> the next state (an int: a shift, or the goto after a
        # reduction), the rule's name (a str: a reduction that returns its one child), or
        # (size, rule name, callback, inlined, single) for any other reduction (`_reduction`).
        self.actions: dict[int, dict[str, Any]] = {}
        for state, row in table.states.items():
            if not isinstance(state, int):
                raise TypeError("the parse table's states are not numbered")
            actions: dict[str, Any] = {}
            self.actions[state] = actions
            for name, (action, arg) in row.items():
                if action is Shift:
                    if not isinstance(arg, int):
                        raise TypeError("the parse table's states are not numbered")
                    actions[name] = arg
                else:
                    actions[name] = _reduction(arg, parser.callbacks[arg])
        self.lexer = lexer
        self.full_tokens = full_tokens
        self.comments = comments
        self.rules = rules
        terminals = {t.name: t for t in lark.terminals}
        # Keywords: string terminals spelled with a letter (the postlexer checks that they stand alone).
        self.keywords = frozenset(name for name, t in terminals.items()
                                  if isinstance(t.pattern, PatternStr) and t.pattern.value[:1].isalpha())
        # state -> (its scanner's `match`, {terminal: {word: keyword}} for the terminals that Lark
        # renames, or None); each state's scanner is built on first use, as Lark does.
        self.scanners: dict[int, tuple[Any, dict[str, dict[str, str]] | None]] = {}

    def _scanner(self, state: int) -> tuple[Any, dict[str, dict[str, str]] | None]:
        lexer: Any = self.lexer.lexers[state]  # a BasicLexer
        scanner = lexer.scanner  # builds `lexer.callback` too
        if (len(scanner._mres) != 1 or set(lexer.ignore_types) != {"WS", "COMMENT"}
                or lexer.callback.get("COMMENT") is not self.comments):
            raise TypeError("the lexer is not set up as the fast parser expects")
        renamed: dict[str, dict[str, str]] = {}
        for name, callback in lexer.callback.items():
            if name == "COMMENT":
                continue
            # Lark renames a whole match only (1.2: `match_whole`, 1.3: `fullmatch`): a dictionary does that.
            if not isinstance(callback, UnlessCallback) or not getattr(callback.scanner, "match_whole", True):
                raise TypeError(f"unexpected lexer callback for {name}")
            words = renamed[name] = {}
            for terminal in callback.scanner.terminals:
                if not isinstance(terminal.pattern, PatternStr) or terminal.pattern.flags:
                    raise TypeError(f"unexpected keyword terminal {terminal.name}")
                words[terminal.pattern.value] = terminal.name
        alternation = scanner._mres[0]
        # Blanks first, possessively (never given back, so they cannot match as a WS token);
        # then, optionally, a token: a match without a group is the end of the text or a stray
        # character.
        regexp = re.compile(f"[ \\t\\f]*+(?:{alternation.pattern})?", alternation.flags)
        found = self.scanners[state] = (regexp.match, renamed or None)
        return found

    def parse(self, text: str) -> Any:
        """What `Lark.parse(text)` returns; raises (anything) where Lark would report an error."""
        actions, scanners, keywords, full = self.actions, self.scanners, self.keywords, self.full_tokens
        splice, head_only = _splice, _HEAD
        rules, comments = self.rules, self.comments
        operands, continues, is_word = rules.operands, rules.continues_after, rules.is_word_char
        max_nesting = rules.max_nesting
        new = str.__new__
        states = [self.start_state]
        state = states[0]
        values: list[Any] = []
        pos, end, line, line_start = 0, len(text), 1, 0
        # The postlexer's state (`NewlineFilter.process`).
        depth = 0
        ends_item = False
        after_operand = False
        while True:
            match, renamed = scanners.get(state) or self._scanner(state)
            found = match(text, pos)
            kind = found.lastgroup
            if kind is None:
                if found.end() == end:
                    break
                raise Reject
            start, pos = found.span(kind)
            value: str = found.group(kind)
            if kind == "_NL" or kind == "COMMENT":
                token_line, column = line, start - line_start + 1
                if newlines := value.count("\n"):
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
                if kind == "COMMENT":
                    token = new(Token, value)
                    token.type, token.value, token.start_pos, token.end_pos = kind, value, start, pos  # type: ignore[assignment]
                    token.line, token.column = token_line, column
                    token.end_line, token.end_column = line, pos - line_start + 1
                    comments(token)
                    continue
                if not ends_item or depth:
                    continue  # a new line that does not end an item
                ends_item = after_operand = False
            else:
                token_line = 0
                if renamed is not None and kind in renamed:
                    kind = renamed[kind].get(value, kind)
                if kind in operands:
                    ends_item = after_operand = True
                else:
                    if kind in keywords and pos < end and is_word(text[pos]):
                        raise Reject  # a keyword run into a longer word
                    if value == "(" or value == "[":
                        depth += 1
                        if depth > max_nesting:
                            raise Reject
                    elif value == ")" or value == "]":
                        depth = depth - 1 if depth else 0
                    if value == "|" and after_operand:
                        ends_item = True
                    else:
                        ends_item = value not in continues
                        after_operand = value == ")" or value == "]"
            token = new(Token, value)
            token.type, token.value, token.start_pos, token.end_pos = kind, value, start, pos  # type: ignore[assignment]
            if full:
                if not token_line:  # a token on one line (a new line has its place already)
                    token_line, column = line, start - line_start + 1
                token.line, token.column = token_line, column
                token.end_line, token.end_column = line, pos - line_start + 1
            # The parser: reduce while the table says so, then shift the token.
            while True:
                action = actions[state].get(kind)
                if action.__class__ is int:
                    states.append(action)
                    values.append(token)
                    state = action
                    break
                if action.__class__ is str:  # a `?rule` of one symbol: its child stays as it is
                    state = states[-1] = actions[states[-2]][action]
                    continue
                if action is None:
                    raise Reject
                size, rule, callback, inlined, single = action
                if size:
                    children = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    children = []
                if inlined is not None:
                    if inlined is head_only:  # a repetition growing by its first child: in place
                        head = children[0]
                        head += children[1:]
                        children = head
                    else:
                        children = splice(children, inlined)
                if callback is None:  # a rule inlined into its parent: its children, as a list
                    values.append(children)
                elif single and len(children) == 1:
                    values.append(children[0])
                else:
                    values.append(callback(children))
                state = actions[states[-1]][rule]
                states.append(state)
        # The end of the input: reduce until the start rule is complete.
        end_state = self.end_state
        while True:
            action = actions[states[-1]].get("$END")
            if action.__class__ is str:
                states[-1] = actions[states[-2]][action]
            elif action.__class__ is tuple:
                size, rule, callback, inlined, single = action
                if size:
                    children = values[-size:]
                    del states[-size:]
                    del values[-size:]
                else:
                    children = []
                if inlined is not None:
                    children = splice(children, inlined)
                if callback is None:
                    values.append(children)
                elif single and len(children) == 1:
                    values.append(children[0])
                else:
                    values.append(callback(children))
                states.append(actions[states[-1]][rule])
            else:
                raise Reject
            if states[-1] == end_state:
                return values[-1]


def _reduction(rule: Any, callback: Any) -> str | tuple[int, str, Any, tuple[bool, ...] | None, bool]:
    """How the fast loop reduces by `rule`, from Lark's callback for it (a chain of wrappers around
    the transformer's method or Lark's default, which makes a `Tree`):

    - the rule's name (a str), for a `?rule` of one symbol: its one child is the result;
    - else (size, rule name, callback, inlined, single): `inlined` says which children are lists
      to splice in (the results of rules named `_...`, as Lark's `ChildFilterLALR_NoPlaceholders`
      splices their `Tree`s' children), or is None when none are; `callback` is what is called
      on the children then (None for a rule named `_...` that Lark would make a `Tree`: its
      children are the result), and `single` says to return a lone child instead (Lark's
      `ExpandSingleChild`, inside the filter).

    Raises TypeError for a chain it does not know (another Lark version)."""
    size = len(rule.expansion)
    if size == 1 and type(callback) is ExpandSingleChild:
        return str(rule.origin.name)
    inlined: tuple[bool, ...] | None = None
    inner = callback
    if type(inner) is ChildFilterLALR_NoPlaceholders:
        inlined = tuple(bool(expand) for _, expand in inner.to_include)
        if [i for i, _ in inner.to_include] != list(range(size)):
            raise TypeError(f"rule {rule}: a child filter that drops children")
        inner = inner.node_builder
    single = type(inner) is ExpandSingleChild
    if single:
        inner = inner.node_builder
    if any(type(inner) is t for t in (ChildFilterLALR_NoPlaceholders, ExpandSingleChild)):
        raise TypeError(f"rule {rule}: an unexpected chain of callbacks")
    expected = tuple(not symbol.is_term and symbol.name.startswith("_") for symbol in rule.expansion)
    if (inlined or (False,) * size) != expected:
        raise TypeError(f"rule {rule}: children inlined otherwise than by their names")
    if inlined == (True,) + (False,) * (size - 1):
        inlined = _HEAD
    # Lark's default for a rule the transformer has no method for: `partial(default_callback, name)`
    # or `partial(Tree, name)`; for a rule named `_...` the parent only reads the Tree's children.
    makes_tree = isinstance(inner, functools.partial) and (
        inner.func is Tree or getattr(inner.func, "__name__", "") == "default_callback")
    if makes_tree and str(rule.origin.name).startswith("_"):
        if single:
            raise TypeError(f"rule {rule}: an inlined rule that expands a single child")
        return (size, str(rule.origin.name), None, inlined, False)
    return (size, str(rule.origin.name), inner, inlined, single)


#: `inlined` for a rule whose first child alone is spliced (`__ref_star_8: __ref_star_8 "." NAME`,
#: each step of a repetition): the filter reuses that list and appends the others to it.
_HEAD = (True,)


def _splice(children: list[Any], inlined: tuple[bool, ...]) -> list[Any]:
    """`children` with the lists at the `inlined` places spliced in, as Lark's child filter does
    (which reuses the first spliced list, so a long left-recursive repetition grows in place)."""
    if inlined is _HEAD:
        head: list[Any] = children[0]
        head += children[1:]
        return head
    filtered: list[Any] = []
    for child, splice in zip(children, inlined, strict=True):
        if not splice:
            filtered.append(child)
        elif filtered:
            filtered += child
        else:
            filtered = child
    return filtered
