"""The compiler: a validated `Scenario` -> a Drake `Diagram` (`CompiledScenario`).

Stages, one module each: `plant` (the MultibodyPlant), `signals` (the values expressions
read, gathered into one vector), `expressions` (expressions as a Drake system), `randomize`
(per-episode draws) and `diagram` (everything wired, with the agent's ports).
"""

from scenario_dsl.compiler.diagram import CompiledScenario, compile_scenario
from scenario_dsl.compiler.plant import CompileError

__all__ = ["CompileError", "CompiledScenario", "compile_scenario"]
