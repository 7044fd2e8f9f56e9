"""Quantities at the edge: parse ``"132 kW"`` once, into base units, and name the unit after.

Inside rackforge every number is a float in a base unit named by its suffix (``power_w``,
``flow_lpm``, ``mass_kg``, ``temp_c``). This module is the only place that knows about Pint.

Base units by suffix (see docs/glossary.md):

======================  ===================================
suffix                  unit
======================  ===================================
``_w``                  watt
``_v`` / ``_a``         volt / ampere
``_j``                  joule
``_s`` / ``_h``         second / hour
``_kg`` / ``_m``        kilogram / metre
``_lpm``                litre per minute (coolant flow)
``_c``                  degree Celsius (absolute temperature)
``_k``                  kelvin (temperature difference)
``_bytes``              byte
``_bytes_per_s``        byte per second
``_flops``              FLOP per second
``_gbps``               gigabit per second
``_kg_per_m2``          kilogram per square metre
``_m3_per_h``           cubic metre per hour (air flow)
``_j_per_kg_k``         J/(kg K)
``_kg_per_m3``          kg/m^3
======================  ===================================
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Annotated

import pint
from pydantic import BeforeValidator, Field


def _registry() -> pint.UnitRegistry:
    # Pint caches its parsed definitions on disk (~150 ms saved per start); a read-only home
    # just means no cache.
    try:
        return pint.UnitRegistry(autoconvert_offset_to_baseunit=True, cache_folder=":auto:")
    except OSError:
        return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


ureg = _registry()
ureg.define("FLOP = [flop]")
ureg.define("OpenU = 48 mm = OU")
ureg.define("rack_unit = 44.45 mm = RU")
ureg.define("lpm = liter / minute")

SQRT3 = math.sqrt(3.0)
GRAVITY_M_PER_S2 = 9.80665
SECONDS_PER_HOUR = 3600.0

# Unit strings Pint should convert to, for each kind of quantity we accept.
BASE = {
    "power": "W",
    "voltage": "V",
    "current": "A",
    "energy": "J",
    "time": "s",
    "hours": "h",
    "mass": "kg",
    "length": "m",
    "flow": "L/min",
    "temperature": "degC",
    "delta_t": "K",
    "bytes": "byte",
    "bytes_per_s": "byte/s",
    "flops": "FLOP/s",
    "gbps": "Gbit/s",
    "areal_mass": "kg/m^2",
    "air_flow": "m^3/h",
    "specific_heat": "J/(kg*K)",
    "density": "kg/m^3",
    "fraction": "",
}


class QuantityError(ValueError):
    """A value that is not a quantity of the expected kind."""


@lru_cache(maxsize=4096)
def _parse_text(text: str, kind: str) -> float:
    target = BASE[kind]
    try:
        if kind == "temperature":
            quantity = ureg.Quantity(text)
            if quantity.unitless:
                return float(quantity.magnitude)
            return float(quantity.to(target).magnitude)
        quantity = ureg.Quantity(text.replace("%", " percent"))
        if kind == "delta_t" and str(quantity.units) == "degree_Celsius":
            quantity = ureg.Quantity(quantity.magnitude, "delta_degC")
        if quantity.unitless and kind != "fraction":
            return float(quantity.magnitude)
        return float(quantity.to(target or "dimensionless").magnitude)
    except Exception as exc:  # noqa: BLE001 - Pint's parser raises many kinds; all mean "not a quantity"
        raise QuantityError(f"'{text}' is not a {kind} (expected a number or e.g. "
                            f"'{_example(kind)}')") from exc


def _example(kind: str) -> str:
    return {"power": "132 kW", "flow": "180 L/min", "temperature": "45 degC",
            "mass": "1.4 t", "delta_t": "10 K", "length": "2 m", "voltage": "415 V",
            "current": "60 A", "bytes": "80 GB", "bytes_per_s": "3.35 TB/s",
            "flops": "989 TFLOP/s", "gbps": "400 Gbit/s",
            "fraction": "80 %"}.get(kind, "1 " + BASE[kind])


def parse_quantity(value: object, kind: str) -> float:
    """Return `value` as a float in the base unit of `kind` (see :data:`BASE`).

    Numbers are taken to be in the base unit already; strings are parsed with Pint.
    Raises :class:`QuantityError` for anything else, including booleans and NaN.
    """
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a {kind} (expected a number or e.g. "
                            f"'{_example(kind)}')")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        result = _parse_text(value.strip(), kind)
    else:
        raise QuantityError(f"{value!r} is not a {kind} (expected a number or a string "
                            f"like '{_example(kind)}')")
    if not math.isfinite(result):
        raise QuantityError(f"{value!r} is not a finite {kind}")
    return result


def _validator(kind: str) -> BeforeValidator:
    return BeforeValidator(lambda v: parse_quantity(v, kind) if v is not None else v)


# Annotated float types for pydantic models: each accepts a number in the base unit or a string
# with any compatible unit and stores the base-unit float.
Power = Annotated[float, _validator("power")]
Voltage = Annotated[float, _validator("voltage")]
Current = Annotated[float, _validator("current")]
Energy = Annotated[float, _validator("energy")]
Seconds = Annotated[float, _validator("time")]
Hours = Annotated[float, _validator("hours")]
Mass = Annotated[float, _validator("mass")]
Length = Annotated[float, _validator("length")]
Flow = Annotated[float, _validator("flow")]
# not below absolute zero [degC]
Temperature = Annotated[float, _validator("temperature"), Field(ge=-273.15)]
DeltaT = Annotated[float, _validator("delta_t")]
Bytes = Annotated[float, _validator("bytes")]
BytesPerS = Annotated[float, _validator("bytes_per_s")]
Flops = Annotated[float, _validator("flops")]
Gbps = Annotated[float, _validator("gbps")]
ArealMass = Annotated[float, _validator("areal_mass")]
AirFlow = Annotated[float, _validator("air_flow")]
SpecificHeat = Annotated[float, _validator("specific_heat")]
Density = Annotated[float, _validator("density")]
Fraction = Annotated[float, _validator("fraction")]


def format_si(value: float, unit: str, digits: int = 3) -> str:
    """Format `value` [unit] with an SI prefix, e.g. ``format_si(132000, 'W') -> '132 kW'``."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g} {unit}"
    prefixes = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]
    for scale, prefix in prefixes:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"


# Display unit of a field, from its name's suffix (longest suffixes first).
_SUFFIX_UNITS = (
    ("_bytes_per_s", "B/s"), ("_bytes", "B"), ("_flops", "FLOP/s"), ("_kg_per_m2", "kg/m2"),
    ("_kg_per_m3", "kg/m3"), ("_j_per_kg_k", "J/(kg K)"), ("_kg_per_m", "kg/m"),
    ("_m3_per_h", "m3/h"), ("_lpm_per_kw", "L/min/kW"), ("_gbps", "Gbit/s"), ("_kg", "kg"),
    ("_lpm", "L/min"), ("_w", "W"), ("_v", "V"), ("_a", "A"), ("_j", "J"), ("_c", "degC"),
    ("_k", "K"), ("_s", "s"), ("_h", "h"), ("_m", "m"), ("_usd", "USD"),
)
_SI_UNITS = {"W", "J", "B", "B/s", "FLOP/s"}


def unit_of(field: str) -> str:
    """The unit a field name declares by its suffix ('' when it names none)."""
    if field == "peak_flops":
        return "FLOP/s"
    return next((unit for suffix, unit in _SUFFIX_UNITS if field.endswith(suffix)), "")


def format_value(value: float, unit: str) -> str:
    """`value` [unit] for people: SI prefixes for W, J, B, B/s and FLOP/s, else grouped digits."""
    if unit in _SI_UNITS:
        return format_si(value, unit, 4)
    if unit.startswith("USD"):
        return _usd(value) + unit[3:]
    text = f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:,.4g}"
    return f"{text} {unit}".rstrip()


def _usd(value: float) -> str:
    for scale, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(value) >= scale:
            return f"${value / scale:,.4g}{suffix}"
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.3g}"
