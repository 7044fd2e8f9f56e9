"""Property test: every numeric input of the reference scenario set to a bad value (0, -1,
1e30, true, "nan", a wrong unit) loads, or raises InputError naming where it is: never another
exception. Only the loader runs (stages would take too long)."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rackforge.catalog import load_catalog
from rackforge.errors import InputError
from rackforge.scenario import from_dict

SCENARIOS = Path(__file__).parent.parent / "scenarios"
BASE = yaml.safe_load((SCENARIOS / "reference.yaml").read_text(encoding="utf-8"))
CATALOG = load_catalog()
QUANTITY = re.compile(r"^\s*-?[\d.]+(e[+-]?\d+)?\s*[A-Za-z%/^°µ]")


def _numeric_leaves(node, prefix=()):
    """Key paths of the leaves that are numbers or quantity strings ("132 kW")."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numeric_leaves(value, (*prefix, i))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield prefix
    elif isinstance(node, str) and QUANTITY.match(node):
        yield prefix


LEAVES = list(_numeric_leaves(BASE))
BAD = [0, -1, 1e30, True, "nan", "wrong-unit"]


def key_path(path: tuple) -> str:
    """``racks[0].cooling.supply_temp_c`` for ("racks", 0, "cooling", "supply_temp_c")."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _get(data, path):
    for step in path:
        data = data[step]
    return data


def _wrong_unit(old) -> str:
    """A quantity in a unit of another dimension than the leaf's."""
    return "3 W" if isinstance(old, str) and "kg" in old else "3 kg"


def test_leaves_cover_the_scenario():
    assert len(LEAVES) > 100
    assert ("racks", 0, "slots", 1, "count") in LEAVES


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LEAVES), bad=st.sampled_from(BAD))
def test_bad_number_loads_or_names_its_key(path, bad):
    data = copy.deepcopy(BASE)
    old = _get(data, path)
    _get(data, path[:-1])[path[-1]] = _wrong_unit(old) if bad == "wrong-unit" else bad
    try:
        from_dict(data, CATALOG, "reference.yaml", SCENARIOS)
    except InputError as exc:
        text = str(exc)
        assert "reference.yaml" in text, text
        # the key path, or the section or entry whose rule it broke
        prefixes = [key_path(path[:n]) for n in range(len(path), 0, -1)]
        assert any(p in text for p in prefixes), (key_path(path), text)
