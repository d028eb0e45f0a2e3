"""What `scn check` does to an environment: the two standard checkers, then random steps.

`check_environment(env, steps=N, seed=S)` runs Gymnasium's `check_env` and
stable-baselines3's `check_env` on the env (their warnings are collected, not printed), then
takes N uniformly random actions from a seeded reset, resetting when an episode ends, and
returns a `CheckReport` with the spaces, the rewards seen (overall and per named term), the
episodes' ends and the throughput. A checker's failure is reported, not raised, and so is an
error the env raises during the random steps, except a `ScnError` (a `require` that always
rejects, a draw Drake refuses, a step over its budget): that is a problem of the scenario, with
its code and place, and propagates for the command line to report.

`check_batch(scenario, worlds, steps, seed)` (`scn check --worlds N`) steps N copies of the
scenario in one simulator (`runtime.batch_env`) with random actions and reports the throughput.
"""

from __future__ import annotations

import re
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from scenario_dsl.lang.diagnostics import ScnError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Gymnasium colours its warnings


@dataclass
class CheckReport:
    """The outcome of `check_environment`; `ok` is False when a checker failed."""

    observation_space: str
    action_space: str
    failures: list[str] = field(default_factory=list)  # "gymnasium: ...", "stable-baselines3: ..."
    warnings: list[str] = field(default_factory=list)
    steps: int = 0
    episodes_ended: Counter[str] = field(default_factory=Counter)  # reason -> count
    reward_min: float = float("nan")
    reward_max: float = float("nan")
    reward_mean: float = float("nan")
    term_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    steps_per_second: float = float("nan")
    resets_per_second: float = float("nan")
    drawn: dict[str, Any] = field(default_factory=dict)  # the first episode's randomization

    @property
    def ok(self) -> bool:
        return not self.failures


def check_environment(env: gym.Env[Any, Any], *, steps: int = 1000, seed: int = 0) -> CheckReport:
    """Check `env` with both checkers, then take `steps` random steps (see the module docstring)."""
    report = CheckReport(_describe(env.observation_space), _describe(env.action_space))
    _run_checkers(env, report)
    if steps > 0:
        try:
            _random_steps(env, steps, seed, report)
        except ScnError:
            raise
        except Exception as exc:  # the env raises (a `require` that always rejects, ...): a failure
            report.failures.append(f"random steps: {type(exc).__name__}: {exc}")
    return report


def _run_checkers(env: gym.Env[Any, Any], report: CheckReport) -> None:
    from gymnasium.utils.env_checker import check_env as gymnasium_check
    from stable_baselines3.common.env_checker import check_env as sb3_check

    checks = (("gymnasium", lambda: gymnasium_check(env, skip_render_check=True, skip_close_check=True)),
              ("stable-baselines3", lambda: sb3_check(env, warn=True, skip_render_check=True)))
    for name, check in checks:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                check()
            except ScnError:  # the scenario's problem (a draw, a require, a step's budget), not the API's
                raise
            except Exception as exc:  # an assertion or error of the checker: the env breaks the API
                report.failures.append(f"{name}: {type(exc).__name__}: {exc}")
        for w in caught:
            text = f"{name}: {_ANSI.sub('', str(w.message))}"
            if text not in report.warnings:
                report.warnings.append(text)


def _random_steps(env: gym.Env[Any, Any], steps: int, seed: int, report: CheckReport) -> None:
    env.action_space.seed(seed)
    rewards = np.empty(steps)
    terms: dict[str, list[float]] = {}
    reset_time = 0.0
    resets = 1
    start = time.perf_counter()
    _, info = env.reset(seed=seed)
    reset_time += time.perf_counter() - start
    report.drawn = dict(info.get("randomization", {}))
    for i in range(steps):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        rewards[i] = float(reward)
        for name, value in info.get("reward_terms", {}).items():
            terms.setdefault(name, []).append(value)
        if terminated or truncated:
            reason = info.get("termination_reason") or info.get("truncation_reason") or (
                "terminated" if terminated else "truncated")
            report.episodes_ended[str(reason)] += 1
            t = time.perf_counter()
            env.reset()
            reset_time += time.perf_counter() - t
            resets += 1
    elapsed = time.perf_counter() - start
    report.steps = steps
    report.reward_min, report.reward_max = float(rewards.min()), float(rewards.max())
    report.reward_mean = float(rewards.mean())
    report.term_ranges = {name: (min(v), max(v)) for name, v in terms.items()}
    report.steps_per_second = steps / max(elapsed - reset_time, 1e-9)
    report.resets_per_second = resets / max(reset_time, 1e-9)


def _describe(space: gym.Space[Any]) -> str:
    if isinstance(space, gym.spaces.Dict):
        return "Dict(" + ", ".join(f"{key}: {_describe(sub)}" for key, sub in space.spaces.items()) + ")"
    if isinstance(space, gym.spaces.Box) and len(space.shape) == 3:  # an image: its bounds are its type's
        return f"Box{space.shape} {space.dtype} [{space.low.flat[0]:g}, {space.high.flat[0]:g}]"
    if isinstance(space, gym.spaces.Box):
        low, high = np.unique(space.low), np.unique(space.high)
        bounds = (f"[{low[0]:g}, {high[0]:g}]" if len(low) == 1 and len(high) == 1
                  else f"low={np.array2string(space.low, precision=3)} high={np.array2string(space.high, precision=3)}")
        return f"Box{space.shape} {space.dtype} {bounds}"
    return str(space)


@dataclass
class BatchReport:
    """What `check_batch` measured of `worlds` copies of a scenario in one simulator."""

    worlds: int
    steps: int  # batch steps taken (each steps every world once)
    steps_per_second: float  # env steps (of all worlds) per second of wall time
    episodes_ended: int
    failures: list[str] = field(default_factory=list)

    @property
    def per_world(self) -> float:
        return self.steps_per_second / self.worlds


def check_batch(scenario: Any, worlds: int, steps: int, seed: int) -> BatchReport:
    """Random steps of a `ScenarioBatchEnv` of `worlds` worlds (`steps` env steps in all, at
    least one batch step), inside SB3's `VecCheckNan`, which fails on a NaN or infinite
    observation, reward or action; the worlds' throughput."""
    from stable_baselines3.common.vec_env import VecCheckNan

    from scenario_dsl.runtime.batch_env import ScenarioBatchEnv  # only when --worlds is given

    venv = VecCheckNan(ScenarioBatchEnv(scenario, worlds, seed=seed), raise_exception=True)
    report = BatchReport(worlds, max(1, steps // worlds), float("nan"), 0)
    rng = np.random.default_rng(seed)
    space: Any = venv.action_space  # a Box: scn compiles no other action space
    actions = rng.uniform(space.low, space.high, size=(report.steps, worlds, *space.shape))
    try:
        venv.reset()
        start = time.perf_counter()
        for action in actions:
            _, _, dones, _ = venv.step(action)
            report.episodes_ended += int(np.count_nonzero(dones))
        report.steps_per_second = report.steps * worlds / max(time.perf_counter() - start, 1e-9)
    except ScnError:
        raise
    except Exception as exc:
        report.failures.append(f"worlds: {type(exc).__name__}: {exc}")
    finally:
        venv.close()
    return report
