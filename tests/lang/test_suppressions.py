"""`# noqa` comments silence the warnings they name on their line, never errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario_dsl.lang.loader import analyze_file, analyze_text

PENDULUM = (Path(__file__).resolve().parents[2] / "scenarios" / "pendulum.scn").read_text()
REBUILD = "randomize per build every 5 episodes { plant.gravity *~ uniform(0.9, 1.1) }"


def _codes(extra: str) -> list[str]:
    return [d.code for d in analyze_text(PENDULUM + "\n" + extra + "\n", "p.scn").diagnostics]


@pytest.mark.parametrize("comment, silenced", [
    ("# noqa: SCN410", True),
    ("#noqa:SCN410", True),
    ("# NOQA: scn410 (a rebuild every 5 episodes is fine here)", True),
    ("# noqa: SCN209, SCN410", True),
    ("# noqa", True),
    ("# noqa: SCN209", False),  # names another code
    ("# no qa", False),
    ("# noqaSCN410", False),
])
def test_a_noqa_comment_silences_the_warnings_it_names(comment: str, silenced: bool) -> None:
    assert _codes(f"{REBUILD}  {comment}") == ([] if silenced else ["SCN410"])


def test_only_the_warnings_on_its_own_line() -> None:
    assert _codes(f"# noqa: SCN410\n{REBUILD}") == ["SCN410"]
    assert _codes(f"{REBUILD}\nparam unused = 1  # noqa: SCN410") == ["SCN410", "SCN209"]


def test_errors_are_never_silenced() -> None:
    assert _codes("randomize { rod.mass ~ normal(1, 0.1) kg }  # noqa") == ["SCN405"]
    analysis = analyze_text(PENDULUM + "\nrandomize { rod.mass ~ normal(1, 0.1) kg }  # noqa: SCN405\n", "p.scn")
    assert [d.code for d in analysis.diagnostics] == ["SCN405"] and not analysis.ok


def test_noqa_inside_a_string_is_not_a_comment() -> None:
    block = ('randomize per build every 5 episodes { let g ~ uniform(0.9, 1.1); plant.gravity *~ g; '
             'require g > 0 "# noqa" }')
    assert _codes(block) == ["SCN410"]


def test_a_noqa_in_an_included_file_applies_there(tmp_path: Path) -> None:
    (tmp_path / "part.scn").write_text(f"{REBUILD}  # noqa: SCN410\nparam unused = 1\n")
    (tmp_path / "main.scn").write_text(PENDULUM + '\ninclude "part.scn"\n')
    diagnostics = analyze_file(tmp_path / "main.scn").diagnostics
    assert [(d.code, Path(d.file).name, d.line) for d in diagnostics] == [("SCN209", "part.scn", 2)]
