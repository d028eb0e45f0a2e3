"""`scn sweep`'s grid and seeds: wrong or huge values are SCN601 (exit 2) before any folder is made
or any list of trials is built (no Ray needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scn_fixtures import SCENARIOS

from scenario_dsl.cli import main
from scenario_dsl.train.hyperparams import ConfigError
from scenario_dsl.train.sweep import parse_grid, parse_seeds, split_values, trials_of


@pytest.mark.parametrize(("text", "seeds"), [("0..4", [0, 1, 2, 3, 4]), ("1,2,3", [1, 2, 3]), ("7", [7])])
def test_seeds(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["0..x", "3..1", "-1..2", "1,1", "", "0..100000000", "0..1000000000000000"])
def test_bad_or_huge_seeds_are_refused_at_once(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_seeds(text)


def test_values_split_outside_brackets_and_trials_are_counted_first() -> None:
    assert split_values("[64,64],[256, 256]") == ["[64,64]", "[256, 256]"]
    with pytest.raises(ConfigError):
        split_values("1e-3,,3e-4")
    with pytest.raises(ConfigError, match="40000 trials"):
        trials_of({"a": [str(i) for i in range(200)], "b": [str(i) for i in range(200)]}, [0], set())
    with pytest.raises(ConfigError, match="twice"):
        trials_of(parse_grid(["net_arch=[64,64],[64, 64]"]), [0], set())


def test_the_command_refuses_them_before_making_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for seeds in ("0..100000000", "a..b"):
        code = main(["sweep", str(SCENARIOS / "pendulum.scn"), "--grid", "learning_rate=1e-3,3e-4", "--seeds", seeds,
                     "--out", str(tmp_path)])
        assert code == 2 and "SCN601" in capsys.readouterr().err
    assert main(["sweep", str(SCENARIOS / "pendulum.scn"), "--out", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []
