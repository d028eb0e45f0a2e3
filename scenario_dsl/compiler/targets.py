"""A randomization target: what one draw sets in a context (`compiler.randomize` makes them from
the scenario's draws; `compiler.visual` makes those of what cameras see)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydrake.systems.framework import Context


@dataclass
class Target:
    """One thing a draw sets: `get(root_context)` reads the current value, `set` writes it."""

    name: str
    size: int
    get: Callable[[Context], Any]  # -> a float64 array of `size` values
    set: Callable[[Context, Any], None]
    # Called once after every draw of an episode is set, for targets that share one costly write
    # (a body's contact properties: one `AssignRole` per geometry for all of them).
    commit: Callable[[Context], None] | None = None
