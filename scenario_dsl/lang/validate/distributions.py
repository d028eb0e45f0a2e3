"""Distributions: a distribution's family, arguments, units and length, `rpy(roll, pitch, yaw)` of
angles or scalar distributions, and the module-level checks of a distribution's parameters
(`_check_distribution`) and of the smallest value it draws (`_support_low`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.model import DISTRIBUTIONS, ROTATIONS, Distribution
from scenario_dsl.lang.typecheck import Failed
from scenario_dsl.lang.units import ANGLE, DIMENSIONLESS, UNITS, Dim, UnitError, a, example_unit, parse_unit
from scenario_dsl.lang.validate.context import Context, _flat, where
from scenario_dsl.support.suggest import did_you_mean


class DistributionChecks(Context):
    """Distributions and `rpy`."""

    def _distribution(self, expr: ast.Expr, dim: Dim | None, size: int | None, known: bool) -> Distribution | None:
        """A distribution for a target of dimension `dim` (None: any) and length `size` (None: a
        scalar; checked when `known`). A scalar distribution may be drawn for a vector target."""
        if not isinstance(expr, ast.Call) or expr.func.name not in _DIST_ARGS:
            self.error("SCN205", "expected a distribution", expr.span,
                       "distributions: " + ", ".join(f"{k}({', '.join(v)})" for k, v in _DIST_ARGS.items()))
            return None
        family = expr.func.name
        names = _DIST_ARGS[family]
        args = list(expr.args)
        if len(args) > len(names) or (len(args) + len(expr.kwargs) < len([n for n in names if not n.endswith("?")])):
            self.error("SCN305", f"`{family}` takes ({', '.join(n.rstrip('?') for n in names)})", expr.span, None)
            return None
        if family == "rpy":
            return self._rpy(expr)
        params: dict[str, Any] = {}
        ok = True
        accepted = [n.rstrip("?") for n in names]
        values: list[tuple[ast.Ident | None, str, ast.Expr]] = [
            (None, n, v) for n, v in zip(accepted, args, strict=False)]
        values += [(k.name, k.name.name, k.value) for k in expr.kwargs]
        dim_reported = False
        for ident, key, arg in values:
            if key not in accepted:
                self.error("SCN305", f"`{family}` has no parameter `{key}`", (ident or arg).span,
                           did_you_mean(key, accepted) or f"its parameters: {', '.join(accepted) or 'none'}")
                ok = False
                continue
            unitless = key in ("p", "weights", "sigma") or family in ("lognormal",)
            scoped = arg if expr.unit is None or unitless else ast.Group(arg.span, arg, expr.unit)
            try:
                typed = self.check.constant(scoped, self._constant_scope(f"for `{family}`"))
            except Failed:
                ok = False
                continue
            if typed.constant is None:  # SCN307, reported
                ok = False
                continue
            if dim is not None and typed.dim is not None and typed.dim != dim and not unitless and key != "values":
                if not dim_reported:  # once per distribution: `uniform(1, 2) m` has one wrong unit, not two
                    self.error("SCN302", f"drawing {a(typed.dim)} for {a(dim)}", arg.span if expr.unit is None
                               else expr.span, f"give it in {example_unit(dim)}" if dim != DIMENSIONLESS
                               else "a scale has no unit")
                dim_reported = True
                ok = False
            params[key] = typed.constant
        if not ok:
            return None
        problem = _check_distribution(family, params)
        if problem:
            self.error("SCN405", problem, expr.span, "adaptive(low, high, min, max, step): the range starts at "
                       "[low, high] and moves within [min, max]" if family == "adaptive" else None)
            return None
        lengths = {len(v) for k, v in params.items() if isinstance(v, list) and k not in ("values", "weights")}
        dist_size = lengths.pop() if len(lengths) == 1 else None
        if family == "uniform_rotation":
            dist_size = 4
        if known and dist_size is not None and size != dist_size and family not in _ROTATIONS:
            takes = "a number" if size is None else f"{size} numbers"
            self.error("SCN303", f"drawing a {dist_size}-vector for a target that takes {takes}", expr.span,
                       "draw one number" if size is None else f"give {size} numbers, or one for all of them")
            return None
        return Distribution(family=family, params=params, size=dist_size, where=where(expr.span))  # type: ignore[arg-type]

    def _rpy(self, expr: ast.Call) -> Distribution | None:
        """`rpy(roll, pitch, yaw)`: each angle a constant or a scalar distribution. A unit after
        the call (`rpy(0, 0, uniform(-180, 180)) deg`) applies to every angle, which then give none."""
        params: dict[str, Any] = {}
        ok = True
        if expr.unit is not None:
            try:
                _, unit_dim = parse_unit(expr.unit)
            except UnitError as exc:
                self.error("SCN301", f"unknown unit `{exc.name}`", expr.span,
                           did_you_mean(exc.name, list(UNITS)) or "known units: " + ", ".join(UNITS))
                return None
            if unit_dim not in (ANGLE, DIMENSIONLESS):
                self.error("SCN302", f"`rpy` takes angles, `{expr.unit}` is {a(unit_dim)}", expr.span,
                           f"give them in {example_unit(ANGLE)}")
                return None
        values = [*zip(("roll", "pitch", "yaw"), expr.args, strict=False),
                  *((k.name.name, k.value) for k in expr.kwargs)]
        for key, arg in values:
            if key not in ("roll", "pitch", "yaw") or key in params:
                self.error("SCN305", f"`rpy` takes `{key}` once" if key in params else f"`rpy` has no angle `{key}`",
                           arg.span, "`rpy(roll, pitch, yaw)`")
                ok = False
                continue
            if isinstance(arg, ast.Call) and arg.func.name in _DIST_ARGS:
                if arg.func.name in _ROTATIONS:
                    self.error("SCN308", f"an angle of `rpy` is one number, not a `{arg.func.name}`", arg.span,
                               "draw the angle from a scalar distribution, e.g. uniform(-30, 30) deg")
                    ok = False
                    continue
                if arg.unit is not None and expr.unit is not None:
                    self.error("SCN302", f"this angle has a unit of its own, and `rpy(...) {expr.unit}` gives one "
                               "to every angle", arg.span, "give the unit once: after `rpy(...)` or after each angle")
                    ok = False
                    continue
                inner = arg if expr.unit is None else dataclasses.replace(arg, unit=expr.unit)
                angle = self._distribution(inner, ANGLE, None, True)
                if angle is None:
                    ok = False
                elif angle.size is not None:
                    self.error("SCN304", f"an angle of `rpy` is one number, this draws {angle.size}", arg.span, None)
                    ok = False
                else:
                    params[key] = angle
                continue
            scoped = arg if expr.unit is None else ast.Group(arg.span, arg, expr.unit)
            try:
                typed = self.check.constant(scoped, self._constant_scope("for `rpy`"))
            except Failed:
                ok = False
                continue
            if typed.constant is None:  # SCN307, reported
                ok = False
            elif isinstance(typed.constant, list):
                self.error("SCN304", "an angle of `rpy` is one number", arg.span, None)
                ok = False
            elif not math.isfinite(float(typed.constant)):
                self.error("SCN405", "an angle of `rpy` must be finite", arg.span, None)
                ok = False
            elif typed.dim is not None and typed.dim not in (ANGLE, DIMENSIONLESS):
                self.error("SCN302", f"an angle of `rpy` is an angle, this is {a(typed.dim)}", arg.span,
                           f"give it in {example_unit(ANGLE)}")
                ok = False
            else:
                params[key] = float(typed.constant)
        missing = [k for k in ("roll", "pitch", "yaw") if k not in params]
        if ok and missing:
            self.error("SCN305", f"`rpy` takes (roll, pitch, yaw): {', '.join(missing)} missing", expr.span, None)
        if not ok or missing:
            return None
        return Distribution(family="rpy", params=params, size=3, where=where(expr.span))


# distribution -> parameter names (a trailing ? marks an optional one)
_DIST_ARGS = DISTRIBUTIONS
_ROTATIONS = ROTATIONS  # whole rotations: for a body's `rpy` or a quaternion


_EXACT_INTEGERS = 2**53  # the bounds of `integers`: past them, whole numbers are not all floats (nor int64s)
_REACH = 20  # standard deviations a normal draw is assumed to stay within (NumPy's never pass about 14)
_LOG_MAX = math.log(1.7976931348623157e308)  # exp of more overflows


def _check_distribution(family: str, p: dict[str, Any]) -> str | None:
    """What is wrong with a distribution's parameters, or None: the rules of each family, and
    parameters whose draws NumPy cannot make or that overflow a float (a huge `integers` bound,
    a `uniform` wider than the largest float, a `normal` or `lognormal` that reaches infinity
    within `_REACH` standard deviations, `truncnormal` bounds too far from the mean to compute,
    `choice` weights whose sum overflows)."""
    def pairs(a: str, b: str) -> list[tuple[float, float]]:
        x, y = _flat(p[a]), _flat(p[b])
        if len(x) != len(y) and 1 not in (len(x), len(y)):
            raise ValueError(f"`{a}` and `{b}` have different lengths")
        n = max(len(x), len(y))
        return [(x[i % len(x)], y[i % len(y)]) for i in range(n)]

    for key, value in p.items():
        unbounded = family == "truncnormal" and key in ("low", "high")  # truncnormal(0, 1, 0, inf): a half-normal
        if not unbounded and not all(math.isfinite(x) for x in _flat(value)):
            return f"`{key}` of {family} must be finite"
    try:
        if family in ("uniform", "loguniform", "integers"):
            for lo, hi in pairs("low", "high"):
                if lo >= hi and not (family == "integers" and lo == hi):
                    return f"{family}(low, high) needs low < high, got {lo:g} and {hi:g}"
                if family == "loguniform" and lo <= 0:
                    return f"loguniform needs low > 0, got {lo:g}"
                if family == "integers" and not (lo.is_integer() and hi.is_integer()):
                    return "integers(low, high) takes whole numbers"
                if family == "integers" and max(abs(lo), abs(hi)) > _EXACT_INTEGERS:
                    return (f"integers(low, high) takes whole numbers within +-2^53 ({_EXACT_INTEGERS:,}), "
                            f"where every whole number is a float; got {lo:g} and {hi:g}")
                if family == "uniform" and not math.isfinite(hi - lo):
                    return f"uniform({lo:g}, {hi:g}): the width of the range overflows a float"
        elif family in ("normal", "lognormal"):
            spread = "std" if family == "normal" else "sigma"
            for mean, s in pairs("mean", spread):
                if s <= 0:
                    return f"{family} needs {spread} > 0, got {s:g}"
                reach = abs(mean) + _REACH * s
                if family == "normal" and not math.isfinite(reach):
                    return (f"normal({mean:g}, {s:g}) draws values that overflow a float "
                            f"(|mean| + {_REACH} std must be finite)")
                if family == "lognormal" and mean + _REACH * s > _LOG_MAX:
                    return (f"lognormal({mean:g}, {s:g}) draws values that overflow a float (exp(mean + {_REACH} "
                            f"sigma) must be finite: mean + {_REACH} sigma at most {_LOG_MAX:.1f})")
        elif family == "truncnormal":
            for _, s in pairs("mean", "std"):
                if s <= 0:
                    return f"truncnormal needs std > 0, got {s:g}"
            for lo, hi in pairs("low", "high"):
                if lo >= hi:
                    return f"truncnormal needs low < high, got {lo:g} and {hi:g}"
            lows, highs, means, stds = (_flat(p[k]) for k in ("low", "high", "mean", "std"))
            for i in range(max(len(lows), len(highs), len(means), len(stds))):
                mean, std = means[i % len(means)], stds[i % len(stds)]
                for key, bound in (("low", lows[i % len(lows)]), ("high", highs[i % len(highs)])):
                    if math.isfinite(bound) and not math.isfinite((bound - mean) / std):
                        return (f"truncnormal: `{key}` {bound:g} is too many standard deviations ({std:g}) from "
                                f"the mean {mean:g} to compute")
        elif family == "adaptive":
            low, high, lo, hi, step = (float(_flat(p[k])[0]) for k in ("low", "high", "min", "max", "step"))
            if any(len(_flat(v)) != 1 for v in p.values()):
                return "adaptive(low, high, min, max, step) draws one number: give numbers, not vectors"
            if not lo <= low <= high <= hi:
                return (f"adaptive(low, high, min, max, step) needs min <= low <= high <= max, got {low:g}, {high:g}, "
                        f"{lo:g}, {hi:g}")
            if step <= 0:
                return f"adaptive needs step > 0, got {step:g}"
        elif family == "bernoulli":
            if any(not 0 <= x <= 1 for x in _flat(p["p"])):
                return "bernoulli(p) needs 0 <= p <= 1"
        elif family == "choice":
            values = _flat(p["values"])
            weights = p.get("weights")
            if weights is not None:
                w = _flat(weights)
                if len(w) != len(values):
                    return f"choice has {len(values)} values and {len(w)} weights"
                if any(x < 0 for x in w) or sum(w) <= 0:
                    return "choice weights must be non-negative and sum to a positive number"
                if not math.isfinite(sum(w)):
                    return "choice weights must sum to a finite number (scale them down)"
    except ValueError as exc:
        return str(exc)
    return None


def _support_low(dist: Distribution) -> float | None:
    """The smallest value a distribution can draw (-inf when unbounded)."""
    p = dist.params
    if dist.family in ("uniform", "truncnormal", "loguniform", "integers"):
        return min(_flat(p["low"]))  # type: ignore[arg-type]
    if dist.family == "adaptive":  # the range may widen to its hard bounds
        return min(_flat(p["min"]))  # type: ignore[arg-type]
    if dist.family == "normal":
        return -math.inf
    if dist.family in ("lognormal",):
        return 0.0
    if dist.family == "choice":
        return min(_flat(p["values"]))  # type: ignore[arg-type]
    return None


def _support_high(dist: Distribution) -> float | None:
    """The largest value a distribution can draw (inf when unbounded; None: not a number's)."""
    p = dist.params
    if dist.family in ("uniform", "truncnormal", "loguniform", "integers"):
        return max(_flat(p["high"]))  # type: ignore[arg-type]
    if dist.family == "adaptive":
        return max(_flat(p["max"]))  # type: ignore[arg-type]
    if dist.family in ("normal", "lognormal"):
        return math.inf
    if dist.family == "choice":
        return max(_flat(p["values"]))  # type: ignore[arg-type]
    if dist.family == "bernoulli":
        return 1.0
    if dist.family == "constant":
        return max(_flat(p["value"]))  # type: ignore[arg-type]
    return None
