"""The compiler: a validated `Scenario` -> a Drake `Diagram` (`CompiledScenario`).

Stages, one module each: `plant` (the MultibodyPlant), `actuation` (controllers and direct
actuation), `signals` (the values expressions read, gathered into one vector), `expressions`
(expressions as a Drake system; `symbolic` compiles them to `pydrake.symbolic`), `randomize`
(per-episode and per-step draws written into a context), `rebuild` (per-build draws) and
`diagram` (everything wired, with the agent's ports). `artifacts` writes what `scn compile`
outputs and reads it back.
"""

from scenario_dsl.compiler.diagram import CompiledScenario, compile_scenario
from scenario_dsl.compiler.plant import CompileError

__all__ = ["CompileError", "CompiledScenario", "compile_scenario"]
