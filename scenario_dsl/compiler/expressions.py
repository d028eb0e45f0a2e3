"""Compiler stage 3: expressions (the `model.Const`/`Signal`/`Apply` IR) -> numbers.

Two ways to evaluate the same IR, with the same meaning:

- `evaluate(expr, values)`: the NumPy reference, vectorised over a leading batch of values
  (many episodes at once); used by the randomizer and by tests.
- `ExpressionSystem(outputs, signals)`: a Drake system reading the gathered signal vector
  and producing one output port per group of expressions. Its default backend compiles
  the IR to `pydrake.symbolic` (module `symbolic`) and evaluates it in C++ with a
  `SymbolicVectorSystem`, with no Python call per evaluation; `backend="numpy"` runs the
  reference evaluator in a `LeafSystem` instead. `bench/bench_reward.py` measures both.

Values are laid out the same everywhere: a value has a trailing axis of `size or 1`
elements (a scalar is one element), and booleans are 1.0/0.0. Semantics: scalars broadcast
over vectors; `norm` of a vector is its Euclidean norm, of a scalar its absolute value;
`min`/`max` of one argument reduce over it, of several act element by element; `x mod p`
is `x - p*floor(x/p)`; `wrap(x)` lands in [-pi, pi); any nonzero value is true.

Within the functions' domains the backends agree to rounding (1e-12 relative; `evaluate`
and the NumPy backend bit for bit). Outside them NumPy follows IEEE (inf, NaN, with NumPy's
usual RuntimeWarning) while the symbolic backend raises when the port is evaluated:
`RuntimeError` for a division by zero, `ValueError` for the other domain errors (module
`symbolic` has the list). NaN inputs propagate in both.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydrake.symbolic import Expression, MakeVectorVariable, Variable
from pydrake.systems.framework import BasicVector, Context, Diagram, DiagramBuilder, LeafSystem, System
from pydrake.systems.primitives import ConstantVectorSource, PassThrough, SymbolicVectorSystem

from scenario_dsl.compiler.symbolic import to_symbolic
from scenario_dsl.lang.model import Apply, Const, Expr, Signal

SignalKey = tuple[str, str, str]  # (source, name, attribute)
Backend = Literal["symbolic", "numpy"]
DEFAULT_BACKEND: Backend = "symbolic"  # read when a system is built; measured faster, see bench/bench_reward.py

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


# ---- the NumPy reference --------------------------------------------------------------------

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
    return _compile(expr, lambda s: _read_key(signal_key(s)))(arrays)


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


def _compile(expr: Expr, leaf: Callable[[Signal], Thunk]) -> Thunk:
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
        base = _compile(args[0], leaf)
        if fn == "pow":
            _check(expr, widths[0] == width)
            return lambda env: np.power(base(env), number)
        if not -widths[0] <= number < widths[0]:
            raise ValueError(f"index {number:g} outside a {widths[0]}-vector")
        _check(expr, width == 1)
        i = int(number) % widths[0]
        return lambda env: base(env)[..., i:i + 1]
    thunks = [_compile(a, leaf) for a in args]
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


# ---- the Drake system -----------------------------------------------------------------------

class ExpressionSystem(Diagram):
    """Drake system evaluating groups of expressions over the gathered signal vector.

    Input port "signals": each of `signals` in order, `size or 1` numbers each. One output
    port per key of `outputs`, named after it: the values of its expressions concatenated
    (each `size or 1` numbers, booleans 1.0/0.0). `backend="symbolic"` is a
    `SymbolicVectorSystem` per output, evaluated in C++; `backend="numpy"` is one Python
    `LeafSystem` running `evaluate`'s closures; None takes `DEFAULT_BACKEND`.

    `continuous` must be True when the diagram this system goes into has continuous state
    (a PID's integral, a continuous plant). Drake's Diagram then asks every subsystem for time
    derivatives, and a stateless `SymbolicVectorSystem` answers by aborting the process
    (Drake 1.51: `DoCalcTimeDerivatives(): condition 'dynamics_.size() > 0' failed`); with
    `continuous` each symbolic system carries one constant continuous state (derivative 0),
    which costs a little per derivative evaluation. Without continuous state, leave it False:
    the extra state would make the simulator integrate a diagram that had nothing to integrate.
    The NumPy backend needs neither. Raises `ValueError` when an expression reads a signal
    missing from `signals` or its IR is malformed.
    """

    def __init__(self, outputs: Mapping[str, Sequence[Expr]], signals: Sequence[Signal], *,
                 backend: Backend | None = None, continuous: bool = False) -> None:
        super().__init__()
        self.backend: Backend = backend or DEFAULT_BACKEND
        self.signals = list(signals)
        known = {signal_key(s) for s in self.signals}
        for missing in collect_signals(e for exprs in outputs.values() for e in exprs):
            if signal_key(missing) not in known:
                raise ValueError(f"signal {'.'.join(signal_key(missing))} is not among the system's signals")
        builder = DiagramBuilder()
        if self.backend == "numpy":
            leaf = builder.AddNamedSystem("numpy_expressions", _NumpyExpressions(outputs, self.signals))
            builder.ExportInput(leaf.get_input_port(), "signals")
            for name in outputs:
                builder.ExportOutput(leaf.GetOutputPort(name), name)
        elif self.backend == "symbolic":
            _build_symbolic(builder, outputs, self.signals, continuous)
        else:
            raise ValueError(f"unknown backend {self.backend!r}: use 'symbolic' or 'numpy'")
        builder.BuildInto(self)


def _build_symbolic(builder: DiagramBuilder, outputs: Mapping[str, Sequence[Expr]], signals: Sequence[Signal],
                    continuous: bool) -> None:
    """One `SymbolicVectorSystem` per output, so that each port computes only its own expressions."""
    variables = {signal_key(s): list(MakeVectorVariable(s.size or 1, ".".join(signal_key(s)))) for s in signals}
    inputs = [v for s in signals for v in variables[signal_key(s)]]
    exported = False
    for name, exprs in outputs.items():
        elements = [e for expr in exprs for e in to_symbolic(expr, variables)]
        system: System
        if not elements:
            system = builder.AddNamedSystem(name, ConstantVectorSource(_untyped(np.zeros(0))))
        else:
            state = [Variable(f"{name}_constant_state")] if continuous else []  # see ExpressionSystem
            dynamics = [Expression(0.0)] if continuous else []
            system = builder.AddNamedSystem(name, SymbolicVectorSystem(
                state=_untyped(state), dynamics=_untyped(dynamics), input=_untyped(inputs), output=_untyped(elements)))
            if inputs and exported:
                builder.ConnectInput("signals", system.get_input_port())
            elif inputs:
                builder.ExportInput(system.get_input_port(), "signals")
                exported = True
        builder.ExportOutput(system.get_output_port(), name)
    if not exported:  # keep the "signals" port even when nothing reads it
        sink = builder.AddNamedSystem("signals", PassThrough(len(inputs)))
        builder.ExportInput(sink.get_input_port(), "signals")


class _NumpyExpressions(LeafSystem):
    """The NumPy backend: `evaluate`'s closures over a view of the input vector."""

    def __init__(self, outputs: Mapping[str, Sequence[Expr]], signals: Sequence[Signal]) -> None:
        super().__init__()
        offsets: dict[SignalKey, slice] = {}
        start = 0
        for s in signals:
            offsets[signal_key(s)] = slice(start, start + (s.size or 1))
            start += s.size or 1
        self._input = self.DeclareVectorInputPort("signals", start)
        ticket = self.input_port_ticket(self._input.get_index()) if start else self.nothing_ticket()
        for name, exprs in outputs.items():
            thunks = [_compile(e, lambda s: _read_slice(offsets[signal_key(s)])) for e in exprs]
            size = sum(e.size or 1 for e in exprs)
            self.DeclareVectorOutputPort(name, size, self._calculator(thunks, start == 0),
                                         prerequisites_of_calc={ticket})

    def _calculator(self, thunks: list[Thunk], no_input: bool) -> Callable[[Context, BasicVector], None]:
        def calc(context: Context, output: BasicVector) -> None:
            x = np.zeros(0) if no_input else self._input.Eval(context)
            if len(thunks) == 1:
                output.SetFromVector(_untyped(thunks[0](x)))
            elif thunks:
                output.SetFromVector(_untyped(np.concatenate([t(x) for t in thunks])))

        return calc


def _read_slice(part: slice) -> Thunk:
    return lambda x: x[part]


def _untyped(value: Any) -> Any:
    """`value` typed `Any`: pydrake's stubs spell arrays `ndarray[float64, ...]` (and lists of
    symbolic variables as object arrays), which no NumPy or list type satisfies."""
    return value
