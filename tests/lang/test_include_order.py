"""An include acts as if the included file's statements were written in its place (docs/language.md).

The order of declarations fixes the layout of what a policy reads and writes (observation
entries, the plant's state, draws), so a scenario split over includes must load exactly as the
same statements written inline: these tests build both and compare them, through one level of
include and nested includes, with statements before and after each include.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scenario_dsl import load, loads, make_env
from scenario_dsl.compiler.artifacts import scenario_hash

HEADER = 'scenario order "statements through includes"\nplant { time_step = 10 ms; gravity = [0, 0, -9.81] m/s^2 }\n'

# Fragments by name; each is a piece of one scenario, placed inline or through includes.
ARM = """
body upper { mass = 1 kg; center_of_mass = [0, 0, 0.5] m; inertia = [0.1, 0.1, 0.01] }
joint shoulder: revolute(world -> upper, axis = [0, 1, 0]) { actuated { effort_limit = 5 N*m } }
"""
FOREARM = """
frame elbow_pivot on upper at (translation = [0, 0, 1] m)
body lower { mass = 0.5 kg; center_of_mass = [0, 0, 0.25] m; inertia = [0.05, 0.05, 0.01] }
joint elbow: revolute(elbow_pivot -> lower, axis = [0, 1, 0]) { damping = 0.1 N*m*s/rad }
"""
SLIDER = """
body cart { mass = 2 kg; inertia = [0.1, 0.1, 0.1] }
joint rail: prismatic(world -> cart, axis = [1, 0, 0]) { damping = 1 N*s/m }
"""
ACTION = "action torque = shoulder.effort in [-5, 5] N*m\n"
OBS_A = "observation angles = [shoulder.q, elbow.q]\n"
OBS_B = "observation speeds = [shoulder.v, elbow.v]\n"
OBS_C = "observation cart_state = [rail.q, rail.v]\n"
RAND_A = "randomize { shoulder.q ~ uniform(-1, 1) }\n"
RAND_B = "randomize { elbow.q ~ uniform(-0.5, 0.5); upper.mass *~ uniform(0.8, 1.2) }\n"
RAND_C = "randomize { rail.q ~ normal(0, 0.1) m }\n"
REWARD = "reward {\n    -(shoulder.q^2) as upright\n    -(0.01 * torque^2) as effort\n}\n"
EPISODE = "episode { step = 50 ms; time_limit = 2 s }\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _same_as_inline(root: Path, inline: str, folder: Path) -> None:
    included = load(root)
    written = loads(inline, base_dir=folder)
    assert [o.name for o in included.observations] == [o.name for o in written.observations]
    assert [j.name for j in included.joints] == [j.name for j in written.joints]
    assert scenario_hash(included) == scenario_hash(written)


def test_an_included_observation_keeps_its_place_between_the_including_files_own(tmp_path: Path) -> None:
    _write(tmp_path, "base.scn", OBS_B)
    root = _write(tmp_path, "top.scn", HEADER + ARM + FOREARM + ACTION + OBS_A + 'include "base.scn"\n' + OBS_C.replace(
        "rail.q, rail.v", "shoulder.q, elbow.v") + REWARD + EPISODE)
    scenario = load(root)
    assert [o.name for o in scenario.observations] == ["angles", "speeds", "cart_state"]


def _inc(path: str) -> str:
    return f'include "{path}"\n'


# layout -> (included files, the root file after HEADER, the same statements written inline after HEADER)
LAYOUTS = {
    "include_first": ({"parts/arm.scn": [ARM, FOREARM, OBS_A, RAND_A]},
                      [_inc("parts/arm.scn"), SLIDER, ACTION, OBS_B, OBS_C, RAND_B, RAND_C, REWARD, EPISODE],
                      [ARM, FOREARM, OBS_A, RAND_A, SLIDER, ACTION, OBS_B, OBS_C, RAND_B, RAND_C, REWARD, EPISODE]),
    "include_middle": ({"mid.scn": [SLIDER, OBS_B, RAND_B, REWARD]},
                       [ARM, FOREARM, ACTION, OBS_A, RAND_A, _inc("mid.scn"), OBS_C, RAND_C, EPISODE],
                       [ARM, FOREARM, ACTION, OBS_A, RAND_A, SLIDER, OBS_B, RAND_B, REWARD, OBS_C, RAND_C, EPISODE]),
    "include_last": ({"tail.scn": [OBS_C, RAND_C, REWARD, EPISODE]},
                     [ARM, FOREARM, SLIDER, ACTION, OBS_A, OBS_B, RAND_A, RAND_B, _inc("tail.scn")],
                     [ARM, FOREARM, SLIDER, ACTION, OBS_A, OBS_B, RAND_A, RAND_B, OBS_C, RAND_C, REWARD, EPISODE]),
    # top -> mid -> leaf, statements on both sides of each include
    "nested": ({"a/leaf.scn": [FOREARM, OBS_B, RAND_B], "a/mid.scn": [ARM, OBS_A, _inc("leaf.scn"), RAND_A, SLIDER]},
               [ACTION, _inc("a/mid.scn"), OBS_C, RAND_C, REWARD, EPISODE],
               [ACTION, ARM, OBS_A, FOREARM, OBS_B, RAND_B, RAND_A, SLIDER, OBS_C, RAND_C, REWARD, EPISODE]),
    # a file included twice counts once, at its first include
    "included_twice": ({"shared.scn": [SLIDER, OBS_C], "arm.scn": [ARM, FOREARM, _inc("shared.scn"), OBS_A]},
                       [_inc("arm.scn"), ACTION, OBS_B, _inc("shared.scn"), RAND_A, RAND_B, RAND_C, REWARD, EPISODE],
                       [ARM, FOREARM, SLIDER, OBS_C, OBS_A, ACTION, OBS_B, RAND_A, RAND_B, RAND_C, REWARD, EPISODE]),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_scenario_over_includes_loads_as_the_same_statements_written_inline(tmp_path: Path, layout: str) -> None:
    """Every kind of declaration (bodies, joints, the action, observations, draws, the reward)."""
    files, top, inline = LAYOUTS[layout]
    for name, parts in files.items():
        _write(tmp_path, name, "".join(parts))
    _same_as_inline(_write(tmp_path, "top.scn", HEADER + "".join(top)), HEADER + "".join(inline), tmp_path)


def test_the_env_observes_in_the_order_the_statements_read(tmp_path: Path) -> None:
    """What a policy reads: the observation vector of the built env, not just the model's list."""
    _write(tmp_path, "obs.scn", OBS_B)
    root = _write(tmp_path, "top.scn", HEADER + ARM + FOREARM + ACTION + OBS_A + 'include "obs.scn"\n' + REWARD
                  + EPISODE + "randomize { shoulder.q ~ uniform(0.2, 0.3); elbow.v ~ uniform(1, 2) }\n")
    env = make_env(root, seed=3)
    try:
        observation, _ = env.reset(seed=3)
        plant = env.compiled.plant
        context = plant.GetMyContextFromRoot(env.simulator.get_context())
        q = plant.GetPositions(context)
        v = plant.GetVelocities(context)
        shoulder, elbow = (plant.GetJointByName(name) for name in ("shoulder", "elbow"))
        expected = [q[shoulder.position_start()], q[elbow.position_start()],
                    v[shoulder.velocity_start()], v[elbow.velocity_start()]]
        np.testing.assert_allclose(observation, expected, rtol=1e-6)
        assert 1 <= observation[3] <= 2  # elbow.v, drawn: the included `speeds` come second
    finally:
        env.close()
