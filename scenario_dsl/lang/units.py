"""Units and dimensions. No Drake or NumPy here: lint must stay light.

A `Dim` is a tuple of exponents over (length, mass, time, angle). Angles get their own base
so that `limits = [0, 90 deg]` on a prismatic joint is caught, while trigonometric functions
accept them. Every quantity is converted to SI (and radians) when the scenario is validated.
"""

from __future__ import annotations

import functools
import math
import re
from typing import NamedTuple


class Dim(NamedTuple):
    length: int = 0
    mass: int = 0
    time: int = 0
    angle: int = 0

    def __mul__(self, other: object) -> Dim:  # type: ignore[override]
        assert isinstance(other, Dim)
        return Dim(*(a + b for a, b in zip(self, other, strict=True)))

    def __truediv__(self, other: Dim) -> Dim:
        return Dim(*(a - b for a, b in zip(self, other, strict=True)))

    def __pow__(self, n: int) -> Dim:
        return Dim(*(a * n for a in self))

    def __str__(self) -> str:
        return describe(self)


DIMENSIONLESS = Dim()
LENGTH = Dim(length=1)
MASS = Dim(mass=1)
TIME = Dim(time=1)
ANGLE = Dim(angle=1)
VELOCITY = LENGTH / TIME
ANGULAR_VELOCITY = ANGLE / TIME
ACCELERATION = LENGTH / TIME**2
FORCE = MASS * LENGTH / TIME**2
TORQUE = FORCE * LENGTH
PRESSURE = FORCE / LENGTH**2
STIFFNESS = FORCE / LENGTH
DISSIPATION = TIME / LENGTH  # Hunt-Crossley dissipation, s/m
INERTIA = MASS * LENGTH**2
FREQUENCY = Dim(time=-1)

_NAMED = {
    DIMENSIONLESS: "dimensionless", LENGTH: "length", MASS: "mass", TIME: "time", ANGLE: "angle",
    VELOCITY: "velocity", ANGULAR_VELOCITY: "angular velocity", ACCELERATION: "acceleration",
    FORCE: "force", TORQUE: "torque", PRESSURE: "pressure", INERTIA: "moment of inertia",
    STIFFNESS: "stiffness (N/m)", DISSIPATION: "dissipation (s/m)",
    FORCE * LENGTH * TIME / ANGLE: "rotational damping (N*m*s/rad)", FORCE * TIME / LENGTH: "linear damping (N*s/m)",
}

# unit -> (factor to SI, dimension)
UNITS: dict[str, tuple[float, Dim]] = {
    "m": (1.0, LENGTH), "cm": (0.01, LENGTH), "mm": (0.001, LENGTH), "km": (1000.0, LENGTH),
    "kg": (1.0, MASS), "g": (0.001, MASS),
    "s": (1.0, TIME), "ms": (0.001, TIME), "us": (1e-6, TIME), "min": (60.0, TIME),
    "Hz": (1.0, FREQUENCY),
    "rad": (1.0, ANGLE), "deg": (math.pi / 180.0, ANGLE),
    "N": (1.0, FORCE), "kN": (1000.0, FORCE), "mN": (0.001, FORCE),
    "Pa": (1.0, PRESSURE), "kPa": (1e3, PRESSURE), "MPa": (1e6, PRESSURE), "GPa": (1e9, PRESSURE),
    "J": (1.0, FORCE * LENGTH), "W": (1.0, FORCE * LENGTH / TIME),
}

_ATOM = re.compile(r"([A-Za-z]+)(?:\^(-?[0-9]+))?")


class UnitError(ValueError):
    """An unknown unit name inside a unit expression."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@functools.lru_cache(maxsize=1024)  # a scenario writes the same few units many times over
def parse_unit(text: str) -> tuple[float, Dim]:
    """Factor to SI and dimension of a unit expression such as `m/s^2` or `N*m`.

    `*` and `/` apply left to right to the next unit only: `N*s/m` is N·s/m.
    """
    factor, dim = 1.0, DIMENSIONLESS
    for i, (sep, atom) in enumerate(re.findall(r"(^|[*/])([^*/]+)", text)):
        match = _ATOM.fullmatch(atom)
        if match is None or match.group(1) not in UNITS:
            raise UnitError(atom if match is None else match.group(1))
        unit_factor, unit_dim = UNITS[match.group(1)]
        power = int(match.group(2) or 1)
        sign = -1 if (sep == "/" and i > 0) else 1
        factor *= unit_factor ** (power * sign)
        dim = dim * unit_dim ** (power * sign)
    return factor, dim


def describe(dim: Dim | None) -> str:
    """`length`, `velocity`, or a unit expression like `m*s^-3` for other dimensions."""
    if dim is None:
        return "any dimension"
    if dim in _NAMED:
        return _NAMED[dim]
    return spell(dim)


def spell(dim: Dim) -> str:
    """A dimension as the docs write a unit: products over one `/` (`rad/s`, `N*m*s/rad`,
    `kg*m^2`, `m/s^3`), with `N` for a force factor (mass over time squared and more)."""
    powers = {"kg": dim.mass, "m": dim.length, "s": dim.time, "rad": dim.angle}
    newton = dim.mass == 1 and dim.time <= -1  # N = kg*m/s^2: torque N*m, damping N*s/m, stiffness N/m
    if newton:
        powers = {"N": 1, "m": dim.length - 1, "s": dim.time + 2, "rad": dim.angle}

    def product(items: list[tuple[str, int]]) -> str:
        return "*".join(symbol if power == 1 else f"{symbol}^{power}" for symbol, power in items)

    above = product([(s, p) for s, p in powers.items() if p > 0])
    below = [(s, -p) for s, p in powers.items() if p < 0]
    if not below:
        return above or "no unit"
    under = product(below)
    return f"{above or '1'}/{under if len(below) == 1 else '(' + under + ')'}"


def example_unit(dim: Dim) -> str:
    """A unit a hint can suggest for a dimension (`m`, `N*m`, `kg*m^2`)."""
    if dim == TORQUE:
        return "N*m"  # not `J`: in a scenario this dimension is a torque far more often than an energy
    if dim in (STIFFNESS, DISSIPATION):
        return "N/m" if dim == STIFFNESS else "s/m"
    for name, (factor, d) in UNITS.items():
        if d == dim and factor == 1.0:
            return name
    return spell(dim)


def a(dim: Dim | None) -> str:
    """`a length`, `an angle`: the dimension's name with its article (`a plain number` without a unit)."""
    if dim == DIMENSIONLESS:
        return "a plain number"
    text = describe(dim)
    return ("an " if text[:1] in "aeiou" else "a ") + text
