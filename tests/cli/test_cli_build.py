"""`scn compile` and `scn check`: real diagrams, real checkers, real steps."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from scn_fixtures import BUNDLED
from scn_fixtures import run_cli as run

from scenario_dsl import load
from scenario_dsl.compiler.artifacts import CompiledFileError, load_compiled, scenario_hash

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"



@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding a copy of the bundled pendulum (the current folder)."""
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copy(SCENARIOS / "pendulum.scn", tmp_path / "pendulum.scn")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_compile_writes_the_resolved_scenario_and_the_diagram(project: Path, capsys: pytest.CaptureFixture[str],
                                                               ) -> None:
    code, out, _ = run(capsys, "compile", "pendulum.scn", "-o", "out")
    assert code == 0
    document = json.loads((project / "out" / "pendulum.json").read_text())
    assert document["format"] == "scn.compiled/1"
    assert document["drake"][0].isdigit() and document["scn"]
    assert document["hash"] == scenario_hash(load("pendulum.scn"))
    assert document["scenario"]["plant"]["gravity"] == [0.0, 0.0, -10.0]  # SI units, resolved
    assert document["scenario"]["plant"]["stiction_tolerance"] == 1e-4  # a default, filled in
    dot = (project / "out" / "pendulum.dot").read_text()
    assert dot.startswith("digraph") and "plant" in dot and "reward" in dot
    assert "wrote out/pendulum.json" in out and "wrote out/pendulum.dot" in out
    assert load_compiled(project / "out" / "pendulum.json") == load("pendulum.scn")


def test_params_are_applied_and_change_the_hash(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (project / "pendulum.scn").read_text().replace("scenario pendulum", "param g = 10 m/s^2\nscenario pendulum")
    text = text.replace("gravity = [0, 0, -10] m/s^2", "gravity = [0, 0, -g]")
    (project / "pendulum.scn").write_text(text)
    assert run(capsys, "compile", "pendulum.scn", "-o", "a")[0] == 0
    assert run(capsys, "compile", "pendulum.scn", "-o", "b", "--param", "g=9.81 m/s^2")[0] == 0
    a, b = (json.loads((project / d / "pendulum.json").read_text()) for d in "ab")
    assert b["scenario"]["plant"]["gravity"] == [0.0, 0.0, -9.81]
    assert a["hash"] != b["hash"]


def test_the_hash_ignores_comments_and_layout(project: Path) -> None:
    before = scenario_hash(load("pendulum.scn"))
    text = (project / "pendulum.scn").read_text()
    (project / "pendulum.scn").write_text("# a comment on top\n\n\n" + text.replace("rod {", "rod  {"))
    assert scenario_hash(load("pendulum.scn")) == before
    (project / "pendulum.scn").write_text(text.replace("time_limit = 10 s", "time_limit = 11 s"))
    assert scenario_hash(load("pendulum.scn")) != before


def test_the_hash_covers_names_spelled_like_places(project: Path) -> None:
    # `path` and `where` are dropped as places in the source, not as any dictionary key: a
    # parameter (or a joint) may be called `where`.
    text = (project / "pendulum.scn").read_text()
    hashes = set()
    for value in (1, 2):
        declared = text.replace("scenario pendulum", f"param where = {value}\nscenario pendulum")
        (project / "pendulum.scn").write_text(declared)
        hashes.add(scenario_hash(load("pendulum.scn")))
    assert len(hashes) == 2


def test_a_file_of_an_earlier_version_without_a_later_field_loads(project: Path, capsys: pytest.CaptureFixture[str],
                                                                  ) -> None:
    """A field added to the model since a file was written (here `train.worlds`, with its default)
    does not make the file unreadable: the hash is checked over the scenario as the file holds it."""
    from scenario_dsl.compiler.artifacts import _hash_of

    run(capsys, "compile", "pendulum.scn", "-o", "out")
    path = project / "out" / "pendulum.json"
    document = json.loads(path.read_text())
    del document["scenario"]["train"]["worlds"]  # as scn wrote it before `worlds` existed
    document["hash"] = _hash_of(document["scenario"])
    path.write_text(json.dumps(document))
    assert load_compiled(path) == load("pendulum.scn")  # worlds = 1, the default
    document["scenario"]["episode"]["time_limit"] = 99.0  # an edit is still refused
    path.write_text(json.dumps(document))
    with pytest.raises(CompiledFileError, match="hash does not match"):
        load_compiled(path)


def test_an_edited_compiled_file_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "compile", "pendulum.scn", "-o", "out")
    path = project / "out" / "pendulum.json"
    document = json.loads(path.read_text())
    document["scenario"]["episode"]["time_limit"] = 99.0
    path.write_text(json.dumps(document))
    with pytest.raises(CompiledFileError, match="hash does not match"):
        load_compiled(path)
    code, _, err = run(capsys, "check", str(path), "--steps", "0")
    assert code == 1 and "pendulum.json: error[SCN009]: its hash does not match" in err, err


def test_a_compile_error_is_a_diagnostic_with_a_caret(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The friction of a model's link that has no collision geometry: lint reads the model's links
    # and joints, not its geometry; only the compiler can tell.
    (project / "marker.urdf").write_text(
        '<robot name="marker"><link name="dot"><inertial><mass value="0.1"/>'
        '<inertia ixx="1e-5" iyy="1e-5" izz="1e-5" ixy="0" ixz="0" iyz="0"/></inertial>'
        '<visual><geometry><sphere radius="0.01"/></geometry></visual></link></robot>')
    text = ((project / "pendulum.scn").read_text() + 'model marker from "marker.urdf"\n'
            + "randomize { marker.dot.friction *~ uniform(0.5, 1.5) }\n")
    (project / "pendulum.scn").write_text(text)
    line = len(text.splitlines())
    assert run(capsys, "lint", "pendulum.scn")[0] == 0
    for command in ("compile", "check"):
        code, out, err = run(capsys, command, "pendulum.scn")
        assert code == 1 and out == ""
        assert err.startswith(f"pendulum.scn:{line}:13: error[SCN505]: "), err
        assert f"{line} | randomize {{ marker.dot.friction" in err and "^^^" in err  # the line, a caret


def test_a_fragment_has_nothing_to_build(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "part.scn").write_text("param mass = 1 kg\n")
    code, _, err = run(capsys, "compile", "part.scn")
    assert code == 1 and "error[SCN008]" in err


def test_front_end_errors_stop_the_build(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (project / "pendulum.scn").read_text().replace("mass = 1 kg", "mass = 1 kgs", 1)
    (project / "pendulum.scn").write_text(text)
    code, _out, err = run(capsys, "compile", "pendulum.scn", "-o", "out")
    assert code == 1 and "error[SCN301]" in err and not (project / "out").exists()


@pytest.mark.parametrize("name", [p.stem for p in BUNDLED])
def test_every_bundled_scenario_passes_check(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", str(SCENARIOS / f"{name}.scn"), "--steps", "200", "--seed", "3")
    assert code == 0, out + err
    assert "gymnasium check_env          passed" in out
    assert "stable-baselines3 check_env  passed" in out
    assert "random steps                 200 (" in out


def test_check_reports_rewards_terms_and_episode_ends(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "pendulum.scn", "--steps", "450")
    assert code == 0
    fields = dict(line.split("  ", 1) for line in out.splitlines() if "  " in line and not line.startswith("  "))
    assert fields["episodes ended"].strip() == "time_limit x2"  # 200-step episodes
    low, _, high = fields["reward per step"].strip().removeprefix("min ").partition(", mean ")
    assert float(low) <= float(high.partition(", max ")[2])
    assert "term cost" in out and "pendulum.q = " in out


def test_check_runs_on_a_compiled_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "compile", "pendulum.scn", "-o", "out")
    code, out, _ = run(capsys, "check", "out/pendulum.json", "--steps", "10")
    assert code == 0 and "pendulum" in out


@pytest.mark.parametrize("argv", [
    ["check", "pendulum.scn", "--steps", "-1"],
    ["check", "pendulum.scn", "--seed", "-1"],
    ["check", "pendulum.scn", "--steps", "ten"],
    ["sample", "pendulum.scn", "-n", "0"],
    ["sample", "pendulum.scn", "--seed", "-3"],
    ["compile", "pendulum.scn", "--depth", "-1"],
    ["eval", "runs", "--episodes", "0"],
    ["eval", "runs", "--seed", "-1"],
    ["plot", "runs", "--window", "0"],
    ["train", "pendulum.scn", "--seed", "-1"],
    ["train", "pendulum.scn", "--threads", "0"],
])
def test_bad_counts_and_seeds_are_usage_errors(project: Path, capsys: pytest.CaptureFixture[str],
                                               argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert f"argument {argv[-2]}" in err and ("at least" in err or "whole number" in err)
    assert not (project / "build").exists() and not (project / "runs").exists()


def test_more_samples_than_memory_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "sample", "pendulum.scn", "-n", str(10**14))
    assert code == 2 and err.strip().splitlines()[-1].startswith("scn: error: ") and "fit in memory" in err


def test_param_for_a_compiled_file_is_a_usage_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "compile", "pendulum.scn", "-o", "out")
    for command in ("check", "compile", "sample"):
        code, _, err = run(capsys, command, "out/pendulum.json", "--param", "g=1")
        assert code == 2 and "--param needs the .scn file" in err, (command, err)


def test_check_reports_an_env_that_fails_while_stepping(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A `require` that always rejects: every reset raises SamplingError, a problem of the scenario
    # (not of the env's API): exit 1 with the diagnostic, its code and its place, not an internal error.
    (project / "req.scn").write_text("""
scenario req
body rod { shape = box(0.1, 0.1, 0.5); mass = 1 kg }
joint hinge: revolute(world -> rod, axis = [0, 0, 1]) { actuated }
action torque = hinge.effort in [-1, 1]
observation s = [hinge.q, hinge.v]
randomize {
    let k ~ uniform(0, 1)
    require k > 1.5 "k is large"
}
reward { -hinge.q^2 }
episode { step = 50 ms; time_limit = 1 s }
""")
    code, _, err = run(capsys, "check", "req.scn", "--steps", "5")
    assert code == 1 and "SCN901" not in err, err
    assert 'req.scn:9:5: error[SCN411]: randomization: `require` "k is large" rejected' in err


def test_compile_without_an_svg_leaves_no_stale_one(project: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # An SVG of an earlier compile would no longer match the .dot written beside it.
    monkeypatch.setenv("PATH", str(project))  # no Graphviz `dot` on it
    (project / "out").mkdir()
    (project / "out" / "pendulum.svg").write_text("<svg>an older diagram</svg>")
    code, out, _ = run(capsys, "compile", "pendulum.scn", "-o", "out")
    assert code == 0 and "no SVG" in out
    assert not (project / "out" / "pendulum.svg").exists()


def test_compiled_files_get_a_plain_files_mode(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    previous = os.umask(0o027)
    try:
        assert run(capsys, "compile", "pendulum.scn", "-o", "out")[0] == 0
    finally:
        os.umask(previous)
    for name in ("pendulum.json", "pendulum.dot"):
        assert (project / "out" / name).stat().st_mode & 0o777 == 0o640  # 0o666 less the umask, not mkstemp's 0o600
