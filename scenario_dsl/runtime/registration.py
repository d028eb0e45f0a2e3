"""Gymnasium ids for scn, registered on import.

- `scn/<name>-v0` for each bundled scenario (the `scenarios/` folder), with `max_episode_steps`
  from its episode's time limit: `gymnasium.make("scn/box_flipup-v0")`;
- `scn/Scenario-v0` for any file: `gymnasium.make("scn/Scenario-v0", path="my.scn")` (its own
  time limit still truncates the episode; `ScenarioEnv` enforces it).

Keyword arguments of `gymnasium.make` (`seed`, `render_mode`, parameters) reach `make_env`.
A bundled file that does not load is skipped with a warning: one broken file must not take
every id down with it. A piece meant to be included (no `scenario` line) is skipped quietly.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym

from scenario_dsl.lang.diagnostics import ScenarioError, Severity
from scenario_dsl.lang.loader import analyze_file

NAMESPACE = "scn"
_HERE = Path(__file__).resolve().parent.parent  # scenario_dsl/
BUNDLED_DIRS = (_HERE / "scenarios", _HERE.parent / "scenarios")


def bundled_scenarios() -> list[Path]:
    """The bundled `.scn` files (the package's own folder first, then the source tree's)."""
    for folder in BUNDLED_DIRS:
        if folder.is_dir():
            return sorted(folder.glob("*.scn"))
    return []


def make_from_path(path: str | Path, **kwargs: Any) -> gym.Env:
    """The entry point of `scn/Scenario-v0`."""
    from scenario_dsl.runtime.env import make_env  # Drake loads when an env is made, not at registration

    return make_env(Path(path), **kwargs)


def register_scenarios() -> list[str]:
    """Register the ids above (idempotent); returns the ids of the bundled scenarios."""
    ids = []
    for path in bundled_scenarios():
        analysis = analyze_file(path)
        if analysis.scenario is None and not any(d.level is Severity.ERROR for d in analysis.diagnostics):
            continue  # a piece meant to be included (no `scenario` line): nothing to register
        if not analysis.ok or analysis.scenario is None:
            error = ScenarioError(analysis.diagnostics)
            warnings.warn(f"scn: bundled scenario {path.name} does not load ({error}); not registered", stacklevel=2)
            continue
        scenario = analysis.scenario
        env_id = f"{NAMESPACE}/{scenario.name}-v0"
        ids.append(env_id)
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="scenario_dsl.runtime.env:make_env",
                         kwargs={"path_or_scenario": str(path)}, max_episode_steps=scenario.episode.max_steps)
    if f"{NAMESPACE}/Scenario-v0" not in gym.registry:
        gym.register(f"{NAMESPACE}/Scenario-v0", entry_point="scenario_dsl.runtime.registration:make_from_path")
    return ids


BUNDLED_IDS = register_scenarios()
