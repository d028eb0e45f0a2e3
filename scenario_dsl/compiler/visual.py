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


def color_target(name: str, plant: Any, scene_graph: SceneGraph, body: Any, where: m.Where | None) -> Target:
    """The red, green and blue of every visual geometry of `body` as the cameras see it."""
    inspector = scene_graph.model_inspector()
    geometries = [g for g in plant.GetVisualGeometriesForBody(body)
                  if inspector.GetPerceptionProperties(g) is not None]
    if not geometries:
        raise CompileError("SCN505", f"`{name}`: the body has no geometry a camera sees",
                           "give it a `shape` (visual) or a `visual_shape`", where)
    return geometry_color_target(name, scene_graph, plant.get_source_id(), geometries)


def texture_target(name: str, plant: Any, scene_graph: SceneGraph, body: Any, textures: list[str],
                   where: m.Where | None) -> Target:
    """Which of `textures` (the body's PNG files) its visual geometries show: the drawn number,
    rounded and clipped to the list, written as their perception role's `diffuse_map`."""
    if not textures:
        raise CompileError("SCN505", f"`{name}`: the body has no texture files to choose from",
                           'give it `texture = "textures/*.png"`', where)
    inspector = scene_graph.model_inspector()
    geometries = [g for g in plant.GetVisualGeometriesForBody(body) if inspector.GetPerceptionProperties(g) is not None]
    models = [PerceptionProperties(inspector.GetPerceptionProperties(g)) for g in geometries]
    source: Any = plant.get_source_id()

    def set_(context: Context, value: Any) -> None:
        index = int(np.clip(np.rint(float(np.asarray(value, dtype=float).reshape(-1)[0])), 0, len(textures) - 1))
        geometry_context = scene_graph.GetMyMutableContextFromRoot(context)
        for geometry, model in zip(geometries, models, strict=True):
            props = PerceptionProperties(model)
            props.UpdateProperty("phong", "diffuse_map", textures[index])
            scene_graph.RemoveRole(geometry_context, source, geometry, Role.kPerception)
            scene_graph.AssignRole(geometry_context, source, geometry, props)

    return Target(name, 1, lambda c: np.zeros(1), set_)


def geometry_color_target(name: str, scene_graph: SceneGraph, source: Any, geometries: list[Any]) -> Target:
    """The red, green and blue of `geometries` (of geometry source `source`) as the cameras see
    them (their perception role's diffuse colour; the opacity is kept). Drake replaces no
    perception properties in place (`kReplace` is for proximity), so each draw removes the role
    from the geometry in the SceneGraph context and assigns it again: the render engines in the
    context drop the geometry and add it with the new colour (about 2 ms a geometry)."""
    inspector = scene_graph.model_inspector()
    models = [PerceptionProperties(inspector.GetPerceptionProperties(g)) for g in geometries]
    first: Any = models[0].GetPropertyOrDefault("phong", "diffuse", Rgba(0.9, 0.9, 0.9, 1.0))
    nominal = np.array([first.r(), first.g(), first.b()])

    def set_(context: Context, value: Any) -> None:
        red, green, blue = (float(c) for c in np.clip(np.asarray(value, dtype=float), 0.0, 1.0))
        geometry_context = scene_graph.GetMyMutableContextFromRoot(context)
        for geometry, model in zip(geometries, models, strict=True):
            props = PerceptionProperties(model)
            diffuse: Any = model.GetPropertyOrDefault("phong", "diffuse", Rgba(0.9, 0.9, 0.9, 1.0))
            alpha = diffuse.a()
            props.UpdateProperty("phong", "diffuse", Rgba(red, green, blue, alpha))
            scene_graph.RemoveRole(geometry_context, source, geometry, Role.kPerception)
            scene_graph.AssignRole(geometry_context, source, geometry, props)

    return Target(name, 3, lambda c: nominal.copy(), set_)


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
