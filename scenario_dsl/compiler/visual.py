"""Randomization targets of what cameras see: a body's colour and texture, a marker's colour and
a camera's pose and field of view (`B.color`, `B.texture`, `M.color`, `CAM.position`, `CAM.rpy`,
`CAM.fov`), each written into the episode's context:
the SceneGraph context's perception roles, the `RgbdSensor`'s context parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydrake.geometry import PerceptionProperties, Rgba, Role, SceneGraph
from pydrake.math import RigidTransform, RollPitchYaw
from pydrake.systems.framework import Context

from scenario_dsl.compiler.plant import CompileError, vec
from scenario_dsl.compiler.sensors import CameraSensor, camera_in_parent, render_cameras
from scenario_dsl.compiler.targets import Target
from scenario_dsl.lang import model as m


class PerceptionWriter:
    """The perception properties of some geometries (a body's visual ones, or a marker's), with
    every change an episode draws for them (a colour, a texture) written in one go (`commit`).
    Drake replaces no perception properties in place (`kReplace` is for proximity), so the role
    is removed from each geometry in the SceneGraph context and assigned again: the render
    engines in the context drop the geometry and add it anew (about 2 ms a geometry). One writer
    per geometry set keeps a colour draw and a texture draw of one body from undoing each other."""

    def __init__(self, scene_graph: SceneGraph, source: Any, geometries: list[Any]) -> None:
        inspector = scene_graph.model_inspector()
        self.scene_graph, self.source, self.geometries = scene_graph, source, geometries
        self.models = [PerceptionProperties(inspector.GetPerceptionProperties(g)) for g in geometries]
        self.pending: dict[str, Any] = {}  # phong property -> value, for this episode

    @staticmethod
    def of_body(name: str, plant: Any, scene_graph: SceneGraph, body: Any, where: m.Where | None,
                ) -> PerceptionWriter:
        inspector = scene_graph.model_inspector()
        geometries = [g for g in plant.GetVisualGeometriesForBody(body)
                      if inspector.GetPerceptionProperties(g) is not None]
        if not geometries:
            raise CompileError("SCN505", f"`{name}`: the body has no geometry a camera sees",
                               "give it a `shape` (visual) or a `visual_shape`", where)
        return PerceptionWriter(scene_graph, plant.get_source_id(), geometries)

    def diffuse(self, index: int = 0) -> Any:
        return self.models[index].GetPropertyOrDefault("phong", "diffuse", Rgba(0.9, 0.9, 0.9, 1.0))

    def commit(self, context: Context) -> None:
        if not self.pending:
            return
        geometry_context = self.scene_graph.GetMyMutableContextFromRoot(context)
        for i, (geometry, model) in enumerate(zip(self.geometries, self.models, strict=True)):
            props = PerceptionProperties(model)
            for key, value in self.pending.items():
                if key == "diffuse":  # the drawn red, green and blue; the geometry's own opacity
                    red, green, blue = value
                    value = Rgba(red, green, blue, self.diffuse(i).a())
                props.UpdateProperty("phong", key, value)
            self.scene_graph.RemoveRole(geometry_context, self.source, geometry, Role.kPerception)
            self.scene_graph.AssignRole(geometry_context, self.source, geometry, props)
        self.pending.clear()


def color_target(name: str, writer: PerceptionWriter) -> Target:
    """The red, green and blue its geometries show the cameras (clipped to [0, 1])."""
    first = writer.diffuse()
    nominal = np.array([first.r(), first.g(), first.b()])

    def set_(context: Context, value: Any) -> None:
        writer.pending["diffuse"] = tuple(float(c) for c in np.clip(np.asarray(value, dtype=float), 0.0, 1.0))

    return Target(name, 3, lambda c: nominal.copy(), set_, writer.commit)


def texture_target(name: str, writer: PerceptionWriter, textures: list[str], where: m.Where | None) -> Target:
    """Which of `textures` (the body's PNG files) its geometries show: the drawn number,
    rounded and clipped to the list, as their perception role's `diffuse_map`."""
    if not textures:
        raise CompileError("SCN505", f"`{name}`: the body has no texture files to choose from",
                           'give it `texture = "textures/*.png"`', where)

    def set_(context: Context, value: Any) -> None:
        index = int(np.clip(np.rint(float(np.asarray(value, dtype=float).reshape(-1)[0])), 0, len(textures) - 1))
        writer.pending["diffuse_map"] = textures[index]

    return Target(name, 1, lambda c: np.zeros(1), set_, writer.commit)


def camera_target(name: str, held: CameraSensor, attribute: str) -> Target:
    """A camera's `position` (in its parent's frame), `rpy` (its rotation there, Drake's camera
    frame: +z forward) or `fov` (vertical, radians), written into its sensor's context
    parameters (`RgbdSensor.SetX_PB`, `SetColorRenderCamera`, `SetDepthRenderCamera`)."""
    sensor, camera, X_BF = held.sensor, held.camera, held.X_BF
    nominal = camera_in_parent(camera)

    def pose_in_parent(context: Context) -> RigidTransform:
        return X_BF.inverse() @ sensor.GetX_PB(sensor.GetMyContextFromRoot(context))

    if attribute == "fov":
        def set_fov(context: Context, value: Any) -> None:
            fov = float(value[0])
            if not 0 < fov < np.pi:  # Drake's own refusal says nothing of the angle
                raise CompileError("SCN405", f"`{name}` was drawn as {fov:g} rad ({np.degrees(fov):g} deg): a field "
                                   "of view is between 0 and 180 degrees", "draw values that stay in (0, 180) deg; "
                                   "`fov +~ uniform(-5 deg, 5 deg)` needs its unit")
            color, depth = render_cameras(camera, fov)
            own = sensor.GetMyMutableContextFromRoot(context)
            sensor.SetColorRenderCamera(own, color)
            sensor.SetDepthRenderCamera(own, depth)

        return Target(name, 1, lambda c: np.array([camera.fov]), set_fov)
    if attribute == "position":
        def set_position(context: Context, value: Any) -> None:
            X_FC = RigidTransform(pose_in_parent(context).rotation(), vec(np.asarray(value, dtype=float)))
            sensor.SetX_PB(sensor.GetMyMutableContextFromRoot(context), X_BF @ X_FC)

        return Target(name, 3, lambda c: np.asarray(nominal.translation()).copy(), set_position)

    def set_rpy(context: Context, value: Any) -> None:
        X_FC = RigidTransform(RollPitchYaw(vec(np.asarray(value, dtype=float))), pose_in_parent(context).translation())
        sensor.SetX_PB(sensor.GetMyMutableContextFromRoot(context), X_BF @ X_FC)

    return Target(name, 3, lambda c: RollPitchYaw(nominal.rotation()).vector().copy(), set_rpy)
