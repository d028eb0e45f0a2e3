"""`scn sample --plot` draws a corner plot (issue 19, item 5): a histogram per quantity on the
diagonal and each pair's scatter below it, for the quantities `--vars` names."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from scn_fixtures import run_cli as run

DISK = """scenario disk "targets in a disk"
plant { time_step = 10 ms }
body rod { mass = 1 kg; inertia = [0.1, 0.1, 0.1] }
body target { shape = sphere(1 cm); collision = false }
joint hinge: revolute(world -> rod, axis = [0, 1, 0]) { actuated }
joint tx: prismatic(world -> target, axis = [1, 0, 0])
joint ty: prismatic(world -> target_y, axis = [0, 0, 1])
body target_y { shape = sphere(1 cm); collision = false }
action torque = hinge.effort in [-1, 1] N*m
observation o = [hinge.q, hinge.v, tx.q, ty.q]
randomize {
    let r ~ uniform(0, 0.2)
    let a ~ uniform(-pi, pi)
    tx.q ~ r * cos(a)
    ty.q ~ r * sin(a)
    hinge.q ~ normal(0, 0.3)
    hinge.v ~ uniform(-1, 1)
    rod.mass *~ uniform(0.9, 1.1)
}
reward { -(hinge.q^2) as r }
episode { step = 50 ms; time_limit = 1 s }
"""


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture()
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "disk.scn").write_text(DISK)
    return tmp_path


def test_the_plot_is_a_grid_of_the_chosen_quantities(disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sample", "disk.scn", "-n", "500", "--plot", "two.png", "--vars", "tx.q,ty.q")
    assert code == 0 and "wrote two.png" in err
    code, _, _ = run(capsys, "sample", "disk.scn", "-n", "500", "--plot", "four.png", "--vars", "r,a,tx.q,ty.q")
    assert code == 0
    (w2, h2), (w4, h4) = _png_size(disk / "two.png"), _png_size(disk / "four.png")
    assert w4 > 1.6 * w2 and h4 > 1.6 * h2  # k x k panels: twice the quantities, about twice the side


def test_without_vars_it_draws_the_first_six_and_says_so(disk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sample", "disk.scn", "-n", "200", "--plot", "all.png")
    assert code == 0 and "draws the first 6 of 7 quantities" in err and (disk / "all.png").is_file()


def test_an_unknown_quantity_is_a_usage_error_with_the_closest_name(disk: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sample", "disk.scn", "--plot", "x.png", "--vars", "tx.q,hinge.qq")
    assert code == 2 and "`hinge.qq` is not a drawn quantity; did you mean `hinge.q`?" in err
    assert not (disk / "x.png").exists()
