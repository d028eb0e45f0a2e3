"""Stage 4 (placeholder while it is written): AST -> validated `Scenario`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scenario_dsl import ast
from scenario_dsl.diagnostics import Diagnostic


def validate(files: list[ast.File], params: Mapping[str, Any]) -> tuple[Any, list[Diagnostic]]:
    return None, []
