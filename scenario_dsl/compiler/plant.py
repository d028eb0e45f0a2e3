"""Compiler stage 1: the scenario's plant -> a finalized Drake `MultibodyPlant`.

`plant_config` maps `PlantSettings` to `MultibodyPlantConfig`; `populate` adds models,
primitive bodies (with the inertia, contact and hydroelastic properties of
`manipulation.scenarios.AddShape`), frames, joints, welds and actuators, and returns
`PlantHandles`, the Drake object behind every name the scenario declares.
`controller_scenario` cuts out the part of a scenario an `InverseDynamicsController` models.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydrake.geometry import (
    AddCompliantHydroelasticProperties,
    AddContactMaterial,
    AddRigidHydroelasticProperties,
    Box,
    Capsule,
    Cylinder,
    Ellipsoid,
    GeometryInstance,
    IllustrationProperties,
    PerceptionProperties,
    ProximityProperties,
    Rgba,
    Shape,
    Sphere,
)
from pydrake.math import RigidTransform, RollPitchYaw
from pydrake.multibody.parsing import Parser
from pydrake.multibody.plant import (
    CoulombFriction,
    DiscreteContactApproximation,
    MultibodyPlant,
    MultibodyPlantConfig,
)
from pydrake.multibody.tree import (
    BallRpyJoint,
    FixedOffsetFrame,
    Frame,
    Joint,
    JointActuator,
    ModelInstanceIndex,
    PlanarJoint,
    PrismaticJoint,
    QuaternionFloatingJoint,
    RevoluteJoint,
    RigidBody,
    RotationalInertia,
    SpatialInertia,
    UnitInertia,
    UniversalJoint,
    WeldJoint,
)

from scenario_dsl.lang import model as m
from scenario_dsl.lang.diagnostics import ScnError
from scenario_dsl.lang.limits import default_resolution_hint, inertia_problem, mesh_problem, plant_steps_problem
from scenario_dsl.lang.modelfiles import ModelFileError, resolve_url

# manipulation.scenarios.AddShape's contact defaults: the seed lecture's bodies use them.
DEFAULT_FRICTION = m.CONTACT_DEFAULTS["friction"]
DEFAULT_DISSIPATION = m.CONTACT_DEFAULTS["hunt_crossley_dissipation"]  # Hunt-Crossley dissipation, s/m
DEFAULT_POINT_STIFFNESS = m.CONTACT_DEFAULTS["point_stiffness"]  # N/m
DEFAULT_HYDROELASTIC_MODULUS = m.CONTACT_DEFAULTS["hydroelastic_modulus"]  # Pa
DEFAULT_RESOLUTION_HINT = m.CONTACT_DEFAULTS["resolution_hint"]  # m
DEFAULT_COLOR = (0.5, 0.5, 0.9, 1.0)


def vec(values: Any) -> Any:
    """`values` as a float64 NumPy array, typed `Any`: pydrake's generated stubs spell array
    parameters as `ndarray[float64, ...]`, which no NumPy array type satisfies."""
    return np.asarray(values, dtype=np.float64)


class CompileError(ScnError):
    """The scenario cannot become a Drake diagram (or a drawn value cannot go into one); `code` is
    the diagnostic's (SCN4xx for drawn values, SCN5xx for the build), `where` the declaration's place."""

    def __init__(self, code: str, message: str, hint: str | None = None, where: m.Where | None = None) -> None:
        super().__init__(message, hint, where, code=code)


_FAILURE = re.compile(r"Failure at \S+ in (?P<function>[\w:~]+)\(\): condition '(?P<condition>.*?)' failed\.?"
                      r"(?P<rest>.*)", re.S)


def drake_reason(exc: BaseException) -> str:
    """Drake's complaint as a sentence without its source path: `Failure at bazel-out/... in Box():
    condition 'width > 0' failed.` becomes "Box() requires width > 0"; a message of several lines
    (an inertia Drake prints as a matrix) keeps its first."""
    text = str(exc).strip()
    match = _FAILURE.match(text)
    if match:
        rest = match["rest"].strip().rstrip(".")
        return f"{match['function']}() requires {match['condition']}" + (f" ({rest})" if rest else "")
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


@contextmanager
def drake_call(what: str, where: m.Where | None, hint: str | None = None, code: str = "SCN506") -> Iterator[None]:
    """Turn a Drake failure in the block into `CompileError(code)` at `where`: a `RuntimeError`,
    and the `SystemExit` pydrake raises for a failed `DRAKE_DEMAND` (its text starts "Failure at")."""
    try:
        yield
    except (RuntimeError, SystemExit) as exc:
        if isinstance(exc, SystemExit) and not str(exc).startswith("Failure at"):
            raise
        raise CompileError(code, f"Drake refuses {what}: {drake_reason(exc)}", hint, where) from None


@dataclass
class PlantHandles:
    """The Drake objects behind the scenario's names (loaded model parts as "model.name")."""

    plant: MultibodyPlant
    # Put before the Drake names of what the scenario adds (a world of a batch: "world3::"): its
    # loaded models' instances, its bodies (whose instances the worlds share), frames, joints, actuators.
    prefix: str = ""
    models: dict[str, list[ModelInstanceIndex]] = field(default_factory=dict)
    bodies: dict[str, RigidBody] = field(default_factory=dict)
    frames: dict[str, Frame] = field(default_factory=dict)
    joints: dict[str, Joint] = field(default_factory=dict)
    actuators: dict[str, JointActuator] = field(default_factory=dict)  # by joint name
    initial_v: dict[str, list[float]] = field(default_factory=dict)  # set in the context at reset
    # A world of a batch shares its plant: what `plant.state/q/v` and `plant.actuation` mean for it
    # (its rows of [q; v] and its actuators' rows of the actuation input). None: the whole plant.
    world_state_rows: list[int] | None = None
    world_actuation_rows: list[int] | None = None

    def frame(self, name: str, where: m.Where | None = None, model: str | None = None) -> Frame:
        """The frame a scenario name denotes: world, a body, a declared frame, or "model.part"
        (inside a `model` block, a bare name may also be a part of that model)."""
        if model is not None and name not in self.frames and name not in self.bodies and name != "world":
            name = f"{model}.{name}" if not name.startswith(f"{model}.") else name
        if name == "world":
            return self.plant.world_frame()
        if name in self.frames:
            return self.frames[name]
        if name in self.bodies:
            return self.bodies[name].body_frame()
        model, _, part = name.partition(".")
        for instance in self.models.get(model, []):
            if self.plant.HasFrameNamed(part, instance):
                return self.plant.GetFrameByName(part, instance)
        raise CompileError("SCN503", f"no frame, body or model part named `{name}`", None, where)

    def body(self, name: str, where: m.Where | None = None) -> RigidBody:
        if name in self.bodies:
            return self.bodies[name]
        model, _, part = name.partition(".")
        for instance in self.models.get(model, []):
            if self.plant.HasBodyNamed(part, instance):
                return self.plant.GetBodyByName(part, instance)
        raise CompileError("SCN503", f"no body named `{name}`", None, where)

    def joint(self, name: str, where: m.Where | None = None) -> Joint:
        if name in self.joints:
            return self.joints[name]
        model, _, part = name.partition(".")
        for instance in self.models.get(model, []):
            if self.plant.HasJointNamed(part, instance):
                return self.plant.GetJointByName(part, instance)
        raise CompileError("SCN503", f"no joint named `{name}`", None, where)

    def actuators_of(self, name: str, where: m.Where | None = None) -> list[JointActuator]:
        """The actuators driving a joint (declared or loaded), in actuator-index order."""
        joint = self.joint(name, where)
        return [a for a in (self.plant.get_joint_actuator(i) for i in self.plant.GetJointActuatorIndices())
                if a.joint().index() == joint.index()]


def set_state_rows(plant: MultibodyPlant, plant_context: Any, rows: Any, values: Any) -> None:
    """Write `values` into rows `rows` of the plant's [q; v]. A discrete plant's state is its
    discrete state vector: written in place, a cost of the rows alone (a batch of worlds resets
    one world's rows of a long state; the whole vector's get and set cost 35 us at 256 worlds).
    A continuous plant's state is read and written whole, and so are values that are not all
    finite: Drake's `SetPositionsAndVelocities` then refuses them (the randomizer reports SCN405)."""
    values = np.asarray(values, dtype=np.float64)
    if plant.time_step() > 0 and np.isfinite(values).all():
        plant_context.get_mutable_discrete_state_vector().get_mutable_value()[rows] = values
        return
    x = plant.GetPositionsAndVelocities(plant_context)
    x[rows] = values
    plant.SetPositionsAndVelocities(plant_context, x)


def plant_config(settings: m.PlantSettings) -> MultibodyPlantConfig:
    """`MultibodyPlantConfig` from the scenario's settings; SCN505 for an approximation the
    installed Drake lacks (TAMSI was removed in newer releases)."""
    available = discrete_contact_approximations()
    if settings.discrete_contact_approximation and settings.discrete_contact_approximation not in available:
        raise CompileError(
            "SCN505", f"discrete_contact_approximation `{settings.discrete_contact_approximation}` is not "
            "available in the installed Drake", "choose one of: " + ", ".join(available), settings.where)
    # Not sampled: Drake would then compute and store the contact results and reaction forces
    # after every plant step (an unrestricted update that invalidates the whole diagram's cache),
    # and scn reads none of them: the state and body poses come from the state either way.
    return MultibodyPlantConfig(
        use_sampled_output_ports=False,
        time_step=settings.time_step,
        penetration_allowance=settings.penetration_allowance,
        stiction_tolerance=settings.stiction_tolerance,
        contact_model=settings.contact_model,
        discrete_contact_approximation=settings.discrete_contact_approximation,
    )


def check_limits(scenario: m.Scenario) -> None:
    """SCN412 for plant steps past `lang.limits` (per env step, per episode), and for a plant time
    step that is negative or not a number (Drake's constructor would stop the process). The
    validator reports these; a compiled JSON file or a `Scenario` built in Python comes here
    without it. A time step of 0 (a continuous plant, which a `.scn` file cannot ask for) has no
    plant steps to count: the environment's step budget bounds it."""
    settings, episode = scenario.plant, scenario.episode
    for name, value, where, zero in (("plant.time_step", settings.time_step, settings.where, True),
                                     ("the episode's step", episode.step, episode.where, False),
                                     ("the episode's time_limit", episode.time_limit, episode.where, False)):
        if value is not None and not (math.isfinite(value) and (value > 0 or (zero and value == 0))):
            raise CompileError("SCN401", f"{name} must be a positive number of seconds, not {value:g}", None, where)
    if settings.time_step == 0:
        return
    over = plant_steps_problem(settings.time_step, episode.step, episode.time_limit)
    if over is not None:
        which, message, hint = over
        raise CompileError("SCN412", message, hint, (settings.where if which == "step" else None) or episode.where)


def discrete_contact_approximations() -> list[str]:
    """The approximations the installed Drake offers, under `MultibodyPlantConfig`'s names."""
    return [name[1:].lower() for name in dir(DiscreteContactApproximation) if name.startswith("k")]


def populate(plant: MultibodyPlant, scenario: m.Scenario, *, prefix: str = "", finalize: bool = True) -> PlantHandles:
    """Add everything the scenario declares to `plant` and finalize it (unless `finalize` is
    false: a batch adds several worlds first). `prefix` goes before the Drake name of every
    loaded model instance, body, frame, joint and actuator the scenario adds, so that several
    copies of one scenario can share a plant; the handles keep the scenario's own names."""
    handles = PlantHandles(plant, prefix)
    plant.mutable_gravity_field().set_gravity_vector(vec(scenario.plant.gravity))
    for model in scenario.models:
        _add_model(handles, model)
    for body in scenario.bodies:
        _add_body(handles, body)
    _add_frames(handles, scenario.frames)
    for joint in scenario.joints:
        with drake_call(f"joint `{joint.name}`", joint.where):
            _add_joint(handles, joint)
    welds = [(w, None) for w in scenario.welds] + [(w, mo.name) for mo in scenario.models for w in mo.welds]
    for weld, scope in welds:
        with drake_call(f"the weld of `{weld.child}` to `{weld.parent}`", weld.where,
                        "a body has one parent joint or weld"):
            plant.WeldFrames(handles.frame(weld.parent, weld.where, scope),
                             handles.frame(weld.child, weld.where, scope), transform(weld.pose))
    for model in scenario.models:
        for name, q in model.initial.items():
            with drake_call(f"the initial position of `{model.name}.{name}`", model.where):
                handles.joint(f"{model.name}.{name}", model.where).set_default_positions(vec(q))
    if finalize:
        finalize_plant(plant, scenario)
    return handles


def finalize_plant(plant: MultibodyPlant, scenario: m.Scenario) -> None:
    """`plant.Finalize()`, with Drake's refusal as SCN506 at the scenario's plant block."""
    try:
        plant.Finalize()
    except RuntimeError as exc:
        raise CompileError("SCN506", f"Drake rejected the plant: {drake_reason(exc)}", None,
                           scenario.plant.where) from None


def transform(pose: m.Pose | None) -> RigidTransform:
    if pose is None:
        return RigidTransform()
    return RigidTransform(RollPitchYaw(vec(pose.rpy)), vec(pose.translation))


def offline_parser(plant: MultibodyPlant) -> Parser:
    """A `Parser` that cannot download: its package map keeps only the packages on this machine.

    Drake's default map also holds `drake_models`, which Drake fetches from the internet the first
    time a URI names it (a `python3` subprocess, writes under ~/.cache/drake). `resolve_url` has
    already refused such URIs; without the remote packages, one it missed is a parse error instead."""
    parser = Parser(plant)
    packages = parser.package_map()
    for name in packages.GetPackageNames():
        if name != "drake":  # the only local package of a default map; the rest are remote
            packages.Remove(name)
    return parser


def _add_model(handles: PlantHandles, model: m.Model) -> None:
    # Checked again here, not only at lint: the model file and every file it names must be inside
    # the project (or an allowed folder, or the drake wheel) and none may need the network.
    try:
        path = resolve_url(model.url, model.base_dir)
    except ModelFileError as exc:
        raise CompileError(exc.code, str(exc), exc.hint, model.where) from None
    plant = handles.plant
    parser = offline_parser(plant)
    try:
        instances = parser.AddModels(file_name=path)
    except RuntimeError as exc:
        raise CompileError("SCN507", f"Drake could not parse `{model.url}`: {exc}", None, model.where) from None
    for i, instance in enumerate(instances):
        name = model.name if len(instances) == 1 else f"{model.name}::{i}"
        plant.RenameModelInstance(instance, handles.prefix + name)
    handles.models[model.name] = list(instances)


def _add_body(handles: PlantHandles, body: m.Body) -> None:
    plant = handles.plant
    # One instance per body, as AddShape does. The worlds of a batch share it (the body's name
    # takes the world's prefix instead): Drake gives each model instance its own ports, and
    # `DiagramBuilder.Build` checks every pair of a plant's ports for feedthrough, which grows
    # with the square of the instances (measured: 300 s to build 256 pendulum worlds).
    name = body.name
    if handles.prefix and plant.HasModelInstanceNamed(name):
        instance = plant.GetModelInstanceByName(name)
    else:
        instance = plant.AddModelInstance(name)
    inertia = spatial_inertia(body)
    with drake_call(f"body `{body.name}`", body.where):
        rigid_body = plant.AddRigidBody(handles.prefix + body.name, instance, inertia)
        handles.bodies[body.name] = rigid_body
        if body.initial_pose is not None:  # a free body's pose at the start of an episode
            plant.SetDefaultFloatingBaseBodyPose(rigid_body, transform(body.initial_pose))
        if not plant.geometry_source_is_registered():
            return
        if body.shape is not None and body.collision:
            plant.RegisterCollisionGeometry(rigid_body, transform(body.shape.pose), drake_shape(body.shape), body.name,
                                            proximity(body.contact, body.shape))
        # Geometry names are unique per body: the extra shapes are numbered in the file's order.
        visuals = [(body.shape, body.name)] if body.shape is not None and body.visual else []
        visuals += [(extra, f"{body.name}_visual_{i}") for i, extra in enumerate(body.visual_shapes)]
        for shape, name in visuals:
            if body.textures:  # the first texture drawn on every visual shape
                plant.RegisterVisualGeometry(rigid_body, textured(transform(shape.pose), drake_shape(shape), name,
                                                                  body.color, body.textures[0]))
            else:
                plant.RegisterVisualGeometry(rigid_body, transform(shape.pose), drake_shape(shape), name,
                                             vec(body.color or DEFAULT_COLOR))
        for i, extra in enumerate(body.collision_shapes):
            plant.RegisterCollisionGeometry(rigid_body, transform(extra.pose), drake_shape(extra),
                                            f"{body.name}_collision_{i}", proximity(body.contact, extra))


def textured(X_BG: RigidTransform, shape: Shape, name: str, color: Any, texture: str) -> GeometryInstance:
    """A visual geometry with a PNG drawn over it for the cameras (Drake's `diffuse_map` in the
    perception role, tinted by the body's colour, white without one); Meshcat, which takes no
    texture from an illustration role, shows the colour."""
    instance = GeometryInstance(X_BG, shape, name)
    diffuse = Rgba(*(color or (1.0, 1.0, 1.0, 1.0)))
    illustration, perception = IllustrationProperties(), PerceptionProperties()
    illustration.AddProperty("phong", "diffuse", diffuse)
    perception.AddProperty("phong", "diffuse", diffuse)
    perception.AddProperty("phong", "diffuse_map", texture)
    instance.set_illustration_properties(illustration)
    instance.set_perception_properties(perception)
    return instance


def drake_shape(shape: m.Shape) -> Shape:
    s = shape.size
    if shape.kind == "box":
        return Box(s[0], s[1], s[2])
    if shape.kind == "sphere":
        return Sphere(s[0])
    if shape.kind == "cylinder":
        return Cylinder(s[0], s[1])
    if shape.kind == "capsule":
        return Capsule(s[0], s[1])
    return Ellipsoid(s[0], s[1], s[2])


def spatial_inertia(body: m.Body) -> SpatialInertia:
    """Given inertia (about the centre of mass), else a solid shape of uniform density, else a point
    mass. SCN413 for what the validator refuses (a scenario may come from elsewhere: an inertia on
    a body of mass 0 stops Drake's process), SCN506 for what else Drake refuses, at the body."""
    problem = inertia_problem(body.mass, body.inertia)
    if problem is not None:
        raise CompileError("SCN413", f"body `{body.name}`: {problem}", None, body.where)
    with drake_call(f"the inertia of body `{body.name}`", body.where,
                    "give a finite mass above 0 and moments about the centre of mass that are not negative, "
                    "each at most the sum of the two others"):
        return _spatial_inertia(body)


def _spatial_inertia(body: m.Body) -> SpatialInertia:
    com = vec(body.center_of_mass or (0.0, 0.0, 0.0))
    if body.inertia is not None:
        i = [*body.inertia, 0.0, 0.0, 0.0][:6]
        return SpatialInertia.MakeFromCentralInertia(body.mass, com, RotationalInertia(*i))
    if body.shape is None or body.mass == 0.0:
        return SpatialInertia(body.mass, com, UnitInertia(0.0, 0.0, 0.0))
    s, mass, z = body.shape.size, body.mass, vec([0.0, 0.0, 1.0])
    solid = {
        "box": lambda: SpatialInertia.SolidBoxWithMass(mass, s[0], s[1], s[2]),
        "sphere": lambda: SpatialInertia.SolidSphereWithMass(mass, s[0]),
        "cylinder": lambda: SpatialInertia.SolidCylinderWithMass(mass, s[0], s[1], z),
        "capsule": lambda: SpatialInertia.SolidCapsuleWithMass(mass, s[0], s[1], z),
        "ellipsoid": lambda: SpatialInertia.SolidEllipsoidWithMass(mass, s[0], s[1], s[2]),
    }[body.shape.kind]()
    pose = body.shape.pose
    if body.center_of_mass is None and pose is None:
        return solid
    central = solid.CalcRotationalInertia()  # about the shape's centre, in the shape's frame
    if pose is not None:  # the solid sits at its pose: its centre is the centre of mass, unless one is given
        X_BS = transform(pose)
        central = central.ReExpress(X_BS.rotation())
        com = com if body.center_of_mass is not None else X_BS.translation()
    return SpatialInertia.MakeFromCentralInertia(mass, com, central)


def proximity(contact: m.Contact, shape: m.Shape) -> ProximityProperties:
    """Contact properties with AddShape's defaults (mu 1, d 1e4, k 1e7, compliant hydroelastic 1e8 Pa);
    without a resolution hint, 1 cm or, for a large round shape, one within `limits.MAX_MESH_REFINEMENT`
    of its radius; a given hint finer than that is SCN412 (lint reports it first)."""
    props = ProximityProperties()
    mu_static, mu_dynamic = contact.friction or (DEFAULT_FRICTION, DEFAULT_FRICTION)
    AddContactMaterial(
        contact.hunt_crossley_dissipation if contact.hunt_crossley_dissipation is not None else DEFAULT_DISSIPATION,
        contact.point_stiffness if contact.point_stiffness is not None else DEFAULT_POINT_STIFFNESS,
        CoulombFriction(mu_static, mu_dynamic), props)
    hint = contact.resolution_hint if contact.resolution_hint is not None else \
        default_resolution_hint(shape.kind, shape.size, DEFAULT_RESOLUTION_HINT)
    kind = contact.hydroelastic or "compliant"
    problem = None if kind == "none" else mesh_problem(shape.kind, shape.size, hint)
    if problem is not None:
        raise CompileError("SCN412", problem, "give a coarser `resolution_hint`")
    if kind == "compliant":
        modulus = contact.hydroelastic_modulus
        AddCompliantHydroelasticProperties(hint, DEFAULT_HYDROELASTIC_MODULUS if modulus is None else modulus, props)
    elif kind == "rigid":
        AddRigidHydroelasticProperties(hint, props)
    return props


def _add_frames(handles: PlantHandles, frames: Iterable[m.Frame]) -> None:
    """Frames may sit on frames declared later: add them in dependency order."""
    pending = list(frames)
    while pending:
        ready = [f for f in pending if not any(f.parent == other.name for other in pending)]
        if not ready:
            raise CompileError("SCN506", "frames form a cycle: " + ", ".join(f.name for f in pending),
                               None, pending[0].where)
        for frame in ready:
            parent = handles.frame(frame.parent, frame.where)
            handles.frames[frame.name] = handles.plant.AddFrame(
                FixedOffsetFrame(handles.prefix + frame.name, parent, transform(frame.pose)))
            pending.remove(frame)


def _add_joint(handles: PlantHandles, joint: m.Joint) -> None:
    plant = handles.plant
    parent = handles.frame(joint.parent, joint.where)
    if joint.pose is not None and joint.type != "weld":
        parent = plant.AddFrame(FixedOffsetFrame(f"{handles.prefix}{joint.name}_parent", parent, transform(joint.pose)))
    child = handles.frame(joint.child, joint.where)
    damping = vec(joint.damping or [0.0] * max(joint.velocities, 1))
    axis = vec(joint.axis or (0.0, 0.0, 1.0))
    made: Joint
    name = handles.prefix + joint.name
    if joint.type == "weld":
        made = WeldJoint(name, parent, child, transform(joint.pose))
    elif joint.type == "revolute":
        made = RevoluteJoint(name, parent, child, axis, float(damping[0]))
    elif joint.type == "prismatic":
        made = PrismaticJoint(name, parent, child, axis, damping=float(damping[0]))
    elif joint.type == "planar":
        made = PlanarJoint(name, parent, child, _fill(damping, 3))
    elif joint.type == "ball":
        made = BallRpyJoint(name, parent, child, float(damping[0]))
    elif joint.type == "universal":
        made = UniversalJoint(name, parent, child, float(damping[0]))
    else:
        made = QuaternionFloatingJoint(name, parent, child, float(damping[0]), float(_fill(damping, 2)[1]))
    added = plant.AddJoint(made)
    handles.joints[joint.name] = added
    if joint.lower is not None or joint.upper is not None:
        n = joint.positions
        added.set_position_limits(vec(joint.lower or [-np.inf] * n), vec(joint.upper or [np.inf] * n))
    if joint.velocity_lower is not None or joint.velocity_upper is not None:
        n = joint.velocities
        added.set_velocity_limits(vec(joint.velocity_lower or [-np.inf] * n), vec(joint.velocity_upper or [np.inf] * n))
    if joint.initial_q is not None:
        added.set_default_positions(vec(joint.initial_q))
    if joint.initial_v is not None:
        handles.initial_v[joint.name] = list(joint.initial_v)
    if joint.actuator is not None:
        _add_actuator(handles, joint, added)


def _add_actuator(handles: PlantHandles, joint: m.Joint, added: Joint) -> None:
    if added.num_velocities() != 1:
        raise CompileError("SCN506", f"joint `{joint.name}` ({joint.type}) has {added.num_velocities()} degrees of "
                           "freedom; Drake actuates single-degree-of-freedom joints only",
                           "actuate revolute or prismatic joints, or build the mechanism from them", joint.where)
    spec = joint.actuator
    assert spec is not None
    limit = np.inf if spec.effort_limit is None else spec.effort_limit
    actuator = handles.plant.AddJointActuator(handles.prefix + joint.name, added, limit)
    actuator.set_default_gear_ratio(spec.gear_ratio)
    actuator.set_default_rotor_inertia(spec.rotor_inertia)
    handles.actuators[joint.name] = actuator


def _fill(values: Any, n: int) -> Any:
    return values if len(values) >= n else vec(np.full(n, float(values[0]) if len(values) else 0.0))


# ---- the controller's model ------------------------------------------------------------------

def controller_scenario(scenario: m.Scenario, controller: m.Controller) -> m.Scenario:
    """The part of `scenario` that moves with the controller's joints, anchored to the world.

    Declared bodies downstream of a controlled joint come along through welds and controlled
    joints; bodies behind other moving joints are left out. Upstream, the chain must reach the
    world through welds and frames. A loaded model with a controlled joint comes whole, with
    its welds.
    """
    controlled = set(controller.joints)
    parent_of_frame = {f.name: f.parent for f in scenario.frames}

    def body_of(frame: str) -> str:
        while frame in parent_of_frame:
            frame = parent_of_frame[frame]
        return frame.partition(".")[0] if "." in frame else frame

    edges: list[tuple[str, str, str | None, str]] = [
        (body_of(j.parent), body_of(j.child), j.name, j.type) for j in scenario.joints]
    edges += [(body_of(w.parent), body_of(w.child), None, "weld") for w in scenario.welds]
    edges += [(body_of(w.parent), model.name, None, "weld") for model in scenario.models for w in model.welds]
    kept_models = {name.partition(".")[0] for name in controlled if "." in name}
    kept: set[str] = set(kept_models)
    kept |= {child for _, child, name, _ in edges if name in controlled}
    grew = True
    while grew:  # downstream, through welds and controlled joints
        grew = False
        for parent, child, name, kind in edges:
            if parent in kept and child not in kept and (kind == "weld" or name in controlled):
                kept.add(child)
                grew = True
    for root in list(kept):  # upstream, to the world through welds
        node = root
        while node != "world":
            incoming = [e for e in edges if e[1] == node]
            if not incoming:
                break  # a loaded model whose own file welds it to the world
            parent, _, name, kind = incoming[0]
            if kind != "weld" and name not in controlled:
                raise CompileError(
                    "SCN504", f"controller `{controller.name}`: its joints hang from `{name}`, which it does not "
                    "control", "an inverse_dynamics controller models a chain welded to the world", controller.where)
            if parent in kept:
                break
            kept.add(parent)
            node = parent
    kept.discard("world")
    frames_kept = [f for f in scenario.frames if body_of(f.name) in kept | {"world"}]
    return scenario.model_copy(update={
        "models": [mo for mo in scenario.models if mo.name in kept],
        "bodies": [b for b in scenario.bodies if b.name in kept],
        "frames": frames_kept,
        "joints": [j for j in scenario.joints if body_of(j.child) in kept and body_of(j.parent) in kept | {"world"}
                   and (j.type == "weld" or j.name in controlled)],
        "welds": [w for w in scenario.welds if body_of(w.child) in kept],
        "controllers": [],
    })
