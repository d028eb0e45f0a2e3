"""Golden files: each `tests/golden/NAME.scn` is linted and its human rendering must equal
`tests/golden/NAME.expected` byte for byte.

To add a case, drop `NAME.scn` into tests/golden/ (name it after the code it shows, e.g.
`scn301_unknown_unit.scn`), then write its `.expected` with

    SCN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/lang/test_golden_diagnostics.py

and read the result before committing it. Files that a case includes live in
`tests/golden/include/` (only top-level `*.scn` files are cases). Paths are shown relative to
tests/golden/, and the repository's absolute path is written `<repo>`, so the files are the
same on every machine. SCN003 (a file over 5 MiB) is covered by tests/lang/test_bad_input.py
instead of a golden file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scenario_dsl.emitters import human
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.loader import analyze_file

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
REPO = GOLDEN.parent.parent
CASES = sorted(GOLDEN.glob("*.scn"))
UPDATE = os.environ.get("SCN_UPDATE_GOLDEN") == "1"

# Codes that must each have at least one golden case; extend as the validator's codes get theirs.
REQUIRED_CODES = {"SCN001", "SCN002", "SCN004", "SCN005", "SCN006",
                  "SCN101", "SCN102", "SCN103", "SCN104", "SCN105"}


def rendering(case: Path) -> str:
    """The human rendering of `scn lint` on one case, with machine-specific paths replaced."""
    analysis = analyze_file(case)
    text = human.render(sorted(analysis.diagnostics, key=Diagnostic.sort_key), root=GOLDEN)
    return text.replace(f"{GOLDEN}{os.sep}", "").replace(str(REPO), "<repo>")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden(case: Path) -> None:
    expected_file = case.with_suffix(".expected")
    actual = rendering(case)
    if UPDATE:
        expected_file.write_text(actual, encoding="utf-8", newline="")
        return
    if not expected_file.exists():
        pytest.fail(f"no {expected_file.name}: write it with SCN_UPDATE_GOLDEN=1, then review it")
    assert actual == expected_file.read_text(encoding="utf-8")


def test_every_expected_file_has_its_case() -> None:
    orphans = [p.name for p in GOLDEN.glob("*.expected") if not p.with_suffix(".scn").exists()]
    assert not orphans, f"remove these or add their .scn: {orphans}"


def test_every_case_shows_a_diagnostic_and_required_codes_are_covered() -> None:
    shown: set[str] = set()
    for case in CASES:
        expected_file = case.with_suffix(".expected")
        text = expected_file.read_text(encoding="utf-8") if expected_file.exists() else rendering(case)
        codes = set(re.findall(r"^\S.*?: (?:error|warning)\[(SCN\d{3})\]", text, flags=re.MULTILINE))
        assert codes, f"{case.name} shows no diagnostic"
        shown |= codes
    assert REQUIRED_CODES <= shown, f"no golden case for {sorted(REQUIRED_CODES - shown)}"
