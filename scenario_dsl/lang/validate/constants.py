"""Constants: the scenario's `param`s, with the `--param` overrides (SCN210 for a value that is not
one, SCN302/SCN303 for one of the wrong dimension or length).
"""

from __future__ import annotations

from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.build import build
from scenario_dsl.lang.diagnostics import Diagnostic
from scenario_dsl.lang.model import Const
from scenario_dsl.lang.source import SourceFile
from scenario_dsl.lang.typecheck import Failed, Typed
from scenario_dsl.lang.units import a, example_unit
from scenario_dsl.lang.validate.context import Context


class ConstantChecks(Context):
    """The `param`s and their overrides."""

    def _params(self) -> None:
        for name, param in self.decls.params.items():
            override = self.overrides.pop(name, None)
            try:
                default = self.check.constant(param.value, self._constant_scope("in a `param`"))
            except Failed:
                self.constants.failed.add(name)  # reported; its uses fail quietly
                self.signals.failed.add(name)
                continue
            typed = self._override(param, default, override) if override is not None else None
            self.constants.constants[name] = typed or default
        self.signals.constants = self.constants.constants

    def _override(self, param: ast.Param, default: Typed, value: Any) -> Typed | None:
        """The `--param` value for `param`, or None (reported) when it is not a value of the default's
        dimension and length; the default then stands in, so its uses report nothing more."""
        text = value if isinstance(value, str) else repr(value)
        source = SourceFile(f"--param {param.name.name}", f"param {param.name.name} = {text}")
        parsed, problems = build(source)
        if parsed is None or len(parsed.statements) != 1 or not isinstance(parsed.statements[0], ast.Param):
            self.diagnostics.extend(problems or [Diagnostic("SCN210", f"`{text}` is not a value", None, None,
                                                            path=source.path)])
            return None
        try:
            typed = self.check.constant(parsed.statements[0].value, self._constant_scope("in a `--param`"))
        except Failed:
            return None
        if not isinstance(typed.ir, Const):
            return None  # SCN307, reported
        if default.dim is not None and typed.dim is not None and default.dim != typed.dim:
            self.error("SCN302", f"--param {param.name.name} is {a(typed.dim)}; the parameter is "
                       f"{a(default.dim)}", param.span, f"give it in {example_unit(default.dim)}")
            return None
        if typed.size != default.size:
            def shape(size: int | None) -> str:
                return "a number" if size is None else f"a {size}-vector"

            self.error("SCN303", f"--param {param.name.name} is {shape(typed.size)}; the parameter is "
                       f"{shape(default.size)}", param.span,
                       "give one number" if default.size is None else f"give {default.size} numbers: [...]")
            return None
        return Typed(typed.ir, typed.size, typed.dim or default.dim)
