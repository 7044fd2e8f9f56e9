"""Shared fixtures: a small hand-made catalog and a rack that uses it.

The mini catalog keeps rule tests independent of the shipped data; its figures are round
numbers chosen so that the expected values can be computed by hand in each test.
"""

from __future__ import annotations

import copy

import pytest

from rackforge.catalog import Catalog
from rackforge.catalog.loader import parse_parts
from rackforge.design.cluster import size_cluster


@pytest.fixture(autouse=True)
def _private_result_cache(tmp_path_factory, monkeypatch):
    """Each test's commands cache stage results in a folder of its own, never in the
    repository's working directory."""
    monkeypatch.setenv("RACKFORGE_CACHE", str(tmp_path_factory.mktemp("rackforge-cache")))


SRC = {"title": "rackforge test fixture", "publisher": "rackforge", "year": 2026}

MINI_PARTS = [
    {"kind": "tray", "id": "t-compute", "name": "compute tray", "role": "compute",
     "rack_units": 1, "mass_kg": 40, "max_power_w": 6000, "liquid_cooled_fraction": 0.9,
     "accelerator": None, "accelerators": 4, "max_coolant_supply_c": 45,
     "ports": [{"name": "NVLink", "count": 8, "gbps": 400}]},
    {"kind": "tray", "id": "t-switch", "name": "switch tray", "role": "scaleup-switch",
     "rack_units": 1, "mass_kg": 30, "max_power_w": 1000, "liquid_cooled_fraction": 0.5,
     "ports": [{"name": "NVLink", "count": 40, "gbps": 400}]},
    {"kind": "power_shelf", "id": "shelf-33", "name": "33 kW shelf", "rack_units": 1,
     "mass_kg": 20, "psu_count": 6, "psu_power_w": 5500, "output_voltage_v": 50,
     "efficiency": 0.975, "input_voltage_v": 415},
    {"kind": "bbu", "id": "bbu-33", "name": "BBU", "rack_units": 1, "mass_kg": 30,
     "power_w": 33000, "holdup_s": 90},
    {"kind": "busbar", "id": "bus-50v", "name": "busbar", "voltage_v": 50,
     "current_rating_a": 3000, "mass_kg": 20},
    {"kind": "busbar", "id": "bus-800v", "name": "800 V busbar", "voltage_v": 800,
     "current_rating_a": 200, "mass_kg": 10},
    {"kind": "coolant", "id": "pg25", "name": "PG25", "freezing_point_c": -10,
     "properties": [{"temp_c": 20, "density_kg_per_m3": 1021.5,
                     "specific_heat_j_per_kg_k": 3920},
                    {"temp_c": 60, "density_kg_per_m3": 1021.5,
                     "specific_heat_j_per_kg_k": 3920}]},
    {"kind": "cdu", "id": "cdu-250", "name": "in-rack CDU", "placement": "in-rack",
     "capacity_w": 250000, "max_flow_lpm": 400, "approach_k": 5, "pumps": 2, "rack_units": 4,
     "mass_kg": 100},
    {"kind": "cdu", "id": "cdu-row-1mw", "name": "row CDU", "placement": "in-row",
     "capacity_w": 1_000_000, "max_flow_lpm": 1500, "approach_k": 4, "pumps": 2,
     "mass_kg": 1500},
    {"kind": "loop_limits", "id": "tcs", "name": "TCS", "max_supply_c": 45, "min_supply_c": 17,
     "max_return_c": 65, "max_delta_t_k": 15, "min_flow_lpm_per_kw": 1.25,
     "max_flow_lpm_per_kw": 2.0},
    {"kind": "cable", "id": "cu-200g", "name": "copper 200G", "medium": "passive-copper",
     "lane_gbps": 200, "lanes": 2, "reach_m": 2.0, "power_w": 0, "mass_kg_per_m": 0.1},
    {"kind": "power_rack", "id": "sidecar-60k", "name": "800 VDC sidecar", "output_voltage_v": 800,
     "power_w": 60000, "efficiency": 0.98, "mass_kg": 900},
    {"kind": "rack", "id": "rack-48u", "name": "48U", "standard": "eia-310",
     "unit_height_m": 0.04445, "usable_units": 48, "payload_kg": 1500, "mass_kg": 200,
     "width_m": 0.6, "depth_m": 1.2, "height_m": 2.3},
]


def mini_rack() -> dict:
    """10 compute trays (60 kW) and 2 switch trays (2 kW) on 3 x 33 kW shelves, N+1."""
    return {
        "id": "r1", "rack": "rack-48u",
        "slots": [{"position": 1, "part": "shelf-33", "count": 3},
                  {"position": 4, "part": "bbu-33", "count": 2},
                  {"position": 6, "part": "cdu-250"},
                  {"position": 10, "part": "t-compute", "count": 10},
                  {"position": 20, "part": "t-switch", "count": 2}],
        "power": {"redundancy": "N+1", "busbar": "bus-50v", "ride_through_s": "60 s",
                  "feed": {"voltage_v": "415 V", "phases": 3, "breaker_a": "60 A",
                           "circuits": 2}},
        "cooling": {"coolant": "pg25", "loop": "tcs", "cdu": "cdu-250",
                    "facility_class": "W32", "supply_temp_c": "40 degC", "delta_t_k": "10 K",
                    "available_flow_lpm": "120 L/min", "air_capacity_w": "20 kW"},
        "cabling": [{"name": "spine", "from_part": "t-compute", "to_part": "t-switch",
                     "cable": "cu-200g", "cables_per_pair": 4}],
    }


@pytest.fixture
def mini_catalog() -> Catalog:
    parts = parse_parts([{**p, "source": SRC} for p in MINI_PARTS], "mini")
    return Catalog({p.id: p for p in parts})


@pytest.fixture
def mini_scenario() -> dict:
    return {"name": "mini", "site": {"floor_rating_kg_per_m2": "1500 kg/m^2"},
            "racks": [copy.deepcopy(mini_rack())]}


def size_scenario(scenario, variant: str | None = None):
    """The cluster section of a loaded scenario, sized (a variant of it if named)."""
    return size_cluster(scenario.spec.cluster, scenario.catalog, scenario.layouts, variant,
                        scenario.file)
