"""`scn fmt`'s line width and kept parentheses (issue 19, item 4).

- A line wider than the width wraps at its brackets (vectors, call, joint and controller
  arguments, poses): one element per line, one level deeper, the closing bracket back at the
  starting indent with what follows it (`] m`); outermost brackets first, inner ones only when
  still too wide. A list that fits joins into one line.
- The width: `format_file(..., line_length)`, `scn fmt --line-length N`, and `line-length` in
  the project's `scn.toml` or `[tool.scn]` of `pyproject.toml` (SCN011 when invalid).
- Parentheses written around a quantity with a unit are kept: `torque / (200 N*m)`.
The fixtures (tests/fixtures/format/wrapped.scn, messy/wrap.scn, messy/unit_parens.scn) run
through test_formatter.py's fixture tests too.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scn_fixtures import run_cli as run
from test_formatter import ALL_INPUTS, check_round_trip, fmt, parse

from scenario_dsl.lang import ast
from scenario_dsl.lang.config import configured_line_length
from scenario_dsl.lang.formatter import LINE_LENGTH, format_file

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "scenarios").glob("*.scn"))

# The report: a vector of 170 characters on one line.
REPORTED = ("observation state = [cos(acrobot.shoulder.q), sin(acrobot.shoulder.q), cos(acrobot.elbow.q), "
            "sin(acrobot.elbow.q), acrobot.shoulder.v, acrobot.elbow.v, acrobot.elbow.acc]\n")
REPORTED_WRAPPED = """\
observation state = [
    cos(acrobot.shoulder.q),
    sin(acrobot.shoulder.q),
    cos(acrobot.elbow.q),
    sin(acrobot.elbow.q),
    acrobot.shoulder.v,
    acrobot.elbow.v,
    acrobot.elbow.acc
]
"""


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


# ---- wrapping -------------------------------------------------------------------------------

def test_the_reported_vector_wraps_one_element_per_line() -> None:
    assert len(REPORTED) - 1 == 170
    assert fmt(REPORTED) == REPORTED_WRAPPED
    check_round_trip(REPORTED)


def test_a_hand_wrapped_vector_that_fits_joins_into_one_line() -> None:
    text = "observation o = [\n    cos(a.q),\n    sin(a.q),\n    a.v\n]\n"
    assert fmt(text) == "observation o = [cos(a.q), sin(a.q), a.v]\n"


def test_a_line_of_exactly_the_width_stays_and_one_more_column_wraps() -> None:
    line = "let v = [" + ", ".join(["1"] * 30) + "]"
    line = line.replace("[1,", "[" + "1" * (100 - len(line) + 1) + ",")
    assert len(line) == 100
    assert fmt(line) == line + "\n"
    assert fmt(line.replace("[1", "[11")).count("\n") == 32  # the head, 30 elements, the bracket


def test_the_unit_follows_the_closing_bracket() -> None:
    text = "let offsets = [" + ", ".join(f"{n}.125" for n in range(16)) + "] m"
    out = fmt(text)
    assert out.startswith("let offsets = [\n    0.125,\n    1.125,\n")
    assert out.endswith("    15.125\n] m\n")
    check_round_trip(text)


def test_nested_brackets_split_outermost_first_and_only_as_far_as_needed() -> None:
    inner = "[" + ", ".join(["0.0123456789"] * 8) + "]"
    text = f"let grid = [{inner}, [0, 0, 0], [1, 1, 1]]"
    assert fmt(text, 120) == f"let grid = [\n    {inner},\n    [0, 0, 0],\n    [1, 1, 1]\n]\n"
    narrow = fmt(text, 60)
    assert narrow.startswith("let grid = [\n    [\n        0.0123456789,\n")
    assert "    ],\n    [0, 0, 0],\n    [1, 1, 1]\n]\n" in narrow
    for width in (60, 120):
        check_round_trip(text, width)


def test_call_arguments_and_poses_wrap() -> None:
    call = "let spread = clip(normal(mean = [0, 0, 0] m, std = [0.01, 0.01, 0.01] m, seed = 12345678), -0.05 m, 0.05 m)"
    assert fmt(call) == ("let spread = clip(\n"
                         "    normal(mean = [0, 0, 0] m, std = [0.01, 0.01, 0.01] m, seed = 12345678),\n"
                         "    -0.05 m,\n"
                         "    0.05 m\n"
                         ")\n")
    pose = "frame camera on world at (translation = [0.4567, -0.1234, 0.9876] m, rotation = rpy(-120, 0.5, 90.25) deg)"
    assert fmt(pose) == ("frame camera on world at (\n"
                         "    translation = [0.4567, -0.1234, 0.9876] m,\n"
                         "    rotation = rpy(-120, 0.5, 90.25) deg\n"
                         ")\n")


def test_a_joint_head_wraps_before_its_block() -> None:
    text = ("joint shoulder: revolute(upper_arm_link_of_the_robot -> forearm_link_of_the_robot, axis = [0, 1, 0], "
            "damping = 0.5) { actuated }")
    assert fmt(text) == ("joint shoulder: revolute(\n"
                         "    upper_arm_link_of_the_robot -> forearm_link_of_the_robot,\n"
                         "    axis = [0, 1, 0],\n"
                         "    damping = 0.5\n"
                         ") {\n"
                         "    actuated\n"
                         "}\n")


def test_the_last_bracket_whose_lines_fit_splits() -> None:
    text = "let tip = -cos(acrobot.shoulder.q) - cos(acrobot.shoulder.q + acrobot.elbow.q + acrobot.shoulder.q)"
    assert fmt(text, 80) == ("let tip = -cos(acrobot.shoulder.q) - cos(\n"
                             "    acrobot.shoulder.q + acrobot.elbow.q + acrobot.shoulder.q\n"
                             ")\n")


def test_a_long_line_without_brackets_stays_long() -> None:
    text = "let s = " + " + ".join(f"acrobot.link_{n}.q" for n in range(8)) + "\n"
    assert len(text) > 101
    assert fmt(text) == text


def test_comments_inside_a_wrapped_vector_stay_at_their_elements() -> None:
    text = ("let gains = [  # one per joint\n"
            "    12.5,  # shoulder\n"
            "    # the elbow is lighter\n"
            "    7.25, 3.125,  # wrist\n"
            "    1.0e-3 * acrobot.shoulder.q * acrobot.elbow.q * acrobot.shoulder.v * acrobot.elbow.v\n"
            "    # before the bracket\n"
            "] N*m/rad  # after\n"
            "let next = 1\n")
    assert fmt(text) == ("let gains = [  # one per joint\n"
                         "    12.5,  # shoulder\n"
                         "    # the elbow is lighter\n"
                         "    7.25,\n"
                         "    3.125,  # wrist\n"
                         "    1.0e-3 * acrobot.shoulder.q * acrobot.elbow.q * acrobot.shoulder.v * acrobot.elbow.v\n"
                         "    # before the bracket\n"
                         "] N*m/rad  # after\n"
                         "\n"
                         "let next = 1\n")
    check_round_trip(text)


def test_comments_in_a_vector_that_joins_move_as_before() -> None:
    # A list that fits prints on one line, and its comments follow the rule for one-line items.
    assert fmt("let v = [\n    1,  # one\n    2  # two\n]\n") == "# one\nlet v = [1, 2]  # two\n"


def test_a_wrapped_statement_is_not_grouped_with_one_line_neighbours() -> None:
    text = "action a = j.effort in [-1, 1] N*m\n" + REPORTED
    assert fmt(text) == "action a = j.effort in [-1, 1] N*m\n\n" + REPORTED_WRAPPED


def test_the_default_width_is_100() -> None:
    file = parse(REPORTED)
    assert LINE_LENGTH == 100
    assert format_file(file) == format_file(file, 100) != format_file(file, 200) == REPORTED


# ---- parentheses around quantities ------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("let x = torque / (200 N*m)", "let x = torque / (200 N*m)"),
    ("let x = (2 m) * x", "let x = (2 m) * x"),
    ("let x = (([0, 1] m))", "let x = ([0, 1] m)"),
    ("let x = (uniform(0, 1) deg) + 1 deg", "let x = (uniform(0, 1) deg) + 1 deg"),
    ("let x = ((a + b) m) / 2", "let x = ((a + b) m) / 2"),
    ("let x = (2 m)^2", "let x = (2 m)^2"),
    ("let x = (a) * (2) + (b * c)", "let x = a * 2 + b * c"),
    ("let x = ((2 m) * x)", "let x = (2 m) * x"),
])
def test_parentheses_around_a_quantity_with_a_unit_are_kept(text: str, expected: str) -> None:
    assert fmt(text) == expected + "\n"
    check_round_trip(text)


def test_parentheses_are_recorded_but_not_compared() -> None:
    written = parse("let x = torque / (200 N*m)").statements[0]
    bare = parse("let x = torque / 200 N*m").statements[0]
    assert isinstance(written, ast.Let) and isinstance(bare, ast.Let)
    assert isinstance(written.value, ast.Binary) and isinstance(bare.value, ast.Binary)
    assert written.value.right.parenthesized and not bare.value.right.parenthesized  # type: ignore[union-attr]
    assert dataclasses.replace(written.value.right, span=bare.value.right.span) == bare.value.right
    assert written.value.right.span.start == written.span.source.text.index("(")  # it covers the parentheses


# ---- random widths ----------------------------------------------------------------------------

@settings(max_examples=80, deadline=None)
@given(st.sampled_from(BUNDLED + ALL_INPUTS), st.integers(40, 160))
def test_bundled_scenarios_and_fixtures_at_any_width_round_trip(path: Path, width: int) -> None:
    formatted = check_round_trip(path.read_text(encoding="utf-8"), width)
    for line in formatted.splitlines():  # a line still too wide has no list left to split
        code = _code(line)
        assert len(code) <= width or not _has_a_list(code), line


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_comments_anywhere_in_wrapped_output_survive_exactly_once(data: st.DataObject) -> None:
    width = data.draw(st.integers(40, 80), label="width")
    path = data.draw(st.sampled_from(BUNDLED + ALL_INPUTS), label="file")
    lines = fmt(path.read_text(encoding="utf-8"), width).split("\n")  # wrapped: comments land inside lists
    places = data.draw(st.lists(st.tuples(st.integers(0, len(lines) - 1), st.booleans()), max_size=8), label="places")
    for n, (index, own_line) in enumerate(sorted(places, reverse=True)):
        if own_line:
            lines.insert(index, f"  # note {n}")
        else:
            lines[index] += f" # note {n}"
    text = "\n".join(lines)
    formatted = check_round_trip(text, width)
    assert len(parse(formatted).comments) == len(parse(text).comments)


def _code(line: str) -> str:
    """A printed line without its comment (strings skipped)."""
    quoted = False
    for n, ch in enumerate(line):
        if ch == '"' and (n == 0 or line[n - 1] != "\\"):
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:n].rstrip()
    return line


def _has_a_list(code: str) -> bool:
    """Whether brackets that open and close on this line hold a comma of their own (strings skipped)."""
    commas: list[bool] = []  # per open bracket: has it a comma directly inside?
    quoted = False
    for n, ch in enumerate(code):
        if ch == '"' and (n == 0 or code[n - 1] != "\\"):
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "[(":
            commas.append(False)
        elif ch in "])":
            if commas and commas.pop():
                return True
        elif ch == "," and commas:
            commas[-1] = True
    return False


# ---- the width from the command line and the configuration -------------------------------------

WIDE = "let v = [" + ", ".join(f"{n}.5" for n in range(15)) + "]\n"  # 88 columns


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "wide.scn").write_text(WIDE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_line_length_flag_gives_narrower_output(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert len(WIDE) - 1 == 88
    assert run(capsys, "fmt", "--check", "sub")[0] == 0
    code, out, _ = run(capsys, "fmt", "--check", "--line-length", "60", "sub")
    assert (code, out) == (1, "Would reformat: sub/wide.scn\n")
    assert run(capsys, "fmt", "--line-length", "60", "sub/wide.scn")[0] == 0
    formatted = (project / "sub" / "wide.scn").read_text(encoding="utf-8")
    assert formatted.startswith("let v = [\n    0.5,\n") and widest(formatted) <= 60


@pytest.mark.parametrize("setting", ['[tool.scn]\nline-length = 60\n', None])
def test_line_length_in_the_project_configuration(project: Path, capsys: pytest.CaptureFixture[str],
                                                   setting: str | None) -> None:
    if setting is not None:
        with open(project / "pyproject.toml", "a", encoding="utf-8") as f:
            f.write(setting)
    else:
        (project / "scn.toml").write_text("line-length = 60\n", encoding="utf-8")
    assert configured_line_length(project) == (60, [])
    assert run(capsys, "fmt", "--check", "sub")[0] == 1
    # The command line wins over the file.
    assert run(capsys, "fmt", "--check", "--line-length", "100", "sub")[0] == 0
    assert run(capsys, "fmt", "sub")[0] == 0
    assert widest((project / "sub" / "wide.scn").read_text(encoding="utf-8")) <= 60


def test_scn_toml_wins_over_pyproject(project: Path) -> None:
    with open(project / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write("[tool.scn]\nline-length = 50\n")
    assert configured_line_length(project) == (50, [])
    (project / "scn.toml").write_text("line-length = 70\n", encoding="utf-8")
    assert configured_line_length(project) == (70, [])


def test_no_configuration_means_no_width(tmp_path: Path) -> None:
    assert configured_line_length(tmp_path) == (None, [])
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 120\n", encoding="utf-8")
    assert configured_line_length(tmp_path) == (None, [])


@pytest.mark.parametrize(("text", "line", "message"), [
    ("[tool.scn]\nallow_paths = []\nline-length = 30  # narrow\n", 3, "at least 40, not 30"),
    ('[tool.scn]\nline-length = "wide"\n', 2, 'not "wide"'),
    ("[tool.scn]\nline-length = 1.5e2\n", 2, "not 150.0"),
    ("[tool.scn]\nline-length = true\n", 2, "not true"),
    ("[tool.scn]\nline-length =\n", 2, "not valid TOML"),
])
def test_an_invalid_configured_width_is_scn011_at_its_place(project: Path, capsys: pytest.CaptureFixture[str],
                                                             text: str, line: int, message: str) -> None:
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    width, problems = configured_line_length(project)
    assert width is None and [d.code for d in problems] == ["SCN011"]
    assert message in problems[0].message and problems[0].line == line
    code, out, err = run(capsys, "fmt", "sub")
    assert code == 2 and out == ""
    assert f"pyproject.toml:{line}:" in err and "error[SCN011]" in err and "1 with errors" in err
    assert (project / "sub" / "wide.scn").read_text(encoding="utf-8") == WIDE  # left alone
    # --line-length wins: the file is not consulted.
    assert run(capsys, "fmt", "--check", "--line-length", "60", "sub")[0] == 1


@pytest.mark.parametrize("value", ["39", "0", "wide"])
def test_line_length_below_40_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, _, err = run(capsys, "fmt", "--line-length", value, "sub")
    assert code == 2 and "--line-length" in err
