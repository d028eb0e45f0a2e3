"""Stage 4's output: the validated scenario, as pydantic models.

Everything here is resolved: names are checked, quantities are plain floats in SI units
(radians for angles), defaults are filled, expressions are a small typed IR (`Const`,
`Signal`, `Apply`) whose leaves name the signal they read. The compiler consumes this and
nothing else; `Scenario.model_json_schema()` documents it, and `scn compile` writes it as JSON.
Spans are kept as `Where` (file, line, column) so later stages can point back at the source.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from scenario_dsl.lang.catalogue import ALGORITHMS, CAMERA_IMAGES, CAMERA_VIEWS  # noqa: F401  (re-exported)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Where(_Model):
    """A place in a scenario file (1-based), for diagnostics raised after validation."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


Vec3 = tuple[float, float, float]


# ---- expressions ----------------------------------------------------------------------------

class Const(_Model):
    kind: Literal["const"] = "const"
    value: float | list[float]
    size: int | None = None  # None: a scalar


SignalSource = Literal[
    "joint", "body", "frame", "plant", "controller", "action", "observation", "time", "random", "param",
]


class Signal(_Model):
    """A value read from the running simulation (or drawn for the episode).

    `source`/`name`/`attribute` say what: ("joint", "box_joint", "theta"), ("body", "box",
    "position"), ("plant", "plant", "state"), ("action", "target", "value"), ("time", "time",
    "value"), ("random", "m", "value") for `let m ~ ...`.
    """

    kind: Literal["signal"] = "signal"
    source: SignalSource
    name: str
    attribute: str
    size: int | None = None


class Apply(_Model):
    """A function applied to arguments. `fn` is one of `FUNCTIONS` or an operator name
    (add sub mul div mod pow neg pos not and or lt le gt ge eq ne norm vector index)."""

    kind: Literal["apply"] = "apply"
    fn: str
    args: list[Expr]
    size: int | None = None


Expr = Annotated[Const | Signal | Apply, Field(discriminator="kind")]
Apply.model_rebuild()


# ---- distributions --------------------------------------------------------------------------

#: The catalogue of distributions: name -> its parameters as a call names them, in order (`?`: may be
#: left out). The one list of them: the type checker reads the names, the validator the parameters,
#: and the sampler (sampling/sampler.py) implements each (a test checks it covers this list).
#: `uniform_rotation` and `rpy` are whole rotations, for a body's `rpy` or a quaternion.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"), "normal": ("mean", "std"), "truncnormal": ("mean", "std", "low", "high"),
    "lognormal": ("mean", "sigma"), "loguniform": ("low", "high"), "choice": ("values", "weights?"),
    "bernoulli": ("p",), "integers": ("low", "high"), "uniform_rotation": (), "rpy": ("roll", "pitch", "yaw"),
    # automatic domain randomization: uniform on a range the learner moves, from [low, high]
    # within [min, max] by `step` (docs/adaptive.md)
    "adaptive": ("low", "high", "min", "max", "step"),
}
ROTATIONS = ("uniform_rotation", "rpy")
# What a validated `Distribution` may hold: the catalogue's, and `constant` (a fixed value the
# validator makes of a number drawn with `~`).
Family = Literal["uniform", "normal", "truncnormal", "lognormal", "loguniform", "choice", "bernoulli", "integers",
                 "uniform_rotation", "rpy", "adaptive", "constant"]


class Distribution(_Model):
    """A distribution with checked parameters, in SI units. `size` is None for scalars."""

    family: Family
    params: dict[str, float | list[float] | list[list[float]] | Distribution]  # rpy's angles may be drawn
    size: int | None = None
    where: Where | None = None


class Draw(_Model):
    """`target ~ dist` (set), `target +~ dist` (offset from nominal), `target *~ dist` (scale)."""

    target: str
    operation: Literal["set", "offset", "scale"]
    value: Distribution | Expr
    where: Where | None = None


class RandomLet(_Model):
    """`let name ~ dist`: drawn once per episode, usable by name in later draws and expressions."""

    name: str
    value: Distribution
    where: Where | None = None


class Requirement(_Model):
    condition: Expr
    message: str | None = None
    where: Where | None = None


class Randomization(_Model):
    scope: Literal["episode", "build", "step"] = "episode"
    every: int | None = None  # build scope: rebuild every N episodes
    lets: list[RandomLet] = []
    draws: list[Draw] = []
    requirements: list[Requirement] = []
    where: Where | None = None


#: What the learner measures of each finished training episode, for `adaptive` and `curriculum`.
METRICS = ("success_rate", "mean_return", "mean_length")


class Adaptation(_Model):
    """`adaptive { ... }`: how the ranges of `adaptive(...)` draws move (OpenAI et al. 2019's ADR).
    An episode that pins one parameter at a boundary adds its `measure` (1/0 for success, or the
    return) to that boundary's buffer; a full buffer's mean at or above `thresholds[1]` widens the
    range there by the parameter's step, at or below `thresholds[0]` narrows it."""

    measure: Literal["success", "return"] = "success"
    thresholds: tuple[float, float] = (0.5, 0.8)
    buffer: int = 20
    boundary_probability: float = 0.5
    where: Where | None = None


class Criterion(_Model):
    """`METRIC OP VALUE` over the stage's last `window` episodes."""

    metric: Literal["success_rate", "mean_return", "mean_length"]
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    value: float


class Stage(_Model):
    name: str
    values: dict[str, float | list[float]]  # each curriculum variable's value in this stage, SI
    until: list[Criterion] = []  # all must hold; empty: the last stage
    window: int = 50  # episodes of this stage the criteria are measured over
    where: Where | None = None


class Curriculum(_Model):
    stages: list[Stage]
    where: Where | None = None


# ---- the plant ------------------------------------------------------------------------------

#: Drake's contact models, by the names `plant { contact_model = ... }` takes.
ContactModel = Literal["point", "hydroelastic", "hydroelastic_with_fallback"]
CONTACT_MODELS: tuple[str, ...] = get_args(ContactModel)


class PlantSettings(_Model):
    """`MultibodyPlantConfig`'s settings, under Drake's own names and values."""

    time_step: float = 0.001
    contact_model: ContactModel = "hydroelastic_with_fallback"
    discrete_contact_approximation: Literal["", "tamsi", "sap", "similar", "lagged"] = "lagged"
    penetration_allowance: float = 0.001
    stiction_tolerance: float = 1e-4  # MultibodyPlantConfig's default
    gravity: Vec3 = (0.0, 0.0, -9.81)
    where: Where | None = None


class Pose(_Model):
    translation: Vec3 = (0.0, 0.0, 0.0)
    rpy: Vec3 = (0.0, 0.0, 0.0)  # roll, pitch, yaw in radians (Drake's RollPitchYaw)


class Shape(_Model):
    kind: Literal["box", "sphere", "cylinder", "capsule", "ellipsoid"]
    size: list[float]  # box: x y z; sphere: radius; cylinder and capsule: radius length; ellipsoid: a b c
    pose: Pose | None = None  # in the body's frame (`shape = ... at (...)`); None: at the body's origin


# A body's contact settings when it gives none: Drake's `AddShape` defaults (mu 1, d 1e4 s/m,
# k 1e7 N/m, compliant hydroelastic 1e8 Pa at a 1 cm resolution hint), the lecture's.
CONTACT_DEFAULTS = {"friction": 1.0, "hunt_crossley_dissipation": 1e4, "point_stiffness": 1e7,
                    "hydroelastic_modulus": 1e8, "resolution_hint": 0.01}


class Contact(_Model):
    """Contact properties of a body's collision geometry (None: `CONTACT_DEFAULTS`)."""

    friction: tuple[float, float] | None = None  # static, dynamic
    point_stiffness: float | None = None
    hunt_crossley_dissipation: float | None = None
    hydroelastic: Literal["compliant", "rigid", "none"] | None = None
    hydroelastic_modulus: float | None = None
    resolution_hint: float | None = None


class Body(_Model):
    name: str
    shape: Shape | None = None
    mass: float = 0.0
    center_of_mass: Vec3 | None = None
    inertia: list[float] | None = None  # Ixx Iyy Izz [Ixy Ixz Iyz] about the centre of mass
    color: tuple[float, float, float, float] | None = None
    collision: bool = True
    visual: bool = True
    # Extra geometry without mass, any number of each (`visual_shape = ...`, `collision_shape = ...`):
    # a link drawn as several parts, a contact pad. The body's colour and contact settings apply.
    visual_shapes: list[Shape] = []
    collision_shapes: list[Shape] = []
    # PNG files drawn on the body's visual shapes (`texture = "..."`): the first by default,
    # another each episode with `B.texture ~ integers(0, n - 1)`. Absolute, checked paths.
    textures: list[str] = []
    contact: Contact = Contact()
    initial_pose: Pose | None = None  # a free body's pose in the world at the start of an episode
    where: Where | None = None


class Actuator(_Model):
    effort_limit: float | None = None
    gear_ratio: float = 1.0
    rotor_inertia: float = 0.0


class Joint(_Model):
    name: str
    type: Literal["weld", "revolute", "prismatic", "planar", "ball", "universal", "free"]
    parent: str  # a frame: "world", a body, a declared frame, or "model.body" of a loaded model
    child: str
    axis: Vec3 | None = None  # revolute and prismatic
    pose: Pose | None = None  # joint frame in the parent (default: identity)
    lower: list[float] | None = None
    upper: list[float] | None = None
    velocity_lower: list[float] | None = None
    velocity_upper: list[float] | None = None
    damping: list[float] | None = None
    initial_q: list[float] | None = None
    initial_v: list[float] | None = None
    actuator: Actuator | None = None
    where: Where | None = None

    @property
    def positions(self) -> int:
        return {"weld": 0, "revolute": 1, "prismatic": 1, "planar": 3, "ball": 3, "universal": 2, "free": 7}[self.type]

    @property
    def velocities(self) -> int:
        return {"weld": 0, "revolute": 1, "prismatic": 1, "planar": 3, "ball": 3, "universal": 2, "free": 6}[self.type]


class Weld(_Model):
    parent: str
    child: str
    pose: Pose = Pose()
    where: Where | None = None


class Model(_Model):
    """A model file loaded with Drake's `Parser` into its own model instance."""

    name: str
    url: str  # as written: package://... or a path relative to the scenario file
    base_dir: str | None = None  # the folder of the scenario that declared it
    welds: list[Weld] = []
    initial: dict[str, list[float]] = {}  # joint name -> initial positions
    where: Where | None = None


class Frame(_Model):
    name: str
    parent: str
    pose: Pose = Pose()
    where: Where | None = None


class Controller(_Model):
    """`pd`: a PD law on joint positions producing actuation; `inverse_dynamics`: Drake's
    `InverseDynamicsController`; the action sets the desired positions (velocity 0)."""

    name: str
    type: Literal["pd", "inverse_dynamics"]
    joints: list[str]
    kp: list[float]
    ki: list[float]
    kd: list[float]
    where: Where | None = None


class Marker(_Model):
    """A shape drawn at `position` (a length 3-vector in the world, evaluated each step: a drawn
    target, a goal), in recordings and Meshcat only: no mass, no contact, nothing the agent sees."""

    name: str
    shape: Shape
    color: tuple[float, float, float, float]
    position: Expr
    where: Where | None = None


class Camera(_Model):
    """`camera NAME on PARENT at (...) { ... }`: Drake's `RgbdSensor` fixed to the parent's frame.
    Its own frame is Drake's camera frame: +z looks forward, +x is the image's right, +y its down.
    With `look_at` (a point in the parent's frame) the rotation is computed: the camera at the
    pose's translation turns to the point, image up along the parent's +z (+y looking straight
    down)."""

    name: str
    parent: str  # "world", a body, a declared frame, or "model.body"
    pose: Pose = Pose()
    look_at: Vec3 | None = None
    width: int = 64
    height: int = 64
    fov: float = 0.7853981633974483  # vertical field of view, radians (45 degrees)
    near: float = 0.01  # clipping range, metres
    far: float = 10.0
    background: tuple[float, float, float] | None = None  # red, green, blue; None: VTK's pale blue
    where: Where | None = None


class Light(_Model):
    """`light NAME { ... }`: a directional light of the render engine every camera shares
    (Drake's `LightParameter`). Declaring lights replaces VTK's default, a white headlight on
    each camera."""

    name: str
    direction: Vec3 = (0.0, 0.0, -1.0)  # where the light goes, in `frame`
    intensity: float = 1.0
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    frame: Literal["world", "camera"] = "world"
    where: Where | None = None


class ImageObservation(_Model):
    """`observation NAME = CAMERA.color` (or `.depth`, `.label`): an image the agent sees."""

    name: str
    camera: str
    image: Literal["color", "depth", "label"]
    where: Where | None = None


# ---- the agent's ports ----------------------------------------------------------------------

class Action(_Model):
    """`target` is "controller.desired_position" or "joint.effort" (direct actuation) or
    "plant.actuation" (every actuator, in declaration order)."""

    name: str
    target: str
    size: int
    lower: list[float]
    upper: list[float]
    normalize: bool = True  # expose Box(-1, 1) to the agent and scale to [lower, upper]
    dtype: Literal["float32", "float64"] = "float32"
    where: Where | None = None


class Observation(_Model):
    name: str
    value: Expr
    size: int
    lower: list[float] | None = None
    upper: list[float] | None = None
    dtype: Literal["float32", "float64"] = "float32"
    where: Where | None = None


# ---- reward, episode, training --------------------------------------------------------------

class RewardTerm(_Model):
    name: str
    value: Expr
    where: Where | None = None


class Condition(_Model):
    value: Expr
    reason: str | None = None
    where: Where | None = None
    # `success when ... for DURATION`: seconds the condition must hold (None: true once is enough)
    hold: float | None = None
    end_episode: bool = True  # success ends the episode (`{ end_episode = false }`: it only counts)


class Episode(_Model):
    step: float  # seconds of simulated time per env step
    time_limit: float | None = None  # seconds; reaching it truncates the episode
    # The state the reward reads: after the step (DrakeGymEnv's way), or before it, with the step's
    # action (Gymnasium's classic-control way: Pendulum-v1's cost of the state-action pair).
    reward_at: Literal["step_end", "step_start"] = "step_end"
    terminations: list[Condition] = []
    success: Condition | None = None
    where: Where | None = None

    @property
    def max_steps(self) -> int | None:
        return None if self.time_limit is None else round(self.time_limit / self.step)

    @property
    def success_steps(self) -> int:
        """Env steps in a row the success condition must hold (`for DURATION`, rounded up)."""
        if self.success is None or self.success.hold is None:
            return 1
        return max(1, -int(-(self.success.hold / self.step - 1e-9) // 1))




class Train(_Model):
    """Training setup, under stable-baselines3 / RL Zoo names."""

    algo: str = "ppo"
    n_timesteps: int = 1_000_000
    n_envs: int = 1
    worlds: int = 1  # copies of the scenario in each environment process (runtime.batch_env)
    net_arch: list[int] = [64, 64]
    normalize: bool = False
    seed: int | None = None
    hyperparams: dict[str, float | int | bool | str | list[float]] = {}
    where: Where | None = None


class Scenario(_Model):
    """A validated scenario: what `scenario_dsl.load` returns and the compiler consumes."""

    name: str
    description: str | None = None
    path: str | None = None
    params: dict[str, float | list[float]] = {}
    plant: PlantSettings = PlantSettings()
    models: list[Model] = []
    frames: list[Frame] = []
    bodies: list[Body] = []
    joints: list[Joint] = []
    welds: list[Weld] = []
    controllers: list[Controller] = []
    markers: list[Marker] = []
    cameras: list[Camera] = []
    lights: list[Light] = []
    action: Action
    observations: list[Observation]  # the vector ones, in declaration order
    images: list[ImageObservation] = []
    randomizations: list[Randomization] = []
    adaptation: Adaptation | None = None  # set when any draw is `adaptive(...)`
    curriculum: Curriculum | None = None
    reward: list[RewardTerm]
    episode: Episode
    train: Train | None = None

    def random_sizes(self) -> dict[str, int]:
        """What a random signal may read, with its length: the random `let`s, then the curriculum's
        variables (the current stage's values, written where the `let`s are)."""
        sizes = {let.name: let.value.size or 1 for r in self.randomizations for let in r.lets}
        if self.curriculum is not None:
            for name, value in self.curriculum.stages[0].values.items():
                sizes[name] = len(value) if isinstance(value, list) else 1
        return sizes

    @property
    def observation_size(self) -> int:
        return sum(o.size for o in self.observations)
