"""The published NVIDIA DGX GB200 NVL72 rack built from shipped catalog parts: its mass and its
NVLink spine's cable count against the figures NVIDIA and the press published.

Published configuration (NVIDIA DGX GB200 User Guide, Hardware, and the rack NVIDIA showed at
GTC 2024 as photographed by ServeTheHome): 18 1RU compute trays (ten above and eight below the
switches), 9 1RU NVLink switch trays, 2 TOR management switches (SN2201), power shelves (the
NVIDIA GB200 reference design has 8 of 33 kW: NVIDIA Mission Control manual, BCM Power Shelf
Integration), the busbar, liquid manifolds and the NVLink copper cable cartridges. It has no
in-rack CDU: DGX GB200 racks take their coolant from row CDUs (DGX SuperPOD GB200 reference
architecture), so the 250 kW in-rack CDU of scenarios/reference.yaml is not in it.
"""

from __future__ import annotations

import pytest

from rackforge.design.budget import RackBudget
from rackforge.scenario import from_dict

# "DGX GB200 NVL72 weighs 1.36 metric tons (3,000 lbs)": Tom's Hardware (via Yahoo News, 2024),
# https://sg.news.yahoo.com/nvidias-exaflop-supercomputer-rack-looks-142212690.html, from
# ServeTheHome's GTC 2024 photos of the rack. 3,000 lb = 1,361 kg.
PUBLISHED_MASS_KG = 1360.0

# NVLink 5 in the NVL72: 72 GPUs x 18 links each (NVIDIA: 1.8 TB/s per GPU = 18 x 100 GB/s),
# each link to one of the switch chips; a link is 2 lanes x TX/RX = 4 twinax cables, 5,184 in
# all (DiskMFR, 2025; NVIDIA says "over 5,000 copper cables").
PUBLISHED_LINKS = 72 * 18
PUBLISHED_CABLES = 5184
# "1.86 miles of copper cable" in the rack (The Register, via Xataka On, 2024).
PUBLISHED_CABLE_M = 1.86 * 1609.344

DGX_GB200_NVL72 = {
    "id": "dgx-gb200-nvl72",
    "name": "NVIDIA DGX GB200 NVL72 as published: row CDU, 8 x 33 kW shelves, 2 TOR switches",
    "rack": "mgx-nvl72-rack",
    "slots": [
        {"position": 1, "part": "mgx-power-shelf-33kw", "count": 4},
        {"position": 5, "part": "gb200-nvl72-compute-tray", "count": 8},
        {"position": 13, "part": "nvl72-nvlink-switch-tray", "count": 9},
        {"position": 22, "part": "gb200-nvl72-compute-tray", "count": 10},
        {"position": 32, "part": "mgx-power-shelf-33kw", "count": 4},
        {"position": 36, "part": "mgmt-switch-1u", "count": 2},
    ],
    "power": {"redundancy": "N+N", "busbar": "mgx-nvl72-busbar",
              "feed": {"type": "ac", "voltage_v": "415 V", "phases": 3, "breaker_a": "60 A",
                       "circuits": 8, "redundancy": "N+N"}},
    "cooling": {"coolant": "pg25", "loop": "tcs-cold-plate", "cdu": "row-cdu-2300kw",
                "cdu_share": 0.125, "facility_class": "W32", "supply_temp_c": "40 degC",
                "delta_t_k": "9 K", "available_flow_lpm": "200 L/min",
                "coolant_volume_l": 20, "air_capacity_w": "30 kW"},
    "cabling": [{"name": "nvlink-spine", "from_part": "gb200-nvl72-compute-tray",
                 "to_part": "nvl72-nvlink-switch-tray", "cable": "nvlink5-copper-spine-link",
                 "cables_per_pair": 8, "port": "NVLink", "horizontal_m": 0.05,
                 "slack_m": 0.05}],
}


@pytest.fixture(scope="module")
def published() -> RackBudget:
    scenario = from_dict({"name": "published DGX GB200 NVL72", "racks": [DGX_GB200_NVL72]})
    return RackBudget(scenario.layouts["dgx-gb200-nvl72"])


def test_published_configuration_is_what_nvidia_lists(published):
    layout = published.layout
    ids = [p.part.id for p in layout.placed]
    assert (ids.count("gb200-nvl72-compute-tray"), ids.count("nvl72-nvlink-switch-tray"),
            ids.count("mgmt-switch-1u"), ids.count("mgx-power-shelf-33kw")) == (18, 9, 2, 8)
    assert layout.accelerators == 72
    assert not any(p.part.kind == "cdu" for p in layout.placed)


def test_published_rack_mass_within_5_percent(published):
    assert published.mass.total_kg == pytest.approx(PUBLISHED_MASS_KG, rel=0.05)


def test_spine_counts_links_and_cables(published):
    (spine,) = published.cables
    assert (spine.links, spine.cables) == (PUBLISHED_LINKS, PUBLISHED_CABLES)


def test_spine_copper_length_near_published_miles(published):
    # The run lengths come from the slot positions and the scenario's routing allowances, so
    # only a loose agreement is expected: within 10% of the 1.86 miles reported.
    (spine,) = published.cables
    assert spine.total_length_m == pytest.approx(PUBLISHED_CABLE_M, rel=0.10)
    assert spine.mass_kg is not None and spine.mass_kg > 0
