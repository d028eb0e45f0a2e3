"""Text that reads differently from how it looks (`scenario_dsl.lang.text`), and large files.

- Line ends: LF, CRLF and a lone CR each end a line, in the grammar, in `SourceFile`'s line
  table, in the excerpts of diagnostics and for the formatter: the same mistake is reported at
  the same line and column whichever a file uses.
- Hidden characters (bidirectional controls, zero-width and other invisible format characters,
  control characters, line separators): SCN107 (an error) in code, SCN108 (a warning) in a
  comment or a string, one diagnostic per run naming each code point, with the run's exact span.
- Hypothesis inserts such characters and line ends into the bundled scenarios: never a traceback,
  never SCN901, spans inside the text.
- The large files of bench/bench_large_files.py lint without error (small ones: nothing is timed).
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import io
import json
import re
import unicodedata
import weakref
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenario_dsl import cli
from scenario_dsl.emitters import FORMATS, render
from scenario_dsl.lang.diagnostics import CODES, Diagnostic, Severity
from scenario_dsl.lang.formatter import format_source
from scenario_dsl.lang.loader import Analysis, analyze_text, parse_source
from scenario_dsl.lang.source import SourceFile
from scenario_dsl.lang.text import HIDDEN, check_text, describe

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.scn"))


def _bench_module() -> ModuleType:
    """bench/bench_large_files.py, by path (the repository root need not be on sys.path)."""
    spec = importlib.util.spec_from_file_location("bench_large_files", ROOT / "bench" / "bench_large_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LARGE = _bench_module()
LINE_ENDS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r"}


def analyze(text: str, tmp_path: Path, name: str = "t.scn") -> Analysis:
    (tmp_path / "scn.toml").touch()
    return analyze_text(text, str(tmp_path / name), base_dir=tmp_path)


def places(diagnostics: list[Diagnostic]) -> list[tuple[str, int, int, tuple[int, int], str]]:
    return [(d.code, d.line, d.column, d.span.end_line_col if d.span else (0, 0), d.message) for d in diagnostics]


def lines_of(text: str) -> list[str]:
    return re.split(r"\r\n?|\n", text)


# ---- line ends -------------------------------------------------------------------------------

# A mistake on line 3 of each: a syntax error, and an unknown unit (found by the validator).
MISTAKES = [
    "scenario t\n# a comment\nlet x = 1 @ 2\n",
    "scenario t\nplant {\n    time_step = 1 kgg  # a unit that does not exist\n}\n",
]


@pytest.mark.parametrize("text", MISTAKES, ids=["syntax", "unit"])
def test_line_ends_give_the_same_diagnostics(text: str, tmp_path: Path) -> None:
    found = {}
    for name, end in LINE_ENDS.items():
        analysis = analyze(text.replace("\n", end), tmp_path)
        found[name] = (places(analysis.diagnostics), render("human", analysis.diagnostics))
    assert found["LF"][0], "the mistake is reported"
    assert any(line == 3 for _, line, *_ in found["LF"][0]), found["LF"][0]
    assert found["CRLF"] == found["LF"]
    assert found["CR"] == found["LF"]


def test_a_lone_cr_ends_a_comment(tmp_path: Path) -> None:
    """A comment stops at a lone CR, where an editor shows a line break: what follows is code."""
    base = (ROOT / "scenarios" / "pendulum.scn").read_text(encoding="utf-8")
    hidden = base.replace("# The rod's frame", "# The rod's frame\rbody evil { mass = -1 kg }\r#", 1)
    codes = [d.code for d in analyze(hidden, tmp_path).diagnostics]
    assert "SCN401" in codes or "SCN406" in codes, codes  # the body is read, and checked


def test_source_file_line_table() -> None:
    source = SourceFile("t.scn", "a\r\nbc\rd\n\re")
    assert [source.line_text(n) for n in range(1, 6)] == ["a", "bc", "d", "", "e"]
    assert [source.line_col(i) for i in (0, 3, 6, 8, 9)] == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]
    assert source.line_col(1) == (1, 2) and source.line_col(2) == (1, 3)  # the CR and LF of CRLF
    assert source.offset(2, 99) == 5  # clamped to the line's end, before its CR
    assert source.line_bounds(2) == (3, 5) and source.line_bounds(9) == (10, 10)


def test_the_formatter_reads_every_line_end_alike() -> None:
    for path in SCENARIOS:
        text = path.read_text(encoding="utf-8")
        outputs = {name: format_source(SourceFile(str(path), text.replace("\n", end)))[0]
                   for name, end in LINE_ENDS.items()}
        assert outputs["LF"] is not None
        assert outputs["CRLF"] == outputs["LF"] and outputs["CR"] == outputs["LF"], path.name


def test_unicode_line_separators_end_no_line(tmp_path: Path) -> None:
    """U+2028, U+2029 and NEL are not line ends (as in Python): reported, and the line goes on."""
    for ch in "\u2028\u2029\x85":
        source = SourceFile("t.scn", f"let x = 1 # note{ch}let y = 2\n")
        assert source.line_col(len(source.text) - 1) == (1, len(source.text))
        (found,) = check_text(source)
        assert (found.code, found.level) == ("SCN108", Severity.WARNING)
        assert describe(ch) in found.message


# ---- hidden characters -----------------------------------------------------------------------

def test_bidi_control_in_code_is_an_error(tmp_path: Path) -> None:
    text = "scenario t\nlet access = 1 \u202e+ 2\n"
    (d,) = [d for d in analyze(text, tmp_path).diagnostics if d.code in ("SCN107", "SCN101")]
    assert (d.code, d.level, d.line, d.column) == ("SCN107", Severity.ERROR, 2, 16)
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in d.message and "in code" in d.message
    assert d.span is not None and d.span.text == "\u202e"


@pytest.mark.parametrize(("text", "where"), [
    ("scenario t\nlet x = 1  # admin \u2067only\u2069 here\n", "comment"),
    ('scenario t "a \u202eb"\n', "string"),
])
def test_bidi_control_in_a_comment_or_string_is_a_warning(text: str, where: str) -> None:
    found = check_text(SourceFile("t.scn", text))
    assert [(d.code, d.level) for d in found] == [("SCN108", Severity.WARNING)] * len(found) and found
    assert all(f"in a {where}" in d.message for d in found)
    assert any("RIGHT-TO-LEFT" in d.message for d in found)
    for d in found:
        assert d.span is not None and HIDDEN.fullmatch(d.span.text)


def test_a_zero_width_space_in_a_name_is_an_error(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "pendulum.scn").read_text(encoding="utf-8").replace(
        "joint pendulum:", "joint pendu\u200blum:", 1)
    diagnostics = analyze(text, tmp_path).diagnostics
    assert [d.code for d in diagnostics] == ["SCN107"]  # not also SCN101 at the same place
    (d,) = diagnostics
    assert "U+200B ZERO WIDTH SPACE" in d.message and d.span is not None and d.span.text == "\u200b"
    assert d.column == len("joint pendu") + 1


def test_one_diagnostic_per_run_per_line() -> None:
    source = SourceFile("t.scn", "let a = 1 \u202a\u202b\u200b # x \u2066 y \u2066\u2069\nlet \u200d\u200db = 2\n")
    found = check_text(source)
    assert [(d.code, d.span.start, d.span.end) for d in found if d.span] == [
        ("SCN107", 10, 13), ("SCN108", 18, 19), ("SCN108", 22, 24), ("SCN107", 29, 31)]
    assert "U+202A LEFT-TO-RIGHT EMBEDDING" in found[0].message and "U+200B" in found[0].message
    assert "characters" in found[0].message  # a run of several


def test_a_bom_is_only_allowed_at_the_start(tmp_path: Path) -> None:
    path = tmp_path / "bom.scn"
    path.write_bytes(b"\xef\xbb\xbfscenario t\nlet x = 1 # \xef\xbb\xbf\n")
    found = cli_lint_json(path)
    assert [d["code"] for d in found if str(d["code"]).startswith("SCN1")] == ["SCN108"]


def test_noqa_keeps_a_warning_out(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "pendulum.scn").read_text(encoding="utf-8")
    noted = text.replace("# The rod's frame", "# The rod's \u200bframe  # noqa: SCN108", 1)
    assert [d.code for d in analyze(noted, tmp_path).diagnostics] == []
    assert [d.code for d in analyze(noted.replace("  # noqa: SCN108", ""), tmp_path).diagnostics] == ["SCN108"]


def test_fmt_reports_hidden_characters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.scn"
    path.write_text("scenario t  # \u202e\n", encoding="utf-8")
    assert cli.main(["fmt", "--check", str(path)]) == 0
    assert "SCN108" in capsys.readouterr().err
    _, diagnostics = parse_source(SourceFile(str(path), path.read_text(encoding="utf-8")))
    assert [d.code for d in diagnostics] == ["SCN108"]


def test_the_format_characters_are_every_cf_character() -> None:
    """`text.HIDDEN` covers Unicode's category Cf (as this Python knows it), the controls but tab,
    LF, CR and form feed, and the line and paragraph separators; nothing else."""
    allowed = {"\t", "\n", "\r", "\f"}
    for cp in range(0x110000):
        ch = chr(cp)
        category = unicodedata.category(ch)
        expected = category in ("Cf", "Zl", "Zp") or (category == "Cc" and ch not in allowed)
        if expected:
            assert HIDDEN.fullmatch(ch), f"U+{cp:04X} {category} is not caught"
        elif HIDDEN.fullmatch(ch):
            assert category == "Cn", f"U+{cp:04X} ({category}) is caught"  # unassigned here, Cf in Unicode 15


def cli_lint_json(path: Path) -> list[dict[str, object]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(["lint", "--format", "json", str(path)])
    assert code in (0, 1)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


# ---- hypothesis: hidden characters and line ends anywhere --------------------------------------

INSERTS = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b",
           "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u00ad", "\u2060", "\u2064", "\U000e0041", "\u061c",
           "\u2028", "\u2029", "\x85", "\x0b", "\x1b", "\r", "\n", "\r\n", "\r\r", "\n\r"]
SCENARIO_TEXTS = [path.read_text(encoding="utf-8") for path in SCENARIOS]


@st.composite
def sprinkled(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SCENARIO_TEXTS))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(INSERTS)) * draw(st.integers(1, 3)) + text[at:]
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=sprinkled())
def test_hidden_characters_anywhere(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.getbasetemp() / "sprinkled"
    folder.mkdir(exist_ok=True)
    (folder / "scn.toml").touch()
    (folder / "models").mkdir(exist_ok=True)
    analysis = analyze_text(text, str(folder / "t.scn"), base_dir=folder)
    lines = lines_of(text)
    for d in analysis.diagnostics:
        assert d.code in CODES and d.code != "SCN901", d
        if d.span is not None:
            assert 0 <= d.span.start <= d.span.end <= len(d.span.source.text), d
            assert 1 <= d.line <= len(lines), d
            assert 1 <= d.column <= len(lines[d.line - 1]) + 1, d
        if d.code in ("SCN107", "SCN108"):
            assert d.span is not None and HIDDEN.fullmatch(d.span.text), d
    hidden = [m.span() for m in HIDDEN.finditer(text)]
    reported = [(d.span.start, d.span.end) for d in analysis.diagnostics if d.code in ("SCN107", "SCN108") and d.span]
    assert reported == hidden  # every run exactly once, in order
    for fmt in FORMATS:
        render(fmt, analysis.diagnostics)


# ---- large files (the shapes of bench/bench_large_files.py, small) ----------------------------

@pytest.mark.parametrize("kind", LARGE.KINDS)
def test_large_file_shapes_lint_clean(kind: str, tmp_path: Path) -> None:
    analysis = analyze(LARGE.generate(kind, 2_000), tmp_path, f"{kind}.scn")
    assert [d for d in analysis.diagnostics if d.level is Severity.ERROR] == []
    assert analysis.ok


@pytest.mark.parametrize("kind", LARGE.KINDS)
def test_an_analysis_is_freed_without_the_cyclic_collector(kind: str, tmp_path: Path) -> None:
    """`scn lint` keeps Python's cyclic collector off, so a file's tree must be freed by reference
    counting alone when its analysis goes: no cycle may hold it (the validator's scopes called
    back into the validator, which held every file: 3.3 million objects per 100,000-line file,
    kept until exit and, for `scn lint DIR`, piling up file after file)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        analysis = analyze(LARGE.generate(kind, 200), tmp_path, f"{kind}.scn")
        assert analysis.ok and analysis.scenario is not None
        tree = weakref.ref(analysis.files[0])
        statement = weakref.ref(analysis.files[0].statements[-1])
        del analysis
        assert tree() is None and statement() is None
    finally:
        if was_enabled:
            gc.enable()


def test_lint_in_process_gives_the_collector_back(tmp_path: Path) -> None:
    """`scn lint` pauses the cyclic collector while it analyses, and a caller in the same process
    (`cli.main`, as an editor or these tests call it) finds it on again afterwards: it was off for
    the rest of the process."""
    path = tmp_path / "pendulum.scn"
    path.write_text((ROOT / "scenarios" / "pendulum.scn").read_text(encoding="utf-8"), encoding="utf-8")
    assert gc.isenabled()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(["lint", str(path)]) == 0
    assert gc.isenabled()


def test_many_misspelt_names_stop_getting_hints(tmp_path: Path) -> None:
    """Each did-you-mean compares a name with every declared one: past a budget per file
    (support/suggest.py), the hints are left out and the errors stay."""
    head = (ROOT / "scenarios" / "pendulum.scn").read_text(encoding="utf-8")
    n = 1_500
    text = head + "".join(f"let value_{i} = {i}\n" for i in range(n)) + "".join(
        f"observation seen_{i} = valeu_{i}\n" for i in range(n))
    undefined = [d for d in analyze(text, tmp_path).diagnostics if d.code == "SCN201"]
    assert len(undefined) == n
    assert undefined[0].hint == "did you mean `value_0`?"
    # n * n comparisons are past the budget: no near name, only where a declaration goes
    assert undefined[-1].hint is not None and "did you mean" not in undefined[-1].hint
    assert "param valeu_1499 = ..." in undefined[-1].hint


def test_params_read_earlier_params_only(tmp_path: Path) -> None:
    """Child scopes share the params (no copy per expression); a later param is still unknown."""
    head = (ROOT / "scenarios" / "pendulum.scn").read_text(encoding="utf-8")
    text = head + "param a = b\nparam b = 1 kg\nparam c = b * 2\nobservation ac = [a, c]\n"
    found = [(d.code, d.message) for d in analyze(text, tmp_path).diagnostics]
    assert found == [("SCN201", "undefined name `b`")], found
