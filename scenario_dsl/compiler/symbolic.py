"""The expression IR (`model.Const`/`Signal`/`Apply`) -> `pydrake.symbolic` expressions.

`to_symbolic(expr, variables)` gives one `symbolic.Expression` per element of `expr`'s value
(`expr.size or 1` of them), built from the `Variable`s that stand for each signal; a
`SymbolicVectorSystem` then evaluates them in C++. The semantics are those of
`lang.evaluate.evaluate` (the NumPy reference), element by element:

- scalars broadcast over vectors; booleans are 1.0/0.0 and any nonzero value is true;
- Drake's symbolic has no `fmod`: `x mod p` is `x - p*floor(x/p)`, `wrap(x)` is
  `x - 2pi*floor((x + pi)/(2pi))`, in [-pi, pi);
- comparisons and `and`/`or`/`not` are `Formula`s, made numbers by `if_then_else`; a
  condition is compiled straight to a `Formula` (no `if_then_else` inside a test).

Drake simplifies while building (`x - x` is 0, `(x + y) - y` is x, sums are regrouped), so
results agree with NumPy to rounding, not bit for bit. Where NumPy returns inf or NaN for a
domain error, Drake's evaluation raises: `RuntimeError` for a division by zero (also in `mod`),
`ValueError` (std::domain_error) for sqrt/log of a negative, asin/acos outside [-1, 1] and a
negative base to a fractional power. NaN inputs propagate as in NumPy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydrake import symbolic as sym

from scenario_dsl.lang.model import Apply, Const, Expr, Signal

SignalKey = tuple[str, str, str]  # (source, name, attribute), as in `lang.evaluate.signal_key`
Elements = list[sym.Expression]
Truths = list[sym.Formula]

_ONE, _ZERO = sym.Expression(1.0), sym.Expression(0.0)


def _wrap(x: sym.Expression) -> sym.Expression:
    return x - math.tau * sym.floor((x + math.pi) / math.tau)


def _sign(x: sym.Expression) -> sym.Expression:
    return sym.if_then_else(x > 0.0, _ONE, sym.if_then_else(x < 0.0, -_ONE, _ZERO))


# Element by element, with broadcasting: fn -> f(scalar Expressions) -> Expression.
ELEMENTWISE: dict[str, Callable[..., sym.Expression]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "mod": lambda x, p: x - p * sym.floor(x / p),
    "neg": lambda x: -x, "pos": lambda x: x, "sq": lambda x: x * x,
    "abs": sym.abs, "sin": sym.sin, "cos": sym.cos, "tan": sym.tan, "asin": sym.asin, "acos": sym.acos,
    "atan": sym.atan, "atan2": sym.atan2, "sqrt": sym.sqrt, "exp": sym.exp, "log": sym.log,
    "floor": sym.floor, "ceil": sym.ceil, "sign": _sign, "wrap": _wrap,
    "clip": lambda x, lo, hi: sym.min(sym.max(x, lo), hi),
}
# Conditions: fn -> f(scalar Expressions or Formulas) -> Formula.
COMPARISONS: dict[str, Callable[[sym.Expression, sym.Expression], sym.Formula]] = {
    "lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
}
LOGIC: dict[str, Callable[..., sym.Formula]] = {
    "and": sym.logical_and, "or": sym.logical_or, "not": sym.logical_not,
}


def to_symbolic(expr: Expr, variables: Mapping[SignalKey, Sequence[sym.Variable]]) -> Elements:
    """The `expr.size or 1` elements of `expr` over `variables` (signal key -> one `Variable`
    per element). Raises `ValueError` for an unknown function, a size that does not match the
    arguments, or a signal missing from `variables`."""
    return _Compiler(variables).values(expr)


class _Compiler:
    def __init__(self, variables: Mapping[SignalKey, Sequence[sym.Variable]]) -> None:
        self.variables = variables

    def values(self, expr: Expr) -> Elements:
        width = expr.size or 1
        if isinstance(expr, Const):
            values = expr.value if isinstance(expr.value, list) else [expr.value] * width
            return _sized(expr, [sym.Expression(float(v)) for v in values])
        if isinstance(expr, Signal):
            key = (expr.source, expr.name, expr.attribute)
            if key not in self.variables:
                raise ValueError(f"signal {'.'.join(key)} is not among the system's signals")
            return _sized(expr, [sym.Expression(v) for v in self.variables[key]])
        return _sized(expr, self._apply(expr))

    def truths(self, expr: Expr) -> Truths:
        """The elements of a condition as `Formula`s (nonzero is true)."""
        if isinstance(expr, Apply) and expr.fn in COMPARISONS:
            return [COMPARISONS[expr.fn](a, b) for a, b in self._broadcast(expr, expr.args)]
        if isinstance(expr, Apply) and expr.fn in LOGIC:
            return [LOGIC[expr.fn](*row) for row in _rows(expr, [self.truths(a) for a in expr.args])]
        return [v != 0.0 for v in self.values(expr)]

    def _broadcast(self, expr: Apply, args: Sequence[Expr]) -> list[tuple[Any, ...]]:
        return _rows(expr, [self.values(a) for a in args])

    def _apply(self, expr: Apply) -> Elements:
        fn, args = expr.fn, expr.args
        if fn in ELEMENTWISE:
            return [ELEMENTWISE[fn](*row) for row in self._broadcast(expr, args)]
        if fn in COMPARISONS or fn in LOGIC:
            return [sym.if_then_else(t, _ONE, _ZERO) for t in self.truths(expr)]
        if fn == "pow":
            exponent = _constant(args[1], "the exponent of pow")
            return [sym.pow(x, exponent) for x in self.values(args[0])]
        if fn == "where":
            columns: list[list[Any]] = [self.truths(args[0]), self.values(args[1]), self.values(args[2])]
            return [sym.if_then_else(c, a, b) for c, a, b in _rows(expr, columns)]
        if fn in ("min", "max") and len(args) > 1:
            pick = sym.min if fn == "min" else sym.max
            return [functools.reduce(pick, row) for row in self._broadcast(expr, args)]
        if fn == "vector":
            return [e for a in args for e in self.values(a)]
        if fn == "index":
            items = self.values(args[0])
            i = int(_constant(args[1], "an index"))
            if not -len(items) <= i < len(items):
                raise ValueError(f"index {i} outside a {len(items)}-vector")
            return [items[i]]
        return [self._reduce(fn, expr)]

    def _reduce(self, fn: str, expr: Apply) -> sym.Expression:
        args = expr.args
        if fn == "norm":
            items = self.values(args[0])
            return sym.abs(items[0]) if args[0].size is None else sym.sqrt(sum((x * x for x in items), _ZERO))
        if fn == "sum":
            return sum(self.values(args[0]), _ZERO)
        if fn == "dot":
            return sum((a * b for a, b in self._broadcast(expr, args)), _ZERO)
        if fn in ("min", "max") and len(args) == 1:
            return functools.reduce(sym.min if fn == "min" else sym.max, self.values(args[0]))
        raise ValueError(f"unknown function `{fn}`")


def _rows(expr: Apply, columns: Sequence[list[Any]]) -> list[tuple[Any, ...]]:
    """Zip argument elements, repeating one-element (scalar) arguments to the widest."""
    width = max(len(c) for c in columns)
    for column in columns:
        if len(column) not in (1, width):
            raise ValueError(f"`{expr.fn}` of a {len(column)}-vector and a {width}-vector: sizes differ")
    return list(zip(*(c * width if len(c) == 1 else c for c in columns), strict=True))


def _sized(expr: Expr, elements: Elements) -> Elements:
    if len(elements) != (expr.size or 1):
        what = expr.fn if isinstance(expr, Apply) else expr.kind
        raise ValueError(f"`{what}` declares size {expr.size} but has {len(elements)} elements")
    return elements


def _constant(expr: Expr, what: str) -> float:
    if not isinstance(expr, Const) or isinstance(expr.value, list):
        raise ValueError(f"{what} must be a constant number")
    return float(expr.value)
