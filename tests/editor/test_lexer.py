"""The Pygments lexer (`pygmentize -l scn`): every bundled scenario lexes without an error
token, and its vocabulary is the language's own (the grammar's keywords, the catalogues'
distributions, functions and units), so highlighting cannot drift from the parser."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Error, Keyword, Name, Number
from scn_fixtures import SCENARIOS

from scenario_dsl.editor.lexer import BUILTINS, FUNCTION_NAMES, KEYWORDS, ScnLexer
from scenario_dsl.lang.model import DISTRIBUTIONS
from scenario_dsl.lang.parser import _STATEMENT_KEYWORDS, grammar_path
from scenario_dsl.lang.typecheck import FUNCTIONS

ALL = sorted(SCENARIOS.glob("*.scn"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_every_bundled_scenario_lexes_without_an_error_token(path: Path) -> None:
    tokens = list(ScnLexer().get_tokens(path.read_text()))
    assert not [value for kind, value in tokens if kind in Error]
    assert "".join(value for _, value in tokens) == path.read_text()  # every character is in a token


def test_the_vocabulary_is_the_languages() -> None:
    grammar_words = set(re.findall(r'"([a-z]+)"', grammar_path().read_text()))
    assert set(KEYWORDS) == grammar_words and set(_STATEMENT_KEYWORDS) <= set(KEYWORDS)
    assert set(BUILTINS) == set(DISTRIBUTIONS)
    assert set(FUNCTION_NAMES) | set(BUILTINS) >= set(FUNCTIONS)


def test_tokens_of_a_line() -> None:
    tokens = [(kind, value) for kind, value in ScnLexer().get_tokens("randomize { box.mass ~ uniform(1, 2) kg }\n")
              if value.strip()]
    assert tokens[0] == (Keyword, "randomize")
    assert (Name.Builtin, "uniform") in tokens and (Number, "1") in tokens
    assert (Keyword.Type, "kg") in tokens


def test_pygmentize_finds_the_lexer_by_its_entry_point(tmp_path: Path) -> None:
    assert type(get_lexer_by_name("scn")) is ScnLexer
    out = tmp_path / "pendulum.html"
    subprocess.run([str(Path(sys.executable).parent / "pygmentize"), "-l", "scn", "-f", "html", "-o", str(out),
                    str(SCENARIOS / "pendulum.scn")], check=True, timeout=60)
    html = out.read_text()
    assert '<span class="k">scenario</span>' in html and '<span class="nb">uniform</span>' in html
