"""Every bundled scenario lints clean: no errors and no warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario_dsl.lang.loader import analyze_file

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
BUNDLED = sorted(SCENARIOS.glob("*.scn"))


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
