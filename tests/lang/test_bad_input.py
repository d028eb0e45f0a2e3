"""Hostile input never produces a traceback: `scn lint` exits 0 or 1 with diagnostics.

The corpus in `tests/bad_input/*.scn` (binary junk, invalid UTF-8, NUL bytes, a BOM, CRLF,
lone CRs, bidi controls, deep nesting, unterminated strings, include cycles and escapes, ...) goes through the CLI;
large files are generated in a temporary folder. Hypothesis then feeds random text and
random mutations of a valid scenario (`tests/bad_input/seed/sketch.scn`) to the front end
in-process. The mutation tests check only what must hold whatever the language looks like:
no exception, codes from the catalog, and positions inside the file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scenario_dsl import cli
from scenario_dsl.emitters import FORMATS, render
from scenario_dsl.lang.diagnostics import CODES, Diagnostic
from scenario_dsl.lang.loader import Analysis, analyze_file, analyze_text

CORPUS = Path(__file__).resolve().parents[1] / "bad_input"
SEED = CORPUS / "seed" / "sketch.scn"
CASES = sorted(CORPUS.glob("*.scn"))

# Files whose diagnostic comes from the stable, syntax- and file-level front end.
EXPECTED_CODES = {
    "binary_junk.scn": "SCN002", "invalid_utf8.scn": "SCN002", "nul_bytes.scn": "SCN002",
    "utf16.scn": "SCN002", "latin1.scn": "SCN002", "include_binary.scn": "SCN002",
    "include_cycle_a.scn": "SCN004", "include_cycle_b.scn": "SCN004", "include_self.scn": "SCN004",
    "include_escape.scn": "SCN005", "include_absolute.scn": "SCN005", "include_missing.scn": "SCN006",
    "nested_parens.scn": "SCN105", "nested_brackets.scn": "SCN105", "unclosed_parens.scn": "SCN105",
    "unterminated_string.scn": "SCN104", "unterminated_string_eof.scn": "SCN104",
    "truncated.scn": "SCN103",
    # Hidden characters in code (scenario_dsl/lang/text.py): a bidi override and a zero-width
    # space, line separators that end no line, a second BOM.
    "bidi_controls.scn": "SCN107", "line_separators.scn": "SCN107", "bom_twice.scn": "SCN107",
}


def lint(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `scn lint` in-process; assert the contract every bad input must keep."""
    code = cli.main(["lint", *argv])
    out, err = capsys.readouterr()
    assert code in (0, 1), (code, out[-2000:], err[-2000:])
    assert "Traceback" not in out and "Traceback" not in err
    return code, out, err


def lint_json(capsys: pytest.CaptureFixture[str], path: Path | str) -> tuple[int, list[dict[str, object]]]:
    code, out, _ = lint(capsys, "--format", "json", str(path))
    return code, json.loads(out)


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 30
    assert set(EXPECTED_CODES) <= {p.name for p in CASES}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_corpus_file_lints_without_traceback(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in FORMATS:
        code, out, _ = lint(capsys, "--format", fmt, str(path))
        if fmt in ("json", "sarif"):
            json.loads(out)
    code, diagnostics = lint_json(capsys, path)
    assert all(d["code"] in CODES for d in diagnostics)
    assert code == (1 if any(d["severity"] == "error" for d in diagnostics) else 0)
    if path.name in EXPECTED_CODES:
        assert EXPECTED_CODES[path.name] in {d["code"] for d in diagnostics}


def test_the_whole_corpus_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = lint(capsys, str(CORPUS))
    assert code == 1 and err.startswith("Found ")


def test_bom_crlf_and_cr_read_like_the_plain_file(capsys: pytest.CaptureFixture[str]) -> None:
    # A lone CR ends a line, as CRLF and LF do (it used to be a stray character, SCN101).
    plain = analyze_file(SEED)
    for name in ("bom.scn", "crlf.scn", "lone_cr.scn"):
        other = analyze_file(CORPUS / name)
        assert [d.code for d in other.diagnostics] == [d.code for d in plain.diagnostics], name


def test_ten_megabyte_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.scn"
    line = "body b { mass = 1 kg }  # padding padding padding padding padding\n"
    big.write_text("scenario big\n" + line * (10 * 2**20 // len(line)), encoding="utf-8")
    assert big.stat().st_size >= 10 * 2**20
    code, diagnostics = lint_json(capsys, big)
    assert code == 1 and diagnostics[0]["code"] == "SCN003"


def test_very_long_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long = tmp_path / "long.scn"
    long.write_text("scenario long\nparam p = " + "1 + " * 200_000 + "@\n", encoding="utf-8")
    code, out, _ = lint(capsys, str(long))
    assert code == 1 and "SCN101" in out
    assert max(len(line) for line in out.splitlines()) < 300  # the excerpt is a window, not 800 kB


def test_missing_path_and_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, diagnostics = lint_json(capsys, tmp_path / "nope.scn")
    assert code == 1 and diagnostics[0]["code"] == "SCN001"
    code, diagnostics = lint_json(capsys, tmp_path)  # a folder without .scn files
    assert code == 0 and diagnostics[0]["code"] == "SCN007"
    assert analyze_file(tmp_path).diagnostics[0].code == "SCN001"  # a folder is not a file


def test_include_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.scn").write_text('scenario a\ninclude "b.scn"\n', encoding="utf-8")
    (tmp_path / "b.scn").write_text('include "a.scn"\n', encoding="utf-8")
    code, diagnostics = lint_json(capsys, tmp_path / "a.scn")
    assert code == 1 and [d["code"] for d in diagnostics] == ["SCN004"]


def test_include_leaving_the_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "scn.toml").write_text("")
    (project / "a.scn").write_text('scenario a\ninclude "../../etc/passwd"\n', encoding="utf-8")
    code, diagnostics = lint_json(capsys, project / "a.scn")
    assert code == 1 and [d["code"] for d in diagnostics] == ["SCN005"]


def test_real_subprocess_on_binary_junk() -> None:
    proc = subprocess.run([sys.executable, "-m", "scenario_dsl", "lint", str(CORPUS / "binary_junk.scn"),
                           str(CORPUS / "nested_parens.scn")], capture_output=True, timeout=120)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stdout + proc.stderr
    assert b"SCN002" in proc.stdout and b"SCN105" in proc.stdout


# ---- hypothesis, in-process ----------------------------------------------------------------


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """An empty folder for includes to resolve against and for byte-level mutants."""
    folder = Path(tempfile.mkdtemp(prefix="scn-bad-input-"))
    (folder / "scn.toml").write_text("")  # the project folder: includes cannot leave it
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def check_invariants(analysis: Analysis) -> None:
    """What must hold for any input: catalog codes, messages, positions inside the file, and
    every output format renders."""
    for d in analysis.diagnostics:
        assert isinstance(d, Diagnostic)
        assert d.code in CODES, d
        assert d.message, d
        if d.span is not None:
            text = d.span.source.text
            assert 0 <= d.span.start <= d.span.end <= len(text), d
            lines = re.split(r"\r\n?|\n", text)  # LF, CRLF and a lone CR end a line
            assert 1 <= d.line <= len(lines), d
            assert 1 <= d.column <= len(lines[d.line - 1]) + 1, d
            end_line, end_column = d.span.end_line_col
            assert (end_line, end_column) >= (d.line, d.column), d
    for fmt in FORMATS:
        render(fmt, analysis.diagnostics)


SEED_TEXT = SEED.read_text(encoding="utf-8")
# Pieces of the language, so that mutants reach the validator, not only the lexer.
FRAGMENTS = ["{", "}", "(", ")", "[", "]", '"', "\n", ";", ",", ".", "=", "~", "+~", "*~", "->", "|", "^", "-",
             "/ 0", " mod ", " and ", " not ", "#", "\t", "\r", "\ufeff", "\x00", "1e999", "-1", "0", "nan",
             " kg", " ms", " deg", " m/s^2", " N*m", "let x = ", "param p = 1\n", 'include "x.scn"\n',
             "uniform(", "normal(0, -1)", "plant.state", "box_joint.", "finger_pd.", "world", "scenario t\n",
             " in [[0], [1]]", " as a", " when ", "require ", "randomize per episode { ", "reward { ", "}\n"]


@st.composite
def mutants(draw: st.DrawFn) -> str:
    text = SEED_TEXT
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "move"]))
        piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "replace":
            text = text[:i] + piece + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            k = draw(st.integers(0, len(text) - (j - i)))
            rest = text[:i] + text[j:]
            text = rest[:k] + text[i:j] + rest[k:]
    return text


@st.composite
def byte_mutants(draw: st.DrawFn) -> bytes:
    data = bytearray(SEED_TEXT.encode("utf-8"))
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if op == "flip" and i < len(data):
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 8))]
        else:
            del data[i:]
    return bytes(data)


# SCN_FUZZ_EXAMPLES=5000 for a longer hunt than CI's.
FUZZ = settings(max_examples=int(os.environ.get("SCN_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def test_the_seed_is_a_valid_scenario() -> None:
    # Mutants of a valid scenario reach the validator; if the language changed, update the seed.
    analysis = analyze_file(SEED)
    assert analysis.ok, [f"{d.line}:{d.column} {d.code} {d.message}" for d in analysis.diagnostics]


@FUZZ
@given(text=st.text())
def test_random_text(workdir: Path, text: str) -> None:
    check_invariants(analyze_text(text, str(workdir / "random.scn"), base_dir=workdir))


@FUZZ
@given(text=mutants())
def test_mutated_scenario(workdir: Path, text: str) -> None:
    check_invariants(analyze_text(text, str(workdir / "mutant.scn"), base_dir=workdir))


@FUZZ
@given(data=byte_mutants())
def test_mutated_bytes(workdir: Path, data: bytes) -> None:
    path = workdir / "bytes.scn"
    path.write_bytes(data)
    check_invariants(analyze_file(path))
