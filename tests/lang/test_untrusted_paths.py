"""A `.scn` file is untrusted input (`scn lint` runs in CI on pull requests): scn reads only files
inside the scenario's project (or the drake wheel, or folders the user allows), only regular
files, a bounded number of bytes, never the network, and a chain of includes cannot exhaust the
interpreter's stack.

Each hostile case must end in a located diagnostic with a code and exit 1 from the real command
line, with no traceback and no SCN901. Where a case points at a file outside the project, that
file holds a unique marker, and the marker must appear nowhere in the output: the file was never
read (strace shows it was never opened, where strace is installed). The legitimate layouts
(includes in a subfolder, a model and its mesh inside the project, `package://drake/...`,
`--allow-path`, `allow_paths`) must keep working, through lint and the compiler.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from scn_fixtures import run_cli

from scenario_dsl.lang import modelfiles
from scenario_dsl.lang.includes import MAX_INCLUDE_DEPTH
from scenario_dsl.lang.loader import analyze_text
from scenario_dsl.lang.project import ALLOW_ENV, package_root, project_of
from scenario_dsl.lang.reader import TooLarge, read_bounded

MARKER = "SECRET-7f3a91c2-do-not-print"
PYTHON = [sys.executable, "-m", "scenario_dsl"]

SCENARIO = """\
scenario swing "Swing a pendulum from a model file"
plant {{ time_step = 1 ms }}
model pendulum from "{url}"
action torque = pendulum.theta.effort in [-2, 2] N*m
observation state = [pendulum.theta.q, pendulum.theta.v]
reward {{ -pendulum.theta.q^2 as cost }}
episode {{ step = 10 ms; time_limit = 1 s }}
"""
MODEL_LINE = 3  # the line of `model` in SCENARIO

URDF = """\
<?xml version="1.0"?>
<robot name="swing">
  <link name="base">
    <inertial><mass value="1"/><inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
  </link>
  <joint name="base_weld" type="fixed"><parent link="world"/><child link="base"/></joint>
  <link name="arm">
    <inertial><origin xyz="0 0 -0.5"/><mass value="1"/>
      <inertia ixx="0.01" ixy="0" ixz="0" iyy="0.01" iyz="0" izz="0.01"/></inertial>
    <visual><geometry><mesh filename="{mesh}"/></geometry></visual>
  </link>
  <joint name="theta" type="continuous"><parent link="base"/><child link="arm"/><axis xyz="0 1 0"/></joint>
  <transmission name="drive" type="SimpleTransmission">
    <actuator name="motor"/><joint name="theta"/><mechanicalReduction>1</mechanicalReduction>
  </transmission>
</robot>
"""
MESH_LINE = 10  # the line of `<mesh>` in URDF
TETRAHEDRON = "v 0 0 0\nv 0.1 0 0\nv 0 0.1 0\nv 0 0 0.1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """`project/` (with scn.toml, the current folder) and `outside/`, whose files hold MARKER."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "scn.toml").write_text("")
    # what an attacker would like printed: the first line of a passwd-like file, a model, a mesh
    (outside / "passwd").write_text(f"root:x:0:0:{MARKER}:/root:/bin/bash\n")
    (outside / "secret.urdf").write_text(f"<robot name='{MARKER}'><link name='{MARKER}'/>\n<oops {MARKER}\n")
    (outside / "slider.urdf").write_text(URDF.format(mesh="bob.obj").replace("swing", MARKER))
    (outside / "bob.obj").write_text(f"# {MARKER}\n" + TETRAHEDRON)
    monkeypatch.chdir(project)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    return project, outside


def write_model(project: Path, mesh: str = "meshes/bob.obj") -> Path:
    """project/models/robot.urdf whose arm has the visual mesh `mesh`, and meshes/bob.obj beside it."""
    (project / "models" / "meshes").mkdir(parents=True, exist_ok=True)
    (project / "models" / "meshes" / "bob.obj").write_text(TETRAHEDRON)
    path = project / "models" / "robot.urdf"
    path.write_text(URDF.format(mesh=mesh))
    return path


def lint(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """`scn lint ARGV` in this process: the exit code and everything it printed."""
    code, out, err = run_cli(capsys, "lint", *argv)
    return code, out + err


def assert_refused(code: int, output: str, expected: str, place: str | None = None) -> None:
    """Exit 1, the code at its place, and nothing of the outside file, no traceback, no SCN901."""
    assert code == 1, output
    assert f"error[{expected}]" in output, output
    if place is not None:
        assert f"{place}: error[{expected}]" in output, output
    assert MARKER not in output
    assert "SCN901" not in output and "Traceback" not in output


# ---- scenario files: folder walks, symlinks, devices, FIFOs, /proc ---------------------------------


def test_walk_skips_a_symlink_out_of_the_project(layout: tuple[Path, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    (project / "good.scn").write_text(SCENARIO.format(url="package://drake/examples/pendulum/Pendulum.urdf"))
    (project / "users.scn").symlink_to(outside / "passwd")
    code, output = lint(capsys, ".")
    assert_refused(code, output, "SCN005", "users.scn")
    assert "skipped, not opened" in output and str(outside / "passwd") in output  # says where it leads
    assert "good.scn" not in output  # the other file was linted, and is clean


def test_walk_does_not_follow_a_symlinked_folder(layout: tuple[Path, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    (outside / "evil.scn").write_text(f"scenario x\n{MARKER} {MARKER}\n")
    (project / "linked").symlink_to(outside)
    (project / "ok.scn").write_text("# a fragment\nparam p = 1\n")
    code, output = lint(capsys, ".")
    assert MARKER not in output and code == 0, output


def test_explicit_symlink_out_of_the_project(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    # `scn lint $(git diff --name-only)` names a pull request's symlinks as roots
    project, outside = layout
    (project / "users.scn").symlink_to(outside / "passwd")
    (project / "main.scn").symlink_to("/dev/zero")
    for name, target in (("users.scn", outside / "passwd"), ("main.scn", "/dev/zero")):
        code, output = lint(capsys, name)
        assert_refused(code, output, "SCN005", name)
        assert f"(it resolves to {target})" in output
    code, out, err = run_cli(capsys, "fmt", "--check", "users.scn")  # fmt reads the same way
    assert_refused(code, out + err, "SCN005", "users.scn")


def test_a_device_given_by_name_is_not_read(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = lint(capsys, "/dev/zero")
    assert_refused(code, output, "SCN001", "/dev/zero")
    assert "not a regular file (a character device)" in output


def test_a_proc_file_is_not_read(tmp_path: Path) -> None:
    env = {**os.environ, "SCN_TEST_MARKER": MARKER}
    proc = subprocess.run([*PYTHON, "lint", "/proc/self/environ"], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    output = proc.stdout + proc.stderr
    assert_refused(proc.returncode, output, "SCN001", "/proc/self/environ")
    assert "kernel's proc filesystem" in output


def test_a_fifo_neither_blocks_nor_is_read(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    os.mkfifo(project / "main.scn")
    (project / "other.scn").write_text('scenario other\ninclude "main.scn"\n')
    # a subprocess with a timeout: opening a FIFO for reading would block until a writer came
    proc = subprocess.run([*PYTHON, "lint", "main.scn", "other.scn"], capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert_refused(proc.returncode, output, "SCN001", "main.scn")
    assert "other.scn:2:1: error[SCN001]" in output  # the include of the FIFO, at the include
    assert "(a FIFO)" in output


def test_bounded_reading_counts_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "eleven.scn"
    path.write_bytes(b"x" * 11)
    assert read_bounded(path, 11) == b"x" * 11
    with pytest.raises(TooLarge):
        read_bounded(path, 10)
    # a size that lies (a file that grows, a kernel file): the bytes read are counted, limit + 1 at most
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result((*real_fstat(fd)[:6], 0, *real_fstat(fd)[7:])))
    reads: list[int] = []
    real_read = os.read

    def counted_read(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        reads.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counted_read)
    with pytest.raises(TooLarge) as info:
        read_bounded(path, 10)
    assert info.value.counted and sum(reads) == 11


# ---- includes ------------------------------------------------------------------------------------


def test_include_of_a_symlink_out_of_the_project(layout: tuple[Path, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    (project / "lib.scn").symlink_to(outside / "passwd")
    (project / "main.scn").write_text('scenario main\ninclude "lib.scn"\n')
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN005", "main.scn:2:1")


def test_two_thousand_nested_includes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "scn.toml").write_text("")
    (tmp_path / "main.scn").write_text('scenario deep\ninclude "f1.scn"\n')
    for i in range(1, 2001):
        (tmp_path / f"f{i}.scn").write_text(f'include "f{i + 1}.scn"\nparam p{i} = {i}\n' if i < 2000 else "")
    code, output = lint(capsys, str(tmp_path / "main.scn"))
    assert code == 1 and "SCN901" not in output and "RecursionError" not in output
    assert f"f{MAX_INCLUDE_DEPTH}.scn:1:1: error[SCN010]: includes nest more than {MAX_INCLUDE_DEPTH} files deep" \
        in output, output


def test_includes_up_to_the_limit_keep_their_order(tmp_path: Path) -> None:
    (tmp_path / "scn.toml").write_text("")
    chain = MAX_INCLUDE_DEPTH
    for i in range(1, chain + 1):
        nested = f'include "f{i + 1}.scn"\n' if i < chain else ""
        (tmp_path / f"f{i}.scn").write_text(f"param a{i} = {i}\n{nested}param b{i} = {i}\n")
    analysis = analyze_text('include "f1.scn"\n', str(tmp_path / "main.scn"), base_dir=tmp_path)
    assert not [d for d in analysis.diagnostics if d.code != "SCN209"]
    assert len(analysis.files) == chain + 1


# ---- model files, and the files they name ------------------------------------------------------------


def test_model_from_file_url_outside(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    (project / "main.scn").write_text(SCENARIO.format(url=f"file://{outside / 'secret.urdf'}"))
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN005", f"main.scn:{MODEL_LINE}:1")


def test_package_drake_cannot_climb_out(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    drake = package_root("drake")
    assert drake is not None
    url = "package://drake/" + os.path.relpath(outside / "secret.urdf", drake)
    assert "/../" in url
    (project / "main.scn").write_text(SCENARIO.format(url=url))
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN005", f"main.scn:{MODEL_LINE}:1")
    assert "leaves the folder of package `drake`" in output


def test_relative_model_outside_the_project_is_refused_by_lint_and_compiler(
        layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, _ = layout
    (project / "main.scn").write_text(SCENARIO.format(url="../outside/slider.urdf"))
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN005", f"main.scn:{MODEL_LINE}:1")
    code, out, err = run_cli(capsys, "compile", "main.scn", "-o", "build")
    assert_refused(code, out + err, "SCN005")
    # the compiler checks again, for a scenario that did not come through the front end
    from scn_fixtures import pendulum_scenario

    from scenario_dsl.compiler import compile_scenario
    from scenario_dsl.lang import model as m
    from scenario_dsl.lang.diagnostics import ScnError

    scenario = pendulum_scenario().model_copy(update={"models": [
        m.Model(name="pendulum", url="../outside/slider.urdf", base_dir=str(project))]})
    with pytest.raises(ScnError) as info:
        compile_scenario(scenario)
    assert info.value.code == "SCN005" and MARKER not in str(info.value)


def test_mesh_symlinked_out_of_the_project(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    write_model(project)
    (project / "models" / "meshes" / "bob.obj").unlink()
    (project / "models" / "meshes" / "bob.obj").symlink_to(outside / "bob.obj")
    (project / "main.scn").write_text(SCENARIO.format(url="models/robot.urdf"))
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN005", f"main.scn:{MODEL_LINE}:1")
    assert f"models/robot.urdf:{MESH_LINE}: `meshes/bob.obj` is outside the project folder" in output


@pytest.mark.parametrize(("mesh", "code", "says"), [
    ("package://drake_models/veggies/assets/bob.obj", "SCN502", "would be downloaded by Drake"),
    ("package://my_robot/meshes/bob.obj", "SCN502", "names package `my_robot`"),
    ("https://example.com/bob.obj", "SCN502", "is not a local file"),
    ("file:///etc/hostname", "SCN005", "is outside the project folder"),
    ("/dev/zero", "SCN005", "is outside the project folder"),
    ("../../../outside/bob.obj", "SCN005", "is outside the project folder"),
])
def test_files_named_inside_a_model(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                    mesh: str, code: str, says: str) -> None:
    project, _ = layout
    write_model(project, mesh)
    (project / "main.scn").write_text(SCENARIO.format(url="models/robot.urdf"))
    exit_code, output = lint(capsys, "main.scn")
    assert_refused(exit_code, output, code, f"main.scn:{MODEL_LINE}:1")
    assert f"models/robot.urdf:{MESH_LINE}: `{mesh}` {says}" in output


def test_a_fifo_as_model_or_mesh_is_never_opened(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    write_model(project)
    (project / "models" / "meshes" / "bob.obj").unlink()
    os.mkfifo(project / "models" / "meshes" / "bob.obj")
    os.mkfifo(project / "pipe.urdf")
    (project / "main.scn").write_text(SCENARIO.format(url="models/robot.urdf"))
    (project / "pipe.scn").write_text(SCENARIO.format(url="pipe.urdf"))
    # a subprocess with a timeout: opening a FIFO for reading would block until a writer came
    proc = subprocess.run([*PYTHON, "lint", "main.scn", "pipe.scn"], capture_output=True, text=True, timeout=120)
    output = proc.stdout + proc.stderr
    assert_refused(proc.returncode, output, "SCN501", f"main.scn:{MODEL_LINE}:1")
    assert f"models/robot.urdf:{MESH_LINE}: `meshes/bob.obj` is not a regular file (a FIFO)" in output
    assert f"pipe.scn:{MODEL_LINE}:1: error[SCN501]: `pipe.urdf` is not a regular file (a FIFO)" in output


def test_an_sdf_include_is_checked_in_turn(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, _ = layout
    models = project / "models"
    models.mkdir()
    (models / "inner.sdf").write_text(textwrap.dedent("""\
        <sdf version="1.9"><model name="inner"><link name="l"><visual name="v"><geometry>
          <mesh><uri>package://drake_models/x/bob.obj</uri></mesh>
        </geometry></visual></link></model></sdf>
        """))
    (models / "outer.sdf").write_text(
        '<sdf version="1.9"><model name="outer">\n<include><uri>inner.sdf</uri></include>\n</model></sdf>\n')
    (project / "main.scn").write_text(SCENARIO.format(url="models/outer.sdf"))
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN502", f"main.scn:{MODEL_LINE}:1")
    assert "models/inner.sdf:2: `package://drake_models/x/bob.obj`" in output


def test_only_urdf_and_sdf_reach_drake(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, _ = layout
    (project / "robot.xml").write_text('<mujoco><include file="/etc/passwd"/></mujoco>\n')
    (project / "main.scn").write_text(SCENARIO.format(url="robot.xml"))
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN507", f"main.scn:{MODEL_LINE}:1")


# ---- the network: never, even for a URI lint did not see ---------------------------------------------

needs_unshare = pytest.mark.skipif(
    shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0,
    reason="`unshare -n` (a process without a network) is not available here")

_PARSE = """
import sys
from pydrake.geometry import SceneGraph
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import MultibodyPlant
from scenario_dsl.compiler.plant import offline_parser
plant, scene_graph = MultibodyPlant(0.0), SceneGraph()
plant.RegisterAsSourceForSceneGraph(scene_graph)
parser = offline_parser(plant) if sys.argv[2] == "offline" else Parser(plant)
try:
    parser.AddModels(sys.argv[1])
except RuntimeError as exc:
    print("refused:", exc)
"""


def _offline_env(tmp_path: Path) -> dict[str, str]:
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    cache.mkdir()
    return {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(cache)}


def _downloads(tmp_path: Path) -> list[str]:
    return [str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if "drake" in p.parts]


@needs_unshare
def test_the_compilers_parser_cannot_start_a_download(tmp_path: Path) -> None:
    model = write_model(tmp_path, "package://drake_models/veggies/assets/bob.obj")
    env = _offline_env(tmp_path)
    # without the network, Drake's own parser still starts its downloader (the control) ...
    plain = subprocess.run(["unshare", "-n", sys.executable, "-c", _PARSE, str(model), "plain"],
                           capture_output=True, text=True, timeout=300, env=env)
    assert "Downloading" in plain.stderr and _downloads(tmp_path), plain.stdout + plain.stderr
    shutil.rmtree(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    # ... scn's does not: the package is unknown, nothing is fetched or written
    offline = subprocess.run(["unshare", "-n", sys.executable, "-c", _PARSE, str(model), "offline"],
                             capture_output=True, text=True, timeout=300, env=env)
    assert "refused:" in offline.stdout and "unknown package 'drake_models'" in offline.stdout, offline.stdout
    assert "Downloading" not in offline.stderr and not _downloads(tmp_path)


@needs_unshare
def test_scn_check_of_a_model_with_a_remote_mesh_stays_offline(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "scn.toml").write_text("")
    write_model(project, "package://drake_models/veggies/assets/bob.obj")
    (project / "main.scn").write_text(SCENARIO.format(url="models/robot.urdf"))
    env = _offline_env(tmp_path)
    proc = subprocess.run(["unshare", "-n", *PYTHON, "check", "main.scn", "--steps", "10"], cwd=project,
                          capture_output=True, text=True, timeout=300, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert f"main.scn:{MODEL_LINE}:1: error[SCN502]" in output and "Traceback" not in output
    assert "Downloading" not in output and not _downloads(tmp_path)


# ---- never opened: strace ---------------------------------------------------------------------------

needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@needs_strace
@pytest.mark.parametrize("case", ["walk", "file-url"])
def test_strace_shows_the_outside_file_is_never_opened(layout: tuple[Path, Path], tmp_path: Path,
                                                       case: str) -> None:
    project, outside = layout
    if case == "walk":
        (project / "users.scn").symlink_to(outside / "passwd")
        argv, secret = ["lint", "."], outside / "passwd"
    else:
        (project / "main.scn").write_text(SCENARIO.format(url=f"file://{outside / 'secret.urdf'}"))
        argv, secret = ["lint", "main.scn"], outside / "secret.urdf"
    log = tmp_path / "strace.log"
    proc = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log), *PYTHON, *argv],
                          capture_output=True, text=True, timeout=300)
    if "ptrace" in proc.stderr and proc.returncode != 1:
        pytest.skip(f"strace cannot trace here: {proc.stderr.strip()[:200]}")
    assert_refused(proc.returncode, proc.stdout + proc.stderr, "SCN005")
    opened = log.read_text()
    assert "openat(" in opened  # the trace saw the files it did open
    assert str(secret) not in opened and str(outside) not in opened


# ---- legitimate projects keep working ------------------------------------------------------------------


def test_a_legitimate_project_lints_and_compiles(layout: tuple[Path, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    project, _ = layout
    write_model(project)
    (project / "parts").mkdir()
    (project / "parts" / "rewards.scn").write_text("let effort = 0.01\n")
    main = SCENARIO.format(url="models/robot.urdf").replace(
        "reward { -pendulum.theta.q^2 as cost }",
        'include "parts/rewards.scn"\nreward { -pendulum.theta.q^2 - effort * pendulum.theta.v^2 as cost }')
    assert "parts/rewards.scn" in main
    (project / "main.scn").write_text(main)
    (project / "drake.scn").write_text(SCENARIO.format(url="package://drake/examples/pendulum/Pendulum.urdf"))
    for name in ("main.scn", "drake.scn"):
        code, output = lint(capsys, name)
        assert code == 0, output
        code, out, err = run_cli(capsys, "compile", name, "-o", "build")
        assert code == 0, out + err
    assert modelfiles.resolve_url("models/robot.urdf", project) == project / "models" / "robot.urdf"


def test_allow_path_lets_an_outside_model_load(layout: tuple[Path, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    (outside / "bob.obj").write_text(TETRAHEDRON)
    (outside / "slider.urdf").write_text(URDF.format(mesh="bob.obj"))
    (project / "main.scn").write_text(SCENARIO.format(url="../outside/slider.urdf"))
    assert lint(capsys, "main.scn")[0] == 1
    code, output = lint(capsys, "--allow-path", "../outside", "main.scn")
    assert code == 0, output
    code, out, err = run_cli(capsys, "compile", "main.scn", "-o", "build", "--allow-path", str(outside))
    assert code == 0, out + err
    assert ALLOW_ENV not in os.environ  # the widening lasted only for the command
    assert lint(capsys, "main.scn")[0] == 1


@pytest.mark.parametrize("config", ["pyproject", "scn.toml"])
def test_allow_paths_in_the_configuration(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                                          config: str) -> None:
    project, outside = layout
    (outside / "bob.obj").write_text(TETRAHEDRON)
    (outside / "slider.urdf").write_text(URDF.format(mesh="bob.obj"))
    (project / "main.scn").write_text(SCENARIO.format(url="../outside/slider.urdf"))
    if config == "pyproject":
        (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.scn]\nallow_paths = ["../outside"]\n')
    else:
        (project / "scn.toml").write_text('allow_paths = ["../outside"]\n')
    code, output = lint(capsys, "main.scn")
    assert code == 0, output
    assert project_of(project).allowed == (outside.resolve(),)


def test_a_malformed_configuration_is_named_in_the_hint(layout: tuple[Path, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    project, _ = layout
    (project / "scn.toml").write_text('allow_paths = "../outside"\n')
    (project / "main.scn").write_text(SCENARIO.format(url="../outside/slider.urdf"))
    code, output = lint(capsys, "main.scn")
    assert_refused(code, output, "SCN005", f"main.scn:{MODEL_LINE}:1")
    assert "allow_paths in scn.toml must be a list" in output


def test_a_real_subprocess_refuses_and_exits_1(layout: tuple[Path, Path]) -> None:
    project, outside = layout
    (project / "users.scn").symlink_to(outside / "passwd")
    (project / "main.scn").write_text(SCENARIO.format(url=f"file://{outside / 'secret.urdf'}"))
    scn = Path(sys.executable).with_name("scn")
    command = [str(scn)] if scn.exists() else PYTHON
    proc = subprocess.run([*command, "lint", "--format", "json", "."], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and MARKER not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "SCN901" not in proc.stdout
    found = {(Path(d["file"]).name, d["code"], d["line"]) for d in json.loads(proc.stdout)}
    assert {("users.scn", "SCN005", None), ("main.scn", "SCN005", MODEL_LINE)} <= found, found
