"""Property test: a randomly mutated reference scenario loads or raises InputError, nothing else."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rackforge.catalog import load_catalog
from rackforge.errors import InputError
from rackforge.scenario import from_dict

REFERENCE = Path(__file__).parent.parent / "scenarios" / "reference.yaml"
BASE = yaml.safe_load(REFERENCE.read_text())
CATALOG = load_catalog()


def _paths(node, prefix=()):
    """Every key path in the nested mappings and lists of `node`."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


PATHS = [p for p in _paths(BASE) if p]
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["132 kW", "-1 kW", "45 degC", "10 K", "1.4 t",
                                           "180 L/min", "2 m", "kW", "1e400 W", "nan"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=4), st.integers(),
                                                          max_size=2),
)


@st.composite
def mutated(draw):
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS))
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(LEAVES)
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.text(min_size=1, max_size=8))] = draw(LEAVES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_reference_loads_or_raises_input_error(data):
    try:
        from_dict(data, CATALOG, str(REFERENCE))
    except InputError as exc:  # located in the scenario or in the supplier table it names
        assert str(exc).startswith(str(REFERENCE.parent))
