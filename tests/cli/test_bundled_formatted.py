"""The bundled scenarios are as `scn fmt` writes them: the demo checks it (`scn fmt --check
scenarios/`), and so does the test suite, so a scenario added unformatted fails CI, not the demo."""

from __future__ import annotations

import pytest
from scn_fixtures import SCENARIOS, run_cli


def test_the_bundled_scenarios_are_formatted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "fmt", "--check", str(SCENARIOS))
    assert code == 0, out + err
