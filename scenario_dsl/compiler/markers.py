"""Markers (`marker NAME { shape; color; position }`): shapes drawn where an expression puts
them, such as a target drawn each episode, for recordings, Meshcat and the scenario's cameras
(which see a marker: a target an agent must see in its images, or a distractor).

`MarkerPoses` is a geometry source of its own beside the plant: one SceneGraph frame per marker,
holding the marker's shape with the illustration role (Meshcat) and the perception role (the
camera of `render_mode="rgb_array"`), and no proximity role, so nothing collides with it. Its
output is the frames' poses, read from the markers' positions (an `ExpressionSystem` group that
`compile_scenario` adds only when something draws: a recording, Meshcat, or a scenario camera).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydrake.common.value import AbstractValue
from pydrake.geometry import (
    FramePoseVector,
    GeometryFrame,
    GeometryInstance,
    IllustrationProperties,
    PerceptionProperties,
    RenderLabel,
    Rgba,
    SceneGraph,
)
from pydrake.math import RigidTransform
from pydrake.systems.framework import LeafSystem

from scenario_dsl.compiler.plant import drake_shape, vec
from scenario_dsl.lang import model as m

PARKED = 1e6  # metres: where a marker whose position is not finite is drawn (out of every view)


class MarkerPoses(LeafSystem):
    """Input "positions" (3 per marker, in the world, in declaration order); output "poses", the
    `FramePoseVector` to connect to `scene_graph.get_source_pose_port(source_id)`."""

    def __init__(self, scene_graph: SceneGraph, markers: Sequence[m.Marker]) -> None:
        super().__init__()
        self.source_id = scene_graph.RegisterSource("scn_markers")
        self.frames = []
        self.geometries: dict[str, Any] = {}  # by marker name: its GeometryId
        for marker in markers:
            frame = scene_graph.RegisterFrame(self.source_id, GeometryFrame(marker.name))
            geometry = scene_graph.RegisterGeometry(
                self.source_id, frame, GeometryInstance(RigidTransform(), drake_shape(marker.shape), marker.name))
            color = Rgba(*marker.color)
            illustration = IllustrationProperties()
            illustration.AddProperty("phong", "diffuse", color)
            scene_graph.AssignRole(self.source_id, geometry, illustration)
            perception = PerceptionProperties()
            perception.AddProperty("phong", "diffuse", color)
            perception.AddProperty("label", "id", RenderLabel.kDontCare)  # not a body: no label of its own
            scene_graph.AssignRole(self.source_id, geometry, perception)
            self.frames.append(frame)
            self.geometries[marker.name] = geometry
        self.DeclareVectorInputPort("positions", 3 * len(markers))
        self.DeclareAbstractOutputPort("poses", lambda: AbstractValue.Make(FramePoseVector()), self._calc_poses)

    def _calc_poses(self, context: Any, output: Any) -> None:
        # A position that is not finite (an expression that overflowed) parks the marker out of
        # sight: SceneGraph refuses non-finite poses, and a marker must never stop a simulation.
        positions = np.nan_to_num(np.asarray(self.get_input_port().Eval(context), dtype=float),
                                  nan=PARKED, posinf=PARKED, neginf=-PARKED)
        poses = output.get_mutable_value()
        poses.clear()
        for i, frame in enumerate(self.frames):
            poses.set_value(frame, RigidTransform(vec(positions[3 * i:3 * i + 3])))
