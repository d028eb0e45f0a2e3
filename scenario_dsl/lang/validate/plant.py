"""The plant: its settings, models, frames, bodies (shapes, masses, contact), joints (limits,
initial state, actuators), welds and controllers;
checks that frames exist and that a body has one parent joint or weld (SCN407).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.limits import MAX_MESH_REFINEMENT, inertia_problem, mesh_problem, mesh_radius
from scenario_dsl.lang.model import (
    CONTACT_MODELS,
    Actuator,
    Body,
    Contact,
    Controller,
    Frame,
    Joint,
    Model,
    PlantSettings,
    Pose,
    Shape,
    Weld,
)
from scenario_dsl.lang.names import DAMPING_DIMS
from scenario_dsl.lang.project import texture_files
from scenario_dsl.lang.typecheck import Value
from scenario_dsl.lang.units import (
    ACCELERATION,
    ANGLE,
    DIMENSIONLESS,
    DISSIPATION,
    INERTIA,
    LENGTH,
    MASS,
    PRESSURE,
    STIFFNESS,
    TIME,
    VELOCITY,
)
from scenario_dsl.lang.validate.context import Context, _flat, _value_span, where
from scenario_dsl.support.suggest import did_you_mean

_CONTACT_MODELS = CONTACT_MODELS
_APPROXIMATIONS = ("tamsi", "sap", "similar", "lagged")
_JOINT_TYPES = ("weld", "revolute", "prismatic", "planar", "ball", "universal", "free")
_CONTROLLER_TYPES = ("pd", "inverse_dynamics")
_SHAPES = {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2, "ellipsoid": 3}
MARKER_COLOR = (0.1, 0.8, 0.2, 0.8)  # a marker's default: a green that stands out from the bodies' blue


class PlantChecks(Context):
    """The plant and what it holds."""

    def _plant(self) -> PlantSettings:
        block = next((s for s in self.statements if isinstance(s, ast.PlantBlock)), None)
        if block is None:
            return PlantSettings()
        values = self._settings(block.settings, {
            "time_step": self._value(TIME, above=0.0),
            "contact_model": self._choice(_CONTACT_MODELS),
            "discrete_contact_approximation": self._choice(_APPROXIMATIONS),
            "penetration_allowance": self._value(LENGTH, above=0.0),
            "stiction_tolerance": self._value(VELOCITY, above=0.0),
            "gravity": self._value(ACCELERATION, 3),
        }, "`plant`")
        if "gravity" in values:
            values["gravity"] = tuple(values["gravity"])
        return PlantSettings(**values, where=where(block.span))

    def _model(self, decl: ast.ModelDecl) -> Model | None:
        welds: list[Weld] = []
        initial: dict[str, list[float]] = {}
        info = self.decls.model_info.get(decl.name.name)
        for item in decl.items or ():
            if isinstance(item, ast.Weld):
                welds.append(self._weld(item, decl))
            elif item.key.name == "initial" and item.block is not None:
                for setting in item.block:
                    joint = info.joint(setting.key.name) if info else None
                    if info is not None and joint is None:
                        names = [j.name for j in info.joints]
                        self.error("SCN503", f"model `{decl.name.name}` has no joint `{setting.key.name}`",
                                   setting.key.span,
                                   did_you_mean(setting.key.name, names) or f"joints: {', '.join(names)}")
                        continue
                    value = self._const(setting.value, setting.key.name, None, (None, 2, 3, 4, 7)) \
                        if setting.value is not None else None
                    if value is not None:
                        initial[setting.key.name] = value if isinstance(value, list) else [value]
            else:
                self.error("SCN203", f"unknown item `{item.key.name}` in a `model` block", item.key.span,
                           "a model block holds `weld A -> B at (...)` and `initial { joint = value }`")
        return Model(name=decl.name.name, url=decl.url, base_dir=self._folder(decl.span), welds=welds, initial=initial,
                     where=where(decl.span))

    def _frame_name(self, ref: ast.Ref, model: ast.ModelDecl | None = None) -> str:
        """Check a frame reference (world, a body, a frame, or a model's link) and return it dotted."""
        name = ref.dotted
        head = ref.parts[0].name
        if name == "world" or name in self.decls.bodies or name in self.decls.frames:
            return name
        scopes = [model.name.name] if model is not None else []
        if len(ref.parts) == 2 and head in self.decls.models:
            scopes = [head]
            name = ref.parts[1].name
        for scope in scopes or list(self.decls.models):
            info = self.decls.model_info.get(scope)
            if info is None:
                return f"{scope}.{name}" if scopes else name
            if name in info.links:
                return f"{scope}.{name}"
        links = [f"{m}.{link}" for m, i in self.decls.model_info.items() for link in i.links]
        known = ["world", *self.decls.bodies, *self.decls.frames, *links]
        if scopes and (info := self.decls.model_info.get(scopes[0])) is not None:
            known = [*info.links, *known]
            self.error("SCN503", f"model `{scopes[0]}` has no body or frame `{name}`", ref.span,
                       did_you_mean(name, known) or f"it has: {', '.join(info.links)}")
        else:
            self.error("SCN201", f"undefined frame `{ref.dotted}`", ref.span,
                       did_you_mean(ref.dotted, known) or "declare it with `body` or `frame`")
        return ref.dotted

    def _weld(self, weld: ast.Weld, model: ast.ModelDecl | None = None) -> Weld:
        parent, child = self._frame_name(weld.parent, None), self._frame_name(weld.child, model)
        self._attach(child, weld.child, f"the weld at {weld.span}")
        return Weld(parent=parent, child=child, pose=self._pose(weld.pose), where=where(weld.span))

    def _attach(self, child: str, ref: ast.Ref, by: str) -> None:
        """Record what attaches body `child` to its parent; a second joint or weld is SCN407 (Drake rejects it)."""
        model, _, link = child.partition(".")
        info = self.decls.model_info.get(model) if link else None
        if info is not None and link in info.links:
            joint = next((j for j in info.joints if j.child == link), None)
            if joint is not None:
                self.parents.setdefault(child, f"joint `{joint.name}` in {info.path.name}")
        elif child not in self.decls.bodies:
            return  # not a body (undefined, a frame, `world`): reported elsewhere
        first = self.parents.setdefault(child, by)
        if first is not by:
            self.error("SCN407", f"`{child}` is already attached to its parent by {first}", ref.span,
                       "a body has one parent joint or weld; to hang it from several, add a body between them")

    def _frame(self, decl: ast.FrameDecl) -> Frame:
        return Frame(name=decl.name.name, parent=self._frame_name(decl.parent), pose=self._pose(decl.pose),
                     where=where(decl.span))

    def _body(self, decl: ast.BodyDecl) -> Body | None:
        values = self._settings(decl.settings, {
            "shape": _placed(self._shape), "visual_shape": _placed(self._shape, repeated=True),
            "collision_shape": _placed(self._shape, repeated=True), "mass": self._value(MASS, at_least=0.0),
            "texture": _textual(self._texture),
            "center_of_mass": self._value(LENGTH, 3), "inertia": self._value(INERTIA, (3, 6), at_least=None),
            "color": self._value(DIMENSIONLESS, (3, 4), at_least=0.0),
            "friction": self._value(DIMENSIONLESS, (None, 2), at_least=0.0),
            "collision": self._flag(), "visual": self._flag(),
            "point_stiffness": self._value(STIFFNESS, above=0.0),
            "hunt_crossley_dissipation": self._value(DISSIPATION, at_least=0.0),
            "hydroelastic": self._choice(("compliant", "rigid", "none")),
            "hydroelastic_modulus": self._value(PRESSURE, above=0.0),
            "resolution_hint": self._value(LENGTH, above=0.0),
            "initial_position": self._value(LENGTH, 3), "initial_rpy": self._value(ANGLE, 3),
        }, f"body `{decl.name.name}`")
        if "texture" in values:
            values["textures"] = values.pop("texture")
        values["visual_shapes"] = values.pop("visual_shape", [])
        values["collision_shapes"] = values.pop("collision_shape", [])
        if "initial_position" in values or "initial_rpy" in values:
            values["initial_pose"] = Pose(translation=tuple(values.pop("initial_position", (0.0, 0.0, 0.0))),
                                          rpy=tuple(values.pop("initial_rpy", (0.0, 0.0, 0.0))))
        contact_keys = ("point_stiffness", "hunt_crossley_dissipation", "hydroelastic", "hydroelastic_modulus",
                        "resolution_hint")
        contact = {k: values.pop(k) for k in contact_keys if k in values}
        hint = contact.get("resolution_hint")
        if hint is not None and contact.get("hydroelastic", "compliant") != "none":  # a hint given: within the limit
            for shape in [values.get("shape"), *values.get("collision_shapes", [])]:
                problem = None if shape is None else mesh_problem(shape.kind, shape.size, hint)
                if problem is not None:
                    self.error("SCN412", problem, _value_span(decl.settings, "resolution_hint"),
                               f"give the body a coarser `resolution_hint` (at least "
                               f"{(mesh_radius(shape.kind, shape.size) or 0) / MAX_MESH_REFINEMENT:.3g} m), or "
                               "leave it out, or `hydroelastic = none` if it needs no hydroelastic contact")
                    break
        if "friction" in values:
            f = values.pop("friction")
            contact["friction"] = (f, f) if not isinstance(f, list) else tuple(f)
            if isinstance(f, list) and f[1] > f[0]:
                self.error("SCN401", "dynamic friction exceeds static friction", _value_span(decl.settings, "friction"),
                           "write friction = [static, dynamic] with dynamic <= static")
        if "color" in values:
            values["color"] = self._rgba(values["color"], decl.settings)
        if "center_of_mass" in values:
            values["center_of_mass"] = tuple(values["center_of_mass"])
        given = {s.key.name for s in decl.settings or ()}
        self._check_inertia(decl, values)
        if values.get("mass", 0) > 0 and not given & {"shape", "inertia"}:
            self.error("SCN406", f"body `{decl.name.name}` has mass but no shape or inertia", decl.name.span,
                       "give it a `shape` (its inertia is that of the solid shape) or an `inertia`")
        return Body(name=decl.name.name, contact=Contact(**contact), where=where(decl.span), **values)

    def _check_inertia(self, decl: ast.BodyDecl, values: dict[str, Any]) -> None:
        """SCN413 for a mass and inertia Drake refuses (`limits.inertia_problem`: an inertia on a
        body of mass 0, which stops Drake's process, or principal moments that are negative or
        break the triangle inequality), and for a solid shape whose inertia overflows."""
        if "mass" not in values and any(s.key.name == "mass" for s in decl.settings or ()):
            return  # the mass was reported
        mass = values.get("mass", 0.0)
        if "inertia" in values:
            problem = inertia_problem(mass, _flat(values["inertia"]))
            if problem:
                span = _value_span(decl.settings, "mass" if mass <= 0 and "mass" in values else "inertia")
                self.error("SCN413", f"body `{decl.name.name}`: {problem}", span,
                           "give the body a mass, or drop the inertia for a massless body" if mass <= 0 else
                           "give the moments about the centre of mass (kg*m^2): each at most the sum of the two others")
        elif isinstance(values.get("shape"), Shape) and mass > 0:
            largest = max(values["shape"].size)
            if not math.isfinite(2 * mass * largest * largest):  # every solid's moments are below 2 m s^2
                self.error("SCN413", f"body `{decl.name.name}`: the inertia of its solid shape overflows "
                           f"({mass:g} kg, {largest:g} m)", _value_span(decl.settings, "shape"),
                           "give a mass and a size whose m * size^2 is a finite number")

    def _shape(self, setting: ast.Setting) -> Shape | None:
        call = setting.value
        if not isinstance(call, ast.Call) or call.func.name not in _SHAPES:
            self.error("SCN404", "a shape is one of " + ", ".join(f"{k}(...)" for k in _SHAPES),
                       (call or setting).span, "e.g. shape = box(0.2, 0.05, 0.3)")
            return None
        want = _SHAPES[call.func.name]
        if len(call.args) != want or call.kwargs:
            names = {"box": "x, y, z", "sphere": "radius", "cylinder": "radius, length", "capsule": "radius, length",
                     "ellipsoid": "a, b, c"}[call.func.name]
            self.error("SCN305", f"`{call.func.name}` takes {want} size{'s' if want > 1 else ''} ({names})", call.span)
            return None
        sizes = [self._const(arg if call.unit is None else ast.Group(arg.span, arg, call.unit), "shape size", LENGTH,
                             above=0.0) for arg in call.args]
        if any(s is None for s in sizes):
            return None
        pose = self._pose(setting.pose) if setting.pose is not None else None
        return Shape(kind=call.func.name, size=[float(s) for s in sizes], pose=pose)  # type: ignore[arg-type]

    def _texture(self, setting: ast.Setting) -> list[str] | None:
        assert setting.text is not None
        found, refused = texture_files(setting.text, self._folder(setting.span) or ".")
        if refused is not None:
            self.error(refused.code, refused.message, setting.span, refused.hint)
            return None
        return found

    def _joint(self, decl: ast.JointDecl) -> Joint | None:
        kind = decl.kind.name
        if kind not in _JOINT_TYPES:
            self.error("SCN404", f"unknown joint type `{kind}`", decl.kind.span,
                       did_you_mean(kind, list(_JOINT_TYPES)) or f"joint types: {', '.join(_JOINT_TYPES)}")
            return None
        parent, child = self._frame_name(decl.parent), self._frame_name(decl.child)
        if child in self.decls.frames:
            self.error("SCN206", f"`{child}` is a frame; a joint's child is a body", decl.child.span, None)
        else:
            self._attach(child, decl.child, f"joint `{decl.name.name}` at {decl.span}")
        nq, nv = self.decls.joint_sizes(decl.name.name)
        q_dim = {"prismatic": LENGTH, "revolute": ANGLE, "ball": ANGLE, "universal": ANGLE}.get(kind)
        v_dim = None if q_dim is None else q_dim / TIME
        sizes_q: tuple[int | None, ...] = (None,) if nq == 1 else (nq,)
        sizes_v: tuple[int | None, ...] = (None,) if nv == 1 else (nv,)
        extra: dict[str, Any] = {}
        for kwarg in decl.kwargs:
            if kwarg.name.name == "axis" and kind in ("revolute", "prismatic"):
                axis = self._const(kwarg.value, "axis", DIMENSIONLESS, 3)
                if isinstance(axis, list):
                    if math.hypot(*axis) < 1e-150:  # Drake normalizes it: a square below 1e-300 underflows
                        self.error("SCN401", "the axis is the zero vector" if math.hypot(*axis) == 0 else
                                   f"the axis is too short to give a direction (length {math.hypot(*axis):g})",
                                   kwarg.value.span, "e.g. axis = [0, 0, 1]")
                    else:
                        extra["axis"] = tuple(axis)
            else:
                self.error("SCN203", f"`{kind}` joints take no `{kwarg.name.name}`", kwarg.name.span,
                           "revolute and prismatic joints take `axis = [x, y, z]`" if kind in ("revolute", "prismatic")
                           else None)
        if kind in ("revolute", "prismatic") and not any(k.name.name == "axis" for k in decl.kwargs):
            self.error("SCN406", f"a {kind} joint needs an axis", decl.span, f"write {kind}(a -> b, axis = [0, 0, 1])")
        values = self._settings(decl.settings, {
            "limits": self._value(q_dim, (2, 2 * nq) if nq > 1 else 2),
            "velocity_limits": self._value(v_dim, (2, 2 * nv) if nv > 1 else 2),
            "damping": self._value(DAMPING_DIMS.get(kind), sizes_v, at_least=0.0),
            "initial": self._value(q_dim, sizes_q), "initial_velocity": self._value(v_dim, sizes_v),
            "actuated": _as_flag(self._actuated),
        }, f"joint `{decl.name.name}`")
        for key, lower_name, upper_name, n in (("limits", "lower", "upper", nq),
                                               ("velocity_limits", "velocity_lower", "velocity_upper", nv)):
            if key in values:
                lo, hi = _split_bounds(values.pop(key), n)
                if any(a >= b for a, b in zip(lo, hi, strict=True)):
                    self.error("SCN402", f"`{key}` must be [lower, upper] with lower < upper",
                               _value_span(decl.settings, key), "the lower bound comes first")
                extra[lower_name], extra[upper_name] = lo, hi
        if "damping" in values:
            d = values.pop("damping")
            extra["damping"] = d if isinstance(d, list) else [d]
        if "initial" in values:
            q = values.pop("initial")
            extra["initial_q"] = q if isinstance(q, list) else [q]
            lower, upper = extra.get("lower"), extra.get("upper")
            if lower and upper and any(not lo <= x <= hi
                                       for x, lo, hi in zip(extra["initial_q"], lower, upper, strict=False)):
                self.error("SCN401", "the initial position is outside the joint limits",
                           _value_span(decl.settings, "initial"), f"the limits are {_shown_bounds(lower, upper)}")
        if "initial_velocity" in values:
            v = values.pop("initial_velocity")
            extra["initial_v"] = v if isinstance(v, list) else [v]
        if "actuated" in values:
            extra["actuator"] = values.pop("actuated")
            if kind not in ("revolute", "prismatic"):
                self.error("SCN407", f"{kind} joints cannot be actuated in scn", decl.span,
                           "actuate revolute and prismatic joints")
        return Joint(name=decl.name.name, type=kind, parent=parent, child=child, where=where(decl.span),  # type: ignore[arg-type]
                     **extra)

    def _actuated(self, setting: ast.Setting) -> Actuator | None:
        values = self._settings(setting.block, {
            "effort_limit": self._value(None, above=0.0), "gear_ratio": self._value(DIMENSIONLESS, above=0.0),
            "rotor_inertia": self._value(INERTIA, at_least=0.0),
        }, "`actuated`") if setting.block is not None else {}
        return Actuator(**values)

    def _controller(self, decl: ast.ControllerDecl) -> Controller | None:
        kind = decl.kind.name
        if kind not in _CONTROLLER_TYPES:
            self.error("SCN404", f"unknown controller type `{kind}`", decl.kind.span,
                       did_you_mean(kind, list(_CONTROLLER_TYPES)) or f"types: {', '.join(_CONTROLLER_TYPES)}")
            return None
        joints = []
        for ref in decl.joints:
            name = ref.dotted
            if name in self.decls.bodies or name in self.decls.frames:
                self.error("SCN206", f"`{name}` is a {'body' if name in self.decls.bodies else 'frame'}, not a joint",
                           ref.span, "a controller drives joints")
                continue
            if self.decls.joint_type(name) is None:
                known = [*self.decls.joints,
                         *(f"{m}.{j.name}" for m, i in self.decls.model_info.items() for j in i.joints)]
                self.error("SCN201", f"undefined joint `{name}`", ref.span, did_you_mean(name, known))
                continue
            declared = self.decls.joints.get(name)
            if declared is not None and self._actuated_setting(name) is None:
                self.error("SCN504", f"joint `{name}` is not actuated", ref.span,
                           f"add `actuated` to joint `{name}`'s settings")
            joints.append(name)
        n = len(joints)
        gains = self._settings(decl.settings,
                               {k: self._value(None, (None, n), at_least=0.0) for k in ("kp", "ki", "kd")},
                               f"controller `{decl.name.name}`")
        if "kp" not in gains:
            if any(s.key.name == "kp" for s in decl.settings or ()):
                return None  # given but wrong; that was reported
            self.error("SCN406", f"controller `{decl.name.name}` needs `kp`", decl.span, "e.g. { kp = 100; kd = 20 }")
            return None

        def per_joint(key: str) -> list[float]:
            value = gains.get(key, 0.0)
            return value if isinstance(value, list) else [float(value)] * n

        return Controller(name=decl.name.name, type=kind, joints=joints, kp=per_joint("kp"), ki=per_joint("ki"),  # type: ignore[arg-type]
                          kd=per_joint("kd"), where=where(decl.span))


def _as_flag(handler: Callable[[ast.Setting], Any]) -> Callable[[ast.Setting], Any]:
    """Mark a setting handler as accepting a bare flag (`actuated`)."""
    def handle(setting: ast.Setting) -> Any:
        return handler(setting)
    handle.flag = True  # type: ignore[attr-defined]
    return handle


def _textual(handler: Callable[[ast.Setting], Any]) -> Callable[[ast.Setting], Any]:
    """Mark a setting handler as taking text (`texture = "wood.png"`)."""
    def handle(setting: ast.Setting) -> Any:
        return handler(setting)
    handle.textual = True  # type: ignore[attr-defined]
    return handle


def _placed(handler: Callable[[ast.Setting], Any], *, repeated: bool = False) -> Callable[[ast.Setting], Any]:
    """Mark a shape's handler: it accepts a pose (`at (...)`), and, `repeated`, any number of
    settings with its key (`visual_shape`), collected in a list."""
    def handle(setting: ast.Setting) -> Any:
        return handler(setting)
    handle.posed = True  # type: ignore[attr-defined]
    handle.repeated = repeated  # type: ignore[attr-defined]
    return handle


def _split_bounds(value: Value, n: int) -> tuple[list[float], list[float]]:
    values = _flat(value)
    return (values[:n], values[n:]) if len(values) == 2 * n else ([values[0]] * n, [values[1]] * n)


def _shown_bounds(lower: list[float], upper: list[float]) -> str:
    pairs = [f"[{lo:g}, {hi:g}]" for lo, hi in zip(lower, upper, strict=True)]
    return pairs[0] if len(pairs) == 1 else ", ".join(pairs)

