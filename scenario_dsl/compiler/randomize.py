"""Compiler: `randomize` blocks -> a `Randomizer` that redraws a context each episode.

The values come from `scenario_dsl.sampling.sampler.Sampler` (vectorized NumPy draws, `let`s,
`require`s by rejection). Each episode's NumPy generator is seeded from two numbers of the
episode's Drake `RandomGenerator`, which `reset(seed=...)` seeds: one seed fixes every draw of
an episode, per-step noise included. A draw's target ("joint.attr", "body.attr") becomes a
`Target`: a getter of its nominal value (what the context holds after `SetRandomContext`, read
once, so nothing drifts across episodes) and a setter. `_TargetFactory` is the catalogue of
context targets; observation and action noise are not in the context and are applied by the
environment (`observation_noise`, `action_noise`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from pydrake.common import RandomGenerator
from pydrake.common.eigen_geometry import Quaternion
from pydrake.geometry import SceneGraph
from pydrake.math import RollPitchYaw
from pydrake.multibody.math import SpatialForce
from pydrake.multibody.plant import ExternallyAppliedSpatialForce
from pydrake.multibody.tree import SpatialInertia
from pydrake.systems.framework import Context, OutputPort

from scenario_dsl.compiler.markers import MarkerPoses
from scenario_dsl.compiler.plant import CompileError, PlantHandles, drake_reason, set_state_rows, vec
from scenario_dsl.compiler.sensors import CameraSensor
from scenario_dsl.compiler.signals import Gather, joint_rows
from scenario_dsl.compiler.targets import ContactWriter, Target
from scenario_dsl.compiler.visual import PerceptionWriter, camera_target, color_target, texture_target
from scenario_dsl.lang import model as m
from scenario_dsl.lang.names import CONTACT_TARGETS, STRICTLY_POSITIVE
from scenario_dsl.sampling.adaptive import Schedule
from scenario_dsl.sampling.sampler import MAX_TRIES, Sampler, Samples, SamplingError, Value, requirement_label

NOISE = "noise"  # the attribute of observation and action noise targets
DELAY = "delay"  # the attribute of the action's delay


def episode_rng(generator: RandomGenerator) -> np.random.Generator:
    """The NumPy generator of one episode, seeded by 64 bits of Drake's `generator`."""
    low, high = generator(), generator()
    # The same seed as `default_rng([low, high])` (SeedSequence reads an int as 32-bit words, low
    # first), without the list's conversion: a microsecond less per reset.
    return np.random.default_rng((high << 32) | low)


class Randomizer:
    """Draws an episode with a `Sampler`, writes the values into a context, and checks the
    `require`s that read the simulated scene (redrawing the episode when one fails)."""

    def __init__(self, scenario: m.Scenario, handles: PlantHandles, scene_graph: SceneGraph,
                 gather: Gather | None, requirements: OutputPort | None,
                 cameras: dict[str, CameraSensor] | None = None, markers: MarkerPoses | None = None) -> None:
        for r in scenario.randomizations:  # build-scope blocks are `rebuild.BuildRandomizer`'s
            if r.scope == "step":
                for d in r.draws:
                    if not _is_noise(scenario, d.target) and not _is_push(d.target):
                        raise CompileError("SCN505", f"`randomize per step` draws observation and action noise "
                                           f"and pushes only; `{d.target}` is drawn per episode", None, d.where)
        self.scenario = scenario
        self.handles = handles
        self.gather = gather
        self.requirements = requirements
        self.messages = [requirement_label(q) for r in scenario.randomizations for q in r.requirements]
        self._requirement_places = [q.where for r in scenario.randomizations for q in r.requirements]
        factory = _TargetFactory(handles, scene_graph, cameras or {}, markers, [k.name for k in scenario.markers],
                                 {b.name: b.textures for b in scenario.bodies if b.textures})
        self.targets = {d.target: factory.make(d.target, d.where) for r in scenario.randomizations
                        if r.scope == "episode" for d in r.draws
                        if not _is_noise(scenario, d.target) and not _is_push(d.target)}
        for r in scenario.randomizations:
            for d in r.draws:
                if d.target.endswith(".effort_limit") and d.operation != "set" and d.target in self.targets \
                        and not np.isfinite(self.targets[d.target].get(None)).all():  # type: ignore[arg-type]
                    raise CompileError("SCN406", f"`{d.target}` has no nominal value to "
                                       f"{'offset' if d.operation == 'offset' else 'scale'}: the model gives "
                                       "the joint no effort limit", "draw the limit itself with `~`", d.where)
        self._noise_sizes = _noise_sizes(scenario)
        # pushes: target -> body index; a force in the world frame at the body's origin
        self._pushes = {d.target: handles.body(d.target.rpartition(".")[0]).index()
                        for r in scenario.randomizations for d in r.draws if _is_push(d.target)}
        # whether the env must add noise to observations or actions, or push, every step
        self.has_noise = any(_is_noise(scenario, d.target) or _is_push(d.target)
                             for r in scenario.randomizations for d in r.draws)
        self._context: Context | None = None  # the context of the episode (pushes are fixed on it)
        # Where pushes go instead of the plant's input: a batch of worlds shares one plant, and
        # its `CompiledBatch` fixes every world's pushes together. Returns whether it took them.
        self.on_push: Callable[[Context, list[ExternallyAppliedSpatialForce]], bool] | None = None
        self._pushed_nothing: Context | None = None  # the context whose push input holds no force now
        self._initial_v = [(joint_rows(handles, name, "v"), np.asarray(v, dtype=float))
                           for name, v in handles.initial_v.items()]
        self._sampler: Sampler | None = None  # built by the first `apply`, from the nominal values
        self._step_sampler: Sampler | None = None
        # ADR ranges and the curriculum stage (`sampling.adaptive`): the env keeps one across
        # rebuilds and hands it here; the learner updates it through the env
        self.schedule = Schedule.of(scenario)
        self.rng: np.random.Generator | None = None  # the episode's generator, continued by per-step noise
        self.noise: dict[str, np.ndarray] = {}  # this episode's (or step's) noise by target

    def set_initial_state(self, context: Context) -> None:
        """Write the declared initial velocities (Drake has no default velocities)."""
        if not self._initial_v:
            return
        plant = self.handles.plant
        plant_context = plant.GetMyMutableContextFromRoot(context)
        for rows, v in self._initial_v:
            set_state_rows(plant, plant_context, rows, v)

    def nominal(self, context: Context) -> dict[str, np.ndarray]:
        """Every target's nominal value: what `context` holds after a reset, before the draws."""
        values = {name: np.array(t.get(context), dtype=float) for name, t in self.targets.items()}
        values.update({name: np.zeros(size) for name, size in self._noise_sizes.items()})
        values.update({name: np.zeros(3) for name in self._pushes})
        return values

    def sampler_for(self, diagram: Any, scopes: tuple[str, ...] = ("episode",)) -> Sampler:
        """A `Sampler` of `scopes` with the nominal values of a fresh context of `diagram`
        (for drawing many episodes without simulating them: `scn sample`)."""
        context = diagram.CreateDefaultContext()
        self.set_initial_state(context)
        return Sampler(self.scenario, scopes=scopes, nominal=self.nominal(context))

    def sampler(self, context: Context) -> Sampler:
        """The episode sampler, with the nominal values read from `context` (a reset context)."""
        if self._sampler is None:
            nominal = self.nominal(context)
            self._sampler = Sampler(self.scenario, nominal=nominal, schedule=self.schedule)
            if any(r.scope == "step" for r in self.scenario.randomizations):
                self._step_sampler = Sampler(self.scenario, scopes=("step",), nominal=nominal, schedule=self.schedule)
        return self._sampler

    def apply(self, context: Context, generator: RandomGenerator,
              reset: Callable[[], None] | None = None) -> dict[str, Value]:
        """Draw and apply one episode's values; returns them by `let` name and target.

        `reset` restores the nominal context before a redraw when a scene `require` fails.
        """
        self.rng = rng = episode_rng(generator)
        self._context = context
        if self.schedule is not None:
            self.schedule.choose_pin(rng)
        failed: tuple[str, m.Where | None] = ("a requirement", None)
        for attempt in range(MAX_TRIES):
            if attempt and reset is not None:
                reset()
            self.set_initial_state(context)
            samples = self.sampler(context).sample(1, rng)
            self._write(context, samples)
            failure = self._failed_requirement(context)
            if failure is None:
                return samples.episode(0)
            failed = failure
        raise SamplingError(*failed, 0.0, MAX_TRIES, MAX_TRIES)  # SCN411 at the requirement's place

    def check_domains(self, diagram: Any, n: int = 10_000, seed: int = 0) -> None:
        """Draw `n` episodes (no simulation) and raise `CompileError` SCN405, with the draw's place,
        when a contact property or an effort limit falls where Drake refuses it, or a mass,
        damping, gear ratio, rotor inertia, inertia scale or centre of mass where `_guarded` does. A reset checks
        its own draw anyway; this finds, before training starts, the rare draw of an expression
        the validator cannot bound (a worker process that raised would take the run down)."""
        checked = {d.target: d.where for r in self.scenario.randomizations if r.scope == "episode"
                   for d in r.draws if d.target.rpartition(".")[2] in (*_GUARDED, *_CHECKED)}
        if not checked:
            return
        samples = self.sampler_for(diagram).sample(n, np.random.default_rng(seed))
        for target, where in checked.items():
            attribute = target.rpartition(".")[2]
            if attribute in _GUARDED:
                values = samples.values[target][:, 0]
                bad = _outside(attribute, values)
                if bad.any():
                    raise _refuse(target, float(values[bad][0]), where,
                                  f" (in {int(np.count_nonzero(bad))} of {n:,} episodes drawn ahead)")
                continue
            rows = samples.values[target]  # `_guarded`'s rule, for every episode drawn ahead
            unusable = ~np.isfinite(rows).all(axis=1)
            if attribute != "center_of_mass":
                unusable |= (rows < 0).any(axis=1)
            problem = _unusable(target, rows[unusable][0], where, f" (in {int(np.count_nonzero(unusable))} of "
                                f"{n:,} episodes drawn ahead)") if unusable.any() else None
            if problem is not None:
                raise problem

    def step_noise(self) -> None:
        """Draw the per-step blocks (noise) for the next step, from the episode's generator."""
        if self._step_sampler is None or self.rng is None:
            return
        samples = self._step_sampler.sample(1, self.rng)
        self.noise.update({k: v[0] for k, v in samples.values.items() if k in self._noise_sizes or k in self._pushes})
        if self._pushes and self._context is not None:
            self._push(self._context)

    def observation_noise(self) -> np.ndarray | None:
        """What to add to the observation vector now (None: nothing is drawn)."""
        parts = [self.noise.get(f"{o.name}.{NOISE}") for o in self.scenario.observations]
        if all(p is None for p in parts):
            return None
        return np.concatenate([np.zeros(o.size) if p is None else p
                               for o, p in zip(self.scenario.observations, parts, strict=True)])

    def image_noise(self, name: str) -> np.ndarray | None:
        """What to add to image observation `name` now, pixel by pixel (None: nothing is drawn)."""
        return self.noise.get(f"{name}.{NOISE}")

    def action_noise(self) -> np.ndarray | None:
        """What to add to the agent's action now (None: nothing is drawn)."""
        return self.noise.get(f"{self.scenario.action.name}.{NOISE}")

    def action_delay(self) -> float:
        """This episode's delay of the action, in seconds (0 when none is drawn)."""
        delay = self.noise.get(f"{self.scenario.action.name}.{DELAY}")
        return 0.0 if delay is None else float(delay[0])

    def _write(self, context: Context, samples: Samples) -> None:
        lets: dict[str, np.ndarray] = {}
        commits: dict[Callable[[Context], None], None] = {}  # a writer's bound `commit`s are equal
        self.noise = {}
        for block in self.sampler(context).blocks:
            for let in block.lets:
                lets[let.name] = samples.values[let.name][0]
            for d in block.draws:
                value = samples.values[d.target][0]
                if d.target in self._noise_sizes or d.target in self._pushes:
                    self.noise[d.target] = value
                else:
                    target = self.targets[d.target]
                    try:
                        target.set(context, value)
                    except (RuntimeError, SystemExit) as exc:  # SystemExit: pydrake's failed DRAKE_DEMAND
                        if isinstance(exc, SystemExit) and not str(exc).startswith("Failure at"):
                            raise
                        shown = ", ".join(f"{x:g}" for x in np.ravel(value))
                        raise CompileError("SCN405", f"`{d.target}` was drawn as {shown}, which Drake refuses: "
                                           f"{drake_reason(exc)}", "draw values in the target's range",
                                           d.where) from None
                    if target.commit is not None:
                        commits[target.commit] = None
        for commit in commits:
            commit(context)
        if self.schedule is not None:
            lets.update(self.schedule.values)
        if self.gather is not None and lets:
            self.gather.set_random_values(self.gather.GetMyMutableContextFromRoot(context), lets)
        if self._pushes:
            self._push(context)

    def _push(self, context: Context) -> None:
        """Fix the plant's applied-spatial-force input to the pushes drawn now (none: no force)."""
        forces = []
        for target, index in self._pushes.items():
            force = self.noise.get(target)
            if force is None or not np.any(force):
                continue
            push = ExternallyAppliedSpatialForce()
            push.body_index = index
            push.p_BoBq_B = vec(np.zeros(3))
            push.F_Bq_W = SpatialForce(vec(np.zeros(3)), vec(np.asarray(force, dtype=float)))
            forces.append(push)
        if self.on_push is not None and self.on_push(context, forces):
            return
        if not forces and self._pushed_nothing is context:
            return  # a step without a push after one without: the input already holds no force (most steps)
        plant = self.handles.plant
        plant.get_applied_spatial_force_input_port().FixValue(plant.GetMyMutableContextFromRoot(context), forces)
        self._pushed_nothing = None if forces else context

    def _failed_requirement(self, context: Context) -> tuple[str, m.Where | None] | None:
        """The first requirement of the scene that the drawn episode fails (its label and place)."""
        if self.requirements is None or self._sampler is None or not self._sampler.scene_requirements:
            return None
        values: Any = self.requirements.Eval(context)
        for ok, message, where in zip(values, self.messages, self._requirement_places, strict=True):
            if not ok:
                return message, where
        return None


def _is_noise(scenario: m.Scenario, target: str) -> bool:
    return target in _noise_sizes(scenario)


def _is_push(target: str) -> bool:
    return target.rpartition(".")[2] == "push"


def _noise_sizes(scenario: m.Scenario) -> dict[str, int]:
    """The targets the environment applies itself, not the context, and their sizes: noise
    (`OBSERVATION.noise`, an image's pixel by pixel, `ACTION.noise`) and the action's delay
    (`ACTION.delay`, seconds)."""
    sizes = {f"{o.name}.{NOISE}": o.size for o in scenario.observations}
    cameras = {c.name: c for c in scenario.cameras}
    for image in scenario.images:
        camera = cameras[image.camera]
        sizes[f"{image.name}.{NOISE}"] = camera.height * camera.width * (3 if image.image == "color" else 1)
    sizes[f"{scenario.action.name}.{NOISE}"] = scenario.action.size
    sizes[f"{scenario.action.name}.{DELAY}"] = 1
    return sizes


# ---- targets --------------------------------------------------------------------------------

# The drawn attributes Drake refuses outside [0, inf) (above 0 for STRICTLY_POSITIVE ones); an
# effort limit may be infinite (no limit). Drake aborts the whole process on a negative contact
# stiffness or dissipation (an assertion in its contact solver) and raises for the others.
_GUARDED = (*CONTACT_TARGETS, "effort_limit")


def _outside(attribute: str, values: np.ndarray) -> np.ndarray:
    """Which of `values`, drawn for `attribute` (one of `_GUARDED`), Drake would refuse."""
    bad = np.isnan(values) | (values < 0)
    if attribute in STRICTLY_POSITIVE:
        bad |= values == 0
    if attribute != "effort_limit":
        bad |= np.isinf(values)
    return bad


# Drawn attributes that Drake takes without a word outside [0, inf) (a negative mass, a NaN gear
# ratio) and then fails to simulate, or refuses with a raw message: refused at the write (SCN405).
# A centre of mass may be negative, not infinite.
_CHECKED = ("mass", "inertia_scale", "damping", "gear_ratio", "rotor_inertia", "center_of_mass")


def _guarded(target: Target, where: m.Where | None) -> Target:
    """`target`, whose writes refuse (SCN405, at the draw) a value that is not finite, or negative
    where `_CHECKED` says it must not be."""
    write, name = target.set, target.name

    def set_(context: Context, value: Any) -> None:
        problem = _unusable(name, np.asarray(value, dtype=np.float64), where)
        if problem is not None:
            raise problem
        write(context, value)

    return replace(target, set=set_)


def _unusable(name: str, values: np.ndarray, where: m.Where | None, suffix: str = "") -> CompileError | None:
    """SCN405 for a value drawn for `name` (one of `_CHECKED`) that is not finite, or negative
    where it must not be; None when it is fine."""
    signed = name.endswith(".center_of_mass")
    if np.isfinite(values).all() and (signed or (values >= 0).all()):
        return None
    shown = ", ".join(f"{x:g}" for x in values.ravel())
    need = "finite" if signed else "finite and at least 0"
    return CompileError("SCN405", f"`{name}` was drawn as {shown}: it must be {need}{suffix}",
                        "draw it from a distribution that stays " + ("finite" if signed else "at least 0"), where)


def _refuse(name: str, value: float, where: m.Where | None, suffix: str = "") -> CompileError:
    bound = "above 0" if name.rpartition(".")[2] in STRICTLY_POSITIVE else "at least 0"
    return CompileError("SCN405", f"`{name}` was drawn as {value:g}: it must be finite and {bound}{suffix}",
                        "draw it from a distribution that stays " + bound, where)


def _check_drawn(name: str, value: float, where: m.Where | None) -> None:
    """Raise SCN405 for a drawn value Drake would refuse. The validator checks what it can see
    (`~` and `*~`, and `+~` from a declared nominal); an expression or a loaded model's nominal
    reaches here."""
    if _outside(name.rpartition(".")[2], np.array([value]))[0]:
        raise _refuse(name, value, where)


# A body's contact targets (lang.names.CONTACT_TARGETS) -> Drake's (group, property) in its
# geometries' ProximityProperties.
CONTACT_PROPERTIES = {
    "friction": ("material", "coulomb_friction"),
    "point_stiffness": ("material", "point_contact_stiffness"),
    "hunt_crossley_dissipation": ("material", "hunt_crossley_dissipation"),
    "hydroelastic_modulus": ("hydroelastic", "hydroelastic_modulus"),
}


class _TargetFactory:
    def __init__(self, handles: PlantHandles, scene_graph: SceneGraph, cameras: dict[str, CameraSensor],
                 markers: MarkerPoses | None, marker_names: list[str], textures: dict[str, list[str]]) -> None:
        self.handles = handles
        self.cameras = cameras
        self.markers = markers  # the markers' geometry source, when something draws them
        self.marker_names = marker_names
        self.textures = textures  # a body's texture files, by body name
        self._perception: dict[Any, PerceptionWriter] = {}  # by body index, or ("marker", name)
        self._contacts: dict[Any, ContactWriter] = {}
        self.plant = handles.plant
        self.scene_graph = scene_graph

    def make(self, target: str, where: m.Where | None) -> Target:
        """The target a draw names; an error without a place of its own gets the draw's."""
        try:
            made = self._make(target, where)
        except CompileError as exc:
            if exc.where is None and where is not None:
                raise CompileError(exc.code, exc.message, exc.hint, where) from None
            raise
        return _guarded(made, where) if target.rpartition(".")[2] in _CHECKED else made

    def _make(self, target: str, where: m.Where | None) -> Target:
        owner, _, attribute = target.rpartition(".")
        if owner in self.cameras:
            return camera_target(target, self.cameras[owner], attribute)
        if attribute == "color" and owner in self.marker_names:
            if self.markers is None:  # nothing draws this diagram: nothing sees the marker's colour
                return Target(target, 3, lambda c: np.zeros(3), lambda c, v: None)
            return color_target(target, self._perception.setdefault(("marker", owner), PerceptionWriter(
                self.scene_graph, self.markers.source_id, [self.markers.geometries[owner]])))
        try:
            joint = self.handles.joint(owner)
        except CompileError:
            joint = None
        if joint is not None and joint.type_name() == "quaternion_floating" and attribute not in ("q", "v", "damping"):
            joint = None  # Drake names a free body's own joint after the body: `B.friction` is the body's
        if joint is not None and attribute == "damping":
            return Target(target, joint.num_velocities(),
                          lambda c: joint.GetDampingVector(self._plant_context(c)),
                          lambda c, v: joint.SetDampingVector(self._plant_context(c), vec(v)))
        if joint is not None and attribute in ("gear_ratio", "rotor_inertia", "effort_limit"):
            return self._actuator(target, joint, attribute, where)
        if joint is not None:
            return self._state(target, joint_rows(self.handles, owner, attribute))
        try:
            body = self.handles.body(owner)
        except CompileError:
            raise CompileError("SCN505", f"randomizing `{target}` is not supported yet",
                               "supported: joint state (q, v and their parts) and damping, body mass, "
                               "center_of_mass, friction, and the pose and velocity of free bodies", where) from None
        if attribute == "mass":
            return Target(target, 1, lambda c: np.array([body.get_mass(self._plant_context(c))]),
                          lambda c, v: body.SetMass(self._plant_context(c), float(v[0])))
        if attribute == "center_of_mass":
            return Target(target, 3, lambda c: body.CalcCenterOfMassInBodyFrame(self._plant_context(c)),
                          lambda c, v: body.SetCenterOfMassInBodyFrame(self._plant_context(c), vec(v)))
        if attribute in CONTACT_PROPERTIES:
            return self._contact(target, body, attribute, where)
        if attribute == "inertia_scale":
            return self._inertia_scale(target, body)
        if attribute in ("color", "texture"):
            writer = self._perception.get(body.index()) or self._perception.setdefault(
                body.index(), PerceptionWriter.of_body(target, self.plant, self.scene_graph, body, where))
            return (color_target(target, writer) if attribute == "color"
                    else texture_target(target, writer, self.textures.get(owner, []), where))
        return self._free_body(target, body, attribute, where)

    def _actuator(self, name: str, joint: Any, attribute: str, where: m.Where | None) -> Target:
        """A joint actuator's gear ratio or rotor inertia (parameters of the plant's context), or
        its effort limit (see `_effort_limit`)."""
        actuator = next((self.plant.get_joint_actuator(i) for i in self.plant.GetJointActuatorIndices()
                         if self.plant.get_joint_actuator(i).joint().index() == joint.index()), None)
        if actuator is None:
            raise CompileError("SCN504", f"`{name}`: joint `{joint.name()}` has no actuator",
                               "declare it `actuated`, or draw another target", where)
        if attribute == "effort_limit":
            return self._effort_limit(name, actuator, where)
        if attribute == "gear_ratio":
            return Target(name, 1, lambda c: np.array([actuator.gear_ratio(self._plant_context(c))]),
                          lambda c, v: actuator.SetGearRatio(self._plant_context(c), float(v[0])))
        return Target(name, 1, lambda c: np.array([actuator.rotor_inertia(self._plant_context(c))]),
                      lambda c, v: actuator.SetRotorInertia(self._plant_context(c), float(v[0])))

    def _effort_limit(self, name: str, actuator: Any, where: m.Where | None) -> Target:
        """The largest force or torque the plant applies for the actuator (it clamps the actuation
        input to it, discrete and continuous). Drake 1.51 keeps it in the model, not the context:
        the write changes this env's plant (each env compiles its own), and the nominal is the
        value the file declares, read here once, so draws never compound. What the plant caches
        from its actuation input is recomputed at the first step, which writes the action input
        (ScenarioEnv in place, DrakeGymEnv with `FixValue`: both invalidate its dependents)."""
        nominal = np.array([actuator.effort_limit()])

        def set_(context: Context, value: Any) -> None:
            drawn = float(value[0])
            _check_drawn(name, drawn, where)
            actuator.set_effort_limit(drawn)

        return Target(name, 1, lambda c: nominal.copy(), set_)

    def _inertia_scale(self, name: str, body: Any) -> Target:
        """Scales the body's rotational inertia about its centre of mass (nominal 1). The model's
        inertia is the base, so draws never compound; a mass or centre of mass drawn in the same
        episode is kept, and the inertia follows the mass as a uniform density would."""
        nominal = body.default_spatial_inertia()
        central = nominal.Shift(nominal.get_com()).CalcRotationalInertia()  # about the centre of mass

        def set_(context: Context, value: Any) -> None:
            plant_context = self._plant_context(context)
            mass, com = body.get_mass(plant_context), body.CalcCenterOfMassInBodyFrame(plant_context)
            density = mass / nominal.get_mass() if nominal.get_mass() > 0 else 1.0
            inertia = central * (float(value[0]) * density)
            body.SetSpatialInertiaInBodyFrame(plant_context, SpatialInertia.MakeFromCentralInertia(mass, com, inertia))

        return Target(name, 1, lambda c: np.ones(1), set_)

    def _plant_context(self, context: Context) -> Context:
        return self.plant.GetMyMutableContextFromRoot(context)

    def _state(self, name: str, rows: list[int]) -> Target:
        plant = self.plant

        def get(context: Context) -> Any:
            return plant.GetPositionsAndVelocities(self._plant_context(context))[rows]

        def set_(context: Context, value: Any) -> None:
            set_state_rows(plant, self._plant_context(context), rows, value)

        return Target(name, len(rows), get, set_)

    def _free_body(self, name: str, body: Any, attribute: str, where: m.Where | None) -> Target:
        joints = [self.plant.get_joint(i) for i in self.plant.GetJointIndices(body.model_instance())]
        joint = next((j for j in joints if j.child_body().index() == body.index()
                      and j.type_name() == "quaternion_floating"), None)
        if joint is None:
            raise CompileError("SCN505", f"`{name}`: only a free body's pose and velocity can be drawn",
                               "draw the state of the joint that holds it instead", where)
        rows_of = {"x": ("position", 0, 1), "y": ("position", 1, 1), "z": ("position", 2, 1),
                   "roll": ("rpy", 0, 1), "pitch": ("rpy", 1, 1), "yaw": ("rpy", 2, 1)}
        part, offset, count = rows_of.get(attribute, (attribute, 0, 0))
        if part == "rpy":
            return self._orientation(name, joint, slice(offset, offset + count) if count else slice(0, 3))
        rows = self._joint_rows(joint, part)
        return self._state(name, rows[offset:offset + count] if count else rows)

    def _orientation(self, name: str, joint: Any, part: slice) -> Target:
        """Roll, pitch, yaw (all or one) of a free body, through its joint's quaternion."""
        quaternion = self._state(name, self._joint_rows(joint, "quaternion"))

        def rpy(context: Context) -> Any:
            wxyz = quaternion.get(context)
            return RollPitchYaw(Quaternion(vec(wxyz / np.linalg.norm(wxyz)))).vector()

        def set_(context: Context, value: Any) -> None:
            angles = rpy(context)
            angles[part] = value
            quaternion.set(context, RollPitchYaw(vec(angles)).ToQuaternion().wxyz())

        return Target(name, part.stop - part.start, lambda c: rpy(c)[part], set_)

    def _joint_rows(self, joint: Any, attribute: str) -> list[int]:
        nq = self.plant.num_positions()
        q0, v0 = joint.position_start(), nq + joint.velocity_start()
        spans = {"quaternion": (q0, 4), "position": (q0 + 4, 3), "angular_velocity": (v0, 3), "velocity": (v0 + 3, 3)}
        if attribute not in spans:
            raise CompileError("SCN505", f"randomizing a free body's `{attribute}` is not supported")
        start, count = spans[attribute]
        return list(range(start, start + count))

    def _contact(self, name: str, body: Any, attribute: str, where: m.Where | None) -> Target:
        """A contact property of every collision geometry of `body` (friction, stiffness,
        dissipation, hydroelastic modulus). Drake reads them from the SceneGraph context's
        proximity properties; `SceneGraph.AssignRole(context, ..., kReplace)` replaces them and
        re-meshes a hydroelastic geometry whatever changed, so the body's draws are gathered and
        written in one `AssignRole` per geometry (`commit`)."""
        writer = self._contacts.get(body.index())
        if writer is None:
            writer = self._contacts[body.index()] = ContactWriter(self.plant, self.scene_graph, body, name)
        group, key = CONTACT_PROPERTIES[attribute]
        if not writer.model.HasProperty(group, key):
            raise CompileError("SCN505", f"`{name}`: the body's geometry has no `{key}`"
                               + (" (it is not compliant-hydroelastic)" if group == "hydroelastic" else ""),
                               "declare it `hydroelastic = compliant`" if group == "hydroelastic" else None, where)
        nominal = np.array([writer.read(writer.model, group, key)])  # the model's value: draws never compound

        def set_(context: Context, value: Any) -> None:
            drawn = float(value[0])
            _check_drawn(name, drawn, where)  # before Drake sees it: a negative stiffness aborts the process
            writer.pending[(group, key)] = drawn

        return Target(name, 1, lambda c: nominal.copy(), set_, writer.commit)

