"""Every bundled scenario lints clean: no errors and no warnings."""

from __future__ import annotations

from pathlib import Path

import pytest
from scn_fixtures import BUNDLED, SCENARIOS

from scenario_dsl.lang.loader import analyze_file

# A piece meant to be included has no `scenario` line; the scenarios that include it check it.
PIECES = sorted(set(SCENARIOS.glob("*.scn")) - set(BUNDLED))


@pytest.mark.parametrize("piece", PIECES, ids=lambda p: p.stem)
def test_each_bundled_piece_is_included_by_a_scenario_that_lints_clean(piece: Path) -> None:
    including = [path for path in BUNDLED
                 if piece.resolve() in {Path(f.span.source.path).resolve() for f in analyze_file(path).files}]
    assert including, f"{piece.name} is included by no bundled scenario"
    assert all(analyze_file(path).ok for path in including)


def test_the_bundled_scenarios_are_there() -> None:
    assert {p.stem for p in BUNDLED} >= {"pendulum", "cart_pole", "acrobot", "box_flipup", "push_box"}


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenario_lints_clean(path: Path) -> None:
    analysis = analyze_file(path)
    assert [(d.code, d.line, d.column, d.message) for d in analysis.diagnostics] == []
    assert analysis.ok
    assert analysis.scenario is not None
    assert analysis.scenario.name == path.stem


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenario_lints_clean_from_another_folder(path: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # model files and includes resolve against the scenario's folder, not the current one
    monkeypatch.chdir(tmp_path)
    assert analyze_file(path).diagnostics == []
