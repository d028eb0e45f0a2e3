"""The validator's shared state and helpers: the files and their statements in source order, the
diagnostics, the name tables, the type checker and the scopes of constants and signals; and the
helpers that every section uses: reporting an error, reading a constant (`_const`), applying a
block's settings (`_settings` with the `_value`, `_choice` and `_flag` handlers) and a pose.
Each section of `scenario_dsl.lang.validate` is a class deriving from `Context`; the methods that
one section calls on another are declared here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostics
from scenario_dsl.lang.model import Distribution, Expr, Pose, Where
from scenario_dsl.lang.names import Declarations, resolve_signal
from scenario_dsl.lang.source import Span
from scenario_dsl.lang.typecheck import Checker, Failed, Scope, Typed, Value
from scenario_dsl.lang.units import ANGLE, DIMENSIONLESS, LENGTH, Dim, a, example_unit
from scenario_dsl.support.suggest import did_you_mean

_Sizes = int | tuple[int | None, ...] | None  # the lengths a value may have (None: a number)


def where(span: Span) -> Where:
    # Two look-ups of the line table, and no validation of five ints: a large file makes one
    # `Where` per statement and per distribution.
    line_col = span.source.line_col
    line, column = line_col(span.start)
    end_line, end_col = line_col(span.end)
    return Where.model_construct(file=span.source.path, line=line, column=column, end_line=end_line,
                                 end_column=end_col)


class Context:
    """The state that every section reads and writes, and the helpers that they share."""

    def __init__(self, files: list[ast.File], overrides: Mapping[str, Any], base_dir: str | None = None,
                 statements: Sequence[ast.Statement] | None = None) -> None:
        self.files = files
        self.base_dir = base_dir
        self.overrides = dict(overrides)
        self.diagnostics = Diagnostics()
        self.check = Checker(self.diagnostics)
        self.decls = Declarations()
        self.statements = list(statements) if statements is not None else [s for f in files for s in f.statements]
        resolve = lambda ref, d: resolve_signal(self.decls, ref, d)  # noqa: E731
        self.constants = Scope(what="here", resolve_ref=resolve, resolve_let=self._resolve_let)
        self.signals = Scope(resolve_ref=resolve, resolve_let=self._resolve_let)
        self.let_values: dict[str, Typed | None] = {}  # None while being lowered, or when it failed
        self._drawn_lets: dict[str, str] = {}  # random let -> the scope of the block that draws it
        self.parents: dict[str, str] = {}  # body -> what attaches it to its parent (a joint or a weld), first wins
        self._lowering: set[str] = set()
        self._shape_sizes: dict[str, list[float]] = {}  # body -> its declared shape's sizes, once validated
        self._delays: list[tuple[str, float, Span]] = []  # `ACTION.delay` draws: target, upper bound, place

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.add(code, message, span, hint)

    # ---- shared helpers: constants, settings, poses, files
    def _constant_scope(self, what: str) -> Scope:
        scope = self.constants.child()
        scope.what = what
        return scope

    def _const(self, expr: ast.Expr, what: str, dim: Dim | None = None, size: _Sizes = None,
               *, at_least: float | None = None, above: float | None = None) -> Value | None:
        """A constant with an expected dimension, length (None: scalar) and lower bound."""
        try:
            typed = self.check.constant(expr, self._constant_scope(f"for `{what}`"))
        except Failed:
            return None
        value = typed.constant
        if value is None:
            return None
        if dim is not None and typed.dim is not None and typed.dim != dim:
            self.error("SCN302", f"`{what}` is {a(dim)}, not {a(typed.dim)}", expr.span,
                       f"give it in {example_unit(dim)}" if dim != DIMENSIONLESS else "remove the unit")
            return None
        sizes = size if isinstance(size, tuple) else (size,)
        got = len(value) if isinstance(value, list) else None
        if got not in sizes:
            want = " or ".join("a number" if s is None else f"a {s}-vector" for s in sizes)
            self.error("SCN303", f"`{what}` must be {want}, got {'a number' if got is None else f'a {got}-vector'}",
                       expr.span, None)
            return None
        values = value if isinstance(value, list) else [value]
        if not all(math.isfinite(v) for v in values):
            self.error("SCN401", f"`{what}` must be a finite number", expr.span, None)
            return None
        if at_least is not None and any(v < at_least for v in values):
            self.error("SCN401", f"`{what}` must be at least {at_least:g}", expr.span, None)
            return None
        if above is not None and any(v <= above for v in values):
            self.error("SCN401", f"`{what}` must be greater than {above:g}", expr.span, None)
            return None
        return value

    def _settings(self, settings: tuple[ast.Setting, ...] | None, allowed: dict[str, Callable[[ast.Setting], Any]],
                  owner: str) -> dict[str, Any]:
        """Apply each setting's handler; reports unknown and repeated keys."""
        out: dict[str, Any] = {}
        seen: dict[str, ast.Setting] = {}
        for setting in settings or ():
            key = setting.key.name
            handler = allowed.get(key)
            repeated = getattr(handler, "repeated", False)
            if key in seen and not repeated:
                self.error("SCN208", f"`{key}` is set twice in {owner}", setting.key.span,
                           f"first set at {seen[key].span}")
                continue
            seen[key] = setting
            if handler is None:
                self.error("SCN203", f"unknown setting `{key}` in {owner}", setting.key.span,
                           did_you_mean(key, list(allowed)) or f"settings here: {', '.join(allowed)}")
                continue
            textual = getattr(handler, "textual", False)
            if (setting.text is not None) != textual:
                wanted = "a file name in quotes" if textual else "a value, not text"
                self.error("SCN306", f"`{key}` takes {wanted}", setting.span,
                           f'e.g. {key} = "wood.png"' if textual else f"write `{key} = ...` without quotes")
                continue
            if setting.value is None and setting.block is None and not textual and not getattr(handler, "flag", False):
                self.error("SCN406", f"`{key}` needs a value", setting.span, f"write `{key} = ...`")
                continue
            if setting.pose is not None and not getattr(handler, "posed", False):
                self.error("SCN306", f"`{key}` cannot be placed with `at (...)`", setting.pose.span,
                           "only a shape is placed: shape = box(0.1, 0.1, 0.1) at (translation = [0, 0, 0.05])")
                continue
            result = handler(setting)
            if result is not None and repeated:
                out.setdefault(key, []).append(result)
            elif result is not None:
                out[key] = result
        return out

    def _rgba(self, color: list[float], settings: tuple[ast.Setting, ...] | None,
              ) -> tuple[float, float, float, float]:
        if any(c > 1 for c in color):
            self.error("SCN401", "colour components are between 0 and 1", _value_span(settings, "color"),
                       "e.g. color = [0.8, 0.2, 0.2] (red, green, blue), or with a fourth number for opacity")
        r, g, b, *a = color
        return (r, g, b, a[0] if a else 1.0)


    def _value(self, dim: Dim | None, size: _Sizes = None, *, at_least: float | None = None,
               above: float | None = None) -> Callable[[ast.Setting], Any]:
        def handle(setting: ast.Setting) -> Any:
            if setting.value is None:
                self.error("SCN406", f"`{setting.key.name}` needs a value", setting.span, None)
                return None
            return self._const(setting.value, setting.key.name, dim, size, at_least=at_least, above=above)
        return handle

    def _choice(self, choices: tuple[str, ...]) -> Callable[[ast.Setting], Any]:
        def handle(setting: ast.Setting) -> Any:
            value = setting.value
            if not (isinstance(value, ast.Ref) and len(value.parts) == 1 and value.parts[0].name in choices):
                shown = value.span.text if value is not None else ""
                self.error("SCN404", f"`{shown}` is not a valid `{setting.key.name}`",
                           value.span if value is not None else setting.span,
                           did_you_mean(shown, list(choices)) or f"choices: {', '.join(choices)}")
                return None
            return value.parts[0].name
        return handle

    def _flag(self) -> Callable[[ast.Setting], Any]:
        def handle(setting: ast.Setting) -> Any:
            if setting.value is None:
                return True
            value = self._const(setting.value, setting.key.name, None)
            return None if value is None else bool(value)
        handle.flag = True  # type: ignore[attr-defined]
        return handle

    def _pose(self, pose: ast.Pose | None) -> Pose:
        if pose is None:
            return Pose()
        handlers = {"translation": (LENGTH, 3), "rotation": (ANGLE, 3), "rpy": (ANGLE, 3)}
        values: dict[str, Any] = {}
        for kwarg in pose.kwargs:
            key = kwarg.name.name
            if key not in handlers:
                self.error("SCN203", f"unknown pose field `{key}`", kwarg.name.span,
                           did_you_mean(key, list(handlers)) or "a pose has `translation` and `rotation`")
                continue
            expr = kwarg.value
            if key == "rotation" and isinstance(expr, ast.Call) and expr.func.name == "rpy":
                expr = ast.Vector(expr.span, expr.args, expr.unit)
            elif key == "rotation":
                self.error("SCN306", "a rotation is written `rpy(roll, pitch, yaw)`", expr.span,
                           "angles in degrees need `deg`: rpy(0, 0, 90 deg)")
                continue
            dim, size = handlers[key]
            value = self._const(expr, key, dim, size)
            if value is not None:
                values["rpy" if key != "translation" else key] = tuple(value)  # type: ignore[arg-type]
        return Pose(**values)

    def _folder(self, span: Span) -> str | None:
        return _folder_of(span) or self.base_dir

    def _missing(self, what: str, hint: str) -> None:
        header = next(s for s in self.files[0].statements if isinstance(s, ast.ScenarioDecl))
        self.error("SCN207", f"the scenario declares no `{what}`", header.span, hint)

    # ---- provided by the sections: declared here so that one section's calls on another type-check
    def _resolve_let(self, name: str) -> Typed | None:
        """Lower a top-level `let` on its first use (`randomization`)."""
        raise NotImplementedError

    def _actuated_setting(self, joint: str) -> ast.Setting | None:
        """The `actuated` setting of a declared joint (`randomization`)."""
        raise NotImplementedError

    def _distribution(self, expr: ast.Expr, dim: Dim | None, size: int | None, known: bool) -> Distribution | None:
        """A distribution for a target (`distributions`)."""
        raise NotImplementedError

    def _condition(self, expr: ast.Expr, what: str) -> Expr | None:
        """A boolean expression of signals (`episode`)."""
        raise NotImplementedError

    def _frame_name(self, ref: ast.Ref, model: ast.ModelDecl | None = None) -> str:
        """The frame a reference names (`plant`)."""
        raise NotImplementedError


def _flat(value: Any) -> list[float]:
    return value if isinstance(value, list) else [value]


def _value_span(settings: tuple[ast.Setting, ...] | None, key: str) -> Span:
    """The value of the setting `key` (that a handler has read, so it has one)."""
    value = next(s.value for s in settings or () if s.key.name == key and s.value is not None)
    return value.span


def _folder_of(span: Span) -> str | None:
    from pathlib import Path

    path = Path(span.path)
    return str(path.resolve().parent) if path.exists() else None
