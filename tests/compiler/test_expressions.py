"""Expressions: `evaluate` (NumPy reference) and `ExpressionSystem`'s two backends, real Drake.

Every function and operator against NumPy or `math`; broadcasting; vectors, index, norm and
reductions; booleans; batches; the box_flipup reward against the lecture's formula; the
system's ports and errors; and a hypothesis search over random expression trees where the
symbolic system, the NumPy system and `evaluate` must agree.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydrake.systems.analysis import Simulator
from pydrake.systems.framework import DiagramBuilder
from pydrake.systems.primitives import ConstantVectorSource, Integrator

import scenario_dsl
from scenario_dsl.compiler.expressions import ExpressionSystem
from scenario_dsl.lang.evaluate import SignalKey, collect_signals, evaluate, signal_key
from scenario_dsl.lang.model import Apply, Const, Expr, Signal

ROOT = Path(__file__).resolve().parents[2]
RTOL = ATOL = 1e-12
Values = Mapping[SignalKey, Any]  # a float or an array


# ---- helpers --------------------------------------------------------------------------------

def sig(name: str, size: int | None = None) -> Signal:
    return Signal(source="joint", name=name, attribute="q", size=size)


def const(value: float | list[float]) -> Const:
    return Const(value=value, size=len(value) if isinstance(value, list) else None)


def ap(fn: str, *args: Expr, size: int | None = None) -> Apply:
    return Apply(fn=fn, args=list(args), size=size)


def system_values(exprs: Sequence[Expr], values: Values, backend: str, *, continuous: bool = False) -> np.ndarray:
    """The "out" port of an ExpressionSystem over `exprs`, its input set from `values`."""
    signals = collect_signals(exprs)
    system = ExpressionSystem({"out": list(exprs)}, signals, backend=backend, continuous=continuous)  # type: ignore[arg-type]
    context = system.CreateDefaultContext()
    parts = [np.atleast_1d(np.asarray(values[signal_key(s)], dtype=float)) for s in signals]
    system.GetInputPort("signals").FixValue(context, np.concatenate(parts) if parts else np.zeros(0))
    return np.array(system.GetOutputPort("out").Eval(context))


def three_ways(exprs: Sequence[Expr], values: Values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(evaluate, NumPy system, symbolic system), each the concatenated outputs."""
    reference = np.concatenate([evaluate(e, values) for e in exprs])
    return reference, system_values(exprs, values, "numpy"), system_values(exprs, values, "symbolic")


def assert_agree(exprs: Sequence[Expr], values: Values, expected: npt.ArrayLike | None = None) -> None:
    reference, numpy_system, symbolic_system = three_ways(exprs, values)
    np.testing.assert_array_equal(numpy_system, reference)  # the same closures: bit for bit
    np.testing.assert_allclose(symbolic_system, reference, rtol=RTOL, atol=ATOL)
    if expected is not None:
        np.testing.assert_allclose(reference, np.ravel(expected), rtol=RTOL, atol=ATOL)


RNG = np.random.default_rng(20240601)


def draw(domain: tuple[float, float], size: int | None) -> Any:
    """Random numbers in `domain`, about a third of them whole (floor, sign, comparisons see edges)."""
    lo, hi = domain
    value = RNG.uniform(lo, hi, size or 1)
    whole = RNG.random(size or 1) < 0.3
    value[whole] = np.clip(np.round(value[whole]), lo, hi)
    return float(value[0]) if size is None else value


# ---- every function and operator against NumPy ----------------------------------------------

WIDE = (-3.0, 3.0)
UNIT = (-1.0, 1.0)
POSITIVE = (0.1, 5.0)

# fn -> (domain, reference)
UNARY: dict[str, tuple[tuple[float, float], Callable[[np.ndarray], np.ndarray]]] = {
    "abs": (WIDE, np.abs), "sin": (WIDE, np.sin), "cos": (WIDE, np.cos), "tan": (UNIT, np.tan),
    "asin": (UNIT, np.arcsin), "acos": (UNIT, np.arccos), "atan": (WIDE, np.arctan), "sqrt": (POSITIVE, np.sqrt),
    "exp": (WIDE, np.exp), "log": (POSITIVE, np.log), "floor": (WIDE, np.floor), "ceil": (WIDE, np.ceil),
    "sign": (WIDE, np.sign), "sq": (WIDE, np.square), "neg": (WIDE, np.negative), "pos": (WIDE, lambda x: x),
    "not": (WIDE, lambda x: (x == 0).astype(float)),
    "wrap": ((-20.0, 20.0), lambda x: np.mod(x + math.pi, 2 * math.pi) - math.pi),
}
BINARY: dict[str, tuple[tuple[float, float], Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "add": (WIDE, np.add), "sub": (WIDE, np.subtract), "mul": (WIDE, np.multiply), "div": (POSITIVE, np.divide),
    "mod": (POSITIVE, np.mod), "atan2": (WIDE, np.arctan2), "min": (WIDE, np.minimum), "max": (WIDE, np.maximum),
    "lt": (WIDE, np.less), "le": (WIDE, np.less_equal), "gt": (WIDE, np.greater), "ge": (WIDE, np.greater_equal),
    "eq": (WIDE, np.equal), "ne": (WIDE, np.not_equal), "and": (WIDE, np.logical_and), "or": (WIDE, np.logical_or),
}


@pytest.mark.parametrize("size", [None, 4])
@pytest.mark.parametrize("fn", sorted(UNARY))
def test_unary(fn: str, size: int | None) -> None:
    domain, reference = UNARY[fn]
    for _ in range(5):
        x = draw(domain, size)
        assert_agree([ap(fn, sig("x", size), size=size)], {("joint", "x", "q"): x}, reference(np.asarray(x)))


@pytest.mark.parametrize("size", [None, 4])
@pytest.mark.parametrize("fn", sorted(BINARY))
def test_binary(fn: str, size: int | None) -> None:
    domain, reference = BINARY[fn]
    for _ in range(5):
        a, b = draw(domain, size), draw(domain, size)
        if size is not None:
            b[0] = a[0]  # comparisons see equal values too
        expected = np.asarray(reference(np.asarray(a), np.asarray(b)), dtype=float)
        values = {("joint", "a", "q"): a, ("joint", "b", "q"): b}
        assert_agree([ap(fn, sig("a", size), sig("b", size), size=size)], values, expected)


@pytest.mark.parametrize("exponent", [2.0, 3.0, 0.5, -1.0, 1.5, 0.0, 1.0])
def test_pow_to_a_constant(exponent: float) -> None:
    x = RNG.uniform(0.1, 4.0, 5)
    assert_agree([ap("pow", sig("x", 5), const(exponent), size=5)], {("joint", "x", "q"): x}, np.power(x, exponent))


def test_pow_of_negative_base_to_integer() -> None:
    x = np.array([-2.0, -0.5, 3.0])
    assert_agree([ap("pow", sig("x", 3), const(3.0), size=3)], {("joint", "x", "q"): x}, x**3)


def test_clip_and_where() -> None:
    x, lo, hi, c = RNG.uniform(-3, 3, 6), RNG.uniform(-2, 0, 6), RNG.uniform(0, 2, 6), np.array([0, 1, 2, -1, 0, 0.5])
    values = {("joint", "x", "q"): x, ("joint", "lo", "q"): lo, ("joint", "hi", "q"): hi, ("joint", "c", "q"): c}
    assert_agree([ap("clip", sig("x", 6), sig("lo", 6), sig("hi", 6), size=6)], values, np.clip(x, lo, hi))
    assert_agree([ap("where", sig("c", 6), sig("x", 6), sig("lo", 6), size=6)], values, np.where(c != 0, x, lo))


def test_mod_is_pythons_modulo_for_negative_numbers() -> None:
    x = np.array([-7.5, -0.25, 0.0, 3.0, 7.5])
    for p in (2.0, -2.0, math.pi):
        expected = np.array([v % p for v in x])
        assert_agree([ap("mod", sig("x", 5), const(p), size=5)], {("joint", "x", "q"): x}, expected)


def test_wrap_lands_in_minus_pi_to_pi() -> None:
    x = np.linspace(-30, 30, 101)
    got = evaluate(ap("wrap", sig("x", 101), size=101), {("joint", "x", "q"): x})
    assert np.all(got >= -math.pi) and np.all(got < math.pi)
    np.testing.assert_allclose(np.cos(got), np.cos(x), atol=1e-12)


# ---- broadcasting, vectors, index, norm, reductions -----------------------------------------

def test_scalars_broadcast_over_vectors() -> None:
    s, v = 1.5, np.array([-1.0, 0.0, 2.0])
    values = {("joint", "s", "q"): s, ("joint", "v", "q"): v}
    S, V = sig("s"), sig("v", 3)
    assert_agree([ap("add", S, V, size=3)], values, s + v)
    assert_agree([ap("sub", V, S, size=3)], values, v - s)
    assert_agree([ap("atan2", S, V, size=3)], values, np.arctan2(s, v))
    assert_agree([ap("clip", V, const(-0.5), S, size=3)], values, np.clip(v, -0.5, s))
    assert_agree([ap("where", ap("gt", V, const(0.0), size=3), S, const(-1.0), size=3)], values,
                 np.where(v > 0, s, -1.0))
    assert_agree([ap("where", ap("gt", S, const(0.0)), V, const(-1.0), size=3)], values, v)
    assert_agree([ap("max", V, S, const(0.5), size=3)], values, np.maximum(np.maximum(v, s), 0.5))
    assert_agree([ap("lt", S, V, size=3)], values, (s < v).astype(float))


def test_vector_index_norm_and_reductions() -> None:
    a, v = -2.0, np.array([3.0, -4.0, 12.0])
    values = {("joint", "a", "q"): a, ("joint", "v", "q"): v}
    A, V = sig("a"), sig("v", 3)
    assert_agree([ap("vector", A, V, const(7.0), size=5)], values, [a, *v, 7.0])
    assert_agree([ap("index", V, const(1.0)), ap("index", V, const(-1.0))], values, [v[1], v[-1]])
    assert_agree([ap("norm", V), ap("norm", A)], values, [13.0, 2.0])
    assert_agree([ap("sum", V), ap("sum", A), ap("dot", V, V), ap("dot", A, V)], values,
                 [v.sum(), a, v @ v, a * v.sum()])
    assert_agree([ap("min", V), ap("max", V), ap("min", A), ap("max", A, const(5.0))], values, [-4.0, 12.0, a, 5.0])
    assert_agree([const([1.0, 2.0]), const(3.0)], values, [1.0, 2.0, 3.0])


def test_several_expressions_concatenate_in_order() -> None:
    v = np.array([0.5, -0.5])
    exprs = [ap("neg", sig("v", 2), size=2), ap("norm", sig("v", 2)), ap("gt", sig("v", 2), const(0.0), size=2)]
    assert_agree(exprs, {("joint", "v", "q"): v}, [-0.5, 0.5, math.sqrt(0.5), 1.0, 0.0])


# ---- booleans -------------------------------------------------------------------------------

def test_booleans_are_one_and_zero_and_nonzero_is_true() -> None:
    a, b = np.array([0.0, 2.5, -1.0, 0.0]), np.array([0.0, 0.0, 3.0, -0.0])
    values = {("joint", "a", "q"): a, ("joint", "b", "q"): b}
    A, B = sig("a", 4), sig("b", 4)
    assert_agree([ap("and", A, B, size=4)], values, [0, 0, 1, 0])
    assert_agree([ap("or", A, B, size=4)], values, [0, 1, 1, 0])
    assert_agree([ap("not", A, size=4)], values, [1, 0, 0, 1])
    assert_agree([ap("eq", B, const(0.0), size=4)], values, [1, 1, 0, 1])  # -0.0 == 0.0
    nested = ap("or", ap("not", ap("lt", A, B, size=4), size=4), ap("and", A, const(1.0), size=4), size=4)
    assert_agree([nested], values, [1, 1, 1, 1])
    assert_agree([ap("where", A, B, const(9.0), size=4)], values, [9, 0, 3, 9])
    assert_agree([ap("mul", ap("gt", A, B, size=4), const(10.0), size=4)], values, [0, 10, 0, 0])


# ---- the NumPy reference with batches -------------------------------------------------------

def test_evaluate_shapes_and_batches() -> None:
    expr = ap("add", ap("mul", sig("s"), sig("v", 3), size=3), const([1.0, 2.0, 3.0]), size=3)
    single = evaluate(expr, {("joint", "s", "q"): 2.0, ("joint", "v", "q"): [1.0, 1.0, 1.0]})
    assert single.shape == (3,)
    np.testing.assert_array_equal(single, [3.0, 4.0, 5.0])
    s, v = RNG.uniform(-1, 1, (50, 1)), RNG.uniform(-1, 1, (50, 3))
    batch = evaluate(expr, {("joint", "s", "q"): s, ("joint", "v", "q"): v})
    assert batch.shape == (50, 3)
    for i in range(50):
        row = evaluate(expr, {("joint", "s", "q"): s[i], ("joint", "v", "q"): v[i]})
        np.testing.assert_array_equal(batch[i], row)
    shared = evaluate(expr, {("joint", "s", "q"): s, ("joint", "v", "q"): v[0]})  # unbatched broadcasts
    assert shared.shape == (50, 3)
    assert evaluate(ap("norm", sig("v", 3)), {("joint", "v", "q"): v}).shape == (50, 1)
    assert evaluate(const(2.0), {}).shape == (1,)


def test_evaluate_batches_vector_and_reductions() -> None:
    a, v = RNG.uniform(-1, 1, (20, 1)), RNG.uniform(-1, 1, (20, 3))
    values = {("joint", "a", "q"): a, ("joint", "v", "q"): v}
    got = evaluate(ap("vector", sig("a"), ap("norm", sig("v", 3)), const([5.0, 6.0]), size=4), values)
    expected = np.column_stack([a[:, 0], np.linalg.norm(v, axis=1), np.full(20, 5.0), np.full(20, 6.0)])
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    got = evaluate(ap("index", sig("v", 3), const(2.0)), values)
    np.testing.assert_array_equal(got, v[:, 2:3])


def test_evaluate_rejects_bad_values() -> None:
    with pytest.raises(KeyError):
        evaluate(sig("x"), {})
    with pytest.raises(ValueError, match="expected"):
        evaluate(sig("v", 3), {("joint", "v", "q"): [1.0, 2.0]})
    with pytest.raises(ValueError, match="expected"):
        evaluate(sig("s"), {("joint", "s", "q"): np.zeros(5)})  # a batch of scalars is (N, 1)


# ---- the box_flipup reward ------------------------------------------------------------------

def lecture_reward(theta: float, omega: float, u: np.ndarray, q: np.ndarray, v: np.ndarray) -> float:
    """manipulation.envs.box_flipup.RewardSystem, by hand."""
    angle = (theta % np.pi) - np.pi / 2
    cost = 2 * angle**2 + 0.1 * omega**2 + 0.1 * (u - q) @ (u - q) + 0.1 * v @ v
    return float(10 - cost)


def test_box_flipup_reward_matches_the_lecture() -> None:
    scenario = scenario_dsl.load(ROOT / "scenarios" / "box_flipup.scn")
    terms = [t.value for t in scenario.reward]
    keys = [signal_key(s) for s in collect_signals(terms)]
    assert keys == [("joint", "box_joint", "theta"), ("joint", "box_joint", "omega"), ("action", "target", "value"),
                    ("controller", "finger_pd", "q"), ("controller", "finger_pd", "v")]
    n = 400
    rng = np.random.default_rng(7)
    theta, omega = rng.uniform(-10, 10, (n, 1)), rng.uniform(-5, 5, (n, 1))
    u, q, v = rng.uniform(-0.5, 0.6, (n, 2)), rng.uniform(-0.3, 0.5, (n, 2)), rng.uniform(-2, 2, (n, 2))
    batch = {keys[0]: theta, keys[1]: omega, keys[2]: u, keys[3]: q, keys[4]: v}
    total = sum(evaluate(t, batch)[:, 0] for t in terms)
    expected = np.array([lecture_reward(theta[i, 0], omega[i, 0], u[i], q[i], v[i]) for i in range(n)])
    np.testing.assert_allclose(total, expected, rtol=RTOL, atol=ATOL)
    systems = {b: ExpressionSystem({"terms": terms}, collect_signals(terms), backend=b) for b in ("numpy", "symbolic")}
    contexts = {b: s.CreateDefaultContext() for b, s in systems.items()}
    for i in range(0, n, 4):
        x = np.concatenate([theta[i], omega[i], u[i], q[i], v[i]])
        for b, system in systems.items():
            system.GetInputPort("signals").FixValue(contexts[b], x)
            got = system.GetOutputPort("terms").Eval(contexts[b])
            assert math.isclose(got.sum(), expected[i], rel_tol=1e-12, abs_tol=1e-12), (b, i)


# ---- the system: ports, sizes, errors -------------------------------------------------------

def test_system_ports() -> None:
    signals = [sig("a"), sig("v", 3), sig("unused", 2)]
    outputs = {"first": [ap("norm", sig("v", 3)), sig("a")], "second": [ap("mul", sig("v", 3), const(2.0), size=3)],
               "empty": []}
    for backend in ("numpy", "symbolic"):
        system = ExpressionSystem(outputs, signals, backend=backend)  # type: ignore[arg-type]
        assert system.backend == backend
        assert system.num_input_ports() == 1
        assert system.get_input_port(0).get_name() == "signals"
        assert system.get_input_port(0).size() == 6
        assert [system.get_output_port(i).get_name() for i in range(3)] == ["first", "second", "empty"]
        assert [system.get_output_port(i).size() for i in range(3)] == [2, 3, 0]
        context = system.CreateDefaultContext()
        system.get_input_port(0).FixValue(context, [-1.0, 3.0, 4.0, 0.0, 9.0, 9.0])
        np.testing.assert_allclose(system.GetOutputPort("first").Eval(context), [5.0, -1.0], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(system.GetOutputPort("second").Eval(context), [6.0, 8.0, 0.0], rtol=RTOL, atol=ATOL)


def test_system_without_signals() -> None:
    for backend in ("numpy", "symbolic"):
        system = ExpressionSystem({"c": [const(2.0), ap("sin", const(0.5))]}, [], backend=backend)  # type: ignore[arg-type]
        assert system.GetInputPort("signals").size() == 0
        context = system.CreateDefaultContext()
        np.testing.assert_allclose(system.GetOutputPort("c").Eval(context), [2.0, math.sin(0.5)], rtol=RTOL, atol=ATOL)


def test_default_backend_is_symbolic() -> None:
    assert ExpressionSystem({"x": [sig("a")]}, [sig("a")]).backend == "symbolic"


@pytest.mark.parametrize("backend", ["numpy", "symbolic"])
def test_system_errors(backend: str) -> None:
    with pytest.raises(ValueError, match="not among"):
        ExpressionSystem({"x": [sig("a")]}, [sig("b")], backend=backend)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown function"):
        ExpressionSystem({"x": [ap("frobnicate", sig("a"))]}, [sig("a")], backend=backend)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size"):
        ExpressionSystem({"x": [ap("add", sig("a", 2), sig("b", 3), size=3)]}, [sig("a", 2), sig("b", 3)],
                         backend=backend)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="constant"):
        ExpressionSystem({"x": [ap("pow", sig("a"), sig("a"))]}, [sig("a")], backend=backend)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="index"):
        ExpressionSystem({"x": [ap("index", sig("a", 2), const(2.0))]}, [sig("a", 2)], backend=backend)  # type: ignore[arg-type]


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="backend"):
        ExpressionSystem({"x": [sig("a")]}, [sig("a")], backend="cuda")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["numpy", "symbolic"])
def test_system_in_a_continuous_diagram(backend: str) -> None:
    """With `continuous`, the symbolic backend survives a simulator integrating time (a
    stateless SymbolicVectorSystem would abort the process there)."""
    builder = DiagramBuilder()
    source = builder.AddSystem(ConstantVectorSource([1.0, -2.0]))
    integrator = builder.AddSystem(Integrator(2))
    builder.Connect(source.get_output_port(), integrator.get_input_port())
    exprs = [ap("mul", sig("x", 2), sig("x", 2), size=2)]
    system = builder.AddSystem(ExpressionSystem({"sq": exprs}, [sig("x", 2)], backend=backend, continuous=True))  # type: ignore[arg-type]
    builder.Connect(integrator.get_output_port(), system.GetInputPort("signals"))
    diagram = builder.Build()
    simulator = Simulator(diagram)
    simulator.AdvanceTo(0.5)
    got = system.GetOutputPort("sq").Eval(system.GetMyContextFromRoot(simulator.get_context()))
    np.testing.assert_allclose(got, [0.25, 1.0], rtol=1e-9)


def test_domain_errors() -> None:
    """Outside a function's domain NumPy follows IEEE; Drake's symbolic evaluation raises
    RuntimeError for a division by zero and ValueError for the other domain errors."""
    x = {("joint", "x", "q"): 0.0}
    expr = [ap("div", const(1.0), sig("x"))]
    with np.errstate(divide="ignore", invalid="ignore"):
        assert evaluate(expr[0], x)[0] == math.inf
        assert system_values(expr, x, "numpy")[0] == math.inf
        assert math.isnan(system_values([ap("mod", const(1.0), sig("x"))], x, "numpy")[0])
        assert math.isnan(system_values([ap("sqrt", sig("x"))], {("joint", "x", "q"): -1.0}, "numpy")[0])
    with pytest.raises(RuntimeError, match="Division by zero"):
        system_values(expr, x, "symbolic")
    with pytest.raises(RuntimeError, match="Division by zero"):
        system_values([ap("mod", const(1.0), sig("x"))], x, "symbolic")
    for fn, value in (("sqrt", -1.0), ("log", -1.0), ("asin", 2.0), ("acos", -2.0)):
        with pytest.raises(ValueError, match="out of domain"):
            system_values([ap(fn, sig("x"))], {("joint", "x", "q"): value}, "symbolic")
    with pytest.raises(ValueError, match="out of domain"):
        system_values([ap("pow", sig("x"), const(0.5))], {("joint", "x", "q"): -1.0}, "symbolic")


def test_nan_inputs_propagate() -> None:
    expr = [ap("add", sig("x"), const(1.0)), ap("sin", sig("x"))]
    for backend in ("numpy", "symbolic"):
        assert np.all(np.isnan(system_values(expr, {("joint", "x", "q"): math.nan}, backend)))


def test_collect_signals_first_seen_and_distinct() -> None:
    a, b = sig("a"), sig("b", 2)
    exprs = [ap("add", b, ap("index", b, const(0.0)), size=2), a, ap("mul", a, b, size=2)]
    assert collect_signals(exprs) == [b, a]
    assert signal_key(a) == ("joint", "a", "q")


# ---- hypothesis: random trees, three evaluators agree ---------------------------------------

N = 3  # the vectors' length
LEAVES: dict[int | None, list[Signal]] = {None: [sig("a"), sig("b")], N: [sig("u", N), sig("w", N)]}
dyadic = st.integers(-12, 12).map(lambda k: k / 4)  # exact in any order of addition
number = st.one_of(dyadic, st.floats(-3, 3, allow_nan=False, allow_infinity=False))


def leaf(size: int | None) -> st.SearchStrategy[Expr]:
    consts = number.map(const) if size is None else st.lists(number, min_size=N, max_size=N).map(const)
    return st.one_of(st.sampled_from(LEAVES[size]), consts)


def positive(x: Expr) -> Expr:
    """abs(x) + 0.5: a domain-safe argument for div, mod, log and fractional powers."""
    return ap("add", ap("abs", x, size=x.size), const(0.5), size=x.size)


def clipped(x: Expr, bound: float) -> Expr:
    return ap("clip", x, const(-bound), const(bound), size=x.size)


# build(same, either, size, draw) -> a node
Build = Callable[[Callable[[], Expr], Callable[[], Expr], int | None, Callable[[st.SearchStrategy[float]], float]],
                 Expr]


def _unary(fn: str) -> Build:
    return lambda same, either, n, d: ap(fn, same(), size=n)


def _binary(fn: str, swap: bool = False) -> Build:
    if swap:
        return lambda same, either, n, d: ap(fn, either(), same(), size=n)
    return lambda same, either, n, d: ap(fn, same(), either(), size=n)


UNARY_FNS = ("abs", "sin", "cos", "atan", "floor", "ceil", "sign", "wrap", "sq", "neg", "pos", "not")
BINARY_FNS = ("add", "sub", "mul", "atan2", "min", "max", "lt", "le", "gt", "ge", "eq", "ne", "and", "or")
# kind -> build(same, either, size, draw): `same()` draws a subtree of this size, `either()` one
# of this size or a scalar (broadcast). Arguments are kept in the functions' domains and bounded.
NODES: dict[str, Build] = {
    **{fn: _unary(fn) for fn in UNARY_FNS},
    **{fn: _binary(fn) for fn in BINARY_FNS},
    **{"r" + fn: _binary(fn, swap=True) for fn in BINARY_FNS},
    "tan": lambda same, either, n, d: ap("tan", ap("sin", same(), size=n), size=n),
    "sqrt": lambda same, either, n, d: ap("sqrt", ap("abs", same(), size=n), size=n),
    "log": lambda same, either, n, d: ap("log", positive(same()), size=n),
    "exp": lambda same, either, n, d: ap("exp", clipped(same(), 4.0), size=n),
    "asin": lambda same, either, n, d: ap("asin", clipped(same(), 1.0), size=n),
    "acos": lambda same, either, n, d: ap("acos", clipped(same(), 1.0), size=n),
    "div": lambda same, either, n, d: ap("div", same(), positive(either()), size=n),
    "mod": lambda same, either, n, d: ap("mod", same(), positive(either()), size=n),
    "pow": lambda same, either, n, d: ap("pow", same(), const(d(st.sampled_from([2.0, 3.0]))), size=n),
    "fpow": lambda same, either, n, d: ap("pow", positive(same()), const(d(st.sampled_from([0.5, -1.0, 1.5, -2.0]))),
                                          size=n),
    "clip": lambda same, either, n, d: ap("clip", same(), either(), either(), size=n),
    "where": lambda same, either, n, d: ap("where", either(), same(), either(), size=n),
    "max3": lambda same, either, n, d: ap("max", same(), either(), either(), size=n),
}


@st.composite
def trees(draw: st.DrawFn, size: int | None, depth: int) -> Expr:
    """Domain-safe, bounded expression trees of `size` (None: a scalar), at most `depth` deep."""
    if depth == 0 or draw(st.integers(0, 4)) == 0:
        return draw(leaf(size))

    def same() -> Expr:
        return draw(trees(size, depth - 1))

    def either() -> Expr:
        return draw(trees(draw(st.sampled_from([size, None])), depth - 1))

    def vector() -> Expr:
        return draw(trees(N, depth - 1))

    if size is None and draw(st.integers(0, 3)) == 0:  # a reduction of a vector
        fn = draw(st.sampled_from(["norm", "sum", "min", "max", "dot", "index"]))
        if fn == "dot":
            return ap("dot", vector(), vector())
        if fn == "index":
            return ap("index", vector(), const(float(draw(st.integers(-N, N - 1)))))
        return ap(fn, vector())
    if size is not None and draw(st.integers(0, 5)) == 0:  # a vector of scalars
        return ap("vector", *[draw(trees(None, depth - 1)) for _ in range(size)], size=size)
    kind = draw(st.sampled_from(sorted(NODES)))
    return NODES[kind](same, either, size, draw)


def values_strategy() -> st.SearchStrategy[dict[SignalKey, np.ndarray | float]]:
    vectors = st.lists(number, min_size=N, max_size=N).map(np.array)
    return st.fixed_dictionaries({("joint", "a", "q"): number, ("joint", "b", "q"): number,
                                  ("joint", "u", "q"): vectors, ("joint", "w", "q"): vectors})


TREES = settings(max_examples=int(os.environ.get("SCN_EXPR_EXAMPLES", "300")), deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@TREES
@given(tree=st.one_of(trees(None, 5), trees(N, 5)), values=values_strategy())
def test_random_trees_agree(tree: Expr, values: dict[SignalKey, np.ndarray | float]) -> None:
    reference, numpy_system, symbolic_system = three_ways([tree], values)
    np.testing.assert_array_equal(numpy_system, reference)
    scale = 1.0 + float(np.max(np.abs(reference), initial=0.0))
    np.testing.assert_allclose(symbolic_system, reference, rtol=1e-12, atol=1e-12 * scale, equal_nan=True)
    batch = {k: np.stack([np.atleast_1d(v), np.atleast_1d(v)]) for k, v in values.items()}
    got = evaluate(tree, batch)  # a tree without signals has no batch dimension
    np.testing.assert_array_equal(got, reference if not collect_signals([tree]) else np.stack([reference, reference]))
