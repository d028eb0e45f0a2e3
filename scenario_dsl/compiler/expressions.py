"""Compiler stage 3: expressions (the `model.Const`/`Signal`/`Apply` IR) as a Drake system.

Two ways to evaluate the same IR, with the same meaning:

- `lang.evaluate.evaluate(expr, values)`: the NumPy reference, vectorised over a leading batch
  of values (many episodes at once); used by the sampler and by tests.
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

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from pydrake.symbolic import Expression, MakeVectorVariable, Variable
from pydrake.systems.framework import BasicVector, Context, Diagram, DiagramBuilder, LeafSystem, System
from pydrake.systems.primitives import ConstantVectorSource, PassThrough, SymbolicVectorSystem

from scenario_dsl.compiler.symbolic import to_symbolic
from scenario_dsl.lang.evaluate import SignalKey, Thunk, collect_signals, compile_expr, signal_key
from scenario_dsl.lang.model import Expr, Signal

Backend = Literal["symbolic", "numpy"]
DEFAULT_BACKEND: Backend = "symbolic"  # read when a system is built; measured faster, see bench/bench_reward.py


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
            thunks = [compile_expr(e, lambda s: _read_slice(offsets[signal_key(s)])) for e in exprs]
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
