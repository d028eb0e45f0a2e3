"""The camera of `render_mode="rgb_array"` (`scn eval --video`): a VTK `RgbdSensor` placed by a
named view and framed on the scene's bounding box at its default state, so an arm moving in a
horizontal plane is filmed from above and a planar x-z scene from the side, whatever their size.

Views: `auto` looks along the normal of the plane the scene moves in, when its joints say so
(every revolute joint turns about one world axis, no body floats: an arm pitching about y is
seen from the front, whatever its default pose), else along the axis in which the scene is
thinnest (a scene flat in y is seen from the front, one flat in z from above, a
three-dimensional one from a corner); `front`
looks along +y, `side` along -x, `top` down -z, `iso` from the (-x, -y, +z) corner. The camera
stands back until the bounding sphere of the scene, grown by a margin for what moves, fills the
field of view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydrake.geometry import (
    Box,
    Capsule,
    ClippingRange,
    ColorRenderCamera,
    Cylinder,
    DepthRange,
    DepthRenderCamera,
    Ellipsoid,
    LightParameter,
    MakeRenderEngineVtk,
    RenderCameraCore,
    RenderEngineVtkParams,
    Rgba,
    SceneGraph,
    Sphere,
)
from pydrake.math import RigidTransform, RotationMatrix
from pydrake.multibody.plant import MultibodyPlant
from pydrake.multibody.tree import BodyIndex
from pydrake.systems.framework import DiagramBuilder
from pydrake.systems.sensors import CameraInfo, RgbdSensor

from scenario_dsl.compiler.plant import vec
from scenario_dsl.lang import model as m
from scenario_dsl.lang.model import CAMERA_VIEWS

#: The direction each named view (`model.CAMERA_VIEWS`) looks in (None: chosen from the scene's shape).
VIEWS: dict[str, tuple[float, float, float] | None] = {
    "auto": None, "front": (0.0, 1.0, 0.0), "side": (-1.0, 0.0, 0.0), "top": (0.0, 0.0, -1.0),
    "iso": (1.0, 1.0, -1.0),
}
assert tuple(VIEWS) == CAMERA_VIEWS, "one list of views: lang/model.py's"
FIELD_OF_VIEW = np.pi / 4  # vertical
RENDERER = "scn_vtk"  # the VTK render engine every camera of a diagram shares
MARGIN = 1.15  # the bounding sphere grown by this much: boxes fall, free bodies fly (joints' sweeps are in the box)


def add_camera(builder: DiagramBuilder, plant: MultibodyPlant, scene_graph: SceneGraph, view: str = "auto",
               width: int = 640, height: int = 480) -> None:
    """Add the camera (system "camera") and export its colour image as "rgb_image"."""
    lows, highs = scene_box(plant, scene_graph)
    center, radius = (lows + highs) / 2, max(float(np.linalg.norm(highs - lows)) / 2, 0.05)
    X_WC = camera_pose(center, radius, view if view != "auto" else auto_view(highs - lows, motion_plane(plant)))
    ensure_renderer(scene_graph)
    distance = float(np.linalg.norm(X_WC.translation() - center))
    clipping = ClippingRange(max(0.01, distance - 3 * radius), distance + 3 * radius)
    core = RenderCameraCore(RENDERER, CameraInfo(width, height, FIELD_OF_VIEW), clipping, RigidTransform())
    depth = DepthRenderCamera(core, DepthRange(clipping.near(), clipping.far()))
    sensor = RgbdSensor(scene_graph.world_frame_id(), X_WC, ColorRenderCamera(core), depth)
    builder.AddNamedSystem("camera", sensor)
    builder.Connect(scene_graph.get_query_output_port(), sensor.query_object_input_port())
    builder.ExportOutput(sensor.color_image_output_port(), "rgb_image")


def scene_box(plant: MultibodyPlant, scene_graph: SceneGraph) -> tuple[np.ndarray, np.ndarray]:
    """The corners of an axis-aligned box around every visual geometry at the plant's default
    state, and around the circles the geometry beyond each revolute joint sweeps as it turns (an
    arm's reach, whatever its default pose); a scene without geometry is the box around the unit
    sphere at the origin."""
    context = plant.CreateDefaultContext()
    inspector = scene_graph.model_inspector()
    lows, highs = [], []
    spheres: dict[int, list[tuple[np.ndarray, float]]] = {}  # body index -> (centre, radius) of its geometry
    for index in range(plant.num_bodies()):
        body = plant.get_body(BodyIndex(index))
        X_WB = plant.EvalBodyPoseInWorld(context, body)
        for geometry in plant.GetVisualGeometriesForBody(body):
            half = _half_extents(inspector.GetShape(geometry))
            if half is None:
                continue
            X_WG = X_WB @ inspector.GetPoseInFrame(geometry)
            reach = np.abs(X_WG.rotation().matrix()) @ half  # the rotated box's half extents in the world
            lows.append(X_WG.translation() - reach)
            highs.append(X_WG.translation() + reach)
            spheres.setdefault(int(index), []).append((X_WG.translation(), float(np.linalg.norm(half))))
    if not lows:
        return -np.ones(3), np.ones(3)
    for joint_index in plant.GetJointIndices():
        joint: Any = plant.get_joint(joint_index)
        if joint.type_name() != "revolute":
            continue
        X_WF = joint.frame_on_parent().CalcPoseInWorld(context)
        axis = X_WF.rotation().matrix() @ np.asarray(joint.revolute_axis())
        pivot = X_WF.translation()
        moved = plant.GetBodiesKinematicallyAffectedBy([joint_index])
        radius = 0.0
        for body_index in moved:
            for centre, size in spheres.get(int(body_index), []):
                offset = centre - pivot
                radius = max(radius, float(np.linalg.norm(offset - (offset @ axis) * axis)) + size)
        if radius > 0:  # the circle of that radius about the axis: its extent along each world axis
            extent = radius * np.sqrt(np.clip(1 - axis * axis, 0.0, 1.0))
            lows.append(pivot - extent)
            highs.append(pivot + extent)
    return np.min(lows, axis=0), np.max(highs, axis=0)


def motion_plane(plant: MultibodyPlant) -> str | None:
    """The view along the normal of the plane every body moves in ("front" for the x-z plane,
    "side" for y-z, "top" for x-y), when the revolute joints all turn about that world axis, the
    planar joints move in that plane, the prismatic ones slide in it and no body floats; else None."""
    if plant.GetFloatingBaseBodies():
        return None
    context = plant.CreateDefaultContext()
    normals, slides = [], []
    for index in plant.GetJointIndices():
        joint: Any = plant.get_joint(index)  # the subclass by its type: RevoluteJoint, PrismaticJoint...
        R_WF = joint.frame_on_child().CalcPoseInWorld(context).rotation().matrix()
        kind = joint.type_name()
        if kind == "revolute":
            normals.append(R_WF @ np.asarray(joint.revolute_axis()))
        elif kind == "planar":
            normals.append(R_WF[:, 2])
        elif kind == "prismatic":
            slides.append(R_WF @ np.asarray(joint.translation_axis()))
        elif kind != "weld":
            return None  # a ball, universal or screw joint moves out of any one plane
    if not normals:
        return None
    normal = normals[0] / np.linalg.norm(normals[0])
    if any(np.linalg.norm(np.cross(normal, n / np.linalg.norm(n))) > 1e-6 for n in normals) or \
            any(abs(float(normal @ s)) > 1e-6 * np.linalg.norm(s) for s in slides):
        return None
    axis = int(np.argmax(np.abs(normal)))
    if abs(normal[axis]) < 1 - 1e-6:
        return None  # a plane no named view looks at square on
    return ("side", "front", "top")[axis]


def auto_view(size: np.ndarray, plane: str | None = None) -> str:
    """The view square on to the plane the scene moves in (`motion_plane`), when it has one;
    else along the axis in which a scene of this size is thinnest (at most 0.35 of its largest
    extent), else from a corner."""
    if plane is not None:
        return plane
    thinnest = int(np.argmin(size))
    if size[thinnest] > 0.35 * float(np.max(size)):
        return "iso"
    return ("side", "front", "top")[thinnest]


def ensure_renderer(scene_graph: SceneGraph, lights: Sequence[m.Light] = (), name: str = RENDERER,
                    background: Sequence[float] | None = None) -> None:
    """A VTK render engine called `name`, once: with the scenario's lights (Drake's default
    without any: a white headlight on each camera) and a `background` colour (red, green, blue;
    VTK's pale blue without one). `compile_scenario` makes the shared one first, with the lights."""
    if not scene_graph.HasRenderer(name):
        params = RenderEngineVtkParams()
        params.lights = [LightParameter(type="directional", color=Rgba(*light.color, 1.0), intensity=light.intensity,
                                        direction=vec(light.direction), frame=light.frame) for light in lights]
        if background is not None:
            params.default_clear_color = vec(background)
        scene_graph.AddRenderer(name, MakeRenderEngineVtk(params))


def _half_extents(shape: Any) -> np.ndarray | None:
    """Half the size of a box around `shape` in its own frame (None: unbounded, a half space)."""
    if isinstance(shape, Sphere):
        return np.full(3, shape.radius())
    if isinstance(shape, Box):
        return np.asarray(shape.size()) / 2
    if isinstance(shape, Cylinder):
        return np.array([shape.radius(), shape.radius(), shape.length() / 2])
    if isinstance(shape, Capsule):
        return np.array([shape.radius(), shape.radius(), shape.length() / 2 + shape.radius()])
    if isinstance(shape, Ellipsoid):
        return np.array([shape.a(), shape.b(), shape.c()])
    if type(shape).__name__ == "HalfSpace":
        return None
    return np.full(3, 0.1)  # a mesh: its file is not read here


def camera_pose(center: np.ndarray, radius: float, view: str) -> RigidTransform:
    """Where the camera stands and how it turns: looking at `center` along the view's direction,
    far enough back for a sphere of `radius` (times MARGIN) to fit the field of view; image up is
    world +z (world +y for a view straight down)."""
    if view not in VIEWS:
        raise ValueError(f"unknown camera view {view!r}; views: {', '.join(VIEWS)}")
    direction = VIEWS[view]
    assert direction is not None, "resolve `auto` with `auto_view` first"
    look = np.asarray(direction, dtype=float)
    look = look / np.linalg.norm(look)
    distance = MARGIN * radius / np.sin(FIELD_OF_VIEW / 2)
    return looking(center - distance * look, look)


def looking(eye: np.ndarray, look: np.ndarray) -> RigidTransform:
    """A camera frame (Drake's: +z forward, +x the image's right, +y its down) at `eye`, looking
    along `look`, image up along +z (along +y when it looks straight up or down)."""
    look = np.asarray(look, dtype=float) / np.linalg.norm(look)
    up = np.array([0.0, 0.0, 1.0]) if abs(look[2]) < 0.99 else np.array([0.0, 1.0, 0.0])
    right = np.cross(look, up)
    right /= np.linalg.norm(right)
    down = np.cross(look, right)
    return RigidTransform(RotationMatrix(vec(np.column_stack([right, down, look]))), vec(np.asarray(eye, dtype=float)))

