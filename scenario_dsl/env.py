"""Kept so that `scenario_dsl.env` imports as before: the env lives in `scenario_dsl.runtime.env`."""

from scenario_dsl.runtime.env import EnvFactory, ScenarioEnv, make_env

__all__ = ["EnvFactory", "ScenarioEnv", "make_env"]
