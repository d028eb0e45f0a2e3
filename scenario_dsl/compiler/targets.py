"""A randomization target: what one draw sets in a context (`compiler.randomize` makes them from
the scenario's draws; `compiler.visual` makes those of what cameras see), and the writer that
a body's contact targets share (`ContactWriter`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydrake.geometry import ProximityProperties, RoleAssign, SceneGraph
from pydrake.multibody.plant import CoulombFriction
from pydrake.systems.framework import Context

from scenario_dsl.compiler.plant import CompileError


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


class ContactWriter:
    """Writes the contact properties drawn for one body into a SceneGraph context."""

    def __init__(self, plant: Any, scene_graph: SceneGraph, body: Any, name: str) -> None:
        self.scene_graph = scene_graph
        self.geometries = plant.GetCollisionGeometriesForBody(body)
        self.source_id: Any = plant.get_source_id()
        if not self.geometries:
            raise CompileError("SCN505", f"`{name}`: the body has no collision geometry")
        self.model: Any = scene_graph.model_inspector().GetProximityProperties(self.geometries[0])
        self.pending: dict[tuple[str, str], float] = {}

    @staticmethod
    def read(props: Any, group: str, key: str) -> float:
        value: Any = props.GetProperty(group, key)
        return float(value.dynamic_friction()) if key == "coulomb_friction" else float(value)

    def commit(self, context: Context) -> None:
        if not self.pending:
            return
        # Start from the context's properties, not the model's: SceneGraph has filled in its
        # defaults there (`relaxation_time`, ...). Given the model's, AssignRole fills them in
        # and assigns again, re-meshing a compliant-hydroelastic geometry twice (measured:
        # 560 against 280 us for box_flipup's box).
        geometry_context = self.scene_graph.GetMyMutableContextFromRoot(context)
        query: Any = self.scene_graph.get_query_output_port().Eval(geometry_context)
        inspector = query.inspector()
        for geometry in self.geometries:
            props = ProximityProperties(inspector.GetProximityProperties(geometry))
            for (group, key), value in self.pending.items():
                props.UpdateProperty(group, key, CoulombFriction(value, value) if key == "coulomb_friction" else value)
            self.scene_graph.AssignRole(geometry_context, self.source_id, geometry, props, RoleAssign.kReplace)
        self.pending.clear()
