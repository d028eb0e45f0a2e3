"""The TextMate grammar of `.scn` files (editors/vscode/syntaxes/scn.tmLanguage.json), made from
the Pygments lexer's vocabulary, which is the grammar's and the catalogues' (`editor.lexer`):

    .venv/bin/python -m scenario_dsl.editor.textmate > editors/vscode/syntaxes/scn.tmLanguage.json

tests/editor/test_textmate.py checks that the file in the repository is what this prints, so
the editor's highlighting cannot drift from the parser either.
"""

from __future__ import annotations

import json
from typing import Any

from scenario_dsl.editor.lexer import BUILTINS, CONSTANTS, FUNCTION_NAMES, KEYWORDS, UNIT_PATTERN

NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def _words(names: tuple[str, ...]) -> str:
    return r"\b(?:" + "|".join(sorted(names, key=len, reverse=True)) + r")\b"


def grammar() -> dict[str, Any]:
    """The grammar as a JSON-ready dict (scope names follow TextMate's conventions)."""
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "scn",
        "scopeName": "source.scn",
        "fileTypes": ["scn"],
        "patterns": [
            {"name": "comment.line.number-sign.scn", "match": r"#.*$"},
            {"name": "string.quoted.double.scn", "begin": '"', "end": '"',
             "patterns": [{"name": "constant.character.escape.scn", "match": r'\\["\\]'}]},
            {"match": rf"({NUMBER})[ \t]+({UNIT_PATTERN})",
             "captures": {"1": {"name": "constant.numeric.scn"}, "2": {"name": "keyword.other.unit.scn"}}},
            {"name": "constant.numeric.scn", "match": NUMBER},
            {"name": "keyword.control.scn", "match": _words(KEYWORDS)},
            {"name": "constant.language.scn", "match": _words(CONSTANTS)},
            {"name": "support.function.distribution.scn", "match": _words(BUILTINS)},
            {"name": "support.function.scn", "match": _words(FUNCTION_NAMES)},
            {"name": "keyword.operator.scn", "match": r"\+~|\*~|~|<=|>=|==|!=|->|[-+*/^<>=|]"},
        ],
    }


def main() -> None:
    print(json.dumps(grammar(), indent=2))


if __name__ == "__main__":
    main()
