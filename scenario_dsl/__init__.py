"""scn: a scenario language for robot learning that compiles to Drake and Gymnasium.

Pipeline, one subpackage a stage (docs/architecture.md): `lang` (text -> parse tree -> AST ->
the validated pydantic `Scenario`) -> `sampling` (draws) -> `compiler` (Drake diagram) ->
`runtime` (Gymnasium env, vector envs) -> `train` (stable-baselines3 runs) -> `cli`, with
`emitters` rendering diagnostics and `support` beneath them all. `load`/`loads` run the front
end and raise `ScenarioError` with every diagnostic when a scenario has errors;
`make_env(path_or_scenario, seed=..., **params)` and `EnvFactory` (picklable, for
`SubprocVecEnv`) build environments.

`make_env`, `EnvFactory` and `compile_scenario` are imported on first use, so the front end
(and `scn lint`) starts without Drake, NumPy or Gymnasium.

Importing the package registers scn's gym ids (`scn/<name>-v0` for each bundled scenario,
`scn/Scenario-v0` with `path=`) with Gymnasium, Gymnasium's convention for environment packages
(`gym.register_envs(scenario_dsl)`, RL Zoo's `--gym-packages scenario_dsl`): at once when
Gymnasium is already imported, else as soon as it is, so a process that never uses Gymnasium
never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scenario_dsl.lang.diagnostics import Diagnostic, ScenarioError, Severity
from scenario_dsl.lang.loader import load, loads
from scenario_dsl.support.imports import when_imported
from scenario_dsl.support.version import __version__

if TYPE_CHECKING:
    from scenario_dsl.compiler import compile_scenario
    from scenario_dsl.runtime.env import EnvFactory, make_env

__all__ = ["Diagnostic", "EnvFactory", "ScenarioError", "Severity", "__version__", "compile_scenario", "load",
           "loads", "make_env"]

_LAZY = {"make_env": "scenario_dsl.runtime.env", "EnvFactory": "scenario_dsl.runtime.env",
         "compile_scenario": "scenario_dsl.compiler"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'scenario_dsl' has no attribute {name!r}")


def _register_gym_ids() -> None:
    import scenario_dsl.runtime.registration  # noqa: F401  (registers on import; Gymnasium is loaded by now)


when_imported("gymnasium", _register_gym_ids)
