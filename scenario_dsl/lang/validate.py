"""Stage 4: AST -> validated `Scenario` (scenario_dsl.lang.model).

Checks names (undefined, duplicate, wrong kind, with did-you-mean hints), units and shapes
(through `typecheck`), and values (ordered limits, non-negative masses, positive time steps,
an episode step that is a whole number of plant steps, valid distribution parameters). Every
problem is collected; nothing stops at the first one. A root file without a `scenario`
statement is a fragment meant for `include`: only its syntax and includes are checked.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

from scenario_dsl.lang import ast
from scenario_dsl.lang.diagnostics import Diagnostic, Diagnostics
from scenario_dsl.lang.model import (
    CONTACT_DEFAULTS,
    Action,
    Actuator,
    Apply,
    Body,
    Condition,
    Const,
    Contact,
    Controller,
    Distribution,
    Draw,
    Episode,
    Expr,
    Frame,
    Joint,
    Model,
    Observation,
    PlantSettings,
    Pose,
    Randomization,
    RandomLet,
    Requirement,
    RewardTerm,
    Scenario,
    Shape,
    Signal,
    Train,
    Weld,
    Where,
)
from scenario_dsl.lang.modelfiles import ModelFileError, inspect_model, resolve_url
from scenario_dsl.lang.names import (
    COMPILER_SYSTEMS,
    JOINT_ATTRS,
    RANDOM_TARGETS,
    RESERVED,
    STRICTLY_POSITIVE,
    Declarations,
    resolve_signal,
)
from scenario_dsl.lang.source import SourceFile, Span
from scenario_dsl.lang.typecheck import CONSTANTS, Checker, Failed, Scope, Typed, Value, did_you_mean
from scenario_dsl.lang.units import (
    ACCELERATION,
    ANGLE,
    DIMENSIONLESS,
    DISSIPATION,
    FORCE,
    INERTIA,
    LENGTH,
    MASS,
    PRESSURE,
    STIFFNESS,
    TIME,
    TORQUE,
    UNITS,
    VELOCITY,
    Dim,
    UnitError,
    a,
    example_unit,
    parse_unit,
)

_CONTACT_MODELS = ("point", "hydroelastic", "hydroelastic_with_fallback")
_APPROXIMATIONS = ("tamsi", "sap", "similar", "lagged")
_JOINT_TYPES = ("weld", "revolute", "prismatic", "planar", "ball", "universal", "free")
_CONTROLLER_TYPES = ("pd", "inverse_dynamics")
_ALGOS = ("ppo", "sac", "td3", "a2c", "ddpg", "trpo", "ars", "tqc")
_SHAPES = {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2, "ellipsoid": 3}
_TRAIN_ALIASES = {"algorithm": "algo", "timesteps": "n_timesteps", "envs": "n_envs"}
_TRAIN_SETTINGS = ("algo", "n_timesteps", "n_envs", "policy", "normalize", "seed", *_TRAIN_ALIASES)


_Sizes = int | tuple[int | None, ...] | None  # the lengths a value may have (None: a number)


def where(span: Span) -> Where:
    end_line, end_col = span.end_line_col
    return Where(file=span.path, line=span.line, column=span.column, end_line=end_line, end_column=end_col)


def validate(files: list[ast.File], params: Mapping[str, Any],
             base_dir: str | None = None) -> tuple[Scenario | None, list[Diagnostic]]:
    """Validate the root file (first) with its includes; returns the scenario and diagnostics.
    `base_dir` resolves model files of a root file that is not on disk (`loads`)."""
    return _Validator(files, params, base_dir).run()


class _Validator:
    def __init__(self, files: list[ast.File], overrides: Mapping[str, Any], base_dir: str | None = None) -> None:
        self.files = files
        self.base_dir = base_dir
        self.overrides = dict(overrides)
        self.diagnostics = Diagnostics()
        self.check = Checker(self.diagnostics)
        self.decls = Declarations()
        self.statements = [s for f in files for s in f.statements]
        resolve = lambda ref, d: resolve_signal(self.decls, ref, d)  # noqa: E731
        self.constants = Scope(what="here", resolve_ref=resolve, resolve_let=self._resolve_let)
        self.signals = Scope(resolve_ref=resolve, resolve_let=self._resolve_let)
        self.let_values: dict[str, Typed | None] = {}  # None while being lowered, or when it failed
        self._drawn_lets: dict[str, str] = {}  # random let -> the scope of the block that draws it
        self.parents: dict[str, str] = {}  # body -> what attaches it to its parent (a joint or a weld), first wins
        self._lowering: set[str] = set()
        self._shape_sizes: dict[str, list[float]] = {}  # body -> its declared shape's sizes, once validated

    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.add(code, message, span, hint)

    # ---- driver
    def run(self) -> tuple[Scenario | None, list[Diagnostic]]:
        header = next((s for s in self.files[0].statements if isinstance(s, ast.ScenarioDecl)), None)
        if header is None:
            return None, []  # a fragment: checked when a scenario includes it
        self._declare()
        self._params()
        plant = self._plant()
        models = [m for m in (self._model(d) for d in self.decls.models.values()) if m]
        frames = [self._frame(d) for d in self.decls.frames.values()]
        bodies = [b for b in (self._body(d) for d in self.decls.bodies.values()) if b]
        self._shape_sizes = {b.name: b.shape.size for b in bodies if b.shape is not None}
        joints = [j for j in (self._joint(d) for d in self.decls.joints.values()) if j]
        welds = [self._weld(w) for w in self.statements if isinstance(w, ast.Weld)]
        controllers = [c for c in (self._controller(d) for d in self.decls.controllers.values()) if c]
        randomizations = [self._randomize(b) for b in self.statements if isinstance(b, ast.RandomizeBlock)]
        action = self._action()
        observations = self._observations()
        reward = self._reward()
        episode = self._episode(plant)
        train = self._train()
        for name in self.decls.lets:  # report problems in lets nothing used
            try:
                self._resolve_let(name)
            except Failed:
                pass
        self._unused()
        for name in self.overrides:
            self.diagnostics.add("SCN210", f"no parameter `{name}` to override", header.span,
                                 did_you_mean(name, list(self.decls.params)) or
                                 (f"parameters: {', '.join(self.decls.params)}" if self.decls.params else
                                  "this scenario declares no `param`"))
        if self.diagnostics.has_errors or action is None or episode is None:
            return None, list(self.diagnostics)
        scenario = Scenario(
            name=header.name.name, description=header.description, path=self.files[0].span.path,
            params={k: v.constant for k, v in self.constants.constants.items()  # type: ignore[misc]
                    if k in self.decls.params and v.constant is not None},
            plant=plant, models=models, frames=frames, bodies=bodies, joints=joints, welds=welds,
            controllers=controllers, action=action, observations=observations, randomizations=randomizations,
            reward=reward, episode=episode, train=train,
        )
        return scenario, list(self.diagnostics)

    # ---- names
    def _declare(self) -> None:
        tables: dict[type, str] = {
            ast.BodyDecl: "bodies", ast.JointDecl: "joints", ast.FrameDecl: "frames", ast.ModelDecl: "models",
            ast.ControllerDecl: "controllers", ast.ActionDecl: "actions", ast.ObservationDecl: "observations",
            ast.Param: "params", ast.Let: "lets",
        }
        seen_sections: dict[type, ast.Node] = {}
        for statement in self.statements:
            if isinstance(statement, ast.Weld):
                self.decls.welds.append(statement)
            if isinstance(statement, ast.ModelDecl):
                self.decls.welds.extend(i for i in statement.items or () if isinstance(i, ast.Weld))
            if isinstance(statement, (ast.PlantBlock, ast.RewardBlock, ast.EpisodeBlock, ast.TrainBlock,
                                      ast.ScenarioDecl)):
                first = seen_sections.setdefault(type(statement), statement)
                if first is not statement and not (isinstance(statement, ast.ScenarioDecl)
                                                   and statement.span.path != first.span.path):
                    self.error("SCN211", f"a second `{statement.span.text.split()[0]}` section", statement.span,
                               f"the first is at {first.span}; merge them")
            if isinstance(statement, ast.RandomizeBlock):
                for item in statement.items:
                    if isinstance(item, ast.Let):
                        self._add_name(item.name, item, "random_lets")
            if isinstance(statement, (ast.BodyDecl, ast.JointDecl, ast.FrameDecl, ast.ModelDecl, ast.ControllerDecl,
                                      ast.ActionDecl, ast.ObservationDecl, ast.Param, ast.Let)):
                self._add_name(statement.name, statement, tables[type(statement)])
        if len(self.decls.actions) > 1:
            second = list(self.decls.actions.values())[1]
            self.error("SCN211", "a scenario has one action", second.span,
                       "combine the commands into one action (e.g. a controller over several joints)")
        for name, decl in self.decls.models.items():
            try:
                self.decls.model_info[name] = inspect_model(resolve_url(decl.url, self._folder(decl.span)))
            except ModelFileError as exc:
                self.error(exc.code, str(exc), decl.span, exc.hint)

    def _add_name(self, ident: ast.Ident, node: ast.Node, table: str) -> None:
        name = ident.name
        if name in RESERVED:
            self.error("SCN202", f"`{name}` is a reserved name", ident.span, "choose another name")
            return
        if table in ("actions", "controllers") and name in COMPILER_SYSTEMS:
            self.error("SCN202", f"`{name}` is the name of a system scn adds to every diagram", ident.span,
                       f"the {table[:-1]} becomes a system named after it: choose another name")
            # declared all the same, so its uses resolve and report nothing more
        first = self.decls.order.get(name)
        if first is not None:
            self.error("SCN202", f"`{name}` is already declared", ident.span, f"first declared at {first.span}")
            return
        self.decls.order[name] = node
        getattr(self.decls, table)[name] = node

    # ---- constants
    def _params(self) -> None:
        for name, param in self.decls.params.items():
            override = self.overrides.pop(name, None)
            try:
                default = self.check.constant(param.value, self._constant_scope("in a `param`"))
            except Failed:
                self.constants.failed.add(name)  # reported; its uses fail quietly
                self.signals.failed.add(name)
                continue
            typed = self._override(param, default, override) if override is not None else None
            self.constants.constants[name] = typed or default
        self.signals.constants = self.constants.constants

    def _override(self, param: ast.Param, default: Typed, value: Any) -> Typed | None:
        """The `--param` value for `param`, or None (reported) when it is not a value of the default's
        dimension and length; the default then stands in, so its uses report nothing more."""
        from scenario_dsl.lang.loader import parse_source

        text = value if isinstance(value, str) else repr(value)
        source = SourceFile(f"--param {param.name.name}", f"param {param.name.name} = {text}")
        parsed, problems = parse_source(source)
        if parsed is None or len(parsed.statements) != 1 or not isinstance(parsed.statements[0], ast.Param):
            self.diagnostics.extend(problems or [Diagnostic("SCN210", f"`{text}` is not a value", None, None,
                                                            path=source.path)])
            return None
        try:
            typed = self.check.constant(parsed.statements[0].value, self._constant_scope("in a `--param`"))
        except Failed:
            return None
        if not isinstance(typed.ir, Const):
            return None  # SCN307, reported
        if default.dim is not None and typed.dim is not None and default.dim != typed.dim:
            self.error("SCN302", f"--param {param.name.name} is {a(typed.dim)}; the parameter is "
                       f"{a(default.dim)}", param.span, f"give it in {example_unit(default.dim)}")
            return None
        if typed.size != default.size:
            def shape(size: int | None) -> str:
                return "a number" if size is None else f"a {size}-vector"

            self.error("SCN303", f"--param {param.name.name} is {shape(typed.size)}; the parameter is "
                       f"{shape(default.size)}", param.span,
                       "give one number" if default.size is None else f"give {default.size} numbers: [...]")
            return None
        return Typed(typed.ir, typed.size, typed.dim or default.dim)

    def _constant_scope(self, what: str) -> Scope:
        scope = self.constants.child()
        scope.what = what
        return scope

    def _const(self, expr: ast.Expr, what: str, dim: Dim | None = None, size: _Sizes = None,
               *, at_least: float | None = None, above: float | None = None) -> Value | None:
        """A constant with an expected dimension, length (None: scalar) and lower bound."""
        try:
            typed = self.check.constant(expr, self._constant_scope(f"for `{what}`"))
        except Failed:
            return None
        value = typed.constant
        if value is None:
            return None
        if dim is not None and typed.dim is not None and typed.dim != dim:
            self.error("SCN302", f"`{what}` is {a(dim)}, not {a(typed.dim)}", expr.span,
                       f"give it in {example_unit(dim)}" if dim != DIMENSIONLESS else "remove the unit")
            return None
        sizes = size if isinstance(size, tuple) else (size,)
        got = len(value) if isinstance(value, list) else None
        if got not in sizes:
            want = " or ".join("a number" if s is None else f"a {s}-vector" for s in sizes)
            self.error("SCN303", f"`{what}` must be {want}, got {'a number' if got is None else f'a {got}-vector'}",
                       expr.span, None)
            return None
        values = value if isinstance(value, list) else [value]
        if not all(math.isfinite(v) for v in values):
            self.error("SCN401", f"`{what}` must be a finite number", expr.span, None)
            return None
        if at_least is not None and any(v < at_least for v in values):
            self.error("SCN401", f"`{what}` must be at least {at_least:g}", expr.span, None)
            return None
        if above is not None and any(v <= above for v in values):
            self.error("SCN401", f"`{what}` must be greater than {above:g}", expr.span, None)
            return None
        return value

    def _settings(self, settings: tuple[ast.Setting, ...] | None, allowed: dict[str, Callable[[ast.Setting], Any]],
                  owner: str) -> dict[str, Any]:
        """Apply each setting's handler; reports unknown and repeated keys."""
        out: dict[str, Any] = {}
        seen: dict[str, ast.Setting] = {}
        for setting in settings or ():
            key = setting.key.name
            if key in seen:
                self.error("SCN208", f"`{key}` is set twice in {owner}", setting.key.span,
                           f"first set at {seen[key].span}")
                continue
            seen[key] = setting
            handler = allowed.get(key)
            if handler is None:
                self.error("SCN203", f"unknown setting `{key}` in {owner}", setting.key.span,
                           did_you_mean(key, list(allowed)) or f"settings here: {', '.join(allowed)}")
                continue
            if setting.value is None and setting.block is None and not getattr(handler, "flag", False):
                self.error("SCN406", f"`{key}` needs a value", setting.span, f"write `{key} = ...`")
                continue
            result = handler(setting)
            if result is not None:
                out[key] = result
        return out

    def _value(self, dim: Dim | None, size: _Sizes = None, *, at_least: float | None = None,
               above: float | None = None) -> Callable[[ast.Setting], Any]:
        def handle(setting: ast.Setting) -> Any:
            if setting.value is None:
                self.error("SCN406", f"`{setting.key.name}` needs a value", setting.span, None)
                return None
            return self._const(setting.value, setting.key.name, dim, size, at_least=at_least, above=above)
        return handle

    def _choice(self, choices: tuple[str, ...]) -> Callable[[ast.Setting], Any]:
        def handle(setting: ast.Setting) -> Any:
            value = setting.value
            if not (isinstance(value, ast.Ref) and len(value.parts) == 1 and value.parts[0].name in choices):
                shown = value.span.text if value is not None else ""
                self.error("SCN404", f"`{shown}` is not a valid `{setting.key.name}`",
                           value.span if value is not None else setting.span,
                           did_you_mean(shown, list(choices)) or f"choices: {', '.join(choices)}")
                return None
            return value.parts[0].name
        return handle

    def _flag(self) -> Callable[[ast.Setting], Any]:
        def handle(setting: ast.Setting) -> Any:
            if setting.value is None:
                return True
            value = self._const(setting.value, setting.key.name, None)
            return None if value is None else bool(value)
        handle.flag = True  # type: ignore[attr-defined]
        return handle

    def _pose(self, pose: ast.Pose | None) -> Pose:
        if pose is None:
            return Pose()
        handlers = {"translation": (LENGTH, 3), "rotation": (ANGLE, 3), "rpy": (ANGLE, 3)}
        values: dict[str, Any] = {}
        for kwarg in pose.kwargs:
            key = kwarg.name.name
            if key not in handlers:
                self.error("SCN203", f"unknown pose field `{key}`", kwarg.name.span,
                           did_you_mean(key, list(handlers)) or "a pose has `translation` and `rotation`")
                continue
            expr = kwarg.value
            if key == "rotation" and isinstance(expr, ast.Call) and expr.func.name == "rpy":
                expr = ast.Vector(expr.span, expr.args, expr.unit)
            elif key == "rotation":
                self.error("SCN306", "a rotation is written `rpy(roll, pitch, yaw)`", expr.span,
                           "angles in degrees need `deg`: rpy(0, 0, 90 deg)")
                continue
            dim, size = handlers[key]
            value = self._const(expr, key, dim, size)
            if value is not None:
                values["rpy" if key != "translation" else key] = tuple(value)  # type: ignore[arg-type]
        return Pose(**values)

    # ---- the plant
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
            "shape": self._shape, "mass": self._value(MASS, at_least=0.0),
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
        if "initial_position" in values or "initial_rpy" in values:
            values["initial_pose"] = Pose(translation=tuple(values.pop("initial_position", (0.0, 0.0, 0.0))),
                                          rpy=tuple(values.pop("initial_rpy", (0.0, 0.0, 0.0))))
        contact_keys = ("point_stiffness", "hunt_crossley_dissipation", "hydroelastic", "hydroelastic_modulus",
                        "resolution_hint")
        contact = {k: values.pop(k) for k in contact_keys if k in values}
        if "friction" in values:
            f = values.pop("friction")
            contact["friction"] = (f, f) if not isinstance(f, list) else tuple(f)
            if isinstance(f, list) and f[1] > f[0]:
                self.error("SCN401", "dynamic friction exceeds static friction", _value_span(decl.settings, "friction"),
                           "write friction = [static, dynamic] with dynamic <= static")
        if "color" in values:
            color = values["color"]
            if any(c > 1 for c in color):
                self.error("SCN401", "colour components are between 0 and 1", _value_span(decl.settings, "color"),
                           "e.g. color = [0.8, 0.2, 0.2] (red, green, blue), or with a fourth number for opacity")
            values["color"] = tuple(color) if len(color) == 4 else (*color, 1.0)
        if "center_of_mass" in values:
            values["center_of_mass"] = tuple(values["center_of_mass"])
        given = {s.key.name for s in decl.settings or ()}
        if values.get("mass", 0) > 0 and not given & {"shape", "inertia"}:
            self.error("SCN406", f"body `{decl.name.name}` has mass but no shape or inertia", decl.name.span,
                       "give it a `shape` (its inertia is that of the solid shape) or an `inertia`")
        return Body(name=decl.name.name, contact=Contact(**contact), where=where(decl.span), **values)

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
        return Shape(kind=call.func.name, size=[float(s) for s in sizes])  # type: ignore[arg-type]

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
                    if math.hypot(*axis) == 0:
                        self.error("SCN401", "the axis is the zero vector", kwarg.value.span, "e.g. axis = [0, 0, 1]")
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
            "damping": self._value(None, sizes_v, at_least=0.0),
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

    # ---- lets, randomization
    def _resolve_let(self, name: str) -> Typed | None:
        """Lower a top-level `let` on its first use, so it may read anything declared anywhere."""
        let = self.decls.lets.get(name)
        if let is None:
            return None
        if name in self.let_values:
            value = self.let_values[name]
            if value is None:
                if name not in self._lowering:
                    raise Failed()  # it failed, and that was reported
                raise self.check.error("SCN201", f"`{name}` is defined in terms of itself", let.span,
                                       "break the cycle between the `let` bindings")
            return value
        self.let_values[name] = None
        self._lowering.add(name)
        try:
            if let.drawn:
                raise self.check.error("SCN308", f"`let {name} ~ ...` draws a value; it belongs in a `randomize` block",
                                       let.span, f"move it into `randomize {{ let {name} ~ ... }}`")
            value = self.check.lower(let.value, self.signals)
        finally:
            self._lowering.discard(name)
        self.let_values[name] = value
        return value

    def _randomize(self, block: ast.RandomizeBlock) -> Randomization:
        scope, every = "episode", None
        if block.scope is not None:
            scope = block.scope.name.name
            if scope not in ("episode", "build", "step"):
                self.error("SCN404", f"unknown scope `per {scope}`", block.scope.name.span,
                           "scopes: per episode (default), per build, per step")
                scope = "episode"
            if block.scope.every is not None:
                unit = block.scope.every_unit.name if block.scope.every_unit else ""
                if scope != "build" or unit not in ("episodes", "episode"):
                    self.error("SCN407", "`every N episodes` applies to `per build`", block.scope.span, None)
                count = float(block.scope.every)
                if not count.is_integer() or count < 1:
                    self.error("SCN401", "`every` takes a whole number of episodes, at least 1", block.scope.span, None)
                else:
                    every = int(count)
            if scope == "build":
                period = "episode" if every in (None, 1) else f"{every} episodes"
                self.diagnostics.add("SCN410", f"`randomize per build` compiles a new Drake diagram every {period} "
                                     "(about 50 ms for box_flipup, against well under 1 ms for a reset)",
                                     block.scope.span, "draw per episode what a context holds (masses, friction, "
                                     "initial state); rebuild less often with `every N episodes`")
        lets: list[RandomLet] = []
        draws: list[Draw] = []
        requirements: list[Requirement] = []
        for item in block.items:
            if isinstance(item, ast.Let):
                dist = self._distribution(item.value, None, None, False) if item.drawn else None
                if not item.drawn:
                    self.error("SCN306", "a `let` in a `randomize` block draws: write `let x ~ ...`", item.span, None)
                if dist is not None:
                    lets.append(RandomLet(name=item.name.name, value=dist, where=where(item.span)))
                    self.decls.sizes[item.name.name] = dist.size  # type: ignore[assignment]
                    self.signals.bindings.pop(item.name.name, None)
            elif isinstance(item, ast.Draw):
                draw = self._draw(item)
                if draw is not None and self._in_scope(draw, scope, item) \
                        and self._lets_in_reach(draw, scope, {let.name for let in lets}, item):
                    draws.append(draw)
            else:
                condition = self._condition(item.condition, "a `require`")
                if condition is not None:
                    requirements.append(Requirement(condition=condition, message=item.message, where=where(item.span)))
        self._drawn_lets.update(dict.fromkeys((let.name for let in lets), scope))
        return Randomization(scope=scope, every=every, lets=lets, draws=draws, requirements=requirements,  # type: ignore[arg-type]
                             where=where(block.span))

    def _in_scope(self, draw: Draw, scope: str, item: ast.Draw) -> bool:
        """Per-step blocks draw noise and pushes; per-build blocks draw what Drake fixes when it
        builds a diagram (gravity, controller gains, shape sizes), which only they may draw;
        per-episode blocks draw everything else."""
        owner, _, attribute = draw.target.rpartition(".")
        built = (draw.target == "plant.gravity" or (owner in self.decls.controllers and attribute in _PER_BUILD_GAINS)
                 or (owner in self.decls.bodies and attribute == "size"))
        if scope == "step" and attribute not in _PER_STEP:
            allowed = "observation and action noise (`OBS.noise`) and pushes (`B.push`)"
            hint = (f"draw `{draw.target}` in `randomize per build [every N episodes] {{ ... }}`" if built
                    else f"draw `{draw.target}` in a per-episode block")
        elif scope == "build" and not built:
            allowed = ("the plant's gravity (`plant.gravity`), controller gains (`C.kp`, `C.ki`, `C.kd`) and "
                       "shape sizes (`B.size`)")
            hint = f"draw `{draw.target}` in a per-episode block"
        elif scope == "episode" and built:
            self.error("SCN204", f"`{draw.target}` cannot be drawn per episode", item.target.span,
                       "Drake fixes it when it builds the diagram: draw it in "
                       "`randomize per build [every N episodes] { ... }`")
            return False
        else:
            return True
        self.error("SCN204", f"`{draw.target}` cannot be drawn per {scope}", item.target.span,
                   f"per {scope} draws {allowed}; {hint}")
        return False

    def _lets_in_reach(self, draw: Draw, scope: str, own: set[str], item: ast.Draw) -> bool:
        """A draw reads only random `let`s drawn before it in its own scope: the sampler draws a
        scope's blocks in order, and per-step and per-build draws never see an episode's values."""
        if isinstance(draw.value, Distribution):
            return True
        for name in sorted(_random_names(draw.value)):
            drawn_in = "" if name in own else self._drawn_lets.get(name)
            if drawn_in is None:
                self.error("SCN201", f"`{name}` is drawn in a later `randomize` block", item.value.span,
                           f"move `let {name} ~ ...` before this draw")
                return False
            if drawn_in and drawn_in != scope:
                self.error("SCN206", f"`{name}` is drawn per {drawn_in}; a per-{scope} draw reads only `let`s "
                           f"drawn per {scope}", item.value.span, f"draw `{name}` in this block")
                return False
        return True

    def _draw_target(self, ref: ast.Ref) -> tuple[int | None, Dim | None, float | None, bool] | None:
        """What a draw may set: (size, None for a scalar; dimension; lower bound; whether the size
        is known here: a joint's, body's or the plant's is, an observation's noise is not)."""
        parts = [p.name for p in ref.parts]
        owner, attr = ".".join(parts[:-1]), parts[-1]
        if len(parts) == 1:
            kind = self.decls.kind_of(attr)
            if kind in ("observations", "actions"):
                return self.decls.sizes.get(attr), None, None, False
            self.error("SCN201" if kind is None else "SCN206", f"`{attr}` cannot be randomized", ref.span,
                       did_you_mean(attr, list(self.decls.order)) or "randomize an attribute, e.g. box.mass")
            return None
        kind = "plant" if owner == "plant" else self.decls.kind_of(owner) or ""
        model, _, link = owner.partition(".")
        if not kind and model in self.decls.model_info and link in self.decls.model_info[model].links:
            kind = "bodies"  # a body of a loaded model
        joint_type = self.decls.joint_type(owner)
        if joint_type and joint_type not in JOINT_ATTRS and owner in self.decls.joints:
            return None  # a declared joint of unknown type; reported at the joint (SCN404)
        table: dict[str, tuple[int | None, Dim | None, float | None]]
        if joint_type:
            attrs = JOINT_ATTRS.get(joint_type, {})
            table = {k: (size, dim, None) for k, (size, dim) in attrs.items()}
            table["damping"] = (None, None, 0.0)
            table["gear_ratio"] = (None, DIMENSIONLESS, 0.0)  # of the joint's actuator
            table["rotor_inertia"] = (None, INERTIA, 0.0)
            table["effort_limit"] = (None, {"revolute": TORQUE, "prismatic": FORCE}.get(joint_type), 0.0)
        else:
            table = RANDOM_TARGETS.get({"bodies": "body", "controllers": "controller", "observations": "observation",
                                        "actions": "action"}.get(kind, kind), {})
        if not table:
            self.error("SCN201", f"undefined name `{owner}`", ref.span, did_you_mean(owner, list(self.decls.order)))
            return None
        if attr not in table:
            self.error("SCN204", f"`{owner}` has no randomizable `{attr}`", ref.parts[-1].span,
                       did_you_mean(attr, list(table)) or f"it has: {', '.join(table)}")
            return None
        declared = self.decls.joints.get(owner)
        if declared is not None and attr in _ACTUATOR_TARGETS and self._actuated_setting(owner) is None:
            self.error("SCN504", f"joint `{owner}` is not actuated: it has no `{attr}`", ref.span,
                       f"add `actuated` to joint `{owner}`'s settings")
            return None
        if kind == "bodies" and attr in _CONTACT_TARGETS:
            problem = self._contact_problem(owner, attr)
            if problem:
                self.error("SCN204", f"`{owner}` has no `{attr}`: {problem}", ref.span,
                           "contact properties belong to a body with collision geometry"
                           + (" of `hydroelastic = compliant`" if attr == "hydroelastic_modulus" else ""))
                return None
        if kind == "bodies" and attr == "size":
            count = self._shape_size(owner)
            if count is None:
                self.error("SCN204", f"`{owner}` has no declared shape to resize", ref.span,
                           "`B.size` resizes a body declared with `shape = box(...)`, `sphere(...)`, ...")
                return None
            return (None if count == 1 else count, LENGTH, 0.0, True)
        known = kind in ("plant", "bodies") or bool(joint_type) or (kind == "actions" and attr == "delay")
        return (*table[attr], known)

    def _contact_problem(self, body: str, attribute: str) -> str | None:
        """Why a declared body has no contact property to draw (None: it has one, or the body comes
        from a model file, which the compiler checks)."""
        decl = self.decls.bodies.get(body)
        if decl is None:
            return None
        settings = {s.key.name: s for s in decl.settings or ()}
        if "shape" not in settings:
            return "it has no shape, so no collision geometry"
        def written(key: str) -> str | None:
            value = settings[key].value if key in settings else None
            return value.span.text.strip() if value is not None else None

        if written("collision") == "false":
            return "it is declared `collision = false`"
        kind = written("hydroelastic")
        if attribute == "hydroelastic_modulus" and kind not in (None, "compliant"):
            return f"it is declared `hydroelastic = {kind}`"
        return None

    def _declared_nominal(self, target: str) -> float | None:
        """The nominal value the compiler will build for a declared body's contact property (its
        setting, else `CONTACT_DEFAULTS`), a declared joint's effort limit, or a declared shape's
        size (its smallest number); None for anything else (a loaded model's values are the
        compiler's to check)."""
        owner, _, attribute = target.rpartition(".")
        setting: ast.Setting | None
        if attribute == "size" and owner in self._shape_sizes:
            return min(self._shape_sizes[owner])
        body = self.decls.bodies.get(owner)
        if body is not None and attribute in CONTACT_DEFAULTS:
            setting = next((s for s in body.settings or () if s.key.name == attribute), None)
            if setting is None:
                return CONTACT_DEFAULTS[attribute]
        elif attribute == "effort_limit" and self._actuated_setting(owner) is not None:
            setting = self._effort_limit_setting(owner)
        else:
            return None
        if setting is None or setting.value is None:
            return None
        try:
            typed = self.check.constant(setting.value, self._constant_scope("for a nominal value"))
        except Failed:
            return None
        value = typed.constant
        return float(value) if isinstance(value, (int, float)) else None

    def _actuated_setting(self, joint: str) -> ast.Setting | None:
        """The `actuated` setting of a declared joint (None: not declared, or not actuated)."""
        decl = self.decls.joints.get(joint)
        return next((s for s in decl.settings or () if s.key.name == "actuated"), None) if decl else None

    def _effort_limit_setting(self, joint: str) -> ast.Setting | None:
        actuated = self._actuated_setting(joint)
        return next((s for s in actuated.block or () if s.key.name == "effort_limit"), None) if actuated else None

    def _shape_size(self, body: str) -> int | None:
        """How many numbers the declared shape of `body` has (box 3, sphere 1, ...), if it has one."""
        decl = self.decls.bodies.get(body)
        for setting in (decl.settings or ()) if decl else ():
            call = setting.value
            if setting.key.name == "shape" and isinstance(call, ast.Call) and call.func.name in _SHAPES:
                return _SHAPES[call.func.name]
        return None

    def _draw(self, item: ast.Draw) -> Draw | None:
        target = self._draw_target(item.target)
        if target is None:
            return None
        size, dim, lower, known = target
        operation = {"~": "set", "+~": "offset", "*~": "scale"}[item.op]
        value: Distribution | Expr | None
        rotation_target = item.target.parts[-1].name in ("rpy", "quaternion")
        if isinstance(item.value, ast.Call) and item.value.func.name in _ROTATIONS and not rotation_target:
            self.error("SCN303", f"`{item.value.func.name}` draws a rotation, and `{item.target.dotted}` is not one",
                       item.value.span, "draw it for a free body's `rpy` or a free joint's `quaternion`; one "
                       "angle (`B.yaw`) takes a scalar distribution")
            return None
        if isinstance(item.value, ast.Call) and item.value.func.name in _DIST_ARGS:
            value = self._distribution(item.value, dim if operation != "scale" else DIMENSIONLESS, size, known)
        else:
            try:
                scope = self.signals.child()
                scope.what = "in a draw"
                typed = self.check.lower(item.value, scope)
            except Failed:
                return None
            want = DIMENSIONLESS if operation == "scale" else dim
            if want is not None and typed.dim is not None and typed.dim != want:
                self.error("SCN302", f"`{item.target.dotted}` is {a(want)}, this is {a(typed.dim)}", item.value.span,
                           f"give it in {example_unit(want)}" if want != DIMENSIONLESS else "a scale has no unit")
                return None
            if known and typed.size is not None and typed.size != size:
                self.error("SCN303", f"`{item.target.dotted}` takes {'a number' if size is None else f'{size} numbers'}"
                           f", this is a {typed.size}-vector", item.value.span, None)
                return None
            value = typed.ir
        if value is None:
            return None
        if isinstance(value, Distribution) and value.family in _ROTATIONS and operation != "set":
            self.error("SCN308", f"`{value.family}` draws a whole rotation: it sets the target", item.value.span,
                       f"write `{item.target.dotted} ~ {value.family}(...)`")
            return None
        owner, _, attribute = item.target.dotted.rpartition(".")
        strict = attribute in STRICTLY_POSITIVE
        if isinstance(value, Distribution) and lower is not None and operation in ("set", "scale"):
            low = _support_low(value)
            if low is not None and (low < lower or (strict and low <= lower)):
                self.error("SCN405", f"`{item.target.dotted}` can be drawn {'at or ' if strict else ''}below {lower:g} "
                           f"({value.family} reaches {'-inf' if math.isinf(low) else f'{low:g}'})", item.value.span,
                           "use a distribution bounded below, e.g. uniform, truncnormal or lognormal")
        nominal = self._declared_nominal(item.target.dotted)
        if isinstance(value, Distribution) and lower is not None and operation == "offset" and nominal is not None:
            low = _support_low(value)
            if low is not None and (nominal + low < lower or (strict and nominal + low <= lower)):
                self.error("SCN405", f"`{item.target.dotted}` can be drawn {'at or ' if strict else ''}below "
                           f"{lower:g} (its {'smallest size' if attribute == 'size' else 'nominal'} {nominal:g} "
                           f"plus {value.family} reaching "
                           f"{'-inf' if math.isinf(low) else f'{low:g}'})", item.value.span,
                           "offset by a distribution bounded below, or scale with `*~`")
        if attribute == "effort_limit" and operation != "set" and self._actuated_setting(owner) is not None \
                and self._effort_limit_setting(owner) is None:
            verb = "offset" if operation == "offset" else "scale"
            self.error("SCN406", f"`{item.target.dotted}` has no nominal value to {verb}: joint `{owner}` "
                       "declares no effort limit (it is unlimited)", item.target.span,
                       "declare `actuated { effort_limit = ... }`, or draw the limit itself with `~`")
            return None
        return Draw(target=item.target.dotted, operation=operation, value=value, where=where(item.span))  # type: ignore[arg-type]

    def _distribution(self, expr: ast.Expr, dim: Dim | None, size: int | None, known: bool) -> Distribution | None:
        """A distribution for a target of dimension `dim` (None: any) and length `size` (None: a
        scalar; checked when `known`). A scalar distribution may be drawn for a vector target."""
        if not isinstance(expr, ast.Call) or expr.func.name not in _DIST_ARGS:
            self.error("SCN205", "expected a distribution", expr.span,
                       "distributions: " + ", ".join(f"{k}({', '.join(v)})" for k, v in _DIST_ARGS.items()))
            return None
        family = expr.func.name
        names = _DIST_ARGS[family]
        args = list(expr.args)
        if len(args) > len(names) or (len(args) + len(expr.kwargs) < len([n for n in names if not n.endswith("?")])):
            self.error("SCN305", f"`{family}` takes ({', '.join(n.rstrip('?') for n in names)})", expr.span, None)
            return None
        if family == "rpy":
            return self._rpy(expr)
        params: dict[str, Any] = {}
        ok = True
        accepted = [n.rstrip("?") for n in names]
        values: list[tuple[ast.Ident | None, str, ast.Expr]] = [
            (None, n, v) for n, v in zip(accepted, args, strict=False)]
        values += [(k.name, k.name.name, k.value) for k in expr.kwargs]
        dim_reported = False
        for ident, key, arg in values:
            if key not in accepted:
                self.error("SCN305", f"`{family}` has no parameter `{key}`", (ident or arg).span,
                           did_you_mean(key, accepted) or f"its parameters: {', '.join(accepted) or 'none'}")
                ok = False
                continue
            unitless = key in ("p", "weights", "sigma") or family in ("lognormal",)
            scoped = arg if expr.unit is None or unitless else ast.Group(arg.span, arg, expr.unit)
            try:
                typed = self.check.constant(scoped, self._constant_scope(f"for `{family}`"))
            except Failed:
                ok = False
                continue
            if typed.constant is None:  # SCN307, reported
                ok = False
                continue
            if dim is not None and typed.dim is not None and typed.dim != dim and not unitless and key != "values":
                if not dim_reported:  # once per distribution: `uniform(1, 2) m` has one wrong unit, not two
                    self.error("SCN302", f"drawing {a(typed.dim)} for {a(dim)}", arg.span if expr.unit is None
                               else expr.span, f"give it in {example_unit(dim)}" if dim != DIMENSIONLESS
                               else "a scale has no unit")
                dim_reported = True
                ok = False
            params[key] = typed.constant
        if not ok:
            return None
        problem = _check_distribution(family, params)
        if problem:
            self.error("SCN405", problem, expr.span, None)
            return None
        lengths = {len(v) for k, v in params.items() if isinstance(v, list) and k not in ("values", "weights")}
        dist_size = lengths.pop() if len(lengths) == 1 else None
        if family == "uniform_rotation":
            dist_size = 4
        if known and dist_size is not None and size != dist_size and family not in _ROTATIONS:
            takes = "a number" if size is None else f"{size} numbers"
            self.error("SCN303", f"drawing a {dist_size}-vector for a target that takes {takes}", expr.span,
                       "draw one number" if size is None else f"give {size} numbers, or one for all of them")
            return None
        return Distribution(family=family, params=params, size=dist_size, where=where(expr.span))  # type: ignore[arg-type]

    def _rpy(self, expr: ast.Call) -> Distribution | None:
        """`rpy(roll, pitch, yaw)`: each angle a constant or a scalar distribution. A unit after
        the call (`rpy(0, 0, uniform(-180, 180)) deg`) applies to every angle, which then give none."""
        params: dict[str, Any] = {}
        ok = True
        if expr.unit is not None:
            try:
                _, unit_dim = parse_unit(expr.unit)
            except UnitError as exc:
                self.error("SCN301", f"unknown unit `{exc.name}`", expr.span,
                           did_you_mean(exc.name, list(UNITS)) or "known units: " + ", ".join(UNITS))
                return None
            if unit_dim not in (ANGLE, DIMENSIONLESS):
                self.error("SCN302", f"`rpy` takes angles, `{expr.unit}` is {a(unit_dim)}", expr.span,
                           f"give them in {example_unit(ANGLE)}")
                return None
        values = [*zip(("roll", "pitch", "yaw"), expr.args, strict=False),
                  *((k.name.name, k.value) for k in expr.kwargs)]
        for key, arg in values:
            if key not in ("roll", "pitch", "yaw") or key in params:
                self.error("SCN305", f"`rpy` takes `{key}` once" if key in params else f"`rpy` has no angle `{key}`",
                           arg.span, "`rpy(roll, pitch, yaw)`")
                ok = False
                continue
            if isinstance(arg, ast.Call) and arg.func.name in _DIST_ARGS:
                if arg.func.name in _ROTATIONS:
                    self.error("SCN308", f"an angle of `rpy` is one number, not a `{arg.func.name}`", arg.span,
                               "draw the angle from a scalar distribution, e.g. uniform(-30, 30) deg")
                    ok = False
                    continue
                if arg.unit is not None and expr.unit is not None:
                    self.error("SCN302", f"this angle has a unit of its own, and `rpy(...) {expr.unit}` gives one "
                               "to every angle", arg.span, "give the unit once: after `rpy(...)` or after each angle")
                    ok = False
                    continue
                inner = arg if expr.unit is None else dataclasses.replace(arg, unit=expr.unit)
                angle = self._distribution(inner, ANGLE, None, True)
                if angle is None:
                    ok = False
                elif angle.size is not None:
                    self.error("SCN304", f"an angle of `rpy` is one number, this draws {angle.size}", arg.span, None)
                    ok = False
                else:
                    params[key] = angle
                continue
            scoped = arg if expr.unit is None else ast.Group(arg.span, arg, expr.unit)
            try:
                typed = self.check.constant(scoped, self._constant_scope("for `rpy`"))
            except Failed:
                ok = False
                continue
            if typed.constant is None:  # SCN307, reported
                ok = False
            elif isinstance(typed.constant, list):
                self.error("SCN304", "an angle of `rpy` is one number", arg.span, None)
                ok = False
            elif not math.isfinite(float(typed.constant)):
                self.error("SCN405", "an angle of `rpy` must be finite", arg.span, None)
                ok = False
            elif typed.dim is not None and typed.dim not in (ANGLE, DIMENSIONLESS):
                self.error("SCN302", f"an angle of `rpy` is an angle, this is {a(typed.dim)}", arg.span,
                           f"give it in {example_unit(ANGLE)}")
                ok = False
            else:
                params[key] = float(typed.constant)
        missing = [k for k in ("roll", "pitch", "yaw") if k not in params]
        if ok and missing:
            self.error("SCN305", f"`rpy` takes (roll, pitch, yaw): {', '.join(missing)} missing", expr.span, None)
        if not ok or missing:
            return None
        return Distribution(family="rpy", params=params, size=3, where=where(expr.span))

    # ---- the agent's ports
    def _action(self) -> Action | None:
        if not self.decls.actions:
            if not any(isinstance(s, ast.ActionDecl) for s in self.statements):
                self._missing("action", "e.g. `action torque = pendulum.effort in [-2, 2] N*m`")
            return None  # else its name was taken (SCN202)
        decl = next(iter(self.decls.actions.values()))
        target = decl.target.dotted
        owner, _, attr = target.rpartition(".")
        size: int | None = None
        dim: Dim | None = None
        if owner in self.decls.controllers and attr == "desired_position":
            joints = self.decls.controllers[owner].joints
            size = sum(self.decls.joint_sizes(j.dotted)[0] for j in joints)
            dims = {self._q_dim(j.dotted) for j in joints}
            dim = dims.pop() if len(dims) == 1 else None
        elif self.decls.joint_type(owner) and attr in ("effort", "torque", "force"):
            joint = self.decls.joints.get(owner)
            if joint is not None and self._actuated_setting(owner) is None:
                self.error("SCN504", f"joint `{owner}` is not actuated", decl.target.span,
                           f"add `actuated` to joint `{owner}`'s settings")
            model, _, joint_name = owner.partition(".")
            info = self.decls.model_info.get(model)
            if joint is None and info is not None and joint_name not in info.actuated:
                self.error("SCN504", f"joint `{owner}` has no actuator in {info.path.name}", decl.target.span,
                           f"actuated joints there: {', '.join(info.actuated) or 'none'}")
            size = 1
            dim = {"revolute": TORQUE, "prismatic": FORCE}.get(self.decls.joint_type(owner) or "")
        elif target == "plant.actuation":
            size = None  # from the bounds
        elif target.split(".")[0] in self.decls.models and target.split(".")[0] not in self.decls.model_info:
            return None  # the model file failed to load; that was reported
        else:
            self.error("SCN204", f"`{target}` cannot be commanded", decl.target.span,
                       "an action sets `CONTROLLER.desired_position`, `JOINT.effort` or `plant.actuation`")
            return None
        if decl.bounds is None:
            self.error("SCN406", f"action `{decl.name.name}` needs bounds", decl.span,
                       "write `... in [lower, upper]` (or [[lowers...], [uppers...]])")
            return None
        bounds = self._const(decl.bounds, "action bounds", dim, (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 32))
        if bounds is None:
            return None
        assert isinstance(bounds, list)
        nested = isinstance(decl.bounds, ast.Vector) and all(isinstance(i, ast.Vector) for i in decl.bounds.items)
        if not nested and len(bounds) != 2:
            self.error("SCN303", "action bounds are [lower, upper] or [[lowers...], [uppers...]]", decl.bounds.span,
                       f"got {len(bounds)} numbers in one flat vector")
            return None
        n = len(bounds) // 2 if nested else (size or 1)
        if size is not None and n != size:
            self.error("SCN303", f"bounds for {n} numbers; `{target}` takes {size}", decl.bounds.span, None)
            return None
        lower, upper = (bounds[:n], bounds[n:]) if nested else ([bounds[0]] * n, [bounds[1]] * n)
        if any(lo >= hi for lo, hi in zip(lower, upper, strict=True)):
            self.error("SCN402", "action bounds must be [lower, upper] with lower < upper", decl.bounds.span, None)
        values = self._settings(decl.settings,
                                {"normalize": self._flag(), "dtype": self._choice(("float32", "float64"))},
                                f"action `{decl.name.name}`")
        self.decls.sizes[decl.name.name] = n if n > 1 else None  # type: ignore[assignment]
        return Action(name=decl.name.name, target=target, size=n, lower=lower, upper=upper, where=where(decl.span),
                      **values)

    def _q_dim(self, joint: str) -> Dim | None:
        return {"prismatic": LENGTH, "revolute": ANGLE}.get(self.decls.joint_type(joint) or "")

    def _observations(self) -> list[Observation]:
        if not any(isinstance(s, ast.ObservationDecl) for s in self.statements):
            self._missing("observation", "e.g. `observation state = plant.state`")
        out = []
        for name, decl in self.decls.observations.items():
            try:
                typed = self.check.lower(decl.value, self.signals)
            except Failed:
                continue
            values = self._settings(decl.settings, {"dtype": self._choice(("float32", "float64"))},
                                    f"observation `{name}`")
            size = typed.size or 1
            if typed.ir.kind == "signal" and typed.ir.source == "plant" and typed.size is None:  # type: ignore[union-attr]
                size = 0  # known when the plant is built
            self.decls.sizes[name] = size
            out.append(Observation(name=name, value=typed.ir, size=size, where=where(decl.span), **values))
        return out

    # ---- reward, episode, training
    def _reward(self) -> list[RewardTerm]:
        block = next((s for s in self.statements if isinstance(s, ast.RewardBlock)), None)
        if block is None:
            self._missing("reward", "e.g. `reward { -(angle^2) as upright }`")
            return []
        scope = self.signals.child()
        terms: list[RewardTerm] = []
        names: dict[str, ast.Node] = {}
        for i, item in enumerate(block.items):
            if isinstance(item, ast.Let):
                if item.name.name in scope.bindings or item.name.name in self.decls.order:
                    self.error("SCN202", f"`{item.name.name}` is already declared", item.name.span, None)
                try:
                    scope.bindings[item.name.name] = self.check.lower(item.value, scope)
                except Failed:
                    scope.failed.add(item.name.name)  # reported; its uses fail quietly
                continue
            name = item.name.name if item.name else f"term_{i}"
            if name in names:
                self.error("SCN202", f"two reward terms are called `{name}`", (item.name or item).span,
                           f"the first is at {names[name].span}")
            names[name] = item
            try:
                typed = self.check.lower(item.expr, scope)
            except Failed:
                continue
            if typed.size is not None:
                self.error("SCN304", f"a reward term must be a number, this is a {typed.size}-vector", item.expr.span,
                           "reduce it, e.g. with |v|^2, sum(v) or v[0]")
                continue
            terms.append(RewardTerm(name=name, value=typed.ir, where=where(item.span)))
        if not terms and not self.diagnostics.has_errors:
            self.error("SCN207", "the reward has no terms", block.span, "add at least one term")
        return terms

    def _condition(self, expr: ast.Expr, what: str) -> Expr | None:
        try:
            typed = self.check.lower(expr, self.signals)
        except Failed:
            return None
        if typed.size is not None:
            self.error("SCN304", f"{what} must be a single condition, this is a {typed.size}-vector", expr.span,
                       "combine with `and`/`or`, or compare a norm: |v| > 1")
            return None
        if not typed.boolean:
            self.error("SCN306", f"{what} must be a condition (a comparison), not a number", expr.span,
                       "compare it: e.g. |x| > 2.4 m")
            return None
        return typed.ir

    def _episode(self, plant: PlantSettings) -> Episode | None:
        block = next((s for s in self.statements if isinstance(s, ast.EpisodeBlock)), None)
        if block is None:
            self._missing("episode", "e.g. `episode { step = 50 ms; time_limit = 10 s }`")
            return None
        settings = tuple(i for i in block.items if isinstance(i, ast.Setting))
        values = self._settings(settings, {"step": self._value(TIME, above=0.0),
                                           "time_limit": self._value(TIME, above=0.0),
                                           "reward_at": self._choice(("step_end", "step_start"))}, "`episode`")
        terminations: list[Condition] = []
        success: Condition | None = None
        for item in block.items:
            if isinstance(item, ast.Terminate):
                condition = self._condition(item.condition, "`terminate when`")
                if condition is not None:
                    terminations.append(Condition(value=condition, reason=item.reason, where=where(item.span)))
            elif isinstance(item, ast.Success):
                if success is not None:
                    self.error("SCN208", "`success when` is given twice", item.span, "combine them with `or`")
                condition = self._condition(item.condition, "`success when`")
                if condition is not None:
                    success = Condition(value=condition, where=where(item.span))
        if "step" not in values:
            if not any(s.key.name == "step" for s in settings):
                self.error("SCN406", "the episode needs a `step` (simulated time per env step)", block.span,
                           "e.g. step = 50 ms")
            return None
        step = values["step"]
        ratio = step / plant.time_step if plant.time_step > 0 else 1.0
        if plant.time_step > 0 and abs(ratio - round(ratio)) > 1e-6 * max(1.0, ratio):
            self.error("SCN403",
                       f"episode step {step:g} s is not a whole number of plant steps ({plant.time_step:g} s)",
                       next(s for s in settings if s.key.name == "step").span,
                       f"use {max(1, round(ratio)) * plant.time_step:g} s, or change plant.time_step")
        limit = values.get("time_limit")
        if limit is not None and limit < step:
            self.error("SCN401", "time_limit is shorter than one step", _value_span(settings, "time_limit"),
                       f"the step is {step:g} s")
        return Episode(step=step, time_limit=limit, reward_at=values.get("reward_at", "step_end"),
                       terminations=terminations, success=success, where=where(block.span))

    def _train(self) -> Train | None:
        block = next((s for s in self.statements if isinstance(s, ast.TrainBlock)), None)
        if block is None:
            return None
        values: dict[str, Any] = {}
        hyper: dict[str, Any] = {}
        seen: dict[str, ast.Setting] = {}
        for setting in block.settings:
            key = _TRAIN_ALIASES.get(setting.key.name, setting.key.name)
            if key in seen:
                self.error("SCN208", f"`{setting.key.name}` is set twice in `train`", setting.key.span,
                           f"first set at {seen[key].span}")
                continue
            seen[key] = setting
            if setting.value is None:
                if key == "normalize" and setting.block is None:
                    values[key] = True
                else:  # a flag elsewhere is more likely a typo than `= true`: `n_timestep`
                    name = setting.key.name
                    hint = f"write `{name} = ...`" if name in _TRAIN_SETTINGS else did_you_mean(name, _TRAIN_SETTINGS)
                    self.error("SCN406", f"`{name}` needs a value", setting.span,
                               hint or f"write `{name} = ...`; only `normalize` is a flag")
                continue
            if isinstance(setting.value, ast.Ref) and setting.value.dotted in ("true", "false"):
                (values if key == "normalize" else hyper)[key] = setting.value.dotted == "true"
                continue
            if key == "algo":
                values[key] = self._choice(_ALGOS)(setting)
            elif key == "policy":
                call = setting.value
                if isinstance(call, ast.Call) and call.func.name == "mlp" and len(call.args) == 1:
                    arch = self._const(call.args[0], "mlp layers", None, tuple(range(1, 9)), above=0.0)
                    if isinstance(arch, list) and any(x != int(x) for x in arch):
                        self.error("SCN401", "layer sizes are whole numbers", call.args[0].span, "e.g. mlp([64, 64])")
                    elif isinstance(arch, list):
                        values["net_arch"] = [int(x) for x in arch]
                else:
                    self.error("SCN404", "a policy is written `mlp([64, 64])`", call.span, None)
            elif isinstance(setting.value, ast.Ref) and len(setting.value.parts) == 1 and key not in _TRAIN_SETTINGS \
                    and setting.value.parts[0].name not in (*self.constants.constants, *CONSTANTS):
                hyper[key] = setting.value.parts[0].name  # a word, e.g. activation = tanh
            else:
                value = self._const(setting.value, key, None, (None, *range(1, 9)))
                if value is None:
                    continue
                if key in ("n_timesteps", "n_envs", "seed"):
                    if isinstance(value, list) or value != int(value) or value < (0 if key == "seed" else 1):
                        self.error("SCN401", f"`{setting.key.name}` must be a whole number"
                                   + ("" if key == "seed" else " of at least 1"), setting.value.span, None)
                        continue
                    values[key] = int(value)
                elif key == "normalize":
                    values[key] = bool(value)
                elif isinstance(value, float) and value.is_integer() and "e" not in setting.value.span.text.lower() \
                        and "." not in setting.value.span.text:
                    hyper[key] = int(value)  # batch_size = 256 is an int for stable-baselines3
                else:
                    hyper[key] = value
        return Train(**{k: v for k, v in values.items() if v is not None}, hyperparams=hyper, where=where(block.span))

    def _unused(self) -> None:
        """Warn about parameters and lets that nothing reads (SCN209)."""
        declared = [*self.decls.params.items(), *self.decls.lets.items(), *self.decls.random_lets.items()]
        reward_lets = [item for block in self.statements if isinstance(block, ast.RewardBlock)
                       for item in block.items if isinstance(item, ast.Let)]
        if not declared and not reward_lets:
            return  # nothing to look for: skip the walk over every node
        used = {node.parts[0].name for f in self.files for node in f.walk() if isinstance(node, ast.Ref)}
        for name, node in declared:
            if name not in used:
                kind = "parameter" if isinstance(node, ast.Param) else "binding"
                self.diagnostics.add("SCN209", f"{kind} `{name}` is never used", node.name.span,  # type: ignore[attr-defined]
                                     "remove it, or use it")
        for item in reward_lets:
            if item.name.name not in used:
                self.diagnostics.add("SCN209", f"binding `{item.name.name}` is never used", item.name.span,
                                     "remove it, or use it")

    def _folder(self, span: Span) -> str | None:
        return _folder_of(span) or self.base_dir

    def _missing(self, what: str, hint: str) -> None:
        header = next(s for s in self.files[0].statements if isinstance(s, ast.ScenarioDecl))
        self.error("SCN207", f"the scenario declares no `{what}`", header.span, hint)


# distribution -> parameter names (a trailing ? marks an optional one)
_DIST_ARGS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"), "normal": ("mean", "std"), "truncnormal": ("mean", "std", "low", "high"),
    "lognormal": ("mean", "sigma"), "loguniform": ("low", "high"), "choice": ("values", "weights?"),
    "bernoulli": ("p",), "integers": ("low", "high"), "uniform_rotation": (), "rpy": ("roll", "pitch", "yaw"),
}
_ROTATIONS = ("uniform_rotation", "rpy")  # whole rotations: for a body's `rpy` or a quaternion


def _as_flag(handler: Callable[[ast.Setting], Any]) -> Callable[[ast.Setting], Any]:
    """Mark a setting handler as accepting a bare flag (`actuated`)."""
    def handle(setting: ast.Setting) -> Any:
        return handler(setting)
    handle.flag = True  # type: ignore[attr-defined]
    return handle


_PER_STEP = ("noise", "push")
_PER_BUILD_GAINS = ("kp", "ki", "kd")
_ACTUATOR_TARGETS = ("gear_ratio", "rotor_inertia", "effort_limit")  # a joint's, through its actuator
_CONTACT_TARGETS = ("friction", "point_stiffness", "hunt_crossley_dissipation", "hydroelastic_modulus")


def _random_names(expr: Expr) -> set[str]:
    """The random `let`s an expression reads."""
    if isinstance(expr, Signal):
        return {expr.name} if expr.source == "random" else set()
    if isinstance(expr, Apply):
        return set().union(*(_random_names(a) for a in expr.args))
    return set()


def _flat(value: Any) -> list[float]:
    return value if isinstance(value, list) else [value]


def _check_distribution(family: str, p: dict[str, Any]) -> str | None:
    """What is wrong with a distribution's parameters, or None."""
    def pairs(a: str, b: str) -> list[tuple[float, float]]:
        x, y = _flat(p[a]), _flat(p[b])
        if len(x) != len(y) and 1 not in (len(x), len(y)):
            raise ValueError(f"`{a}` and `{b}` have different lengths")
        n = max(len(x), len(y))
        return [(x[i % len(x)], y[i % len(y)]) for i in range(n)]

    for key, value in p.items():
        unbounded = family == "truncnormal" and key in ("low", "high")  # truncnormal(0, 1, 0, inf): a half-normal
        if not unbounded and not all(math.isfinite(x) for x in _flat(value)):
            return f"`{key}` of {family} must be finite"
    try:
        if family in ("uniform", "loguniform", "integers"):
            for lo, hi in pairs("low", "high"):
                if lo >= hi and not (family == "integers" and lo == hi):
                    return f"{family}(low, high) needs low < high, got {lo:g} and {hi:g}"
                if family == "loguniform" and lo <= 0:
                    return f"loguniform needs low > 0, got {lo:g}"
                if family == "integers" and not (lo.is_integer() and hi.is_integer()):
                    return "integers(low, high) takes whole numbers"
        elif family in ("normal", "lognormal"):
            spread = "std" if family == "normal" else "sigma"
            for _, s in pairs("mean", spread):
                if s <= 0:
                    return f"{family} needs {spread} > 0, got {s:g}"
        elif family == "truncnormal":
            for _, s in pairs("mean", "std"):
                if s <= 0:
                    return f"truncnormal needs std > 0, got {s:g}"
            for lo, hi in pairs("low", "high"):
                if lo >= hi:
                    return f"truncnormal needs low < high, got {lo:g} and {hi:g}"
        elif family == "bernoulli":
            if any(not 0 <= x <= 1 for x in _flat(p["p"])):
                return "bernoulli(p) needs 0 <= p <= 1"
        elif family == "choice":
            values = _flat(p["values"])
            weights = p.get("weights")
            if weights is not None:
                w = _flat(weights)
                if len(w) != len(values):
                    return f"choice has {len(values)} values and {len(w)} weights"
                if any(x < 0 for x in w) or sum(w) <= 0:
                    return "choice weights must be non-negative and sum to a positive number"
    except ValueError as exc:
        return str(exc)
    return None


def _support_low(dist: Distribution) -> float | None:
    """The smallest value a distribution can draw (-inf when unbounded)."""
    p = dist.params
    if dist.family in ("uniform", "truncnormal", "loguniform", "integers"):
        return min(_flat(p["low"]))  # type: ignore[arg-type]
    if dist.family == "normal":
        return -math.inf
    if dist.family in ("lognormal",):
        return 0.0
    if dist.family == "choice":
        return min(_flat(p["values"]))  # type: ignore[arg-type]
    return None


def _split_bounds(value: Value, n: int) -> tuple[list[float], list[float]]:
    values = _flat(value)
    return (values[:n], values[n:]) if len(values) == 2 * n else ([values[0]] * n, [values[1]] * n)


def _value_span(settings: tuple[ast.Setting, ...] | None, key: str) -> Span:
    """The value of the setting `key` (that a handler has read, so it has one)."""
    value = next(s.value for s in settings or () if s.key.name == key and s.value is not None)
    return value.span


def _shown_bounds(lower: list[float], upper: list[float]) -> str:
    pairs = [f"[{lo:g}, {hi:g}]" for lo, hi in zip(lower, upper, strict=True)]
    return pairs[0] if len(pairs) == 1 else ", ".join(pairs)


def _folder_of(span: Span) -> str | None:
    from pathlib import Path

    path = Path(span.path)
    return str(path.resolve().parent) if path.exists() else None
