"""scn scenarios as RLlib environments: an env creator for `ray.tune.registry.register_env`.

    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env
    from scenario_dsl.runtime.rllib import env_creator

    register_env("scn", env_creator)
    config = PPOConfig().environment("scn", env_config={"path": "scenarios/pendulum.scn", "seed": 0})

`env_config` keys: `path` (a `.scn` file or a JSON file written by `scn compile`; resolved in
the process that builds the env, so on a cluster give a path valid on every node), `seed`
(optional), `params` (optional: the scenario's `param`s, as `make_env` takes them) and
`render_mode` (optional). With a seed, the env of RLlib's env runner `w` at vector index `v` is
seeded `seed + 10_000 * w + v`, so that no two envs of a run share a seed. Without RLlib's
`EnvContext` (a plain dict), the seed is used as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenario_dsl.runtime.env import ScenarioEnv, make_env

SEED_STRIDE = 10_000  # env runners' seeds apart: room for that many envs per runner


def env_creator(env_config: Mapping[str, Any]) -> ScenarioEnv:
    """The scn env that `env_config` names (RLlib calls this in each env runner)."""
    if "path" not in env_config:
        raise ValueError("env_config needs `path`: the .scn file of the scenario")
    seed = env_config.get("seed")
    if seed is not None:
        worker = int(getattr(env_config, "worker_index", 0))
        vector = int(getattr(env_config, "vector_index", 0))
        seed = int(seed) + SEED_STRIDE * worker + vector
    params = dict(env_config.get("params") or {})
    return make_env(str(env_config["path"]), seed=seed, render_mode=env_config.get("render_mode"), **params)


def register(name: str = "scn") -> str:
    """Register `env_creator` with Ray Tune under `name` (for RLlib's `.environment(name, ...)`)."""
    from ray.tune.registry import register_env  # Ray is an optional extra: imported when asked for

    register_env(name, env_creator)
    return name
