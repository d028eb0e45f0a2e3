"""`scn landscape`: the expected return as a function of one scenario parameter, raw and
randomized-smoothed, with zero- and first-order estimates of the smoothed curve's gradient (the
second half of MIT 6.421 lecture 18; Suh, Simchowitz, Zhang and Tedrake, ICML 2022).

For a `param` NAME, f(x) is the return of one episode of the scenario with NAME = x, from a fixed
seed (every evaluation draws the same randomization: common random numbers), acted by a policy
or, without one, by the neutral action (the middle of the action's bounds) at every step.
Randomized smoothing replaces f by F(x) = E[f(x + σε)], ε ~ N(0, 1), estimated with M samples
(the same ε_1..ε_M at every grid point, so the curves are smooth in x). Its gradient F'(x):

- zero order (REINFORCE, the score function): mean_i (f(x + σε_i) - f(x)) ε_i / σ; f(x) is a
  baseline that lowers the variance and leaves the mean unchanged;
- first order (the pathwise gradient, what a differentiable simulator gives): mean_i f'(x + σε_i),
  each f' from Drake's AutoDiffXd where the scenario allows (`runtime.gradient`: no policy, a
  diagram that converts, a param that the context's numbers carry), else a central difference
  of the episode's return at step `h`, which is the same derivative wherever f is differentiable
  at the sample. At a discontinuity (a contact that happens or not) f' is 0 almost everywhere, so
  the first-order estimate misses the jump's contribution to F' and is biased, while the
  zero-order one is not.

Each estimate comes with its standard error (the samples' standard deviation over sqrt(M)).
The result is a CSV and a PNG; the same seed gives the same numbers.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scenario_dsl.lang.loader import load
from scenario_dsl.runtime.env import ScenarioEnv
from scenario_dsl.support.plots import pyplot

COLUMNS = ("x", "raw", "smoothed", "smoothed_se", "grad_zero", "grad_zero_se", "grad_first", "grad_first_se")


@dataclass(frozen=True)
class Landscape:
    """The curves at each grid point (arrays of the grid's length)."""

    param: str
    sigma: float
    samples: int
    x: np.ndarray
    raw: np.ndarray
    smoothed: np.ndarray
    smoothed_se: np.ndarray
    grad_zero: np.ndarray
    grad_zero_se: np.ndarray
    grad_first: np.ndarray
    grad_first_se: np.ndarray
    first_order: str = "central differences"  # how each f' was found: AutoDiffXd, differences, or a mix

    def rows(self) -> list[dict[str, float]]:
        # x to 12 significant digits: linspace's 0.6599999999999999 is 0.66
        return [{c: float(f"{getattr(self, c)[i]:.12g}") if c == "x" else float(getattr(self, c)[i])
                 for c in COLUMNS} for i in range(len(self.x))]


def episode_return(path: str | Path, param: str, value: float, *, seed: int, policy: Callable[[Any], Any] | None,
                   params: dict[str, Any] | None = None) -> float:
    """f(value): one episode's return with `param` = value, from `seed`."""
    scenario = load(path, params={**(params or {}), param: value})
    env = ScenarioEnv(scenario, seed=seed)
    try:
        observation, _ = env.reset(seed=seed)
        neutral = env.compiled.to_agent(env.compiled.neutral_action())
        total = 0.0
        while True:
            action = neutral if policy is None else policy(observation)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            if terminated or truncated:
                return total
    finally:
        env.close()


def landscape(f: Callable[[float], float], param: str, grid: Sequence[float], *, sigma: float, samples: int,
              seed: int = 0, h: float | None = None,
              derivative: Callable[[float], tuple[float, float] | None] | None = None) -> Landscape:
    """The curves of `f` over `grid` (see the module docstring). `derivative(x)`, when given,
    is (f(x), f'(x)) through AutoDiffXd, or None where it cannot say: the first-order estimate
    then takes a central difference at step `h` (default: sigma / 1000)."""
    if sigma <= 0 or samples < 2:
        raise ValueError("landscape needs sigma > 0 and at least 2 samples")
    step = sigma * 1e-3 if h is None else h
    cache: dict[float, float] = {}

    def at(x: float) -> float:
        if x not in cache:
            cache[x] = f(x)
        return cache[x]

    differentiated = [0, 0]  # samples with f' from AutoDiffXd, samples in all

    def slope(x: float) -> float:
        differentiated[1] += 1
        found = derivative(x) if derivative is not None else None
        if found is None:
            return (at(x + step) - at(x - step)) / (2 * step)
        differentiated[0] += 1
        cache.setdefault(x, found[0])
        return found[1]

    eps = np.random.default_rng(seed).standard_normal(samples)
    columns: dict[str, list[float]] = {c: [] for c in COLUMNS}
    for x in grid:
        first = np.array([slope(float(x + sigma * e)) for e in eps])  # first: AutoDiffXd gives f too
        base = at(float(x))
        values = np.array([at(float(x + sigma * e)) for e in eps])
        zero = (values - base) * eps / sigma
        root = math.sqrt(samples)
        for key, value in (("x", float(x)), ("raw", base), ("smoothed", values.mean()),
                           ("smoothed_se", values.std(ddof=1) / root), ("grad_zero", zero.mean()),
                           ("grad_zero_se", zero.std(ddof=1) / root), ("grad_first", first.mean()),
                           ("grad_first_se", first.std(ddof=1) / root)):
            columns[key].append(float(value))
    arrays = {k: np.asarray(v) for k, v in columns.items()}
    done, total = differentiated
    method = "AutoDiffXd" if done == total else "central differences" if not done else \
        f"AutoDiffXd at {done} of {total} samples, central differences at the rest"
    return Landscape(param, sigma, samples, **arrays, first_order=method)


def write_csv(result: Landscape, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(result.rows())


def plot(result: Landscape, path: Path, title: str) -> None:
    """The return (raw and smoothed, with a band of two standard errors) above the gradient
    estimates (zero and first order, with their bands)."""
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    x = result.x
    top.plot(x, result.raw, ".-", color="tab:gray", label="f(x): one episode's return")
    top.plot(x, result.smoothed, color="tab:blue", label=f"smoothed, σ = {result.sigma:g} ({result.samples} samples)")
    top.fill_between(x, result.smoothed - 2 * result.smoothed_se, result.smoothed + 2 * result.smoothed_se,
                     color="tab:blue", alpha=0.2)
    top.set_ylabel("return")
    top.set_title(title)
    top.legend(fontsize="small")
    top.grid(alpha=0.3)
    for values, se, color, label in ((result.grad_zero, result.grad_zero_se, "tab:orange", "zero order"),
                                     (result.grad_first, result.grad_first_se, "tab:green",
                                      f"first order ({result.first_order})")):
        bottom.plot(x, values, color=color, label=label)
        bottom.fill_between(x, values - 2 * se, values + 2 * se, color=color, alpha=0.2)
    bottom.axhline(0, color="black", linewidth=0.5)
    bottom.set_ylabel("estimated dF/dx")
    bottom.set_xlabel(result.param)
    bottom.legend(fontsize="small")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
