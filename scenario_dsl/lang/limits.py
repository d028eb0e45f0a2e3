"""What one scenario may ask of the simulator, and what Drake refuses of a body's mass and inertia.

The limits bound the time and memory a `.scn` file can make `scn check` and `scn train` spend
(an untrusted file must not hang a CI job or fill its memory): plant steps per env step and per
episode, the commands an action delay keeps in flight, and the worlds of one batch. The
validator reports a scenario past one with SCN412; the compiler and the environment check them
again for a scenario that did not come through the validator (a compiled JSON file, a `Scenario` built in Python).

`inertia_problem` says, in pure Python (the front end imports no NumPy), why Drake would refuse
a body's mass and central inertia: Drake divides the inertia by the mass (a body with an inertia
and a mass of 0 stops the process), and it requires principal moments that are not negative and
satisfy the triangle inequality (`SpatialInertia::IsPhysicallyValid`). The validator and the
compiler both ask it (SCN413).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Plant steps (`plant.time_step`) in one env step (`episode.step`).
MAX_PLANT_STEPS_PER_ENV_STEP = 100_000
#: Plant steps in one episode (`episode.time_limit`).
MAX_PLANT_STEPS_PER_EPISODE = 10_000_000
#: Env steps of commands an action delay (`ACTION.delay`) keeps in flight.
MAX_DELAY_STEPS = 100_000
#: Worlds (copies of a scenario) in one diagram, `train { worlds = N }` and `--worlds`.
MAX_WORLDS = 4096
#: How many times finer than a round shape's largest radius (sphere, capsule, ellipsoid) a
#: hydroelastic `resolution_hint` may mesh it (a body that gives no hint gets a coarser one than
#: the 1 cm default where this needs it: `default_resolution_hint`). Drake refines such meshes in levels: for a 10 cm
#: sphere (bench: `python -m bench.bench_large_files --hints`), a ratio of 33 cost 0.8 s and 220 MB
#: to compile, 50 cost 4 s and 470 MB, 100 cost 24 s and 1.5 GB. Boxes and cylinders are meshed
#: without it.
MAX_MESH_REFINEMENT = 50
#: Pixels of one camera image (width x height): 2048 x 2048, 16 MiB of colour per image and step.
MAX_IMAGE_PIXELS = 2048 * 2048


def plant_steps_problem(time_step: float, step: float, time_limit: float | None) -> tuple[str, str, str] | None:
    """Why the plant steps a scenario asks for are past a limit: (which, message, hint), or None.
    `which` is "step" (plant steps per env step) or "time_limit" (per episode). The times are
    positive numbers of seconds (the caller checks that)."""
    per_step = step / time_step
    if per_step > MAX_PLANT_STEPS_PER_ENV_STEP * (1 + 1e-9):
        return ("step", f"an env step of {step:g} s is {per_step:,.0f} plant steps of {time_step:g} s; "
                f"scn allows at most {MAX_PLANT_STEPS_PER_ENV_STEP:,}",
                f"use a plant time_step of at least {step / MAX_PLANT_STEPS_PER_ENV_STEP:g} s, or a shorter step")
    if time_limit is None:
        return None
    per_episode = time_limit / time_step
    if per_episode > MAX_PLANT_STEPS_PER_EPISODE * (1 + 1e-9):
        return ("time_limit", f"a time_limit of {time_limit:g} s is {per_episode:,.0f} plant steps of "
                f"{time_step:g} s; scn allows at most {MAX_PLANT_STEPS_PER_EPISODE:,} per episode",
                f"use a time_limit of at most {MAX_PLANT_STEPS_PER_EPISODE * time_step:g} s, or a longer "
                "plant time_step")
    return None


def delay_problem(upper: float, step: float, time_limit: float | None) -> str | None:
    """Why an action delay of up to `upper` seconds would keep too many commands in flight, or
    None. The environment keeps the delay's worth of env steps (rounded), or a whole episode's
    when that is shorter (a delay past the time limit holds the neutral action throughout)."""
    if math.isnan(upper):
        return "the delay is not a number"
    episode = math.inf if time_limit is None else time_limit / step
    held = min(upper / step, episode)
    if held <= MAX_DELAY_STEPS + 0.5:
        return None
    if math.isinf(held):
        return ("the delay has no upper bound and the episode no time limit, so the commands in flight have "
                f"no bound either; scn allows at most {MAX_DELAY_STEPS:,} env steps of them")
    shown = "a delay with no upper bound" if math.isinf(upper) else f"a delay of up to {upper:g} s"
    within = "" if time_limit is None else f" in an episode of {time_limit:g} s"
    return (f"{shown} keeps up to {held:,.0f} env steps of {step:g} s of commands in flight{within}; "
            f"scn allows at most {MAX_DELAY_STEPS:,}")


def principal_moments(inertia: Sequence[float]) -> tuple[float, float, float]:
    """The principal moments (eigenvalues, ascending) of the inertia matrix `Ixx Iyy Izz [Ixy Ixz
    Iyz]`, by Jacobi rotations (accurate to a few ulps of the largest entry, also when two moments
    are equal, where the closed form loses half the digits), on the matrix scaled by its largest
    entry so that no product overflows."""
    values = [*map(float, inertia), 0.0, 0.0, 0.0][:6]
    scale = max(abs(v) for v in values)
    if scale == 0 or not math.isfinite(scale):
        return (scale, scale, scale) if scale == 0 else (math.nan, math.nan, math.nan)
    xx, yy, zz, xy, xz, yz = (v / scale for v in values)
    a = [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]]
    for _ in range(50):  # cyclic Jacobi: converges quadratically, in a handful of sweeps
        off = a[0][1] ** 2 + a[0][2] ** 2 + a[1][2] ** 2
        if off < 1e-40:
            break
        for p, q in ((0, 1), (0, 2), (1, 2)):
            if a[p][q] == 0:
                continue
            theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
            t = math.copysign(1.0, theta) / (abs(theta) + math.sqrt(theta * theta + 1))
            c = 1 / math.sqrt(t * t + 1)
            s = t * c
            for k in range(3):  # A <- A J (columns p and q)
                akp, akq = a[k][p], a[k][q]
                a[k][p], a[k][q] = c * akp - s * akq, s * akp + c * akq
            for k in range(3):  # A <- J^T A (rows p and q)
                apk, aqk = a[p][k], a[q][k]
                a[p][k], a[q][k] = c * apk - s * aqk, s * apk + c * aqk
    low, middle, high = sorted((a[0][0], a[1][1], a[2][2]))
    return (low * scale, middle * scale, high * scale)


def inertia_problem(mass: float, inertia: Sequence[float] | None) -> str | None:
    """Why Drake would refuse a body of `mass` with this central inertia (None: no inertia given,
    or one Drake takes). A little more lenient than Drake's own test, so that lint never refuses an
    inertia Drake takes; the compiler reports what falls between the two as SCN506."""
    if inertia is None:
        return None
    if not all(math.isfinite(v) for v in (mass, *inertia)):
        return "the mass and the inertia must be finite numbers"
    if mass <= 0:
        return (f"a body with an inertia needs a mass above 0 kg, not {mass:g} kg "
                "(Drake divides the inertia by the mass)")
    low, middle, high = principal_moments(inertia)
    scale = max(abs(v) for v in inertia)
    tolerance = max(1e-13 * scale, 1e-14)  # Drake: about 1e-14 of the largest moment, at least 1e-15
    shown = f"{low:.4g}, {middle:.4g} and {high:.4g} kg*m^2"
    if low < -tolerance:
        return f"the inertia is not physically valid: its principal moments are {shown}, and none may be negative"
    if low + middle < high - tolerance:
        return (f"the inertia is not physically valid: its principal moments {shown} break the triangle "
                f"inequality ({low:.4g} + {middle:.4g} < {high:.4g})")
    return None


def mesh_radius(kind: str, size: Sequence[float]) -> float | None:
    """The largest radius of a shape Drake meshes by its resolution hint (None: one it does not)."""
    if kind == "sphere":
        return size[0]
    if kind == "capsule":
        return max(size[0], size[1] / 2)
    if kind == "ellipsoid":
        return max(size)
    return None


def mesh_problem(kind: str, size: Sequence[float], hint: float) -> str | None:
    """Why a hydroelastic mesh of a shape at `hint` would be past `MAX_MESH_REFINEMENT`, or None."""
    radius = mesh_radius(kind, size)
    if radius is None or radius / hint <= MAX_MESH_REFINEMENT * (1 + 1e-9):
        return None
    return (f"a resolution hint of {hint:g} m meshes this {kind} {radius / hint:,.0f} times finer than its largest "
            f"radius ({radius:g} m); scn allows at most {MAX_MESH_REFINEMENT} (Drake's mesh grows about 8 times per "
            "halving of the hint: a ratio of 100 took 24 s and 1.5 GB)")


def default_resolution_hint(kind: str, size: Sequence[float], default: float) -> float:
    """The hint of a body that gives none: `default` (1 cm), or coarser for a round shape so
    large that 1 cm would mesh it past `MAX_MESH_REFINEMENT`."""
    radius = mesh_radius(kind, size)
    return default if radius is None else max(default, radius / MAX_MESH_REFINEMENT)
