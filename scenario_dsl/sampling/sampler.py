"""Vectorized sampling of a scenario's randomization: N episodes' draws at once.

`Sampler(scenario)` draws the `randomize` blocks of the chosen scopes with a NumPy `Generator`:
every `let x ~ ...` and every draw, in order, as arrays of shape `(n, width)`, then the block's
`require`s, redrawing the episodes that fail (rejection sampling, at most `max_tries` rounds per
block). It needs no Drake system: `scn sample` uses it directly, and the compiler's
`Randomizer` draws one episode with it and writes the values into a context.

Values are in SI units (the front end folds units). A draw's value is the target's new value:
`~` sets it, `+~` adds the draw to the target's nominal value, `*~` multiplies the nominal by it;
the nominal values come from the caller (`nominal=`), so nothing accumulates across episodes.
A scalar distribution drawn for a vector target draws each element independently.

`require`s that read only random `let`s and the block's (or an earlier block's) drawn targets
are checked here, vectorized; the others read the simulated scene (a joint that is not drawn, a
body's pose computed by the plant) and are left to the compiled diagram (`Sampler.scene_requirements`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from scenario_dsl.lang import model as m
from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.lang.evaluate import compile_expr
from scenario_dsl.sampling.adaptive import Schedule

Array = npt.NDArray[np.float64]
Value = float | list[float]
MAX_TRIES = 1000  # rounds of rejection sampling per block before `SamplingError`


class SamplingError(ScnError, RuntimeError):
    """The `require`s of a block rejected a draw `max_tries` times in a row (SCN411).

    `requirement` is the message (or the condition's place) of the requirement that rejected
    the most draws, `where` its place in the file, `acceptance` the fraction of draws accepted.
    """

    code = "SCN411"

    def __init__(self, requirement: str, where: m.Where | None, acceptance: float, attempts: int,
                 rejected: int) -> None:
        self.requirement, self.acceptance = requirement, acceptance
        super().__init__(f"randomization: `require` {requirement} rejected {rejected} of {attempts} draws; "
                         f"acceptance rate {acceptance:.3%}: some episodes failed {MAX_TRIES} draws in a row",
                         "widen the distributions or relax the requirement", where)


class DrawError(ScnError, ValueError):
    """NumPy could not draw a distribution that the validator let through (SCN405, at the
    distribution's place): the validator refuses the parameters it knows to fail, and this is
    the net under it (a draw never ends in NumPy's own `ValueError`, an unlocated SCN901)."""

    code = "SCN405"

    def __init__(self, name: str, dist: m.Distribution, problem: str, where: m.Where | None) -> None:
        super().__init__(f"`{name}` cannot be drawn from {dist.family}: {problem}",
                         "change the distribution's parameters", dist.where or where)


# ---- one distribution -----------------------------------------------------------------------

def _param(dist: m.Distribution, name: str) -> Array:
    return np.asarray(dist.params[name], dtype=np.float64)


def width_of(dist: m.Distribution, size: int | None = None) -> int:
    """How many numbers one draw of `dist` gives for a target of `size` numbers (None: its own)."""
    if dist.family == "uniform_rotation":
        return 4 if size is None else size
    if dist.family == "rpy":
        return 3 if size is None else size
    return size or dist.size or 1


def draw(dist: m.Distribution, rng: np.random.Generator, n: int, size: int | None = None) -> Array:
    """`n` independent draws of `dist`, shape `(n, width_of(dist, size))`."""
    width = width_of(dist, size)
    family = dist.family
    shape = (n, width)
    if family == "uniform_rotation":
        q = uniform_quaternions(rng, n)
        return q if width == 4 else quaternion_to_rpy(q)
    if family == "rpy":
        angles = np.stack([_component(dist.params[k], rng, n) for k in ("roll", "pitch", "yaw")], axis=1)
        return angles if width == 3 else rpy_to_quaternion(angles)
    if family == "choice":
        values = _param(dist, "values")
        weights = None if "weights" not in dist.params else _param(dist, "weights")
        p = None if weights is None else weights / np.sum(weights)
        if values.ndim == 2:  # vector values: one pick per episode
            return values[rng.choice(len(values), size=n, p=p)].reshape(n, -1)
        return values[rng.choice(len(values), size=shape, p=p)]
    sampler = _FAMILIES.get(family)
    if sampler is None:
        raise ValueError(f"unknown distribution `{family}`")
    return np.asarray(sampler(_prepared(dist, width), rng, shape), dtype=np.float64)


_PREPARED: dict[tuple[int, int], tuple[m.Distribution, dict[str, Array]]] = {}


def _prepared(dist: m.Distribution, width: int) -> dict[str, Array]:
    """`dist`'s parameters as arrays of `width` elements, computed once per distribution (a reset
    draws one episode: this saves most of its cost). Keyed by identity; the entry keeps `dist`
    alive so the identity is not reused."""
    key = (id(dist), width)
    entry = _PREPARED.get(key)
    if entry is None or entry[0] is not dist:
        if len(_PREPARED) > 10_000:
            _PREPARED.clear()
        params = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), (width,)) for k, v in dist.params.items()}
        entry = _PREPARED[key] = (dist, params)
    return entry[1]


def _component(value: Any, rng: np.random.Generator, n: int) -> Array:
    """An `rpy` component: a constant angle or a nested distribution (as a `Distribution` or its dict)."""
    if isinstance(value, m.Distribution):
        return draw(value, rng, n)[:, 0]
    if isinstance(value, dict):
        return draw(m.Distribution.model_validate(value), rng, n)[:, 0]
    return np.full(n, float(value))


def _truncnormal(p: Mapping[str, Array], rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    """Gaussian limited to [low, high], exactly (rejection with a proposal fitted to each element)."""
    out = np.empty(shape)
    for j in range(shape[1]):
        mean, std = float(p["mean"][j]), float(p["std"][j])
        low, high = float(p["low"][j]), float(p["high"][j])
        a, b = (low - mean) / std, (high - mean) / std
        # clipped: far out in a tail, mean + std * x rounds to an ulp outside [low, high]
        out[:, j] = np.clip(mean + std * truncated_standard_normal(rng, shape[0], a, b), low, high)
    return out


def truncated_standard_normal(rng: np.random.Generator, n: int, a: float, b: float) -> Array:
    """`n` draws of N(0, 1) limited to [a, b] (a < b). Proposals: N(0, 1) when [a, b] holds 0 and is
    wide; uniform on [a, b] when it is narrow; Robert's (1995) shifted exponential in a tail."""
    if b <= 0:  # the left tail: mirror the right one
        return -truncated_standard_normal(rng, n, -b, -a)
    out = np.empty(n)
    pending = np.arange(n)
    lo = max(a, 0.0)  # the point of [a, b] nearest 0 (a <= 0 < b gives 0)
    rate = (lo + math.hypot(lo, 2.0)) / 2.0  # hypot: lo * lo overflows past 1e154 standard deviations
    for _ in range(100_000):  # every proposal accepts with probability at least about 0.3
        k = pending.size
        if a <= 0 and b - a > 2.0:
            x = rng.standard_normal(k)
            ok = (x >= a) & (x <= b)
        elif a <= 0 or (b - lo) * max(lo, 1.0) <= 1.0:  # a narrow [a, b] around 0 too: the tail's x >= 0
            x = rng.uniform(a, b, k)
            ok = rng.random(k) <= np.exp((lo * lo - x * x) / 2.0)
        else:
            x = lo + rng.exponential(1.0 / rate, k)
            ok = (x <= b) & (rng.random(k) <= np.exp(-((x - rate) ** 2) / 2.0))
        out[pending[ok]] = x[ok]
        pending = pending[~ok]
        if not pending.size:
            return out
    raise RuntimeError(f"truncnormal: no draw in [{a:g}, {b:g}] standard deviations")


_Sampler = Callable[[Mapping[str, Array], np.random.Generator, tuple[int, int]], Array]
# Written with `random` and `standard_normal` (what NumPy's own `uniform`, `normal` and `lognormal`
# compute) rather than those: with array parameters they check their arguments on every call,
# which costs more than the draw itself when a reset draws one episode.
_FAMILIES: dict[str, _Sampler] = {
    "uniform": lambda p, rng, s: p["low"] + (p["high"] - p["low"]) * rng.random(s),
    "normal": lambda p, rng, s: p["mean"] + p["std"] * rng.standard_normal(s),
    "truncnormal": _truncnormal,
    "lognormal": lambda p, rng, s: np.exp(p["mean"] + p["sigma"] * rng.standard_normal(s)),
    # log(high) - log(low), not log(high / low): the ratio of loguniform(1e-10, 1e300) overflows
    "loguniform": lambda p, rng, s: np.exp(np.log(p["low"]) + (np.log(p["high"]) - np.log(p["low"])) * rng.random(s)),
    "integers": lambda p, rng, s: rng.integers(p["low"].astype(np.int64), p["high"].astype(np.int64),
                                               s, endpoint=True).astype(np.float64),
    "bernoulli": lambda p, rng, s: (rng.random(s) < p["p"]).astype(np.float64),
    "constant": lambda p, rng, s: np.broadcast_to(p["value"], s).copy(),
    # without a `Schedule` (the sampler's own, or the learner's): uniform on the starting range
    "adaptive": lambda p, rng, s: p["low"] + (p["high"] - p["low"]) * rng.random(s),
}


# ---- rotations ------------------------------------------------------------------------------

def uniform_quaternions(rng: np.random.Generator, n: int) -> Array:
    """`n` rotations uniform over SO(3) (Haar measure) as unit quaternions (w, x, y, z), w >= 0."""
    q = rng.standard_normal((n, 4))  # an isotropic Gaussian in R^4, normalized, is uniform on S^3
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q * np.where(q[:, :1] < 0, -1.0, 1.0)


def rpy_to_quaternion(rpy: Array) -> Array:
    """Drake's `RollPitchYaw(r, p, y).ToQuaternion()` (R = Rz(y) Ry(p) Rx(r)), vectorized: (n, 3) -> (n, 4)."""
    half = np.asarray(rpy, dtype=np.float64) / 2.0
    cr, cp, cy = np.cos(half).T
    sr, sp, sy = np.sin(half).T
    q = np.stack([cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy,
                  cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy], axis=1)
    return q * np.where(q[:, :1] < 0, -1.0, 1.0)


def quaternion_to_rpy(q: Array) -> Array:
    """Roll, pitch, yaw of unit quaternions (w, x, y, z), vectorized: (n, 4) -> (n, 3)."""
    w, x, y, z = np.asarray(q, dtype=np.float64).T
    roll = np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = np.arcsin(np.clip(2 * (w * y - z * x), -1.0, 1.0))
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return np.stack([roll, pitch, yaw], axis=1)


# ---- a scenario's blocks --------------------------------------------------------------------

@dataclass
class Samples:
    """N episodes' draws: `values[name]` has shape `(n, width)` (a `let` by its name, a draw by its
    target), with the rejection statistics of the `require`s."""

    values: dict[str, Array]
    n: int
    acceptance: float = 1.0  # accepted over drawn, per block with `require`s, multiplied (1.0 without)
    rejections: dict[str, int] = field(default_factory=dict)  # requirement -> draws it rejected
    unchecked: list[str] = field(default_factory=list)  # requirements that read the simulated scene

    def episode(self, i: int) -> dict[str, Value]:
        """Episode `i`'s values as plain floats (a list for a vector): what `info` reports."""
        return {name: _plain(v[i]) for name, v in self.values.items()}


def _plain(row: Array) -> Value:
    return float(row[0]) if row.size == 1 else [float(x) for x in row]


def _target_key(target: str) -> tuple[str, str]:
    owner, _, attribute = target.rpartition(".")
    return owner, attribute


def requirement_label(requirement: m.Requirement) -> str:
    """How an error names a requirement: its message, else its place."""
    if requirement.message:
        return f'"{requirement.message}"'
    w = requirement.where
    return f"at line {w.line}, column {w.column}" if w else "(unnamed)"


class Sampler:
    """Draws the `randomize` blocks of `scopes` for N episodes at once (see the module docstring).

    `nominal` maps a draw's target to its nominal value (needed for `+~` and `*~`); `sizes` maps
    a target to its number of elements when the scenario does not say (a model's joint, an
    observation's noise). Missing nominals raise `KeyError` naming the target at construction.
    `schedule` holds the ranges of `adaptive(...)` draws and the curriculum stage's values, which
    every block reads like random `let`s (`sampling.adaptive`); its starting state by default.
    """

    def __init__(self, scenario: m.Scenario, *, scopes: Sequence[str] = ("episode",),
                 nominal: Mapping[str, npt.ArrayLike] | None = None, sizes: Mapping[str, int] | None = None,
                 max_tries: int = MAX_TRIES, schedule: Schedule | None = None) -> None:
        self.blocks = [b for b in scenario.randomizations if b.scope in scopes]
        self.schedule = schedule if schedule is not None else Schedule.of(scenario)
        self.nominal = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in (nominal or {}).items()}
        self.sizes = dict(sizes or {})
        for k, v in self.nominal.items():
            self.sizes.setdefault(k, v.size)
        self.max_tries = max_tries
        for block in self.blocks:
            for d in block.draws:
                if d.operation != "set" and d.target not in self.nominal:
                    op = "+~" if d.operation == "offset" else "*~"
                    raise KeyError(f"no nominal value for `{d.target}` (drawn with {op})")
        # Requirements the sampler can check: every signal they read is a random let or a drawn target.
        self.checked: list[list[m.Requirement]] = []
        self.scene_requirements: list[m.Requirement] = []
        known: set[tuple[str, str]] = {(name, "value") for name in (self.schedule.values if self.schedule else {})}
        for block in self.blocks:
            known |= {(let.name, "value") for let in block.lets}
            known |= {_target_key(d.target) for d in block.draws}
            mine = []
            for q in block.requirements:
                q = q.model_copy(update={"condition": _inline(q.condition, scenario)})
                if all((s.name, s.attribute) in known for s in _signals(q.condition)):
                    mine.append(q)
                else:
                    self.scene_requirements.append(q)
            self.checked.append(mine)

    @property
    def names(self) -> list[str]:
        """The quantities drawn, in order (lets by name, draws by target; a target drawn twice once)."""
        seen: dict[str, None] = {}
        for block in self.blocks:
            for let in block.lets:
                seen[let.name] = None
            for d in block.draws:
                seen[d.target] = None
        return list(seen)

    def sample(self, n: int, rng: np.random.Generator) -> Samples:
        """Draw `n` episodes; raises `SamplingError` when a block's `require`s reject too often."""
        values: dict[str, Array] = {}
        if self.schedule is not None:  # the curriculum stage's values, read like random lets
            values.update({k: np.broadcast_to(v, (n, v.size)).copy() for k, v in self.schedule.values.items()})
        acceptance = 1.0
        rejections: dict[str, int] = {}
        for block, requirements in zip(self.blocks, self.checked, strict=True):
            fresh = self._block(block, n, rng, values)
            if requirements:
                fresh, block_attempts = self._reject(block, requirements, fresh, values, n, rng, rejections)
                acceptance *= n / block_attempts
            values.update(fresh)
        return Samples(values, n, acceptance, rejections, [requirement_label(q) for q in self.scene_requirements])

    def _reject(self, block: m.Randomization, requirements: list[m.Requirement], fresh: dict[str, Array],
                earlier: dict[str, Array], n: int, rng: np.random.Generator,
                rejections: dict[str, int]) -> tuple[dict[str, Array], int]:
        """Redraw the episodes of `fresh` that fail a requirement until none does (or raise)."""
        pending = np.arange(n)
        attempts = 0
        counts = [0] * len(requirements)
        candidate = fresh
        for _ in range(self.max_tries):
            attempts += pending.size
            env = {**{k: v[pending] for k, v in earlier.items()}, **candidate}
            ok = np.ones(pending.size, dtype=bool)
            for i, q in enumerate(requirements):
                passed = _truth(q.condition, env)
                counts[i] += int(np.count_nonzero(~passed))
                ok &= passed
            for k, v in candidate.items():
                fresh[k][pending[ok]] = v[ok]
            pending = pending[~ok]
            if not pending.size:
                break
            candidate = self._block(block, pending.size, rng, {k: v[pending] for k, v in earlier.items()})
        for q, c in zip(requirements, counts, strict=True):
            rejections[requirement_label(q)] = rejections.get(requirement_label(q), 0) + c
        if pending.size:
            worst = max(range(len(requirements)), key=lambda i: counts[i])
            raise SamplingError(requirement_label(requirements[worst]), requirements[worst].where,
                                (n - pending.size) / attempts, attempts, counts[worst])
        return fresh, attempts

    def _block(self, block: m.Randomization, n: int, rng: np.random.Generator,
               earlier: Mapping[str, Array]) -> dict[str, Array]:
        """One block's lets and draws for `n` episodes (`earlier`: earlier blocks' values, n rows)."""
        out: dict[str, Array] = {}
        env = dict(earlier)
        adaptive = self.schedule is not None and self.schedule.ranges
        for let in block.lets:
            if adaptive and let.value.family == "adaptive":
                out[let.name] = env[let.name] = self.schedule.draw(let.name, rng, (n, width_of(let.value)))  # type: ignore[union-attr]
                continue
            try:
                out[let.name] = env[let.name] = draw(let.value, rng, n)
            except (ValueError, RuntimeError, OverflowError, FloatingPointError) as exc:
                raise DrawError(let.name, let.value, str(exc), let.where) from None
        for d in block.draws:
            size = self.sizes.get(d.target)
            if isinstance(d.value, m.Distribution) and adaptive and d.value.family == "adaptive":
                value = self.schedule.draw(d.target, rng, (n, width_of(d.value, size)))  # type: ignore[union-attr]
            elif isinstance(d.value, m.Distribution):
                try:
                    value = draw(d.value, rng, n, size)
                except (ValueError, RuntimeError, OverflowError, FloatingPointError) as exc:
                    raise DrawError(d.target, d.value, str(exc), d.where) from None
            else:
                value = _evaluate(d.value, env, n)
            if d.operation == "offset":
                value = self.nominal[d.target] + value
            elif d.operation == "scale":
                value = self.nominal[d.target] * value
            if size is not None and value.shape[1] != size:
                value = _widened(value, (n, size))
            out[d.target] = env[d.target] = value
        return out


def _signals(expr: m.Expr) -> list[m.Signal]:
    if isinstance(expr, m.Signal):
        return [expr]
    if isinstance(expr, m.Apply):
        return [s for a in expr.args for s in _signals(a)]
    return []


def _inline(expr: m.Expr, scenario: m.Scenario) -> m.Expr:
    """`expr` with parameters replaced by their values and observations by their expressions."""
    if isinstance(expr, m.Signal) and expr.source == "param" and expr.name in scenario.params:
        value = scenario.params[expr.name]
        return m.Const(value=value, size=len(value) if isinstance(value, list) else None)
    if isinstance(expr, m.Signal) and expr.source == "observation":
        observation = next((o for o in scenario.observations if o.name == expr.name), None)
        return expr if observation is None else _inline(observation.value, scenario)
    if isinstance(expr, m.Apply):
        return expr.model_copy(update={"args": [_inline(a, scenario) for a in expr.args]})
    return expr


_COMPILED: dict[int, tuple[m.Expr, Callable[[Mapping[str, Array]], Array]]] = {}


def _evaluate(expr: m.Expr, env: Mapping[str, Array], n: int) -> Array:
    """An expression over random lets and drawn targets, for `n` episodes: shape (n, width).
    Compiled once per expression with the compiler's NumPy reference (`lang.evaluate.compile_expr`),
    reading a random let by its name and a drawn target by `owner.attribute`."""
    entry = _COMPILED.get(id(expr))
    if entry is None or entry[0] is not expr:
        def leaf(s: m.Signal) -> Callable[[Mapping[str, Array]], Array]:
            name = s.name if s.source == "random" else f"{s.name}.{s.attribute}"
            return lambda values: values[name]

        if len(_COMPILED) > 10_000:
            _COMPILED.clear()
        entry = _COMPILED[id(expr)] = (expr, compile_expr(expr, leaf))
    result = np.asarray(entry[1](env), dtype=np.float64)
    if result.ndim == 2 and result.shape[0] == n:
        return result.copy() if any(result is v for v in env.values()) else result  # never an alias
    return _widened(result, (n, result.shape[-1]))


def _widened(value: Array, shape: tuple[int, int]) -> Array:
    """A new array of `shape` holding `value` broadcast (slice assignment broadcasts in C: a few
    microseconds less than `np.broadcast_to(...).copy()`, which counts when a reset draws once)."""
    out = np.empty(shape)
    out[...] = value
    return out


def _truth(expr: m.Expr, env: Mapping[str, Array]) -> npt.NDArray[np.bool_]:
    n = next(iter(env.values())).shape[0] if env else 1
    value = _evaluate(expr, env, n)
    return np.all(value != 0, axis=1)


# ---- summaries (`scn sample`) ---------------------------------------------------------------

@dataclass(frozen=True)
class Statistic:
    """Mean, standard deviation, min and max of one drawn number (a vector's element `name[i]`)."""

    name: str
    mean: float
    std: float
    min: float
    max: float


def columns(samples: Samples) -> dict[str, Array]:
    """Each drawn number as one column of `n` values, by name (`x`, or `x[0]`, `x[1]` for a vector)."""
    out: dict[str, Array] = {}
    for name, v in samples.values.items():
        if v.shape[1] == 1:
            out[name] = v[:, 0]
        else:
            out.update({f"{name}[{i}]": v[:, i] for i in range(v.shape[1])})
    return out


def statistics(samples: Samples) -> list[Statistic]:
    """A `Statistic` per column of `samples`, in the order they are drawn."""
    return [Statistic(name, float(c.mean()), float(c.std()), float(c.min()), float(c.max()))
            for name, c in columns(samples).items()]
