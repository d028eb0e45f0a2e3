"""A Pygments lexer of `.scn` files (`pygmentize -l scn`, registered through the `pygments.lexers`
entry point): used for the docs' code blocks and by any tool that highlights with Pygments.

Its vocabulary is read from where the language keeps it, so it cannot drift: the keywords are the
grammar's quoted words (grammars/scn.lark), the distributions, functions and units the
catalogues' (`lang.model.DISTRIBUTIONS`, `lang.typecheck.FUNCTIONS`, `lang.units.UNITS`).
tests/editor/test_lexer.py checks every bundled scenario lexes without an error token.
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

from scenario_dsl.lang.model import DISTRIBUTIONS
from scenario_dsl.lang.names import RESERVED
from scenario_dsl.lang.parser import grammar_path
from scenario_dsl.lang.typecheck import FUNCTIONS
from scenario_dsl.lang.units import UNITS


def grammar_keywords() -> tuple[str, ...]:
    """The words the grammar spells in quotes: statement and clause keywords, `and`, `or`, ..."""
    return tuple(sorted(set(re.findall(r'"([a-z]+)"', grammar_path().read_text(encoding="utf-8")))))


KEYWORDS = grammar_keywords()
CONSTANTS = tuple(sorted(RESERVED))
BUILTINS = tuple(sorted(DISTRIBUTIONS))
FUNCTION_NAMES = tuple(sorted(set(FUNCTIONS) - set(DISTRIBUTIONS)))
_UNIT = "(?:" + "|".join(sorted(UNITS, key=len, reverse=True)) + r")(?:\^-?[0-9]+)?"
UNIT_PATTERN = rf"{_UNIT}(?:[*/]{_UNIT})*\b"


class ScnLexer(RegexLexer):
    """scn, the domain-randomization scenario language."""

    # Pygments' own class attributes (lists and a dict, as its lexers declare them).
    name = "scn"
    aliases = ["scn"]  # noqa: RUF012
    filenames = ["*.scn"]  # noqa: RUF012
    mimetypes = ["text/x-scn"]  # noqa: RUF012

    tokens = {  # noqa: RUF012
        "root": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            (r"([0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)([ \t]+)(" + UNIT_PATTERN + ")",
             bygroups(Number, Whitespace, Keyword.Type)),
            (r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?", Number),
            (r"([\])])([ \t]+)(" + UNIT_PATTERN + ")", bygroups(Punctuation, Whitespace, Keyword.Type)),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(BUILTINS, suffix=r"\b"), Name.Builtin),
            (words(FUNCTION_NAMES, suffix=r"\b"), Name.Function),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r"\+~|\*~|~|<=|>=|==|!=|->|[-+*/^<>=|:.]", Operator),
            (r"[\[\](){},;]", Punctuation),
            (r".", Text),
        ],
    }
