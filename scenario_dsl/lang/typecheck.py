"""Expressions: AST -> typed IR (`model.Const`/`Signal`/`Apply`), with names resolved, units
converted to SI, dimensions and vector lengths checked, and constants folded.

A `Typed` value carries the IR, its length (None for a scalar), its dimension (None when it
is unknown: plain numbers adapt to whatever they meet) and whether it is a truth value. The
`Scope` says what a name means where the expression stands. Pure Python: lint never imports
NumPy or Drake.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostics
from scenario_dsl.lang.model import DISTRIBUTIONS as CATALOGUE
from scenario_dsl.lang.model import Apply, Const, Expr, Signal
from scenario_dsl.lang.source import Span
from scenario_dsl.lang.units import ANGLE, DIMENSIONLESS, UNITS, Dim, UnitError, a, describe, parse_unit
from scenario_dsl.support.suggest import did_you_mean

Value = float | list[float]
CONSTANTS: dict[str, float] = {"pi": math.pi, "tau": math.tau, "inf": math.inf, "true": 1.0, "false": 0.0}


@dataclass(frozen=True)
class Typed:
    ir: Expr
    size: int | None = None
    dim: Dim | None = None
    boolean: bool = False

    @property
    def constant(self) -> Value | None:
        return self.ir.value if isinstance(self.ir, Const) else None


@dataclass
class SignalInfo:
    """What a dotted name reads: the IR leaf, its length and dimension."""

    signal: Signal
    dim: Dim | None


@dataclass
class Scope:
    """Names visible to an expression: constants and signal resolvers."""

    constants: dict[str, Typed] = field(default_factory=dict)  # params, constant lets
    bindings: dict[str, Typed] = field(default_factory=dict)  # lets over signals
    resolve_ref: Callable[[ast.Ref, Diagnostics], SignalInfo | None] | None = None
    signals_allowed: bool = True
    what: str = "here"  # "in a setting", used in SCN307 messages
    # Top-level `let`s are lowered on first use (raises Failed when the let itself failed).
    resolve_let: Callable[[str], Typed | None] | None = None
    # Bindings whose value had an error (already reported): a use fails quietly instead of `undefined name`.
    failed: set[str] = field(default_factory=set)

    def child(self) -> Scope:
        """A scope for one expression or block. It shares `constants` (which only the validator's
        root scope writes, as it reads each `param`): copying them for each of a file's constant
        expressions made a file of n params and settings cost n^2. Its `bindings` and `failed`
        are its own."""
        return Scope(self.constants, dict(self.bindings), self.resolve_ref, self.signals_allowed, self.what,
                     self.resolve_let, set(self.failed))


class Failed(Exception):
    """An expression had an error (already reported); the caller skips what depends on it."""


# name -> (min args, max args); result shape rules are in _call
FUNCTIONS: dict[str, tuple[int, int]] = {
    "abs": (1, 1), "min": (1, 99), "max": (1, 99), "sin": (1, 1), "cos": (1, 1), "tan": (1, 1),
    "asin": (1, 1), "acos": (1, 1), "atan": (1, 1), "atan2": (2, 2), "sqrt": (1, 1), "exp": (1, 1),
    "log": (1, 1), "clip": (3, 3), "norm": (1, 1), "sum": (1, 1), "dot": (2, 2), "floor": (1, 1),
    "ceil": (1, 1), "sign": (1, 1), "where": (3, 3), "wrap": (1, 1), "sq": (1, 1),
}
DISTRIBUTIONS = tuple(d for d in CATALOGUE if d != "rpy")  # `rpy(...)` is a rotation built from angles
_ANGLE_IN = {"sin", "cos", "tan"}
_ANGLE_OUT = {"asin", "acos", "atan", "atan2", "wrap"}
_ELEMENTWISE = {"abs", "sin", "cos", "tan", "asin", "acos", "atan", "sqrt", "exp", "log", "floor", "ceil", "sign",
                "wrap", "sq"}

_PY: dict[str, Callable[..., float]] = {
    "abs": abs, "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "sqrt": math.sqrt, "exp": math.exp, "log": math.log,
    "floor": lambda x: float(math.floor(x)) if math.isfinite(x) else x,
    "ceil": lambda x: float(math.ceil(x)) if math.isfinite(x) else x,
    "sign": lambda x: float((x > 0) - (x < 0)), "sq": lambda x: x * x,
    "wrap": lambda x: x - 2 * math.pi * math.floor((x + math.pi) / (2 * math.pi)),
    "atan2": math.atan2, "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "mod": lambda a, b: a - b * math.floor(a / b), "pow": math.pow,
    "lt": lambda a, b: float(a < b), "le": lambda a, b: float(a <= b), "gt": lambda a, b: float(a > b),
    "ge": lambda a, b: float(a >= b), "eq": lambda a, b: float(a == b), "ne": lambda a, b: float(a != b),
    "and": lambda a, b: float(bool(a) and bool(b)), "or": lambda a, b: float(bool(a) or bool(b)),
    "neg": lambda a: -a, "pos": lambda a: a, "not": lambda a: float(not a),
    "clip": lambda x, lo, hi: min(max(x, lo), hi), "where": lambda c, a, b: a if c else b,
}
# Why a constant has no value, by function (SCN401 hints); math raises ValueError or OverflowError.
_DOMAIN_HINTS: dict[str, str] = {
    "sqrt": "sqrt takes numbers >= 0", "log": "log takes numbers > 0",
    "asin": "asin takes numbers from -1 to 1", "acos": "acos takes numbers from -1 to 1",
    "pow": "a negative number has no fractional power, and 0 no negative power",
    "sin": "the argument must be finite", "cos": "the argument must be finite", "tan": "the argument must be finite",
    "wrap": "the argument must be finite",
}
_OVERFLOW_HINT = "the result is larger than the largest float (about 1.8e308)"
_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "mod", "pow": "^"}
_BINARY_FN = {"+": "add", "-": "sub", "*": "mul", "/": "div", "mod": "mod", "^": "pow", "and": "and", "or": "or"}
_COMPARE_FN = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}


def _broadcast(fn: Callable[..., float], args: list[Value]) -> Value:
    sizes = {len(a) for a in args if isinstance(a, list)}
    if not sizes:
        return float(fn(*args))
    n = sizes.pop()
    return [float(fn(*(a[i] if isinstance(a, list) else a for a in args))) for i in range(n)]


def fold(fn: str, args: list[Value]) -> Value:
    """Evaluate a function over constant values (raises ArithmeticError/ValueError on domain errors)."""
    if fn == "vector":
        out: list[float] = []
        for a in args:
            out.extend(a if isinstance(a, list) else [a])
        return out
    if fn == "index":
        vec, i = args
        assert isinstance(vec, list) and not isinstance(i, list)
        return vec[int(i)]
    if fn in ("norm", "sum", "dot", "min", "max"):
        flat = [x for a in args for x in (a if isinstance(a, list) else [a])]
        if fn == "norm":
            return math.sqrt(sum(x * x for x in flat)) if isinstance(args[0], list) else abs(flat[0])
        if fn == "sum":
            return math.fsum(flat)
        if fn == "dot":  # a scalar broadcasts, as in the compiler's `evaluate`
            a, b = args
            n = len(a) if isinstance(a, list) else len(b) if isinstance(b, list) else 1
            xs, ys = (a if isinstance(a, list) else [a] * n), (b if isinstance(b, list) else [b] * n)
            return math.fsum(x * y for x, y in zip(xs, ys, strict=True))
        if len(args) == 1:
            return min(flat) if fn == "min" else max(flat)
        return _broadcast(min if fn == "min" else max, args)
    return _broadcast(_PY[fn], args)


class Checker:
    """Lowers expressions; reports problems into `diagnostics` and raises `Failed` past them."""

    def __init__(self, diagnostics: Diagnostics) -> None:
        self.diagnostics = diagnostics

    # -- entry points
    def lower(self, expr: ast.Expr, scope: Scope) -> Typed:
        method: Callable[[Any, Scope], Typed] = getattr(self, "_" + type(expr).__name__.lower())
        return method(expr, scope)

    def constant(self, expr: ast.Expr, scope: Scope) -> Typed:
        """Lower an expression that must be known before the simulation starts."""
        if type(expr) is ast.Number:  # most settings (`mass = 1 kg`): a number reads no scope
            return self._number(expr, scope)
        inner = scope.child()
        inner.signals_allowed = False
        typed = self.lower(expr, inner)
        if not isinstance(typed.ir, Const):
            self.error("SCN307", f"value must be a constant {scope.what}", expr.span,
                       "use numbers, parameters and `let` bindings of numbers here")
        return typed

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> Failed:
        self.diagnostics.add(code, message, span, hint)
        return Failed()

    # -- helpers
    def _with_unit(self, typed: Typed, unit: str | None, span: Span) -> Typed:
        if unit is None:
            return typed
        try:
            factor, dim = parse_unit(unit)
        except UnitError as exc:
            raise self.error("SCN301", f"unknown unit `{exc.name}`", span,
                             did_you_mean(exc.name, list(UNITS)) or "known units: " + ", ".join(UNITS)) from None
        if typed.dim is not None and typed.dim != DIMENSIONLESS:
            raise self.error("SCN302", f"`{unit}` given to a value that already has a unit ({describe(typed.dim)})",
                             span, "write the unit once")
        ir = typed.ir
        if factor != 1.0:
            ir = self._apply("mul", [ir, Const(value=factor)], typed.size, span)
        return Typed(ir, typed.size, dim, typed.boolean)

    def _apply(self, fn: str, args: list[Expr], size: int | None, span: Span) -> Expr:
        """`fn` over `args`, folded when every argument is a constant; a constant outside the
        function's domain (`sqrt(-1)`, `log(0)`, `asin(2)`) is an SCN401 at `span`."""
        if all(isinstance(a, Const) for a in args):
            values = [a.value for a in args if isinstance(a, Const)]
            try:
                value = fold(fn, values)
            except OverflowError:
                raise self.error("SCN401", f"{_shown_call(fn, values)} overflows", span, _OVERFLOW_HINT) from None
            except (ArithmeticError, ValueError):
                raise self.error("SCN401", f"{_shown_call(fn, values)} is undefined", span,
                                 _DOMAIN_HINTS.get(fn)) from None
            # IEEE arithmetic does not raise: `inf - inf` is NaN, `1e300 * 1e300` is inf
            inputs = [x for v in values for x in (v if isinstance(v, list) else [v])]
            outputs = value if isinstance(value, list) else [value]
            if any(math.isnan(x) for x in outputs) and not any(math.isnan(x) for x in inputs):
                raise self.error("SCN401", f"{_shown_call(fn, values)} is undefined", span,
                                 _DOMAIN_HINTS.get(fn, "the result is not a number (NaN)"))
            if any(math.isinf(x) for x in outputs) and all(math.isfinite(x) for x in inputs):
                raise self.error("SCN401", f"{_shown_call(fn, values)} overflows", span, _OVERFLOW_HINT)
            return Const(value=value, size=size)
        return Apply(fn=fn, args=args, size=size)

    def _condition(self, operand: Typed, node: ast.Expr, what: str) -> None:
        """`and`, `or` and `not` take conditions: `x > 1 or 3 m` would hold at every step."""
        if not operand.boolean:
            raise self.error("SCN306", f"{what} takes conditions, and this is a number", node.span,
                             "compare it (`x > 0`); a drawn `bernoulli` is a number too: `flip > 0.5`")

    def _same_size(self, a: Typed, b: Typed, span: Span, what: str) -> int | None:
        if a.size is not None and b.size is not None and a.size != b.size:
            raise self.error("SCN303", f"{what} of a {a.size}-vector and a {b.size}-vector", span,
                             "vectors combine element by element and must have the same length")
        return a.size if a.size is not None else b.size

    def _same_dim(self, a: Typed, b: Typed, span: Span, what: str) -> Dim | None:
        if a.dim is not None and b.dim is not None and a.dim != b.dim:
            raise self.error("SCN302", f"{what} {describe(a.dim)} and {describe(b.dim)}", span,
                             "both sides need the same dimension; check the units")
        return a.dim if a.dim is not None else b.dim

    # -- nodes
    def _number(self, node: ast.Number, scope: Scope) -> Typed:
        # A large file holds hundreds of thousands of numbers: a finite number with a known unit
        # is built without pydantic's validation (a float, as `Const(value=...)` would hold);
        # anything else (an unknown unit, an overflow) takes the checked way below.
        value = node.value
        if value == math.inf:  # a literal past the largest float (`1e999`): float() gives inf, never an error
            raise self.error("SCN401", f"`{node.text}` is larger than the largest number (about 1.8e308)",
                             node.span, "write a finite number")
        if node.unit is None:
            return Typed(Const.model_construct(value=value))
        try:
            factor, dim = parse_unit(node.unit)
        except UnitError:
            factor = math.nan
        product = value * factor if factor != 1.0 else value
        if math.isfinite(product):
            return Typed(Const.model_construct(value=product), None, dim)
        return self._with_unit(Typed(Const(value=value)), node.unit, node.span)

    def _group(self, node: ast.Group, scope: Scope) -> Typed:
        return self._with_unit(self.lower(node.expr, scope), node.unit, node.span)

    def _vector(self, node: ast.Vector, scope: Scope) -> Typed:
        if not node.items:
            raise self.error("SCN303", "empty vector", node.span, "a vector needs at least one element")
        items = [self.lower(item, scope) for item in node.items]
        dims = {t.dim for t in items if t.dim is not None}
        dim = dims.pop() if len(dims) == 1 else None
        size = sum(t.size or 1 for t in items)
        typed = Typed(self._apply("vector", [t.ir for t in items], size, node.span), size, dim,
                      all(t.boolean for t in items))
        return self._with_unit(typed, node.unit, node.span)

    def _norm(self, node: ast.Norm, scope: Scope) -> Typed:
        inner = self.lower(node.expr, scope)
        return Typed(self._apply("norm", [inner.ir], None, node.span), None, inner.dim)

    def _unary(self, node: ast.Unary, scope: Scope) -> Typed:
        inner = self.lower(node.operand, scope)
        if node.op == "not":
            self._condition(inner, node.operand, "`not`")
            return Typed(self._apply("not", [inner.ir], inner.size, node.span), inner.size, None, True)
        fn = "neg" if node.op == "-" else "pos"
        return Typed(self._apply(fn, [inner.ir], inner.size, node.span), inner.size, inner.dim)

    def _binary(self, node: ast.Binary, scope: Scope) -> Typed:
        left, right = self.lower(node.left, scope), self.lower(node.right, scope)
        fn = _BINARY_FN[node.op]
        if fn in ("and", "or"):
            self._condition(left, node.left, f"`{node.op}`")
            self._condition(right, node.right, f"`{node.op}`")
            size = self._same_size(left, right, node.span, f"`{node.op}`")
            return Typed(self._apply(fn, [left.ir, right.ir], size, node.span), size, None, True)
        if fn == "pow":
            exponent = right.constant
            if right.size is not None or exponent is None or isinstance(exponent, list):
                raise self.error("SCN307", "the exponent must be a constant number", node.right.span,
                                 "use `exp` and `log` for variable exponents")
            if not math.isfinite(exponent):
                raise self.error("SCN401", f"the exponent must be a finite number, not {exponent:g}", node.right.span)
            dim = None
            if left.dim is not None:
                if exponent != int(exponent) and left.dim != DIMENSIONLESS:
                    raise self.error("SCN302", f"fractional power of {a(left.dim)}", node.span,
                                     "use sqrt(...) or make the base dimensionless")
                dim = left.dim ** int(exponent) if exponent == int(exponent) else DIMENSIONLESS
            return Typed(self._apply("pow", [left.ir, right.ir], left.size, node.span), left.size, dim)
        size = self._same_size(left, right, node.span, f"`{node.op}`")
        if fn in ("add", "sub", "mod"):
            dim = self._same_dim(left, right, node.span, f"`{node.op}` between")
        elif left.dim is None or right.dim is None:
            dim = None
        else:
            dim = left.dim * right.dim if fn == "mul" else left.dim / right.dim
        if fn in ("div", "mod") and right.constant is not None and _has_zero(right.constant):
            raise self.error("SCN409", "division by zero", node.right.span, None)
        return Typed(self._apply(fn, [left.ir, right.ir], size, node.span), size, dim)

    def _compare(self, node: ast.Compare, scope: Scope) -> Typed:
        left, right = self.lower(node.left, scope), self.lower(node.right, scope)
        size = self._same_size(left, right, node.span, f"`{node.op}`")
        self._same_dim(left, right, node.span, "comparing")
        return Typed(self._apply(_COMPARE_FN[node.op], [left.ir, right.ir], size, node.span), size, None, True)

    def _index(self, node: ast.Index, scope: Scope) -> Typed:
        target = self.lower(node.target, scope)
        index = self.lower(node.index, scope).constant
        if index is None or isinstance(index, list) or not index.is_integer():
            raise self.error("SCN307", "an index must be a constant whole number", node.index.span)
        if target.size is None:
            raise self.error("SCN303", "indexing a scalar", node.span, "only vectors can be indexed")
        i = int(index)
        if not -target.size <= i < target.size:
            raise self.error("SCN303", f"index {i} is outside a {target.size}-vector", node.index.span,
                             f"valid indices: 0 to {target.size - 1}")
        i %= target.size
        ir = self._apply("index", [target.ir, Const(value=float(i))], None, node.span)
        return Typed(ir, None, target.dim, target.boolean)

    def _slice(self, node: ast.Slice, scope: Scope) -> Typed:
        """`v[a:b]`: the vector of elements a to b - 1 (Python's, without a step); negative
        bounds count from the end; the slice may not be empty or reach outside the vector."""
        target = self.lower(node.target, scope)
        if target.size is None:
            raise self.error("SCN303", "slicing a scalar", node.span, "only vectors can be sliced")
        bounds = []
        for bound, default in ((node.start, 0), (node.stop, target.size)):
            if bound is None:
                bounds.append(default)
                continue
            lowered = self.lower(bound, scope)
            value = lowered.constant
            if value is None or isinstance(value, list) or not value.is_integer() \
                    or lowered.dim not in (None, DIMENSIONLESS):
                raise self.error("SCN307", "a slice's bounds must be constant whole numbers, without units",
                                 bound.span)
            bounds.append(int(value) + (target.size if value < 0 else 0))
        start, stop = bounds
        if not 0 <= start < stop <= target.size:
            raise self.error("SCN303", f"the slice {start}:{stop} of a {target.size}-vector is empty or outside it",
                             node.span, f"bounds from 0 to {target.size}, the first below the second")
        items = [self._apply("index", [target.ir, Const(value=float(i))], None, node.span) for i in range(start, stop)]
        return Typed(self._apply("vector", items, stop - start, node.span), stop - start, target.dim, target.boolean)

    def _ref(self, node: ast.Ref, scope: Scope) -> Typed:
        name = node.parts[0].name
        if len(node.parts) == 1:
            if name in scope.failed:
                raise Failed()
            found = scope.bindings.get(name) or scope.constants.get(name)
            if found is None and scope.resolve_let is not None:
                found = scope.resolve_let(name)
            if found is not None:
                if not scope.signals_allowed and not isinstance(found.ir, Const):
                    raise self.error("SCN307", f"`{name}` changes during the simulation; a constant is needed "
                                     f"{scope.what}", node.span,
                                     "use numbers, parameters and `let` bindings of numbers")
                return found
            if name in CONSTANTS:
                return Typed(Const(value=CONSTANTS[name]), None, None, name in ("true", "false"))
        if scope.resolve_ref is None:
            raise self.error("SCN201", f"undefined name `{node.dotted}`", node.span,
                             did_you_mean(name, [*scope.constants, *scope.bindings, *CONSTANTS]))
        info = scope.resolve_ref(node, self.diagnostics)
        if info is None:
            raise Failed()
        if not scope.signals_allowed:
            raise self.error("SCN307", f"`{node.dotted}` changes during the simulation; a constant is needed "
                             f"{scope.what}", node.span, "use numbers, parameters and `let` bindings of numbers here")
        return Typed(info.signal, info.signal.size, info.dim)

    def _call(self, node: ast.Call, scope: Scope) -> Typed:
        name = node.func.name
        if name in DISTRIBUTIONS:
            raise self.error("SCN308", f"`{name}(...)` draws a random value; it is allowed only after `~`",
                             node.span, "draw it in a `randomize` block: `let x ~ " + name + "(...)`, then use `x`")
        if name not in FUNCTIONS:
            raise self.error("SCN205", f"unknown function `{name}`", node.func.span,
                             did_you_mean(name, [*FUNCTIONS, *DISTRIBUTIONS]) or "see docs/language.md#functions")
        if node.kwargs:
            raise self.error("SCN305", f"`{name}` takes no keyword arguments", node.kwargs[0].span)
        lo, hi = FUNCTIONS[name]
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.error("SCN305", f"`{name}` takes {want} argument{'s' if hi > 1 else ''}, got {len(node.args)}",
                             node.span)
        args = [self.lower(a, scope) for a in node.args]
        typed = self._function(name, args, node)
        return self._with_unit(typed, node.unit, node.span)

    def _function(self, name: str, args: list[Typed], node: ast.Call) -> Typed:
        irs = [a.ir for a in args]
        first = args[0]
        if name in _ANGLE_IN and first.dim not in (None, ANGLE, DIMENSIONLESS):
            raise self.error("SCN302", f"`{name}` of {a(first.dim)}", node.args[0].span, "it takes an angle")
        if name in ("exp", "log") and first.dim not in (None, DIMENSIONLESS):
            raise self.error("SCN302", f"`{name}` of {a(first.dim)}", node.args[0].span,
                             "its argument must be dimensionless: divide by a reference value")
        if name == "wrap" and first.dim not in (None, ANGLE, DIMENSIONLESS):
            raise self.error("SCN302", f"`wrap` of {a(first.dim)}", node.args[0].span, "it wraps an angle")
        if name in ("atan2", "min", "max", "clip"):
            for other, other_node in zip(args[1:], node.args[1:], strict=True):
                self._same_dim(first, other, other_node.span, f"`{name}` of")
        if name in _ELEMENTWISE:
            dim = ANGLE if name in _ANGLE_OUT else (first.dim if name in ("abs", "floor", "ceil") else None)
            if name == "sq" and first.dim is not None:
                dim = first.dim**2
            if name in ("sign",):
                dim = DIMENSIONLESS
            return Typed(self._apply(name, irs, first.size, node.span), first.size, dim)
        if name == "atan2":
            size = self._same_size(args[0], args[1], node.span, "`atan2`")
            return Typed(self._apply(name, irs, size, node.span), size, ANGLE)
        if name in ("norm", "sum"):
            return Typed(self._apply(name, irs, None, node.span), None, first.dim)
        if name == "dot":
            if (args[0].size is None) != (args[1].size is None):
                vector = args[0].size or args[1].size
                raise self.error("SCN303", f"`dot` of a number and a {vector}-vector", node.span,
                                 "dot takes two vectors of the same length; to scale a vector, multiply: s * v")
            self._same_size(args[0], args[1], node.span, "`dot`")
            dim = None if first.dim is None or args[1].dim is None else first.dim * args[1].dim
            return Typed(self._apply(name, irs, None, node.span), None, dim)
        if name in ("min", "max"):
            if len(args) == 1:
                return Typed(self._apply(name, irs, None, node.span), None, first.dim)
            size = first.size
            for other in args[1:]:  # the length so far against each argument: min(1, v, 2) is as long as v
                size = self._same_size(Typed(first.ir, size), other, node.span, f"`{name}`")
            return Typed(self._apply(name, irs, size, node.span), size, first.dim)
        if name == "clip":
            size = self._same_size(args[0], args[1], node.span, "`clip`")
            size = self._same_size(Typed(args[0].ir, size), args[2], node.span, "`clip`")
            self._same_dim(args[0], args[1], node.span, "clipping")
            return Typed(self._apply(name, irs, size, node.span), size, first.dim)
        assert name == "where"
        size = self._same_size(args[1], args[2], node.span, "`where`")
        size = self._same_size(Typed(args[0].ir, size), args[0], node.span, "`where`")
        dim = self._same_dim(args[1], args[2], node.span, "`where` between")
        return Typed(self._apply(name, irs, size, node.span), size, dim)


def _shown(value: Value) -> str:
    return "[" + ", ".join(f"{v:g}" for v in value) + "]" if isinstance(value, list) else f"{value:g}"


def _shown_call(fn: str, values: list[Value]) -> str:
    """`sqrt(-1)`, `(-1) ^ 0.5`: a folded call as a person would write it (values in SI units)."""
    if fn in _OPERATORS and len(values) == 2:
        left, right = (_shown(v) for v in values)
        return f"{f'({left})' if left.startswith('-') else left} {_OPERATORS[fn]} {right}"
    return f"{fn}({', '.join(_shown(v) for v in values)})"


def _has_zero(value: Value) -> bool:
    return any(v == 0 for v in value) if isinstance(value, list) else value == 0
