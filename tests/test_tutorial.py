"""docs/tutorial.md works as written: its file lints, formats, compiles and checks, its pieces
are the file's, its lint output is what `scn lint` prints, and its Python runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from scn_fixtures import run_cli as run

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
TEXT = TUTORIAL.read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", TEXT, flags=re.S | re.M)


WHOLE = re.search(r"^```scn file=slider\.scn\n(.*?)^```$", TEXT, flags=re.S | re.M).group(1)  # type: ignore[union-attr]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "slider.scn").write_text(WHOLE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path



def test_every_piece_is_part_of_the_whole_file() -> None:
    pieces = _blocks("text")
    assert len(pieces) >= 5
    for piece in pieces:
        assert piece in WHOLE, piece


def test_the_whole_file_lints_clean_and_is_formatted(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "lint", "slider.scn") == (0, "", "All checks passed (1 file).\n")
    assert run(capsys, "fmt", "--check", "slider.scn")[0] == 0


def test_the_lint_example_is_what_scn_prints(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "broken.scn").write_text(WHOLE.replace("rail.v]", "rail.speed]"), encoding="utf-8")
    code, out, err = run(capsys, "lint", "broken.scn")
    shown = next(b for b in _blocks("console") if b.startswith("$ scn lint broken.scn"))
    assert code == 1
    assert (out + err).splitlines() == shown.splitlines()[1:]


def test_compile_and_check_pass(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compile", "slider.scn", "-o", "build")
    assert code == 0 and (project / "build" / "slider.json").is_file() and (project / "build" / "slider.dot").is_file()
    shown = next(b for b in _blocks("console") if b.startswith("$ scn compile"))
    assert shown.splitlines()[1].split("(sha256")[0] == out.splitlines()[0].split("(sha256")[0]
    code, out, _ = run(capsys, "check", "slider.scn", "--steps", "300")
    assert code == 0
    shown = next(b for b in _blocks("console") if b.startswith("$ scn check"))
    label = re.compile(r"^(\S[^ ]*(?: \S+)*)  ")
    for line in shown.splitlines()[1:]:
        if "steps/s" in line or "reward" in line or "term " in line or "drew" in line:
            continue  # figures that depend on the machine and on the draws
        assert line in out.splitlines(), (line, out)
    assert all(label.match(line) for line in out.splitlines() if not line.startswith(" "))


def test_the_python_example_runs(project: Path) -> None:
    code = next(b for b in _blocks("python") if "make_env" in b)
    # One short rollout and one pass over it are enough to prove it trains.
    code = code.replace('PPO("MlpPolicy", SubprocVecEnv(factories))',
                        'PPO("MlpPolicy", SubprocVecEnv(factories), n_steps=64, batch_size=64, n_epochs=1)')
    code = code.replace("learn(10_000)", "learn(128)")
    assert "n_steps=64" in code and "learn(128)" in code
    (project / "example.py").write_text(code, encoding="utf-8")
    result = subprocess.run([sys.executable, "example.py"], cwd=project, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "'distance'" in result.stdout and "'speed'" in result.stdout
