"""Build-scope randomization: the values Drake takes only when a diagram is built.

`randomize per build [every N episodes] { ... }` draws the plant's gravity, controller gains
(`C.kp`, `C.ki`, `C.kd`), the sizes of declared shapes (`B.size`) and lights (`L.intensity`,
`L.direction`, `L.color`): `InverseDynamicsController` fixes its gains at construction, the
gravity field belongs to the plant's model, not to its context, a geometry's shape (with its
hydroelastic mesh) is registered with SceneGraph once, and the VTK render engine takes its
lights when it is made.
`BuildRandomizer.draw` returns a copy of the scenario with the drawn values in place; the
environment compiles that copy into a fresh diagram (see `ScenarioEnv.reset`), every episode or
every N episodes, and reports the values in `info["randomization"]` with the episode's own draws.
"""

from __future__ import annotations

import numpy as np

from scenario_dsl.compiler.plant import CompileError
from scenario_dsl.lang import model as m
from scenario_dsl.sampling.sampler import Sampler, Value

GAINS = ("kp", "ki", "kd")
LIGHT_ATTRIBUTES = ("intensity", "direction", "color")
DEFAULT_BACKGROUND = (0.8, 229 / 255, 1.0)  # VTK's pale blue, RenderEngineVtkParams' default_clear_color


def build_nominal(scenario: m.Scenario) -> dict[str, np.ndarray]:
    """What a build-scope block may draw, with its nominal value (for `+~` and `*~`)."""
    nominal = {"plant.gravity": np.asarray(scenario.plant.gravity, dtype=float)}
    for controller in scenario.controllers:
        for gain in GAINS:
            nominal[f"{controller.name}.{gain}"] = np.asarray(getattr(controller, gain), dtype=float)
    for body in scenario.bodies:
        if body.shape is not None:
            nominal[f"{body.name}.size"] = np.asarray(body.shape.size, dtype=float)
    for camera in scenario.cameras:
        nominal[f"{camera.name}.background"] = np.asarray(camera.background or DEFAULT_BACKGROUND, dtype=float)
    for light in scenario.lights:
        for attribute in LIGHT_ATTRIBUTES:
            nominal[f"{light.name}.{attribute}"] = np.atleast_1d(np.asarray(getattr(light, attribute), dtype=float))
    return nominal


class BuildRandomizer:
    """Draws a scenario's build-scope blocks and makes the scenario they describe."""

    def __init__(self, scenario: m.Scenario) -> None:
        blocks = [r for r in scenario.randomizations if r.scope == "build"]
        nominal = build_nominal(scenario)
        for block in blocks:
            for draw in block.draws:
                if draw.target not in nominal:
                    raise CompileError("SCN505", f"`randomize per build` draws the plant's gravity, controller "
                                       f"gains, shape sizes and lights; draw `{draw.target}` per episode", None,
                                       draw.where)
        self.scenario = scenario
        self.places = {draw.target: draw.where for block in blocks for draw in block.draws}
        self.every = min((block.every or 1 for block in blocks), default=1)
        self.sampler = Sampler(scenario, scopes=("build",), nominal=nominal)

    def draw(self, rng: np.random.Generator) -> tuple[m.Scenario, dict[str, Value]]:
        """The scenario with one draw of every build-scope target, and the values drawn."""
        values = self.sampler.sample(1, rng).episode(0)
        plant = self.scenario.plant
        if "plant.gravity" in values:
            gravity = np.broadcast_to(np.asarray(values["plant.gravity"], dtype=float), (3,))
            self._check("plant.gravity", gravity, "finite")
            plant = plant.model_copy(update={"gravity": tuple(float(g) for g in gravity)})
        controllers = []
        for controller in self.scenario.controllers:
            gains = {}
            for gain in GAINS:
                key = f"{controller.name}.{gain}"
                if key in values:
                    size = len(getattr(controller, gain))
                    drawn = np.broadcast_to(np.asarray(values[key], dtype=float), (size,))
                    self._check(key, drawn, "finite and at least 0", bool((drawn >= 0).all()))
                    gains[gain] = [float(g) for g in drawn]
            controllers.append(controller.model_copy(update=gains))
        bodies = [self._resized(body, values) for body in self.scenario.bodies]
        lights = [self._lit(light, values) for light in self.scenario.lights]
        cameras = [self._backed(camera, values) for camera in self.scenario.cameras]
        update = {"plant": plant, "controllers": controllers, "bodies": bodies, "lights": lights, "cameras": cameras}
        return self.scenario.model_copy(update=update), values

    def _check(self, key: str, drawn: np.ndarray, need: str, ok: bool = True) -> None:
        """SCN405 at the draw for a drawn gravity or gain that is not finite (or, for a gain,
        negative): an expression reaches there, or a nominal scaled past the largest float."""
        if not (ok and np.isfinite(drawn).all()):
            raise CompileError("SCN405", f"`{key}` was drawn as {[float(x) for x in drawn]}: it must be {need}",
                               "draw values that stay " + need, self.places.get(key))

    def _backed(self, camera: m.Camera, values: dict[str, Value]) -> m.Camera:
        """A camera with its drawn background colour (clipped to [0, 1])."""
        key = f"{camera.name}.background"
        if key not in values:
            return camera
        color = np.clip(np.broadcast_to(np.asarray(values[key], dtype=float), (3,)), 0.0, 1.0)
        self._check(key, color, "finite")
        return camera.model_copy(update={"background": tuple(float(c) for c in color)})

    def _lit(self, light: m.Light, values: dict[str, Value]) -> m.Light:
        """A light with its drawn intensity (at least 0), direction (not zero) and colour
        (clipped to [0, 1])."""
        update: dict[str, object] = {}
        if f"{light.name}.intensity" in values:
            intensity = float(np.asarray(values[f"{light.name}.intensity"], dtype=float).reshape(-1)[0])
            self._check(f"{light.name}.intensity", np.array([intensity]), "finite and at least 0", intensity >= 0)
            update["intensity"] = intensity
        if f"{light.name}.direction" in values:
            direction = np.broadcast_to(np.asarray(values[f"{light.name}.direction"], dtype=float), (3,))
            self._check(f"{light.name}.direction", direction, "finite and not zero",
                        bool(np.linalg.norm(direction) > 0))
            update["direction"] = tuple(float(d) for d in direction)
        if f"{light.name}.color" in values:
            color = np.clip(np.broadcast_to(np.asarray(values[f"{light.name}.color"], dtype=float), (3,)), 0.0, 1.0)
            self._check(f"{light.name}.color", color, "finite")
            update["color"] = tuple(float(c) for c in color)
        return light.model_copy(update=update) if update else light

    def _resized(self, body: m.Body, values: dict[str, Value]) -> m.Body:
        key = f"{body.name}.size"
        if key not in values or body.shape is None:
            return body
        size = np.broadcast_to(np.asarray(values[key], dtype=float), (len(body.shape.size),))
        if not (np.isfinite(size) & (size > 0)).all():  # an expression can; the validator checks distributions
            raise CompileError("SCN405", f"`{key}` was drawn as {[round(float(s), 6) for s in size]}: a shape's "
                               "sizes must be positive", "draw sizes that stay above 0", self.places.get(key))
        shape = body.shape.model_copy(update={"size": [float(s) for s in size]})
        return body.model_copy(update={"shape": shape})


def has_build_scope(scenario: m.Scenario) -> bool:
    return any(r.scope == "build" for r in scenario.randomizations)
