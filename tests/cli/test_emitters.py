"""Each output format over the same few diagnostics (scenario_dsl.emitters)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenario_dsl.emitters import FORMATS, github, human, render, sarif
from scenario_dsl.lang.diagnostics import CODES, Diagnostic, Severity
from scenario_dsl.lang.source import SourceFile, Span

TEXT = "scenario s\nplant { time_step = 1 kgg }\n\tbody  b { mass = 2 }\n"
SOURCE = SourceFile("a.scn", TEXT)


def span_of(needle: str, source: SourceFile = SOURCE) -> Span:
    start = source.text.index(needle)
    return Span(source, start, start + len(needle))


UNIT = Diagnostic("SCN301", "unknown unit `kgg`", span_of("kgg"), "did you mean `kg`?")
UNUSED = Diagnostic("SCN209", "`b` is never used", Span(SOURCE, TEXT.index("b {"), TEXT.index("b {") + 1))
MISSING = Diagnostic("SCN001", "no such file", None, "check the path", path="missing.scn")
SAMPLE = [UNIT, UNUSED, MISSING]


# ---- human ---------------------------------------------------------------------------------


def test_human_layout() -> None:
    assert human.render([UNIT]) == (
        "a.scn:2:23: error[SCN301]: unknown unit `kgg`\n"
        "  |\n"
        "2 | plant { time_step = 1 kgg }\n"
        "  |                       ^^^\n"
        "  = hint: did you mean `kg`?\n"
    )


def test_human_whole_file_diagnostic_has_no_source_excerpt() -> None:
    assert human.render([MISSING]) == "missing.scn: error[SCN001]: no such file\n  = hint: check the path\n"


def test_human_warning_tab_expansion_and_separation() -> None:
    out = human.render([UNIT, UNUSED])
    assert "\n\na.scn:3:8: warning[SCN209]: `b` is never used\n" in out
    # The tab is expanded to 4 columns and the caret follows it.
    assert "3 |     body  b { mass = 2 }\n  |           ^\n" in out
    assert "hint" not in out.split("warning")[1]


def test_human_span_is_clipped_to_its_first_line() -> None:
    d = Diagnostic("SCN102", "x", Span(SOURCE, TEXT.index("plant"), len(TEXT)))
    lines = human.render([d]).splitlines()
    assert lines[3] == "  | " + "^" * len("plant { time_step = 1 kgg }")


@pytest.mark.parametrize("start,end", [(len(TEXT), len(TEXT)), (5, 5), (10, 11)])
def test_human_always_at_least_one_caret(start: int, end: int) -> None:
    d = Diagnostic("SCN103", "the file ends early", Span(SOURCE, start, end))
    caret_line = human.render([d]).splitlines()[3]
    assert caret_line.count("^") == 1


def test_human_end_of_file_caret_sits_after_the_last_character() -> None:
    source = SourceFile("e.scn", "plant {")
    d = Diagnostic("SCN103", "the file ends in the middle of a statement", Span(source, 7, 7))
    assert human.render([d]).splitlines()[2:4] == ["1 | plant {", "  |        ^"]


def test_human_control_characters_cannot_reach_the_terminal() -> None:
    source = SourceFile("c.scn", "let x = \x1b[31m\u202e 1\n")
    d = Diagnostic("SCN101", "bad \x1b[0m char\nsecond line", Span(source, 8, 9))
    out = human.render([d])
    assert "\x1b" not in out and "\u202e" not in out
    assert out.splitlines()[0] == "c.scn:1:9: error[SCN101]: bad \ufffd[0m char\ufffdsecond line"


def test_human_wide_characters_take_two_columns() -> None:
    source = SourceFile("w.scn", 'scenario 箱 "x" y\n')
    d = Diagnostic("SCN102", "unexpected 'y'", Span(source, 15, 16))
    lines = human.render([d]).splitlines()
    assert lines[2] == '1 | scenario 箱 "x" y'
    assert lines[3].index("^") == lines[2].index("y") + 1  # the wide character takes two cells


def test_human_long_line_is_cut_to_a_window_around_the_span() -> None:
    text = "param p = " + "1 + " * 50_000 + "oops"
    source = SourceFile("long.scn", text)
    at = text.index("oops")
    lines = human.render([Diagnostic("SCN102", "unexpected", Span(source, at, at + 4))]).splitlines()
    assert len(lines[2]) < 200 and lines[2].startswith("1 | …")
    assert lines[2][lines[3].index("^") : lines[3].index("^") + 4] == "oops"


def test_human_rich_rendering_has_the_same_text() -> None:
    assert human.render_rich(SAMPLE).plain == human.render(SAMPLE)


def test_no_diagnostics_render_as_empty_text_or_empty_lists() -> None:
    assert human.render([]) == ""
    assert github.render([]) == ""
    assert json.loads(render("json", [])) == []
    assert json.loads(render("sarif", []))["runs"][0]["results"] == []


def test_absolute_paths_under_root_are_shown_relative(tmp_path: Path) -> None:
    source = SourceFile(str(tmp_path / "sub" / "inc.scn"), "include x\n")
    d = Diagnostic("SCN102", "m", Span(source, 8, 9))
    for fmt in FORMATS:
        out = render(fmt, [d], root=tmp_path)
        assert "sub/inc.scn" in out and str(tmp_path) not in out, fmt


# ---- json ----------------------------------------------------------------------------------


def test_json_fields() -> None:
    data = json.loads(render("json", SAMPLE))
    assert data[0] == {"code": "SCN301", "severity": "error", "message": "unknown unit `kgg`",
                       "hint": "did you mean `kg`?", "file": "a.scn",
                       "line": 2, "column": 23, "end_line": 2, "end_column": 26}
    assert data[1]["severity"] == "warning" and data[1]["hint"] is None
    assert data[2] == {"code": "SCN001", "severity": "error", "message": "no such file", "hint": "check the path",
                       "file": "missing.scn", "line": None, "column": None, "end_line": None, "end_column": None}


def test_json_severity_override_wins_over_the_catalog() -> None:
    d = Diagnostic("SCN301", "m", UNIT.span, severity=Severity.WARNING)
    assert json.loads(render("json", [d]))[0]["severity"] == "warning"


# ---- github --------------------------------------------------------------------------------


def test_github_commands() -> None:
    lines = github.render(SAMPLE).splitlines()
    assert lines[0] == ("::error file=a.scn,line=2,col=23,endLine=2,endColumn=26,title=SCN301::"
                        "unknown unit `kgg`%0A= hint: did you mean `kg`?")
    assert lines[1].startswith("::warning file=a.scn,line=3,col=8,") and lines[1].endswith("::`b` is never used")
    assert lines[2] == "::error file=missing.scn,title=SCN001::no such file%0A= hint: check the path"


def test_github_escaping() -> None:
    source = SourceFile("dir,with:odd%name.scn", "x\n")
    d = Diagnostic("SCN102", "100% wrong\r\nreally: yes, no", Span(source, 0, 1))
    line = github.line(d)
    assert line.startswith("::error file=dir%2Cwith%3Aodd%25name.scn,line=1,")
    assert line.endswith("::100%25 wrong%0D%0Areally: yes, no")
    assert "\n" not in line and "\r" not in line
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


# ---- sarif ---------------------------------------------------------------------------------


def test_sarif_log() -> None:
    log = json.loads(render("sarif", SAMPLE))
    assert log["version"] == "2.1.0" and "sarif" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "scn" and driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == list(CODES)
    assert all(r["shortDescription"]["text"] for r in driver["rules"])
    first, second, third = run["results"]
    assert first["ruleId"] == "SCN301" and first["level"] == "error"
    assert driver["rules"][first["ruleIndex"]]["id"] == "SCN301"
    assert first["message"]["text"] == "unknown unit `kgg`\nhint: did you mean `kg`?"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "a.scn"},
        "region": {"startLine": 2, "startColumn": 23, "endLine": 2, "endColumn": 26},
    }
    assert second["level"] == "warning"
    assert "region" not in third["locations"][0]["physicalLocation"]


def test_sarif_uris() -> None:
    assert sarif.artifact_uri("dir/my file.scn") == "dir/my%20file.scn"
    assert sarif.artifact_uri("/abs/a.scn") == "file:///abs/a.scn"
