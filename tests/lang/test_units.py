"""Units: `parse_unit` on simple and compound units, unknown units, and `describe`."""

from __future__ import annotations

import math

import pytest

from scenario_dsl.lang.units import (
    ACCELERATION,
    ANGLE,
    ANGULAR_VELOCITY,
    DIMENSIONLESS,
    FORCE,
    FREQUENCY,
    INERTIA,
    LENGTH,
    MASS,
    PRESSURE,
    TIME,
    TORQUE,
    UNITS,
    VELOCITY,
    Dim,
    UnitError,
    describe,
    example_unit,
    parse_unit,
)


@pytest.mark.parametrize(("text", "factor", "dim"), [
    ("m", 1.0, LENGTH),
    ("cm", 0.01, LENGTH),
    ("mm", 0.001, LENGTH),
    ("km", 1000.0, LENGTH),
    ("kg", 1.0, MASS),
    ("g", 0.001, MASS),
    ("s", 1.0, TIME),
    ("ms", 0.001, TIME),
    ("us", 1e-6, TIME),
    ("min", 60.0, TIME),
    ("Hz", 1.0, FREQUENCY),
    ("rad", 1.0, ANGLE),
    ("deg", math.pi / 180, ANGLE),
    ("N", 1.0, FORCE),
    ("kN", 1000.0, FORCE),
    ("kPa", 1e3, PRESSURE),
    ("GPa", 1e9, PRESSURE),
])
def test_simple_units(text: str, factor: float, dim: Dim) -> None:
    got_factor, got_dim = parse_unit(text)
    assert got_factor == pytest.approx(factor)
    assert got_dim == dim


@pytest.mark.parametrize(("text", "factor", "dim"), [
    ("N*m", 1.0, TORQUE),
    ("m/s", 1.0, VELOCITY),
    ("m/s^2", 1.0, ACCELERATION),
    ("m/s/s", 1.0, ACCELERATION),  # each '/' divides by the next unit only
    ("N*s/m", 1.0, Dim(mass=1, time=-1)),  # left to right: (N*s)/m
    ("kg*m^2", 1.0, INERTIA),
    ("deg/s", math.pi / 180, ANGULAR_VELOCITY),
    ("rad/s", 1.0, ANGULAR_VELOCITY),
    ("km/min", 1000.0 / 60.0, VELOCITY),
    ("mm^2", 1e-6, Dim(length=2)),
    ("m^-1", 1.0, Dim(length=-1)),
    ("s^2/m", 1.0, Dim(length=-1, time=2)),
    ("cm/ms^2", 0.01 / 1e-6, ACCELERATION),
    ("kN*mm", 1.0, TORQUE),
    ("g*cm^2", 0.001 * 1e-4, INERTIA),
])
def test_compound_units(text: str, factor: float, dim: Dim) -> None:
    got_factor, got_dim = parse_unit(text)
    assert got_factor == pytest.approx(factor)
    assert got_dim == dim


def test_every_catalogued_unit_parses_to_its_entry() -> None:
    for name, (factor, dim) in UNITS.items():
        assert parse_unit(name) == (factor, dim)


@pytest.mark.parametrize(("text", "bad"), [
    ("kgg", "kgg"),
    ("N*foo", "foo"),
    ("foo*N", "foo"),
    ("m/sec", "sec"),
    ("M", "M"),  # units are case-sensitive: M is not m
    ("Deg", "Deg"),
    ("kg*m^2/parsec^3", "parsec"),
    ("m^x", "m^x"),  # a malformed power: the whole atom is named
])
def test_unknown_unit_names_the_bad_atom(text: str, bad: str) -> None:
    with pytest.raises(UnitError) as info:
        parse_unit(text)
    assert info.value.name == bad
    assert isinstance(info.value, ValueError)
    assert bad in str(info.value)


@pytest.mark.parametrize(("dim", "text"), [
    (DIMENSIONLESS, "dimensionless"),
    (LENGTH, "length"),
    (MASS, "mass"),
    (TIME, "time"),
    (ANGLE, "angle"),
    (VELOCITY, "velocity"),
    (ANGULAR_VELOCITY, "angular velocity"),
    (ACCELERATION, "acceleration"),
    (FORCE, "force"),
    (TORQUE, "torque"),
    (PRESSURE, "pressure"),
    (INERTIA, "moment of inertia"),
    (None, "any dimension"),
    (Dim(length=1, time=-3), "m/s^3"),
    (Dim(mass=1, time=-1), "linear damping (N*s/m)"),
    (Dim(mass=1, angle=2), "kg*rad^2"),
    (FREQUENCY, "1/s"),
])
def test_describe(dim: Dim | None, text: str) -> None:
    assert describe(dim) == text


def test_dim_str_is_describe() -> None:
    assert str(ACCELERATION) == "acceleration"
    assert str(Dim(length=3)) == "m^3"


def test_dim_arithmetic() -> None:
    assert LENGTH / TIME == VELOCITY
    assert MASS * ACCELERATION == FORCE
    assert LENGTH**2 == Dim(length=2)
    assert FORCE * LENGTH == TORQUE
    assert LENGTH / LENGTH == DIMENSIONLESS


@pytest.mark.parametrize(("dim", "unit"), [(LENGTH, "m"), (MASS, "kg"), (TIME, "s"), (ANGLE, "rad"), (FORCE, "N")])
def test_example_unit_is_the_si_unit(dim: Dim, unit: str) -> None:
    assert example_unit(dim) == unit


def test_example_unit_for_a_compound_dimension_is_a_unit() -> None:
    for dim in (VELOCITY, ACCELERATION, ANGULAR_VELOCITY, Dim(mass=1, time=-1), Dim(length=-1, time=2)):
        assert parse_unit(example_unit(dim))[1] == dim
