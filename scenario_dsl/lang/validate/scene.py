"""What is seen: markers (shapes drawn where an expression puts them), cameras (their pose,
intrinsics and clipping range) and lights (the render engine's, per build)."""

from __future__ import annotations

import math

from scenario_dsl.lang import ast
from scenario_dsl.lang.limits import MAX_IMAGE_PIXELS
from scenario_dsl.lang.model import Camera, Expr, Light, Marker
from scenario_dsl.lang.typecheck import Failed
from scenario_dsl.lang.units import ANGLE, DIMENSIONLESS, LENGTH, describe
from scenario_dsl.lang.validate.context import _value_span, where
from scenario_dsl.lang.validate.plant import PlantChecks

MARKER_COLOR = (0.1, 0.8, 0.2, 0.8)  # a marker's default: a green that stands out from the bodies' blue


class SceneChecks(PlantChecks):
    """Markers, cameras and lights (after the plant: a camera's parent is one of its frames, a
    marker's shape is a body's)."""

    def _marker(self, decl: ast.MarkerDecl) -> Marker | None:
        """A shape drawn where `position` (a length 3-vector, read each step) puts it."""
        values = self._settings(decl.settings, {
            "shape": self._shape, "color": self._value(DIMENSIONLESS, (3, 4), at_least=0.0),
            "position": self._marker_position,
        }, f"marker `{decl.name.name}`")
        given = {s.key.name for s in decl.settings or ()}
        for key, example in (("shape", "shape = sphere(2 cm)"), ("position", "position = [target_x, target_y, 0] m")):
            if key not in given:
                self.error("SCN406", f"marker `{decl.name.name}` needs a `{key}`", decl.name.span, f"e.g. {example}")
        if "shape" not in values or "position" not in values:
            return None
        color = self._rgba(values["color"], decl.settings) if "color" in values else MARKER_COLOR
        return Marker(name=decl.name.name, shape=values["shape"], color=color, position=values["position"],
                      where=where(decl.span))

    def _camera(self, decl: ast.CameraDecl) -> Camera | None:
        values = self._settings(decl.settings, {
            # Drake puts the principal point at (size - 1) / 2 and wants it strictly inside the image.
            "width": self._value(DIMENSIONLESS, at_least=2.0), "height": self._value(DIMENSIONLESS, at_least=2.0),
            "fov": self._value(ANGLE, above=0.0), "near": self._value(LENGTH, above=0.0),
            "far": self._value(LENGTH, above=0.0), "look_at": self._value(LENGTH, 3),
            "background": self._value(DIMENSIONLESS, 3, at_least=0.0),
        }, f"camera `{decl.name.name}`")
        if "background" in values:
            values["background"] = self._rgba(values["background"], decl.settings)[:3]
        settings = decl.settings
        for key in ("width", "height"):
            if key in values and not float(values[key]).is_integer():
                self.error("SCN401", f"a camera's `{key}` is a whole number of pixels", _value_span(settings, key),
                           f"e.g. {key} = 64")
                values.pop(key)
            elif key in values:
                values[key] = int(values[key])
        width, height = values.get("width", 64), values.get("height", 64)
        if width * height > MAX_IMAGE_PIXELS:
            self.error("SCN412", f"camera `{decl.name.name}`: {width} x {height} pixels; scn allows at most "
                       f"{MAX_IMAGE_PIXELS:,} per image", _value_span(settings, "width" if "width" in values
                                                                       else "height"),
                       "an agent's images are usually 64 x 64 to 256 x 256")
        if values.get("fov", 0.0) >= math.pi:
            self.error("SCN401", "a camera's field of view is below 180 degrees", _value_span(settings, "fov"),
                       "e.g. fov = 60 deg (the vertical angle the image spans)")
        near, far = values.get("near", 0.01), values.get("far", 10.0)
        if near >= far:
            self.error("SCN402", f"the camera's clipping range is near < far; got {near:g} m and {far:g} m",
                       _value_span(settings, "far" if "far" in values else "near"), None)
        pose = self._pose(decl.pose)
        if "look_at" in values:
            values["look_at"] = tuple(values["look_at"])
            if decl.pose is not None and any(k.name.name in ("rotation", "rpy") for k in decl.pose.kwargs):
                self.error("SCN407", "a camera is turned by `look_at` or by a rotation, not both",
                           _value_span(settings, "look_at"), "drop the rotation from `at (...)`")
            if math.dist(values["look_at"], pose.translation) < 1e-9:
                self.error("SCN401", "the camera looks at the point it stands on", _value_span(settings, "look_at"),
                           "give a `look_at` point away from the camera's translation")
        return Camera(name=decl.name.name, parent=self._frame_name(decl.parent), pose=pose,
                      where=where(decl.span), **values)

    def _marker_position(self, setting: ast.Setting) -> Expr | None:
        assert setting.value is not None
        try:
            typed = self.check.lower(setting.value, self.signals)
        except Failed:
            return None
        if typed.size != 3 or typed.dim not in (LENGTH, DIMENSIONLESS, None) or typed.boolean:  # plain numbers: metres
            shown = f"a {typed.size}-vector" if typed.size else "a number"
            self.error("SCN303" if typed.size != 3 else "SCN302",
                       f"a marker's position is a length 3-vector in the world; "
                       f"this is {shown} of {describe(typed.dim)}",
                       setting.value.span, "e.g. position = [target_x, target_y, 0.01] m, or a body's `position`")
            return None
        return typed.ir


    def _light(self, decl: ast.LightDecl) -> Light:
        values = self._settings(decl.settings, {
            "direction": self._value(DIMENSIONLESS, 3), "intensity": self._value(DIMENSIONLESS, at_least=0.0),
            "color": self._value(DIMENSIONLESS, 3, at_least=0.0), "frame": self._choice(("world", "camera")),
        }, f"light `{decl.name.name}`")
        if "direction" in values:
            values["direction"] = tuple(values["direction"])
            if math.hypot(*values["direction"]) < 1e-9:
                self.error("SCN401", "a light's direction is a vector that is not zero",
                           _value_span(decl.settings, "direction"), "e.g. direction = [0, 0.5, -1] (down, and away)")
                values.pop("direction")
        if "color" in values:
            values["color"] = self._rgba(values["color"], decl.settings)[:3]
        return Light(name=decl.name.name, where=where(decl.span), **values)
