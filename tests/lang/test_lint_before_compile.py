"""Lint clean means compile clean for what the files declare (issue 19, item 2): mistakes the
scenario file and its model files show are found by `scn lint`, not by the compiler. What only a
build can find is listed in docs/diagnostics.md ("Found after lint"; tests/test_catalogues.py)."""

from __future__ import annotations

from pathlib import Path

from test_action_bounds import ARM

from scenario_dsl.lang.loader import analyze_text


def test_drawing_the_pose_of_a_body_a_declared_joint_holds_is_a_lint_error() -> None:
    """Lint clean means compile clean for what the file declares (issue 19, item 2): the compiler
    used to find this (SCN505); the front end sees the planar joint in the same file."""
    target = "body target { shape = sphere(1 cm); collision = false; mass = 0.1 kg; inertia = [1e-5, 1e-5, 1e-5] }\n"
    text = ARM.format(bounds="[-1, 1] N*m").replace(
        "episode {", target + "joint slide: planar(world -> target)\n"
        "randomize { target.x ~ uniform(-0.1, 0.1); upper.velocity ~ uniform(0, 1) }\nepisode {")
    found = analyze_text(text, "arm.scn").diagnostics
    assert [(d.code, d.hint) for d in found] == [
        ("SCN204", "draw the joint's state instead: `slide.x`"),
        ("SCN204", "draw the joint's state instead: `shoulder.v`")]
    free = text.replace("joint slide: planar(world -> target)\n", "").replace("; upper.velocity ~ uniform(0, 1)", "")
    assert analyze_text(free, "arm.scn").diagnostics == []  # a body without a parent joint is free



def test_drawing_the_pose_of_a_model_link_its_model_holds_is_a_lint_error(tmp_path: Path) -> None:
    text = """scenario acro
plant { time_step = 10 ms }
model acrobot from "package://drake/examples/acrobot/Acrobot.urdf"
action push = acrobot.elbow.effort in [-1, 1] N*m
observation o = plant.state
randomize { acrobot.upper_link.x ~ uniform(0.5, 1) m }
reward { -(plant.state[0]^2) as r }
episode { step = 50 ms; time_limit = 1 s }
"""
    (found,) = analyze_text(text, "acro.scn", base_dir=tmp_path).diagnostics
    assert found.code == "SCN204" and "joint `acrobot.shoulder` (revolute)" in found.message
    assert found.hint == "draw the joint's state instead: `acrobot.shoulder.q`"
