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


class BatchedExpressions(LeafSystem):
    """The expressions of N worlds of one scenario (`compiler.batch`), evaluated together with
    NumPy: one Python call per evaluation whatever N, each expression vectorised over the worlds.

    A world's row of signals is, in the order of `signals`: its rows of the plant state (input
    "state", the whole plant state, picked by `state_rows`, world after world), its action
    signals (input "action", every world's physical action, mapped by `action_map`, one world's
    (gain, offset)), and its gathered values (input "gathered", `gathered` numbers per world,
    world after world). Output "outcome": per world, the observation, the reward (the sum of the
    terms), the reward terms, and when given the termination and success conditions (1.0/0.0),
    world after world; `layout` says where each part lies in a world's row. Output
    "reward_terms": the reward terms alone (for `reward_at = step_start`). Output "requirements"
    (when given): the scene requirements, world after world."""

    def __init__(self, parts: Mapping[str, Sequence[Expr]], requirements: Sequence[Expr], signals: Sequence[Signal],
                 worlds: int, *, state_rows: np.ndarray | None = None, state_size: int = 0,
                 action_map: tuple[np.ndarray, np.ndarray] | None = None, action_size: int = 0,
                 gathered: int = 0) -> None:
        super().__init__()
        self.worlds = worlds
        offsets: dict[SignalKey, slice] = {}
        start = 0
        for s in signals:
            offsets[signal_key(s)] = slice(start, start + (s.size or 1))
            start += s.size or 1
        self._state_rows, self._action_map = state_rows, action_map
        tickets = []
        if state_rows is not None:
            self._state = self.DeclareVectorInputPort("state", state_size)
            tickets.append(self.input_port_ticket(self._state.get_index()))
        if action_map is not None:
            self._action = self.DeclareVectorInputPort("action", action_size * worlds)
            tickets.append(self.input_port_ticket(self._action.get_index()))
        if gathered:
            self._gathered = self.DeclareVectorInputPort("gathered", gathered * worlds)
            tickets.append(self.input_port_ticket(self._gathered.get_index()))
        widths = [len(state_rows) // worlds if state_rows is not None else 0,
                  len(action_map[1]) if action_map is not None else 0, gathered]
        if start != sum(widths):
            raise ValueError(f"signals of {start} numbers from sources of {sum(widths)}")
        ticket = set(tickets) or {self.nothing_ticket()}

        def compiled(exprs: Sequence[Expr]) -> list[tuple[Thunk, int]]:
            return [(compile_expr(e, lambda s: _read_columns(offsets[signal_key(s)])), e.size or 1) for e in exprs]

        self._parts = {name: compiled(exprs) for name, exprs in parts.items()}
        self._requirements = compiled(requirements)
        sizes = {name: sum(size for _, size in thunks) for name, thunks in self._parts.items()}
        order = ["observation", "reward", "reward_terms", *(n for n in ("termination", "success") if n in parts)]
        sizes["reward"] = 1
        self.layout: dict[str, slice] = {}
        at = 0
        for name in order:
            self.layout[name], at = slice(at, at + sizes[name]), at + sizes[name]
        self._order = order
        self.DeclareVectorOutputPort("outcome", at * worlds, self._calc_outcome, prerequisites_of_calc=ticket)
        self.DeclareVectorOutputPort("reward_terms", sizes["reward_terms"] * worlds, self._calc_terms,
                                     prerequisites_of_calc=ticket)
        if requirements:
            self.DeclareVectorOutputPort("requirements", len(requirements) * worlds, self._calc_requirements,
                                         prerequisites_of_calc=ticket)

    def _signals(self, context: Context) -> np.ndarray:
        """The (worlds, signals) matrix of every world's signals."""
        columns = []
        if self._state_rows is not None:
            columns.append(np.asarray(self._state.Eval(context))[self._state_rows].reshape(self.worlds, -1))
        if self._action_map is not None:
            gain, offset = self._action_map
            columns.append(np.asarray(self._action.Eval(context)).reshape(self.worlds, -1) @ gain.T + offset)
        if hasattr(self, "_gathered"):
            columns.append(np.asarray(self._gathered.Eval(context)).reshape(self.worlds, -1))
        if not columns:
            return np.zeros((self.worlds, 0))
        return np.hstack(columns) if len(columns) > 1 else columns[0]

    def _values(self, thunks: list[tuple[Thunk, int]], env: np.ndarray) -> np.ndarray:
        if not thunks:
            return np.zeros((self.worlds, 0))
        return np.hstack([np.broadcast_to(thunk(env), (self.worlds, size)) for thunk, size in thunks])

    def _calc_outcome(self, context: Context, output: BasicVector) -> None:
        env = self._signals(context)
        with np.errstate(all="ignore"):  # IEEE results (inf, NaN), as the single env's NumPy backend gives
            values = {name: self._values(thunks, env) for name, thunks in self._parts.items()}
            values["reward"] = values["reward_terms"].sum(axis=1, keepdims=True)
        output.SetFromVector(_untyped(np.hstack([values[name] for name in self._order]).ravel()))

    def _calc_terms(self, context: Context, output: BasicVector) -> None:
        with np.errstate(all="ignore"):
            output.SetFromVector(_untyped(self._values(self._parts["reward_terms"], self._signals(context)).ravel()))

    def _calc_requirements(self, context: Context, output: BasicVector) -> None:
        with np.errstate(all="ignore"):
            output.SetFromVector(_untyped(self._values(self._requirements, self._signals(context)).ravel()))


def _read_columns(part: slice) -> Thunk:
    return lambda env: env[:, part]
