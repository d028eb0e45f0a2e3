"""A scenario's cameras (`camera NAME on PARENT at (...) { ... }`) as Drake `RgbdSensor`s.

Each camera renders through the VTK engine ("scn_vtk", shared with the recording camera of
`compiler.camera`) and exports its colour, depth and label images as "NAME_color",
"NAME_depth" and "NAME_label"; the environment reads those that are observed. A camera on a
body or a declared frame rides on the body's SceneGraph frame at the frame's fixed pose in the
body; one on the world stands on SceneGraph's world frame. The sensor keeps its pose and render
cameras in its context (`SetX_PB`, `SetColorRenderCamera`): `compiler.randomize` draws a camera's
`position`, `rpy` and `fov` there each episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydrake.geometry import (
    ClippingRange,
    ColorRenderCamera,
    DepthRange,
    DepthRenderCamera,
    RenderCameraCore,
    SceneGraph,
)
from pydrake.math import RigidTransform
from pydrake.systems.framework import DiagramBuilder
from pydrake.systems.sensors import CameraInfo, RgbdSensor

from scenario_dsl.compiler.camera import RENDERER, ensure_renderer, looking
from scenario_dsl.compiler.plant import PlantHandles, transform
from scenario_dsl.lang import model as m


def image_port(camera: str, image: str) -> str:
    """The diagram's output port of a camera's image ("color", "depth", "label")."""
    return f"{camera}_{image}"


def camera_in_parent(camera: m.Camera) -> RigidTransform:
    """The camera's frame in its parent's: the pose as written, or turned to `look_at`."""
    if camera.look_at is None:
        return transform(camera.pose)
    eye = np.asarray(camera.pose.translation, dtype=float)
    return looking(eye, np.asarray(camera.look_at, dtype=float) - eye)


@dataclass
class CameraSensor:
    """A camera's `RgbdSensor`, and the pose of the camera's parent frame in the body frame the
    sensor rides on (identity on the world or a body): `X_PB = X_BF @ X_FC` for a pose drawn in
    the parent's frame."""

    camera: m.Camera
    sensor: RgbdSensor
    X_BF: RigidTransform


def renderer_of(camera: m.Camera) -> str:
    """The render engine a camera draws with: the shared one, or its own for its background."""
    return RENDERER if camera.background is None else f"{RENDERER}_{camera.name}"


def add_cameras(builder: DiagramBuilder, handles: PlantHandles, scene_graph: SceneGraph,
                cameras: list[m.Camera], lights: list[m.Light]) -> dict[str, CameraSensor]:
    """An `RgbdSensor` per camera (a system named after it), its images exported. A camera with
    a `background` has a render engine of its own (Drake takes the colour when it makes one)."""
    added: dict[str, CameraSensor] = {}
    for camera in cameras:
        ensure_renderer(scene_graph, lights, renderer_of(camera), camera.background)
    plant = handles.plant
    for camera in cameras:
        X_BF = RigidTransform()
        if camera.parent == "world":
            parent_id = scene_graph.world_frame_id()
        else:
            frame = handles.frame(camera.parent, camera.where)
            parent_id = plant.GetBodyFrameIdOrThrow(frame.body().index())
            X_BF = frame.GetFixedPoseInBodyFrame()
        X_PC = X_BF @ camera_in_parent(camera)
        sensor = RgbdSensor(parent_id, X_PC, *render_cameras(camera, camera.fov))
        builder.AddNamedSystem(camera.name, sensor)
        builder.Connect(scene_graph.get_query_output_port(), sensor.query_object_input_port())
        builder.ExportOutput(sensor.color_image_output_port(), image_port(camera.name, "color"))
        builder.ExportOutput(sensor.depth_image_32F_output_port(), image_port(camera.name, "depth"))
        builder.ExportOutput(sensor.label_image_output_port(), image_port(camera.name, "label"))
        added[camera.name] = CameraSensor(camera, sensor, X_BF)
    return added


def render_cameras(camera: m.Camera, fov: float) -> tuple[ColorRenderCamera, DepthRenderCamera]:
    """The camera's colour and depth render cameras with another vertical field of view."""
    core = RenderCameraCore(renderer_of(camera), CameraInfo(camera.width, camera.height, fov),
                            ClippingRange(camera.near, camera.far), RigidTransform())
    return ColorRenderCamera(core), DepthRenderCamera(core, DepthRange(camera.near, camera.far))
