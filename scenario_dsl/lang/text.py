"""Characters that make a file read differently from how it looks: the text checks of the front end.

An editor or a code review shows a file through Unicode's display rules; scn reads its
characters in order. Some characters make the two disagree:

- bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) reorder what
  is shown around them: a comment can seem to end early, code can seem to sit in a comment
  or a string ("Trojan Source", CVE-2021-42574);
- invisible format characters (Unicode category Cf: zero-width spaces and joiners, U+FEFF
  past the start of the file, the soft hyphen, the invisible operators U+2060-U+2064, tags):
  two names that look the same differ, or a character nobody sees changes the text;
- control characters (category Cc) other than tab, line feed, carriage return and form feed,
  and the line separators U+0085 (NEL), U+2028 and U+2029: some editors show a line break
  where scn reads none, so the rest of a comment looks like code.

`check_text` scans a `SourceFile` for runs of these characters: one diagnostic per run (a run
never spans lines). In code (outside strings and comments) a run is SCN107, an error: no token
may hold one, and the parser would stop there with a vaguer SCN101. In a comment or a string it
is SCN108, a warning. Messages name each code point (`U+202E RIGHT-TO-LEFT OVERRIDE`) and the
span covers the run exactly.

Line ends: LF, CRLF and a lone CR each end a line, in the grammar and in `SourceFile`'s line
table alike, so what an editor shows as a line is a line to scn. U+0085, U+2028 and U+2029 do
not end a line (neither in Python nor in most languages); they are reported as above instead.

The scan is one regular-expression search over the whole text; only the lines that hold such a
character are looked at again, to tell code from strings and comments (a string or a comment
never spans lines, so each line can be read on its own).
"""

from __future__ import annotations

import re
import unicodedata

from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.source import SourceFile, Span

# Unicode category Cf (format characters) as of Unicode 15; tests/lang/test_text_hazards.py
# checks the set against the running Python's `unicodedata`.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
# Control characters but tab, LF, CR and form feed (which the grammar reads as blanks), and the
# line and paragraph separators.
_CONTROL = "\x00-\x08\x0b\x0e-\x1f\x7f-\x9f"
_SEPARATORS = "\u2028\u2029"
#: One run of hidden characters.
HIDDEN = re.compile(f"[{_FORMAT}{_CONTROL}{_SEPARATORS}]+")
_HIDDEN_ASCII = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]+")  # the same, in ASCII text (4x faster)
# The pieces of one line: a string (closed, or open to the end of the line, which the parser
# reports as SCN104), a comment, a run of hidden characters in code, or anything else.
_LINE_PIECES = re.compile(
    rf'(?P<string>"(?:[^"\\\r\n]|\\[^\r\n])*"|"[^\r\n]*)|(?P<comment>#[^\r\n]*)|(?P<code>{HIDDEN.pattern})'
    rf'|[^"#\r\n{_FORMAT}{_CONTROL}{_SEPARATORS}]+'
)
_LINE_END = re.compile(r"\r\n?|\n")

BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\x0b\x1c\x1d\x1e\x85\u2028\u2029")
# unicodedata has no names for control characters; these are their names in the Unicode charts.
_CONTROL_NAMES = {
    "\x00": "NULL", "\x07": "BELL", "\x08": "BACKSPACE", "\x0b": "LINE TABULATION", "\x1b": "ESCAPE",
    "\x1c": "INFORMATION SEPARATOR FOUR", "\x1d": "INFORMATION SEPARATOR THREE",
    "\x1e": "INFORMATION SEPARATOR TWO", "\x1f": "INFORMATION SEPARATOR ONE", "\x7f": "DELETE",
    "\x85": "NEXT LINE (NEL)",
}
_SHOW_AT_MOST = 3  # code points named in one message


def describe(ch: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`: the code point and its Unicode name."""
    name = unicodedata.name(ch, None) or _CONTROL_NAMES.get(ch, "CONTROL CHARACTER")
    return f"U+{ord(ch):04X} {name}"


def _what(run: str) -> tuple[str, str]:
    """The kind of characters in a run (the most dangerous one present) and what to do."""
    plural = "s" if len(run) > 1 else ""
    if BIDI.intersection(run):
        return (f"bidirectional control character{plural}",
                "an editor may show the text around it in another order than scn reads it (Trojan Source, "
                "CVE-2021-42574)")
    if LINE_BREAKS.intersection(run):
        return f"line separator{plural}", "an editor may show a line break there, but scn reads no line end"
    if any(unicodedata.category(ch) == "Cc" for ch in run):
        return f"control character{plural}", "it is invisible, and a terminal may act on it instead of showing it"
    return f"invisible character{plural}", "it cannot be seen, so the text does not read as it looks"


def _diagnostic(source: SourceFile, start: int, end: int, where: str) -> Diagnostic:
    run = source.text[start:end]
    kind, why = _what(run)
    distinct = list(dict.fromkeys(run))
    named = ", ".join(describe(ch) for ch in distinct[:_SHOW_AT_MOST])
    if len(distinct) > _SHOW_AT_MOST:
        named += f" and {len(distinct) - _SHOW_AT_MOST} more"
    span = Span(source, start, end)
    it, is_ = ("them", "they are") if len(run) > 1 else ("it", "it is")
    if where == "code":
        return Diagnostic("SCN107", f"{kind} {named} in code", span, f"delete {it}: {why}")
    return Diagnostic("SCN108", f"{kind} {named} in a {where}", span,
                      f"{why}; delete {it}, or write `# noqa: SCN108` on the line if {is_} meant")


def check_text(source: SourceFile) -> list[Diagnostic]:
    """SCN107 for each run of hidden characters in code, SCN108 for each in a comment or a string,
    in the order of the text. Fast on clean text: one search, in C, over the whole of it."""
    text = source.text
    search = (_HIDDEN_ASCII if text.isascii() else HIDDEN).search  # isascii is a flag: no scan
    first = search(text)
    if first is None:
        return []
    found: list[Diagnostic] = []
    at = first.start()
    while at >= 0:
        start = max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1  # the line's start
        end_match = _LINE_END.search(text, at)
        end = end_match.start() if end_match else len(text)
        for piece in _LINE_PIECES.finditer(text, start, end):
            kind = piece.lastgroup
            if kind == "code":
                found.append(_diagnostic(source, piece.start(), piece.end(), "code"))
            elif kind is not None:  # a string or a comment: its own runs
                found += [_diagnostic(source, run.start(), run.end(), kind)
                          for run in HIDDEN.finditer(text, piece.start(), piece.end())]
        following = search(text, end)
        at = following.start() if following else -1
    return found


_LONE_CR = re.compile(r"\r(?!\n)")


def with_lf_line_ends(source: SourceFile) -> SourceFile:
    """`source` with each lone CR replaced by LF (CRLF kept): the same offsets, lines and columns,
    for a reader that looks for line ends in the text itself (the formatter knows LF and CRLF)."""
    if "\r" not in source.text or _LONE_CR.search(source.text) is None:
        return source
    return SourceFile(source.path, _LONE_CR.sub("\n", source.text))


def replaces_syntax_error(hidden: list[Diagnostic], syntax: Diagnostic) -> bool:
    """Whether a parser diagnostic is only the first SCN107 run seen as a stray character (SCN101)."""
    return syntax.code == "SCN101" and syntax.span is not None and any(
        d.code == "SCN107" and d.span is not None and d.span.start == syntax.span.start for d in hidden)
