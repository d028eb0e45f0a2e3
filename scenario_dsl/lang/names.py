"""The names a scenario declares and what their attributes read during the simulation.

`Declarations` is the symbol table (one namespace for bodies, joints, frames, models,
controllers, the action, observations, parameters and lets). `resolve_signal` turns a dotted
reference inside an expression into a `Signal` leaf with its size and dimension;
`RANDOM_TARGETS` lists what a `randomize` block may draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostics
from scenario_dsl.lang.model import Signal
from scenario_dsl.lang.modelfiles import ModelInfo
from scenario_dsl.lang.typecheck import SignalInfo
from scenario_dsl.lang.units import (
    ACCELERATION,
    ANGLE,
    ANGULAR_VELOCITY,
    DIMENSIONLESS,
    DISSIPATION,
    FORCE,
    LENGTH,
    MASS,
    PRESSURE,
    STIFFNESS,
    TIME,
    VELOCITY,
    Dim,
)
from scenario_dsl.support.suggest import did_you_mean

RESERVED = ("world", "plant", "time", "pi", "tau", "inf", "true", "false")
# Systems the compiler adds to every diagram under these names; the action and each controller
# become systems named after themselves, and Drake's diagram names must be unique.
COMPILER_SYSTEMS = ("scene_graph", "observation", "reward", "reward_sum", "episode", "requirements", "outcome",
                    "signals", "state_signals", "action_signals", "action_normalized", "gather", "numpy_expressions",
                    "actuation", "camera", "markers", "marker_poses")
Attr = tuple[int | None, Dim | None]  # size (None: scalar), dimension (None: mixed)

JOINT_ATTRS: dict[str, dict[str, Attr]] = {
    "revolute": {"q": (None, ANGLE), "v": (None, ANGULAR_VELOCITY)},
    "prismatic": {"q": (None, LENGTH), "v": (None, VELOCITY)},
    "planar": {"q": (3, None), "v": (3, None), "x": (None, LENGTH), "y": (None, LENGTH), "theta": (None, ANGLE),
               "vx": (None, VELOCITY), "vy": (None, VELOCITY), "omega": (None, ANGULAR_VELOCITY)},
    "ball": {"q": (3, ANGLE), "v": (3, ANGULAR_VELOCITY)},
    "universal": {"q": (2, ANGLE), "v": (2, ANGULAR_VELOCITY)},
    "free": {"q": (7, None), "v": (6, None), "position": (3, LENGTH), "quaternion": (4, DIMENSIONLESS),
             "velocity": (3, VELOCITY), "angular_velocity": (3, ANGULAR_VELOCITY)},
    "weld": {},
    "screw": {"q": (None, ANGLE), "v": (None, ANGULAR_VELOCITY)},
}
# A joint's viscous damping: the torque (or force) per unit of its velocity, N*m*s/rad or N*s/m.
# Planar and free joints mix both in one vector: no one dimension (a plain number per velocity).
DAMPING_DIMS: dict[str, Dim] = {"revolute": FORCE * LENGTH * TIME / ANGLE, "ball": FORCE * LENGTH * TIME / ANGLE,
                                "universal": FORCE * LENGTH * TIME / ANGLE, "screw": FORCE * LENGTH * TIME / ANGLE,
                                "prismatic": FORCE * TIME / LENGTH}
#: What a declared frame's pose gives (a frame has no velocity of its own here: read its body's).
FRAME_ATTRS = ("position", "x", "y", "z", "rpy", "quaternion")
BODY_ATTRS: dict[str, Attr] = {
    "position": (3, LENGTH), "x": (None, LENGTH), "y": (None, LENGTH), "z": (None, LENGTH),
    "rpy": (3, ANGLE), "quaternion": (4, DIMENSIONLESS), "velocity": (3, VELOCITY),
    "angular_velocity": (3, ANGULAR_VELOCITY),
}
PLANT_ATTRS = ("state", "q", "v")
# What `randomize` may set: kind of declaration -> attribute -> (size, dimension, lower bound of the value)
# Drawn attributes whose lower bound in RANDOM_TARGETS (0) is itself refused: Drake takes no
# effort limit, hydroelastic modulus or shape size of 0.
STRICTLY_POSITIVE = ("effort_limit", "hydroelastic_modulus", "size", "fov")
# A body's contact properties that `randomize` may draw (units in RANDOM_TARGETS["body"]); the
# compiler writes each into its geometries' proximity properties (compiler/randomize.py maps
# each to Drake's property name, and a test checks the map covers this list).
CONTACT_TARGETS = ("friction", "point_stiffness", "hunt_crossley_dissipation", "hydroelastic_modulus")
RANDOM_TARGETS: dict[str, dict[str, tuple[int | None, Dim | None, float | None]]] = {
    "body": {"mass": (None, MASS, 0.0), "friction": (None, DIMENSIONLESS, 0.0),
             "point_stiffness": (None, STIFFNESS, 0.0), "hunt_crossley_dissipation": (None, DISSIPATION, 0.0),
             "hydroelastic_modulus": (None, PRESSURE, 0.0),
             "inertia_scale": (None, DIMENSIONLESS, 0.0),
             "center_of_mass": (3, LENGTH, None), "position": (3, LENGTH, None), "rpy": (3, ANGLE, None),
             "x": (None, LENGTH, None), "y": (None, LENGTH, None), "z": (None, LENGTH, None),
             "yaw": (None, ANGLE, None),
             "velocity": (3, VELOCITY, None), "angular_velocity": (3, ANGULAR_VELOCITY, None),
             "push": (3, FORCE, None),  # a force in the world frame at the body's origin
             "size": (None, LENGTH, 0.0),  # the shape's numbers (box: 3), per build; sized by the validator
             "color": (3, DIMENSIONLESS, 0.0),  # red, green, blue as cameras see them (clipped to [0, 1])
             "texture": (None, DIMENSIONLESS, 0.0)},  # which of the body's texture files (rounded, clipped)
    "controller": {"kp": (None, None, 0.0), "ki": (None, None, 0.0), "kd": (None, None, 0.0)},
    # a camera's pose in its parent's frame and its vertical field of view (its sensor's context)
    "camera": {"position": (3, LENGTH, None), "rpy": (3, ANGLE, None), "fov": (None, ANGLE, 0.0),
               "background": (3, DIMENSIONLESS, 0.0)},  # per build: Drake takes it when it makes the engine
    "marker": {"color": (3, DIMENSIONLESS, 0.0)},  # what cameras see of it (red, green, blue)
    # a light of the render engine (per build: Drake takes lights when it makes the engine)
    "light": {"intensity": (None, DIMENSIONLESS, 0.0), "direction": (3, DIMENSIONLESS, None),
              "color": (3, DIMENSIONLESS, 0.0)},
    "plant": {"gravity": (3, ACCELERATION, None)},
    "observation": {"noise": (None, None, None)},
    "action": {"noise": (None, None, None), "delay": (None, TIME, 0.0)},  # delay: per episode, whole env steps
}


@dataclass
class Declarations:
    """Every top-level name, by kind; `order` keeps the first declaration of each name."""

    bodies: dict[str, ast.BodyDecl] = field(default_factory=dict)
    joints: dict[str, ast.JointDecl] = field(default_factory=dict)
    frames: dict[str, ast.FrameDecl] = field(default_factory=dict)
    models: dict[str, ast.ModelDecl] = field(default_factory=dict)
    model_info: dict[str, ModelInfo] = field(default_factory=dict)
    controllers: dict[str, ast.ControllerDecl] = field(default_factory=dict)
    markers: dict[str, ast.MarkerDecl] = field(default_factory=dict)
    cameras: dict[str, ast.CameraDecl] = field(default_factory=dict)
    lights: dict[str, ast.LightDecl] = field(default_factory=dict)
    actions: dict[str, ast.ActionDecl] = field(default_factory=dict)
    observations: dict[str, ast.ObservationDecl] = field(default_factory=dict)
    params: dict[str, ast.Param] = field(default_factory=dict)
    lets: dict[str, ast.Let] = field(default_factory=dict)
    random_lets: dict[str, ast.Let] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)  # observation and action sizes, once known
    order: dict[str, ast.Node] = field(default_factory=dict)
    _all_names: tuple[int, tuple[str, ...]] | None = field(default=None, repr=False, compare=False)

    def kind_of(self, name: str) -> str | None:
        for kind in ("bodies", "joints", "frames", "models", "controllers", "markers", "cameras", "lights", "actions",
                     "observations", "params", "lets", "random_lets"):
            if name in getattr(self, kind):
                return kind
        return None

    def all_names(self) -> tuple[str, ...]:
        """Every declared name and the reserved ones (for hints). Kept while `order`, which only
        grows, keeps its length: a file with many undefined names asks for it once per name."""
        cached = self._all_names
        if cached is None or cached[0] != len(self.order):
            cached = self._all_names = (len(self.order), (*self.order, *RESERVED))
        return cached[1]

    def is_image(self, observation: str) -> bool:
        """Whether an observation is a camera's image (`observation pixels = CAM.color`)."""
        value = self.observations[observation].value
        return isinstance(value, ast.Ref) and value.parts[0].name in self.cameras

    def joint_type(self, name: str) -> str | None:
        """The type of a declared joint (`box_joint`) or a loaded model's (`cart_pole.CartSlider`)."""
        if name in self.joints:
            return self.joints[name].kind.name
        model, _, joint = name.partition(".")
        info = self.model_info.get(model)
        found = info.joint(joint) if info and joint else None
        return found.type if found else None

    def joint_sizes(self, name: str) -> tuple[int, int]:
        kind = self.joint_type(name) or "revolute"
        size_q = {"weld": 0, "planar": 3, "ball": 3, "universal": 2, "free": 7}.get(kind, 1)
        size_v = {"weld": 0, "planar": 3, "ball": 3, "universal": 2, "free": 6}.get(kind, 1)
        return size_q, size_v

    def plant_sizes(self) -> tuple[int, int] | None:
        """(nq, nv) of the whole plant, when every model file could be read."""
        nq = nv = 0
        for name in self.joints:
            q, v = self.joint_sizes(name)
            nq, nv = nq + q, nv + v
        for body in self.bodies:
            if not any(j.child.dotted == body for j in self.joints.values()) and not self.welded(body):
                nq, nv = nq + 7, nv + 6  # Drake gives an unjointed body a free joint
        for model in self.models:
            info = self.model_info.get(model)
            if info is None:
                return None
            for joint in info.joints:
                nq, nv = nq + joint.positions, nv + joint.velocities
            for link in info.floating_links:
                if not self.welded(f"{model}.{link}") and not self.welded(link):
                    nq, nv = nq + 7, nv + 6
        return nq, nv

    welds: list[ast.Weld] = field(default_factory=list)

    def welded(self, child: str) -> bool:
        return any(w.child.dotted == child for w in self.welds)


def _signal(source: str, name: str, attribute: str, attr: Attr) -> SignalInfo:
    size, dim = attr
    return SignalInfo(Signal(source=source, name=name, attribute=attribute, size=size), dim)  # type: ignore[arg-type]


def resolve_signal(decls: Declarations, ref: ast.Ref, diagnostics: Diagnostics) -> SignalInfo | None:
    """What a dotted name reads in an expression; reports SCN201/SCN204/SCN206 and returns None."""
    parts = [p.name for p in ref.parts]
    head = parts[0]
    span = ref.span

    def unknown_attr(what: str, attrs: list[str], at: ast.Ident) -> None:
        hint = did_you_mean(at.name, attrs) or ("it has: " + ", ".join(attrs) if attrs else f"{what} has no signals")
        diagnostics.add("SCN204", f"{what} has no attribute `{at.name}`", at.span, hint)

    if head in decls.observations and decls.is_image(head):
        diagnostics.add("SCN206", f"observation `{head}` is an image: the agent sees it, expressions cannot read it",
                        span, "read the state that made it, or observe a vector beside it")
        return None
    if len(parts) == 1:
        if head == "time":
            return _signal("time", "time", "value", (None, Dim(time=1)))
        if head in decls.actions:
            return _signal("action", head, "value", (decls.sizes.get(head), None))
        if head in decls.observations:
            if head not in decls.sizes:
                diagnostics.add("SCN201", f"observation `{head}` is used before it is declared", span,
                                "an observation may only read the ones declared above it")
                return None
            size = decls.sizes[head]
            return _signal("observation", head, "value", (size if size > 1 else None, None))
        if head in decls.random_lets:
            return _signal("random", head, "value", (decls.sizes.get(head), None))
        kind = decls.kind_of(head)
        if kind in ("joints", "bodies", "controllers"):
            attrs = _attrs_of(decls, head, kind)
            diagnostics.add("SCN206", f"`{head}` is a {kind[:-1].replace('bodie', 'body')}, not a value", span,
                            f"read one of its signals: {', '.join(f'{head}.{a}' for a in attrs)}" if attrs
                            else f"a {decls.joint_type(head)} joint has no signals")
            return None
        if kind == "lights":
            diagnostics.add("SCN206", f"`{head}` is a light: it has no value", span,
                            "a light changes what cameras see; draw its `intensity`, `direction` or `color` "
                            "per build")
            return None
        if kind == "cameras":
            diagnostics.add("SCN206", f"`{head}` is a camera: its images are observed whole", span,
                            f"observe one: `observation pixels = {head}.color` (or `.depth`, `.label`)")
            return None
        if kind == "markers":
            diagnostics.add("SCN206", f"`{head}` is a marker: it is drawn, and has no value", span,
                            "read what places it (its `position` expression), e.g. a `let` drawn in `randomize`")
            return None
        if kind == "models":
            info = decls.model_info.get(head)
            if info is None:
                return None  # the model file could not be read; already reported
            signals = [f"{head}.{j.name}.{a}" for j in info.joints for a in JOINT_ATTRS.get(j.type, {})]
            diagnostics.add("SCN206", f"`{head}` is a model, not a value", span,
                            f"read a signal of one of its joints or bodies, e.g. {signals[0]}" if signals
                            else f"read a signal of one of its bodies, e.g. {head}.{info.links[0]}.position"
                            if info.links else None)
            return None
        if kind == "frames":
            diagnostics.add("SCN206", f"`{head}` is a frame, not a value", span,
                            f"read one of its signals: {', '.join(f'{head}.{a}' for a in FRAME_ATTRS)}")
            return None
        diagnostics.add("SCN201", f"undefined name `{head}`", span, undefined_hint(head, decls))
        return None

    attr = ref.parts[-1]
    owner = ".".join(parts[:-1])
    if head in decls.actions and len(parts) == 2:  # ACTION.normalized: the action on [-1, 1], as the agent acts
        if attr.name != "normalized":
            unknown_attr(f"action `{head}`", ["normalized"], attr)
            return None
        return _signal("action", head, "normalized", (decls.sizes.get(head), DIMENSIONLESS))
    if head == "plant" and len(parts) == 2:
        if attr.name not in PLANT_ATTRS:
            unknown_attr("the plant", list(PLANT_ATTRS), attr)
            return None
        sizes = decls.plant_sizes()
        n = None if sizes is None else {"state": sizes[0] + sizes[1], "q": sizes[0], "v": sizes[1]}[attr.name]
        return _signal("plant", "plant", attr.name, (n, None))
    if owner in decls.joints or (head in decls.models and len(parts) == 3 and decls.joint_type(owner)):
        kind = decls.joint_type(owner) or "revolute"
        if kind not in JOINT_ATTRS and owner in decls.joints:
            return None  # a declared joint of unknown type: reported there (SCN404)
        joint_attrs = JOINT_ATTRS.get(kind, {})
        if attr.name not in joint_attrs:
            unknown_attr(f"{kind} joint `{owner}`", list(joint_attrs), attr)
            return None
        return _signal("joint", owner, attr.name, joint_attrs[attr.name])
    if owner in decls.bodies or (head in decls.models and len(parts) == 3 and parts[1] in decls.model_info[head].links
                                 if head in decls.model_info else False):
        if attr.name not in BODY_ATTRS:
            unknown_attr(f"body `{owner}`", list(BODY_ATTRS), attr)
            return None
        return _signal("body", owner, attr.name, BODY_ATTRS[attr.name])
    if owner in decls.frames:
        if attr.name not in FRAME_ATTRS:
            unknown_attr(f"frame `{owner}`", list(FRAME_ATTRS), attr)
            return None
        return _signal("frame", owner, attr.name, BODY_ATTRS[attr.name])
    if owner in decls.controllers:
        controller = decls.controllers[owner]
        if attr.name not in ("q", "v", "desired_position"):
            unknown_attr(f"controller `{owner}`", ["q", "v", "desired_position"], attr)
            return None
        if attr.name == "desired_position":
            action = next((a for a, d in decls.actions.items() if d.target.dotted == f"{owner}.desired_position"), None)
            if action is None:
                diagnostics.add("SCN201", f"no action sets `{owner}.desired_position`", span, None)
                return None
            return _signal("action", action, "value", (decls.sizes.get(action), None))
        size = sum(decls.joint_sizes(j.dotted)[0 if attr.name == "q" else 1] for j in controller.joints)
        return _signal("controller", owner, attr.name, (size if size != 1 else None, None))
    if head in decls.models:
        info = decls.model_info.get(head)
        if info is None:
            return None  # the model file could not be read; already reported
        if len(parts) == 2:
            name, joint = ref.dotted, info.joint(attr.name)
            if joint is not None:
                attrs = list(JOINT_ATTRS.get(joint.type, {}))
                diagnostics.add("SCN206", f"`{name}` is a {joint.type} joint, not a value", span,
                                f"read one of its signals: {', '.join(f'{name}.{a}' for a in attrs)}" if attrs
                                else f"a {joint.type} joint has no signals")
                return None
            if attr.name in info.links:
                attrs = _attrs_of(decls, name, "bodies")
                diagnostics.add("SCN206", f"`{name}` is a body, not a value", span,
                                f"read one of its signals: {', '.join(f'{name}.{a}' for a in attrs)}")
                return None
        names = [j.name for j in info.joints] + list(info.links)
        diagnostics.add("SCN204", f"model `{head}` has no joint or body `{parts[1]}`", ref.parts[1].span,
                        did_you_mean(parts[1], names) or f"it has: {', '.join(names)}")
        return None
    if head in decls.cameras:
        diagnostics.add("SCN206", f"`{ref.dotted}` is an image: it is observed whole, not computed with", span,
                        f"write `observation pixels = {head}.color` (or `.depth`, `.label`) on its own")
        return None
    if head in decls.order or head in RESERVED:
        diagnostics.add("SCN204", f"`{owner}` has no attribute `{attr.name}`", attr.span, None)
        return None
    diagnostics.add("SCN201", f"undefined name `{head}`", ref.parts[0].span, undefined_hint(head, decls))
    return None


def _attrs_of(decls: Declarations, name: str, kind: str) -> list[str]:
    if kind == "joints":
        return list(JOINT_ATTRS.get(decls.joint_type(name) or "", {}))
    if kind == "bodies":
        return ["position", "rpy", "velocity"]
    return ["q", "v"]


def undefined_hint(name: str, decls: Declarations) -> str:
    """A near name, else where the declaration goes: a file read by `include` may use what its
    includer declares (`param side_bonus = 5` beside `include "box_flipup_task.scn"`)."""
    return did_you_mean(name, decls.all_names()) or (
        f"declare it (`param {name} = ...`, a `let`, a body, a joint...) in this file or in a file that includes it")
