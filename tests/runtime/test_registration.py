"""`import scenario_dsl` registers scn's gym ids, Gymnasium's convention for environment packages
(`gym.register_envs(module)`, RL Zoo's `--gym-packages`), whichever of the two is imported first,
and a process that never imports Gymnasium (`scn lint`) never loads it."""

from __future__ import annotations

import subprocess
import sys

import pytest

MAKE = ("e = gym.make('scn/pendulum-v0'); o, _ = e.reset(seed=1); assert o.shape == (3,); "
        "print(e.spec.max_episode_steps)")


@pytest.mark.parametrize("imports", ["import gymnasium as gym; import scenario_dsl",
                                     "import scenario_dsl; import gymnasium as gym",
                                     "import gymnasium as gym; import scenario_dsl; gym.register_envs(scenario_dsl)"])
def test_importing_the_package_registers_the_bundled_ids(imports: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"{imports}; {MAKE}"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "200"  # pendulum.scn's 10 s at 50 ms steps, as `max_episode_steps`


def test_the_generic_id_takes_a_path() -> None:
    code = ("import scenario_dsl, gymnasium as gym; "
            "e = gym.make('scn/Scenario-v0', path='scenarios/cart_pole.scn'); print(e.observation_space.shape)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(4,)"


def test_a_process_that_only_lints_never_loads_gymnasium() -> None:
    code = ("import sys, scenario_dsl; from scenario_dsl.cli import main; main(['lint', 'scenarios']); "
            "print(sorted(m for m in ('gymnasium', 'numpy', 'pydrake', 'torch') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
