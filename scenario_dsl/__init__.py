"""scn: a scenario language for robot learning that compiles to Drake and Gymnasium.

Pipeline, one module a stage: `source` (text) -> `parser` (Lark parse tree) -> `build` (AST,
`ast`) -> `validate` (the pydantic `Scenario` of `model`) -> `compiler` (Drake diagram) ->
`env` (Gymnasium env). `load`/`loads` run the front end and raise `ScenarioError` with every
diagnostic when a scenario has errors.
"""

from scenario_dsl.diagnostics import Diagnostic, ScenarioError, Severity
from scenario_dsl.loader import load, loads

__version__ = "0.1.0"
__all__ = ["Diagnostic", "ScenarioError", "Severity", "__version__", "load", "loads"]
