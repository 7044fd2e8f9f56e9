"""Quantities at the edge: parsing into base units, and nothing but QuantityError on junk."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rackforge.units import BASE, QuantityError, format_value, parse_quantity, unit_of


@pytest.mark.parametrize(("text", "kind", "expected"), [
    ("132 kW", "power", 132_000.0), ("180 L/min", "flow", 180.0), ("3 m^3/h", "flow", 50.0),
    ("45 degC", "temperature", 45.0), ("318.15 K", "temperature", 45.0),
    ("1.4 t", "mass", 1_400.0), ("10 K", "delta_t", 10.0), ("10 degC", "delta_t", 10.0),
    ("80 GB", "bytes", 80e9), ("3.35 TB/s", "bytes_per_s", 3.35e12),
    ("989 TFLOP/s", "flops", 989e12), ("400 Gbit/s", "gbps", 400.0), ("80 %", "fraction", 0.8),
    ("90 s", "time", 90.0), ("2 min", "time", 120.0), ("48 mm", "length", 0.048),
    ("1 OU", "length", 0.048), ("2 RU", "length", 0.0889), ("60", "current", 60.0),
])
def test_parse(text, kind, expected):
    assert parse_quantity(text, kind) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "kind"), [
    ("132 kg", "power"), ("80 GB", "power"), ("abc", "flow"), (True, "power"),
    (float("nan"), "power"), ("1e400 W", "power"), ([1], "power"), ("(", "power"),
])
def test_rejects(value, kind):
    with pytest.raises(QuantityError):
        parse_quantity(value, kind)


@given(st.text(max_size=20), st.sampled_from(sorted(BASE)))
def test_any_text_is_a_float_or_a_quantity_error(text, kind):
    try:
        value = parse_quantity(text, kind)
    except QuantityError:
        return
    assert isinstance(value, float) and math.isfinite(value)


def test_unit_of_and_format():
    assert unit_of("hbm_bandwidth_bytes_per_s") == "B/s"
    assert unit_of("floor_rating_kg_per_m2") == "kg/m2"
    assert unit_of("supply_temp_c") == "degC"
    assert format_value(132_000, "W") == "132 kW"
    assert format_value(2_640, "A") == "2,640 A"
