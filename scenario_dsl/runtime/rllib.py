"""scn scenarios as RLlib environments: an env creator for `ray.tune.registry.register_env`.

    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env
    from scenario_dsl.runtime.rllib import env_creator

    register_env("scn", env_creator)
    config = PPOConfig().environment("scn", env_config={"path": "scenarios/pendulum.scn", "seed": 0})

`env_config` keys: `path` (a `.scn` file or a JSON file written by `scn compile`; resolved in
the process that builds the env, so on a cluster give a path valid on every node), `seed`
(optional), `params` (optional: the scenario's `param`s, as `make_env` takes them) and
`render_mode` (optional). With a seed, the `n`-th env (from 0) that env runner `w` makes of a
path and seed is seeded `seed + 10_000 * w + n` (counted in the runner's process: RLlib's new
API stack gives every env of a runner the same `vector_index`), so that no two envs of a run
share a seed. Without RLlib's `EnvContext` (a plain dict), `w` is 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenario_dsl.runtime.env import ScenarioEnv, make_env

SEED_STRIDE = 10_000  # env runners' seeds apart: room for that many envs per runner
_made: dict[tuple[str, int, int], int] = {}  # envs made in this process (an env runner), per path, seed, runner


def env_creator(env_config: Mapping[str, Any]) -> ScenarioEnv:
    """The scn env that `env_config` names (RLlib calls this in each env runner)."""
    if "path" not in env_config:
        raise ValueError("env_config needs `path`: the .scn file of the scenario")
    seed = env_config.get("seed")
    if seed is not None:
        worker = int(getattr(env_config, "worker_index", 0))
        key = (str(env_config["path"]), int(seed), worker)
        _made[key] = _made.get(key, -1) + 1
        seed = int(seed) + SEED_STRIDE * worker + _made[key] % SEED_STRIDE
    params = dict(env_config.get("params") or {})
    return make_env(str(env_config["path"]), seed=seed, render_mode=env_config.get("render_mode"), **params)


def register(name: str = "scn") -> str:
    """Register `env_creator` with Ray Tune under `name` (for RLlib's `.environment(name, ...)`)."""
    from ray.tune.registry import register_env  # Ray is an optional extra: imported when asked for

    register_env(name, env_creator)
    return name
