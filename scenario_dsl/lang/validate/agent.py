"""The agent's ports: the action (what it commands, its bounds: SCN402, SCN504) and the
observations (their sizes, which later draws and the compiler read; a camera's image, observed
whole: `observation pixels = CAM.color`).
"""

from __future__ import annotations

from scenario_dsl.lang import ast
from scenario_dsl.lang.model import CAMERA_IMAGES, Action, ImageObservation, Observation
from scenario_dsl.lang.typecheck import Failed, Typed
from scenario_dsl.lang.units import ANGLE, FORCE, LENGTH, TORQUE, Dim
from scenario_dsl.lang.validate.context import Context, where
from scenario_dsl.support.suggest import did_you_mean


class AgentChecks(Context):
    """The action and the observations."""

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
            size = self._actuator_count()  # None: a model file that did not load; then from the bounds
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
            hint = (f"one `[lower, upper]` pair applies to all {size}, or give {size} of each"
                    if target == "plant.actuation" else None)
            self.error("SCN303", f"bounds for {n} numbers; `{target}` takes {size}"
                       + (" (one per actuated joint)" if target == "plant.actuation" else ""), decl.bounds.span, hint)
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

    def _actuator_count(self) -> int | None:
        """How many actuators the plant will have: the declared joints marked `actuated` and the
        actuated joints of each model file (None when a model file could not be read)."""
        declared = sum(self._actuated_setting(name) is not None for name in self.decls.joints)
        if any(model not in self.decls.model_info for model in self.decls.models):
            return None
        return declared + sum(len(info.actuated) for info in self.decls.model_info.values())

    def _q_dim(self, joint: str) -> Dim | None:
        return {"prismatic": LENGTH, "revolute": ANGLE}.get(self.decls.joint_type(joint) or "")

    def _observations(self) -> tuple[list[Observation], list[ImageObservation]]:
        if not any(isinstance(s, ast.ObservationDecl) for s in self.statements):
            self._missing("observation", "e.g. `observation state = plant.state`")
        out = []
        images: list[ImageObservation] = []
        for name, decl in self.decls.observations.items():
            value = decl.value
            if isinstance(value, ast.Ref) and value.parts[0].name in self.decls.cameras:
                image = self._image(decl, value)
                if image is not None:
                    images.append(image)
                continue
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
            bounds = self._observation_bounds(decl, typed, size) if decl.bounds is not None else None
            lower, upper = bounds if bounds is not None else (None, None)
            out.append(Observation(name=name, value=typed.ir, size=size, lower=lower, upper=upper,
                                   where=where(decl.span), **values))
        return out, images

    def _image(self, decl: ast.ObservationDecl, ref: ast.Ref) -> ImageObservation | None:
        """`observation NAME = CAM.color` (`.depth`, `.label`): the whole image, unbounded by `in`."""
        camera = ref.parts[0].name
        if len(ref.parts) != 2 or ref.parts[1].name not in CAMERA_IMAGES:
            at = ref.parts[1] if len(ref.parts) > 1 else ref
            self.error("SCN204", f"camera `{camera}` gives {', '.join(f'`{camera}.{k}`' for k in CAMERA_IMAGES)}",
                       at.span, did_you_mean(ref.parts[1].name, list(CAMERA_IMAGES)) if len(ref.parts) > 1 else None)
            return None
        if decl.bounds is not None:
            self.error("SCN407", "an image's bounds are its type's (colour 0 to 255, depth 0 to inf)",
                       decl.bounds.span, "drop `in ...`")
        if decl.settings:
            self.error("SCN203", f"an image observation takes no settings (`{decl.settings[0].key.name}`)",
                       decl.settings[0].key.span, "its dtype is the image's: uint8 colour, float32 depth, int16 label")
        return ImageObservation(name=decl.name.name, camera=camera, image=ref.parts[1].name,  # type: ignore[arg-type]
                                where=where(decl.span))

    def _observation_bounds(self, decl: ast.ObservationDecl, typed: Typed, size: int,
                            ) -> tuple[list[float], list[float]] | None:
        """`in [lower, upper]` (every element) or `in [[lowers...], [uppers...]]` (one of each
        per element): constants in the observation's unit. They become the observation space's
        bounds; the simulation is not clipped to them."""
        assert decl.bounds is not None
        nested = isinstance(decl.bounds, ast.Vector) and all(isinstance(i, ast.Vector) for i in decl.bounds.items)
        lengths = (2 * size,) if nested and size else (2,)
        bounds = self._const(decl.bounds, "observation bounds", typed.dim, lengths)
        if bounds is None:
            return None
        assert isinstance(bounds, list)
        if size == 0:  # `plant.state` of a model file: its size is known when the plant is built
            self.error("SCN303", f"observation `{decl.name.name}` has a size lint cannot know", decl.bounds.span,
                       "bound the observation of a declared part, or leave it unbounded")
            return None
        lower, upper = (bounds[:size], bounds[size:]) if nested else ([bounds[0]] * size, [bounds[1]] * size)
        if any(lo >= hi for lo, hi in zip(lower, upper, strict=True)):
            self.error("SCN402", "observation bounds must be [lower, upper] with lower < upper", decl.bounds.span,
                       None)
            return None
        return lower, upper
