"""The expression IR of `model` (`Const`, `Signal`, `Apply`) evaluated with NumPy: the one
reference meaning of every function, shared by the sampler (random `let`s and draws, many
episodes at once) and the compiler (its NumPy backend, and the check of its symbolic one).

Values have a trailing axis of `size or 1` elements (a scalar is one element), booleans are
1.0/0.0, and leading batch axes broadcast. Scalars broadcast over vectors; `norm` of a vector is
its Euclidean norm, of a scalar its absolute value; `min`/`max` of one argument reduce over it,
of several act element by element; `x mod p` is `x - p*floor(x/p)`; `wrap(x)` lands in
[-pi, pi); any nonzero value is true. Outside the functions' domains NumPy follows IEEE (inf,
NaN, with NumPy's RuntimeWarning).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from scenario_dsl.lang.model import Apply, Const, Expr, Signal

SignalKey = tuple[str, str, str]  # (source, name, attribute)

Array = npt.NDArray[np.float64]
Thunk = Callable[[Any], Array]  # environment -> value (trailing axis of `size or 1`)


def signal_key(signal: Signal) -> SignalKey:
    """The identity of a signal: two leaves with the same key read the same value."""
    return (signal.source, signal.name, signal.attribute)


def collect_signals(exprs: Iterable[Expr]) -> list[Signal]:
    """The distinct `Signal` leaves of `exprs` (by key), in first-seen order (depth first)."""
    seen: dict[SignalKey, Signal] = {}

    def walk(expr: Expr) -> None:
        if isinstance(expr, Signal):
            seen.setdefault(signal_key(expr), expr)
        elif isinstance(expr, Apply):
            for arg in expr.args:
                walk(arg)

    for expr in exprs:
        walk(expr)
    return list(seen.values())


def evaluate(expr: Expr, values: Mapping[SignalKey, npt.ArrayLike]) -> Array:
    """The value of `expr` with each signal read from `values` (by `signal_key`).

    A signal's value has shape `batch + (size or 1,)`; a plain number stands for a scalar.
    The batch dimensions (none, or e.g. `(N,)` for N episodes) broadcast across signals, and
    the result has shape `batch + (expr.size or 1,)`. Raises `KeyError` for a missing signal
    and `ValueError` for a malformed value or IR.
    """
    arrays: dict[SignalKey, Array] = {}
    for signal in collect_signals([expr]):
        key, width = signal_key(signal), signal.size or 1
        value = np.asarray(values[key], dtype=np.float64)
        value = value.reshape(1) if value.ndim == 0 else value
        if value.shape[-1] != width:
            raise ValueError(f"{'.'.join(key)}: a value of shape {value.shape}, expected (..., {width})")
        arrays[key] = value
    return compile_expr(expr, lambda s: _read_key(signal_key(s)))(arrays)


def _read_key(key: SignalKey) -> Thunk:
    return lambda env: env[key]


def _concat(*parts: Array) -> Array:
    if all(p.ndim == 1 for p in parts):
        return np.concatenate(parts)
    if all(p.ndim <= 2 for p in parts):  # one batch axis (N episodes): no Python-level broadcasting
        batch: tuple[int, ...] = (max(p.shape[0] for p in parts if p.ndim == 2),)
    else:
        batch = np.broadcast_shapes(*(p.shape[:-1] for p in parts))
    # Slice assignment broadcasts each part in C: cheaper than `broadcast_to` + `concatenate`
    # when a reset evaluates `[shift[0], shift[1], 0]` for one episode.
    out = np.empty((*batch, sum(p.shape[-1] for p in parts)))
    at = 0
    for p in parts:
        width = p.shape[-1]
        out[..., at:at + width] = p
        at += width
    return out


def _where(condition: npt.NDArray[np.bool_], a: Array, b: Array) -> Array:
    return np.where(condition, a, b)


def _as_float(fn: Callable[..., Any]) -> Callable[..., Array]:
    return lambda *args: fn(*args).astype(np.float64)


_PI, _TAU = np.pi, 2 * np.pi
# fn -> f(arrays) -> array, each argument with its trailing element axis (broadcasting).
_ELEMENTWISE: dict[str, Callable[..., Array]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "mod": lambda x, p: x - p * np.floor(x / p), "neg": np.negative, "pos": lambda x: x,
    "sq": lambda x: x * x, "abs": np.abs, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "atan2": np.arctan2, "sqrt": np.sqrt,
    "exp": np.exp, "log": np.log, "floor": np.floor, "ceil": np.ceil, "sign": np.sign,
    "wrap": lambda x: x - _TAU * np.floor((x + _PI) / _TAU),
    "clip": lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    "where": lambda c, a, b: _where(c != 0, a, b),
    "lt": _as_float(np.less), "le": _as_float(np.less_equal), "gt": _as_float(np.greater),
    "ge": _as_float(np.greater_equal), "eq": _as_float(np.equal), "ne": _as_float(np.not_equal),
    "and": _as_float(np.logical_and), "or": _as_float(np.logical_or), "not": lambda x: (x == 0).astype(np.float64),
    "vector": _concat,
}
# fn -> f(array) -> array with a trailing axis of 1: reductions over a vector.
_REDUCE: dict[str, Callable[[Array], Array]] = {
    "norm": lambda x: np.sqrt((x * x).sum(axis=-1, keepdims=True)),
    "sum": lambda x: x.sum(axis=-1, keepdims=True),
    "min": lambda x: x.min(axis=-1, keepdims=True),
    "max": lambda x: x.max(axis=-1, keepdims=True),
}


def compile_expr(expr: Expr, leaf: Callable[[Signal], Thunk]) -> Thunk:
    """`expr` as nested closures over an environment that `leaf(signal)` reads; sizes are
    checked here, once, against the IR's declared sizes."""
    width = expr.size or 1
    if isinstance(expr, Const):
        constant = np.broadcast_to(np.asarray(expr.value, dtype=np.float64), (width,)).copy()
        return lambda env: constant
    if isinstance(expr, Signal):
        return leaf(expr)
    fn, args = expr.fn, expr.args
    widths = [a.size or 1 for a in args]
    if fn in ("pow", "index"):
        number = _constant(args[1], "the exponent of pow" if fn == "pow" else "an index")
        base = compile_expr(args[0], leaf)
        if fn == "pow":
            _check(expr, widths[0] == width)
            return lambda env: np.power(base(env), number)
        if not -widths[0] <= number < widths[0]:
            raise ValueError(f"index {number:g} outside a {widths[0]}-vector")
        _check(expr, width == 1)
        i = int(number) % widths[0]
        return lambda env: base(env)[..., i:i + 1]
    thunks = [compile_expr(a, leaf) for a in args]
    if fn == "norm" and args[0].size is None:
        fn = "abs"  # of a scalar
    if fn == "dot":
        _check(expr, len(args) == 2 and width == 1 and _broadcastable(widths))
        a, b = thunks
        return lambda env: (a(env) * b(env)).sum(axis=-1, keepdims=True)
    if fn in _REDUCE and len(args) == 1 and (fn in ("norm", "sum") or args[0].size is not None):
        _check(expr, width == 1)
        reduce, (x,) = _REDUCE[fn], thunks
        return lambda env: reduce(x(env))
    if fn in ("min", "max"):
        pick = np.minimum if fn == "min" else np.maximum
        _check(expr, _broadcastable(widths) and max(widths) == width)
        return lambda env: functools.reduce(pick, [t(env) for t in thunks])
    if fn not in _ELEMENTWISE:
        raise ValueError(f"unknown function `{fn}`")
    _check(expr, sum(widths) == width if fn == "vector" else _broadcastable(widths) and max(widths) == width)
    op = _ELEMENTWISE[fn]
    if len(thunks) == 1:
        (x,) = thunks
        return lambda env: op(x(env))
    if len(thunks) == 2:
        x, y = thunks
        return lambda env: op(x(env), y(env))
    return lambda env: op(*[t(env) for t in thunks])


def _broadcastable(widths: Sequence[int]) -> bool:
    return len({w for w in widths if w != 1}) <= 1


def _check(expr: Apply, ok: bool) -> None:
    if not ok:
        sizes = ", ".join(str(a.size) for a in expr.args)
        raise ValueError(f"`{expr.fn}` declares size {expr.size} for arguments of sizes {sizes}")


def _constant(expr: Expr, what: str) -> float:
    if not isinstance(expr, Const) or isinstance(expr.value, list):
        raise ValueError(f"{what} must be a constant number")
    return float(expr.value)
