"""The `scn` command line: exit codes, paths and folders, formats, and real subprocesses."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from scn_fixtures import run_cli as run

from scenario_dsl import cli
from scenario_dsl.cli import lint as cli_lint

TESTS = Path(__file__).resolve().parents[1]
VALID = TESTS / "bad_input" / "seed" / "sketch.scn"
SCN = Path(sys.executable).with_name("scn")

needs_formatter = pytest.mark.skipif(importlib.util.find_spec("scenario_dsl.lang.formatter") is None,
                                     reason="scenario_dsl.lang.formatter not written yet")



@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the current folder) with a valid, a broken and a warning-only file."""
    (tmp_path / "pyproject.toml").write_text("")
    good = VALID.read_text(encoding="utf-8")
    (tmp_path / "good.scn").write_text(good, encoding="utf-8")
    (tmp_path / "broken.scn").write_text(good.replace("mass = 1 kg;", "mass = 1 kgg;", 1), encoding="utf-8")
    (tmp_path / "warn.scn").write_text(good + "let spare = 2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---- exit codes ----------------------------------------------------------------------------


def test_clean_file_exits_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint", "good.scn")
    assert (code, out) == (0, "")
    assert err == "All checks passed (1 file).\n"


def test_error_exits_1_with_source_excerpt_and_summary(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint", "broken.scn")
    assert code == 1
    assert out.startswith("broken.scn:9:")
    assert "error[SCN301]" in out and "^" in out
    assert err.startswith("Found ") and err.endswith(".\n")


def test_warning_exits_0_unless_strict(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint", "warn.scn")
    assert code == 0 and "warning[SCN209]" in out and err == "Found 1 warning.\n"
    assert run(capsys, "lint", "--strict", "warn.scn")[0] == 1


def test_missing_path_is_scn001_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "nowhere.scn", "good.scn")
    assert code == 1
    assert out.startswith("nowhere.scn: error[SCN001]: no such file")


@pytest.mark.parametrize("argv", [[], ["lint"], ["lint", "--format", "xml", "x.scn"], ["frobnicate"],
                                  ["lint", "--param", "novalue", "good.scn"], ["lint", "--param", "=3", "good.scn"],
                                  ["--no-such-flag"]])
def test_usage_errors_exit_2(project: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage:" in err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    from scenario_dsl import __version__

    assert run(capsys, "--version")[:2] == (0, f"scn {__version__}\n")
    code, out, _ = run(capsys, "lint", "--help")
    assert code == 0 and "--strict" in out and "--format" in out


def test_unexpected_exception_is_scn901_and_exit_2(project: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import scenario_dsl.lang.loader

    def explode(path: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(scenario_dsl.lang.loader, "analyze_file", explode)
    code, out, _ = run(capsys, "lint", "good.scn", "--format", "json")
    assert code == 2
    (d,) = json.loads(out)
    assert d["code"] == "SCN901" and "RuntimeError: boom" in d["message"] and d["file"] == "good.scn"


def test_exception_outside_a_file_is_scn901_too(project: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError("renderer broke")

    monkeypatch.setattr(cli_lint, "emit", explode)  # what `scn lint` renders with
    code, _, err = run(capsys, "lint", "good.scn")
    assert code == 2
    assert "error[SCN901]: internal error: ValueError: renderer broke" in err


# ---- paths and folders ---------------------------------------------------------------------


def test_folders_are_searched_recursively_in_sorted_order(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "sub" / "deeper").mkdir(parents=True)
    (project / "sub" / "deeper" / "z.scn").write_text("scenario z\nplant {", encoding="utf-8")
    (project / "sub" / "a.scn").write_text("scenario a\nplant {", encoding="utf-8")
    (project / ".hidden").mkdir()
    (project / ".hidden" / "skip.scn").write_text("junk junk", encoding="utf-8")
    (project / "sub" / "notes.txt").write_text("not a scenario", encoding="utf-8")
    code, out, _ = run(capsys, "lint", ".", "--format", "json")
    assert code == 1
    files = [d["file"] for d in json.loads(out)]
    assert files == sorted(files)
    assert "sub/a.scn" in files and "sub/deeper/z.scn" in files
    assert not any("hidden" in f or "notes" in f for f in files)


def test_folder_without_scn_files_warns_scn007(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "empty").mkdir()
    code, out, err = run(capsys, "lint", "empty")
    assert code == 0
    assert out.startswith("empty: warning[SCN007]")
    assert err == "Found 1 warning.\n"
    assert run(capsys, "lint", "--strict", "empty")[0] == 1


def test_same_file_twice_is_linted_once(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "broken.scn", "./broken.scn", ".", "--format", "json")
    assert code == 1
    messages = [tuple(d.values()) for d in json.loads(out)]
    assert len(messages) == len(set(messages))


def test_param_override(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "p.scn").write_text(VALID.read_text().replace("mass = 1 kg;", "mass = m;", 1) + "param m = 1 kg\n")
    assert run(capsys, "lint", "p.scn")[0] == 0
    assert run(capsys, "lint", "p.scn", "--param", "m=2 kg")[0] == 0
    code, out, _ = run(capsys, "lint", "p.scn", "--param", "nope=3")
    assert code == 1 and "SCN210" in out


# ---- formats -------------------------------------------------------------------------------


def test_json_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "lint", "--format", "json", "broken.scn", "good.scn")
    assert code == 1 and err == ""  # the summary is for people, in human mode only
    data = json.loads(out)
    assert {d["file"] for d in data} == {"broken.scn"}
    assert set(data[0]) == {"code", "severity", "message", "hint", "file", "line", "column", "end_line",
                            "end_column"}


def test_github_format(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--format", "github", "broken.scn")
    assert code == 1
    assert out.startswith("::error file=broken.scn,line=9,col=")


def test_sarif_format_has_results_even_when_clean(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--format", "sarif", "good.scn")
    assert code == 0
    assert json.loads(out)["runs"][0]["results"] == []
    code, out, _ = run(capsys, "lint", "--format", "sarif", "broken.scn")
    assert code == 1 and json.loads(out)["runs"][0]["results"][0]["level"] == "error"


def test_output_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--format", "sarif", "--output", "report.sarif", "broken.scn")
    assert code == 1 and out == ""
    assert json.loads((project / "report.sarif").read_text())["runs"][0]["results"]
    code, _, err = run(capsys, "lint", "--output", "no/such/dir/report.txt", "good.scn")
    assert code == 2 and "cannot write" in err


def test_human_output_is_plain_when_not_a_terminal(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "lint", "broken.scn")
    assert "\x1b[" not in out


def test_human_output_is_coloured_on_a_terminal(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert cli.main(["lint", "broken.scn"]) == 1
    assert "\x1b[" in tty.getvalue() and "SCN301" in tty.getvalue()


# ---- real subprocesses ---------------------------------------------------------------------


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    return env


@pytest.mark.skipif(not SCN.exists(), reason="the scn script is not installed beside this interpreter")
def test_installed_scn_script(project: Path) -> None:
    proc = subprocess.run([str(SCN), "lint", "broken.scn", "good.scn"], capture_output=True, text=True,
                          env=subprocess_env(), timeout=120)
    assert proc.returncode == 1
    assert "error[SCN301]" in proc.stdout and "Found" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_python_dash_m_and_no_heavy_imports(project: Path) -> None:
    # `scn lint` must start fast: it may not import Drake, NumPy, torch or Gymnasium.
    code = ("import sys; from scenario_dsl.cli import main; rc = main(['lint', 'good.scn']); "
            "heavy = sorted(m for m in ('pydrake', 'numpy', 'torch', 'gymnasium', 'matplotlib') if m in sys.modules); "
            "print(rc, heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(),
                          timeout=120)
    assert proc.stdout.strip() == "0 []", proc.stderr
    proc = subprocess.run([sys.executable, "-m", "scenario_dsl", "lint", "--format", "json", "good.scn"],
                          capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert (proc.returncode, json.loads(proc.stdout)) == (0, [])


# ---- fmt -----------------------------------------------------------------------------------


@needs_formatter
def test_fmt_rewrites_only_files_that_change(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = project / "messy.scn"
    messy.write_text(VALID.read_text().replace("plant { ", "plant   {  ", 1), encoding="utf-8")
    code, _, err = run(capsys, "fmt", "messy.scn", "good.scn")
    assert code == 0 and "reformatted" in err
    formatted = messy.read_text(encoding="utf-8")
    mtime = messy.stat().st_mtime_ns
    assert run(capsys, "fmt", "messy.scn")[0] == 0
    assert messy.read_text(encoding="utf-8") == formatted and messy.stat().st_mtime_ns == mtime


@needs_formatter
def test_fmt_check_and_diff_write_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = project / "messy.scn"
    original = VALID.read_text().replace("plant { ", "plant   {  ", 1)
    messy.write_text(original, encoding="utf-8")
    code, out, _ = run(capsys, "fmt", "--check", "messy.scn")
    assert code == 1 and "Would reformat: messy.scn" in out
    code, out, _ = run(capsys, "fmt", "--diff", "messy.scn")
    assert code == 1 and out.startswith("--- a/messy.scn\n+++ b/messy.scn\n")
    assert messy.read_text(encoding="utf-8") == original
    assert run(capsys, "fmt", "messy.scn")[0] == 0
    assert run(capsys, "fmt", "--check", "messy.scn")[:2] == (0, "")


@needs_formatter
def test_fmt_syntax_error_exits_1_and_leaves_the_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = project / "syntax.scn"
    broken.write_text("scenario s\nplant {", encoding="utf-8")
    code, _, err = run(capsys, "fmt", "syntax.scn")
    assert code == 1 and "error[SCN103]" in err
    assert broken.read_text(encoding="utf-8") == "scenario s\nplant {"


@needs_formatter
def test_fmt_keeps_bundled_scenarios_stable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Formatting twice changes nothing the second time.
    scenarios = TESTS.parent / "scenarios"
    if not any(scenarios.glob("*.scn")):
        pytest.skip("no bundled scenarios")
    copy = tmp_path / "scenarios"
    shutil.copytree(scenarios, copy)
    assert run(capsys, "fmt", str(copy))[0] == 0
    assert run(capsys, "fmt", "--check", str(copy))[0] == 0


# ---- the README's example is what scn prints -------------------------------------------------


def test_readme_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    readme = (TESTS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A tiny example", 1)[1]
    scenario, transcript = re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)[:2]
    command, expected = transcript.split("\n", 1)
    assert command == "$ scn lint pendulum.scn"
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "pendulum.scn").write_text(scenario, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "lint", "pendulum.scn")
    assert (code, out + err) == (1, expected)
    (tmp_path / "pendulum.scn").write_text(scenario.replace("1 kgs", "1 kg"), encoding="utf-8")
    assert run(capsys, "lint", "pendulum.scn")[0] == 0
