"""Lets and randomization: top-level `let`s (lowered on first use, cycles reported), `randomize`
blocks and their scopes (per episode, build or step), what each draw may target and in which
scope, and the bounds a drawn value must respect (SCN405). The distributions themselves are
checked in `distributions`.
"""

from __future__ import annotations

import math

from scenario_dsl.lang import ast
from scenario_dsl.lang.model import (
    CONTACT_DEFAULTS,
    Apply,
    Const,
    Distribution,
    Draw,
    Expr,
    Randomization,
    RandomLet,
    Requirement,
    Signal,
)
from scenario_dsl.lang.names import CONTACT_TARGETS, DAMPING_DIMS, JOINT_ATTRS, RANDOM_TARGETS, STRICTLY_POSITIVE
from scenario_dsl.lang.typecheck import Failed, Typed
from scenario_dsl.lang.units import DIMENSIONLESS, FORCE, INERTIA, LENGTH, TORQUE, Dim, a, example_unit
from scenario_dsl.lang.validate.context import Context, where
from scenario_dsl.lang.validate.distributions import _DIST_ARGS, _ROTATIONS, _support_high, _support_low
from scenario_dsl.lang.validate.plant import _SHAPES
from scenario_dsl.support.suggest import did_you_mean

# A body's targets that live in the state of the free joint Drake gives a body without a parent.
_FREE_BODY_TARGETS = ("position", "x", "y", "z", "rpy", "yaw", "velocity", "angular_velocity")
_PER_STEP = ("noise", "push")
_PER_BUILD_GAINS = ("kp", "ki", "kd")
_ACTUATOR_TARGETS = ("gear_ratio", "rotor_inertia", "effort_limit")  # a joint's, through its actuator


class RandomizationChecks(Context):
    """Top-level `let`s and `randomize` blocks."""

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
                hint = ("draw per episode what a context holds (masses, friction, initial state); rebuild less "
                        "often with `every N episodes`")
                if self._renderer_only(block):
                    hint = ("lights and camera backgrounds are drawn per build only (Drake takes them when it makes "
                            "the render engine): rebuild less often with `every N episodes`, and silence this "
                            "with `# noqa: SCN410` once the period is chosen")
                self.diagnostics.add("SCN410", f"`randomize per build` compiles a new Drake diagram every {period} "
                                     "(about 50 ms for box_flipup, against well under 1 ms for a reset)",
                                     block.scope.span, hint)
        lets: list[RandomLet] = []
        draws: list[Draw] = []
        requirements: list[Requirement] = []
        failed: set[str] = set()  # lets whose distribution was reported: their uses are not reported again
        for item in block.items:
            if isinstance(item, ast.Let):
                dist = self._distribution(item.value, None, None, False) if item.drawn else None
                if not item.drawn:
                    self.error("SCN306", "a `let` in a `randomize` block draws: write `let x ~ ...`", item.span, None)
                if dist is not None:
                    lets.append(RandomLet(name=item.name.name, value=dist, where=where(item.span)))
                    self.decls.sizes[item.name.name] = dist.size  # type: ignore[assignment]
                    self.signals.bindings.pop(item.name.name, None)
                else:
                    failed.add(item.name.name)
            elif isinstance(item, ast.Draw):
                draw = self._draw(item)
                if draw is not None and self._in_scope(draw, scope, item) \
                        and self._lets_in_reach(draw, scope, {let.name for let in lets} | failed, item):
                    draws.append(draw)
            else:
                condition = self._condition(item.condition, "a `require`")
                if condition is not None:
                    requirements.append(Requirement(condition=condition, message=item.message, where=where(item.span)))
        self._drawn_lets.update(dict.fromkeys((let.name for let in lets), scope))
        if scope != "episode":  # ADR pins an episode's parameter at a boundary and scores the episode
            for value in [i.value for i in block.items if isinstance(i, (ast.Let, ast.Draw))]:
                if isinstance(value, ast.Call) and value.func.name == "adaptive":
                    self.error("SCN204", f"`adaptive(...)` is drawn per episode, not per {scope}", value.span,
                               "move the draw into a per-episode `randomize` block")
        return Randomization(scope=scope, every=every, lets=lets, draws=draws, requirements=requirements,  # type: ignore[arg-type]
                             where=where(block.span))

    def _renderer_only(self, block: ast.RandomizeBlock) -> bool:
        """Whether a block draws only what the render engine fixes: lights and camera backgrounds."""
        draws = [item for item in block.items if isinstance(item, ast.Draw)]
        return bool(draws) and all(
            d.target.parts[0].name in self.decls.lights
            or (d.target.parts[0].name in self.decls.cameras and d.target.parts[-1].name == "background")
            for d in draws)

    def _in_scope(self, draw: Draw, scope: str, item: ast.Draw) -> bool:
        """Per-step blocks draw noise and pushes; per-build blocks draw what Drake fixes when it
        builds a diagram (gravity, controller gains, shape sizes), which only they may draw;
        per-episode blocks draw everything else."""
        owner, _, attribute = draw.target.rpartition(".")
        built = (draw.target == "plant.gravity" or (owner in self.decls.controllers and attribute in _PER_BUILD_GAINS)
                 or (owner in self.decls.bodies and attribute == "size") or owner in self.decls.lights
                 or (owner in self.decls.cameras and attribute == "background"))
        if scope == "step" and attribute not in _PER_STEP:
            allowed = "observation and action noise (`OBS.noise`) and pushes (`B.push`)"
            hint = (f"draw `{draw.target}` in `randomize per build [every N episodes] {{ ... }}`" if built
                    else f"draw `{draw.target}` in a per-episode block")
        elif scope == "build" and not built:
            allowed = ("the plant's gravity (`plant.gravity`), controller gains (`C.kp`, `C.ki`, `C.kd`), "
                       "shape sizes (`B.size`), lights (`L.intensity`, `L.direction`, `L.color`) and cameras' "
                       "backgrounds (`CAM.background`)")
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
        if kind_of_owner := self.decls.kind_of(owner):
            if kind_of_owner == "observations" and self.decls.is_image(owner) and (
                    attr != "noise" or self.decls.observations[owner].value.span.text.endswith(".label")):
                label = self.decls.observations[owner].value.span.text.endswith(".label")
                self.error("SCN204", f"`{owner}` is an image: only a colour or depth image takes `noise`", ref.span,
                           "a label image takes none: it names what is seen" if label else
                           f"draw `{owner}.noise` (added to each pixel), e.g. "
                           f"`randomize per step {{ {owner}.noise ~ normal(0, 5) }}`")
                return None
        camera = owner.partition(".")[0]
        if camera in self.decls.cameras and attr == "noise":
            shown = next((name for name, decl in self.decls.observations.items()
                          if decl.value.span.text.replace(" ", "") == owner), None)
            self.error("SCN204", f"`{owner}` has no `noise`: noise is drawn on the observation that shows an image",
                       ref.span, f"draw `{shown}.noise ~ normal(0, 5)`" if shown else
                       f"observe it first (`observation pixels = {owner}`), then draw `pixels.noise`")
            return None
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
            table["damping"] = (None, DAMPING_DIMS.get(joint_type), 0.0)
            table["gear_ratio"] = (None, DIMENSIONLESS, 0.0)  # of the joint's actuator
            table["rotor_inertia"] = (None, INERTIA, 0.0)
            table["effort_limit"] = (None, {"revolute": TORQUE, "prismatic": FORCE}.get(joint_type), 0.0)
        else:
            table = RANDOM_TARGETS.get({"bodies": "body", "controllers": "controller", "observations": "observation",
                                        "actions": "action", "cameras": "camera",
                                        "lights": "light", "markers": "marker"}.get(kind, kind), {})
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
        if kind == "bodies" and attr in CONTACT_TARGETS:
            problem = self._contact_problem(owner, attr)
            if problem:
                self.error("SCN204", f"`{owner}` has no `{attr}`: {problem}", ref.span,
                           "contact properties belong to a body with collision geometry"
                           + (" of `hydroelastic = compliant`" if attr == "hydroelastic_modulus" else ""))
                return None
        if kind == "bodies" and attr in _FREE_BODY_TARGETS:
            holder = self._holder(owner)
            if holder is not None:  # Drake holds its pose in that joint's state
                joint, joint_type = holder
                held = f"joint `{joint}` ({joint_type})" if joint_type != "weld" else "a weld"
                same = attr if attr in JOINT_ATTRS.get(joint_type, {}) else None
                suggested = f"{joint}.{same or ('v' if 'velocity' in attr else 'q')}"
                self.error("SCN204", f"`{owner}` is held by {held}: only a free body's pose and velocity can be drawn",
                           ref.span, f"draw the joint's state instead: `{suggested}`" if joint_type != "weld"
                           else "a welded body does not move; draw the weld's pose per build, or free the body")
                return None
        if kind == "bodies" and attr == "texture" and owner in self.decls.bodies and not any(
                s.key.name == "texture" for s in self.decls.bodies[owner].settings or ()):
            self.error("SCN204", f"`{owner}` has no textures to choose from", ref.span,
                       f'give body `{owner}` `texture = "textures/*.png"`: the drawn number picks one of its files')
            return None
        if kind == "bodies" and attr == "size":
            count = self._shape_size(owner)
            if count is None:
                self.error("SCN204", f"`{owner}` has no declared shape to resize", ref.span,
                           "`B.size` resizes a body declared with `shape = box(...)`, `sphere(...)`, ...")
                return None
            return (None if count == 1 else count, LENGTH, 0.0, True)
        known = (kind in ("plant", "bodies", "cameras", "lights", "markers") or bool(joint_type)
                 or (kind == "actions" and attr == "delay"))
        return (*table[attr], known)

    def _holder(self, body: str) -> tuple[str, str] | None:
        """The joint (name, type) that holds `body` when it is not free: a joint or weld declared in
        the file, or a loaded model's own joint (None: the body is free, or not known here)."""
        declared = next((j for j in self.decls.joints.values() if self._frame_name(j.child) == body), None)
        if declared is not None:
            return None if declared.kind.name == "free" else (declared.name.name, declared.kind.name)
        model, _, link = body.partition(".")
        info = self.decls.model_info.get(model) if body not in self.decls.bodies else None
        found = next((j for j in info.joints if j.child == link), None) if info else None
        if found is not None:
            if found.type in ("floating", "free", "quaternion_floating"):
                return None
            return (f"{model}.{found.name}", "weld" if found.type in ("fixed", "weld") else found.type)
        return ("", "weld") if body in self.parents else None  # welded in the file, or free

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
        setting, else `CONTACT_DEFAULTS`), a declared joint's effort limit, a camera's field of
        view, or a declared shape's size (its smallest number); None for anything else (a loaded
        model's values are the compiler's to check)."""
        owner, _, attribute = target.rpartition(".")
        setting: ast.Setting | None
        if attribute == "size" and owner in self._shape_sizes:
            return min(self._shape_sizes[owner])
        body = self.decls.bodies.get(owner)
        camera = self.decls.cameras.get(owner)
        if camera is not None and attribute == "fov":  # the camera's setting, else its default 45 deg
            setting = next((s for s in camera.settings or () if s.key.name == "fov"), None)
            if setting is None:
                return math.radians(45)
        elif body is not None and attribute in CONTACT_DEFAULTS:
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
        if attribute == "delay" and self.decls.kind_of(owner) == "actions":  # its queue: checked with the episode
            upper = _support_high(value) if isinstance(value, Distribution) else \
                _const_high(value) if isinstance(value, Const) else None
            if upper is not None:
                self._delays.append((item.target.dotted, upper, item.value.span))
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


def _const_high(expr: Const) -> float:
    """The largest number of a constant (a vector's largest element)."""
    value = expr.value
    return max(value) if isinstance(value, list) else float(value)


def _random_names(expr: Expr) -> set[str]:
    """The random `let`s an expression reads."""
    if isinstance(expr, Signal):
        return {expr.name} if expr.source == "random" else set()
    if isinstance(expr, Apply):
        return set().union(*(_random_names(a) for a in expr.args))
    return set()
