"""The shipped catalog (rackforge/catalog/data/*.yaml): it loads, every part is cited, the
parts other modules rely on exist, and a few figures match the documents they cite.

Spot values are checked against the figure printed in the cited source, so a tolerance is only
used where the catalog stores a table that must be interpolated (coolant properties).
"""

from __future__ import annotations

import math

import pytest

from rackforge.catalog import load_catalog
from rackforge.catalog.models import Coolant, PartBase

REQUIRED_ACCELERATORS = ("a100-sxm-80gb", "h100-sxm-80gb", "h200-sxm-141gb", "b200-sxm-180gb",
                         "gb200", "gb300", "mi300x", "mi355x", "custom-xpu")

REQUIRED_BY_KIND = {
    "tray": ("gb200-nvl72-compute-tray", "nvl72-nvlink-switch-tray", "gb300-nvl72-compute-tray",
             "hgx-h100-8-server", "hgx-b200-8-server", "switch-51t-64x800g",
             "switch-102t-64x1600g", "mgmt-switch-1u"),
    "power_shelf": ("orv3-power-shelf-18kw", "orv3-hpr-power-shelf-33kw", "mgx-power-shelf-33kw"),
    "bbu": ("orv3-bbu-shelf-18kw", "orv3-hpr-bbu-shelf-33kw"),
    "busbar": ("orv3-busbar-48v", "orv3-hpr-busbar", "mgx-nvl72-busbar"),
    "power_rack": ("nvidia-800vdc-power-rack", "mt-diablo-400vdc-power-rack"),
    "coolant": ("water", "pg25"),
    "cdu": ("inrack-cdu-250kw", "row-cdu-2300kw"),
    "rear_door": ("rdhx-passive-35kw", "rdhx-active-75kw"),
    "loop_limits": ("tcs-cold-plate",),
    "cable": ("dac-50g-lane", "dac-100g-lane", "dac-200g-lane", "aec-800g", "optic-800g-dr8",
              "optic-800g-2xfr4", "lpo-800g-dr8", "optic-1600g-dr8",
              "nvlink5-copper-spine-link"),
    "rack": ("orv3-rack", "orv3-hpr-rack", "eia-19in-42u", "eia-19in-48u", "mgx-nvl72-rack"),
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def _parts(catalog) -> list[PartBase]:
    return list(catalog)


def test_catalog_loads(catalog):
    assert len(catalog) >= sum(len(ids) for ids in REQUIRED_BY_KIND.values())


def test_every_part_and_field_source_is_cited(catalog):
    for part in _parts(catalog):
        for source in (part.source, *part.field_sources.values()):
            assert len(source.title) >= 3, part.id
            assert len(source.publisher) >= 2, part.id
            assert 1990 <= source.year <= 2030, part.id


def test_uncertain_parts_say_why(catalog):
    # An approximate or invented part must carry a note saying what is uncertain.
    for part in _parts(catalog):
        if part.approximate or part.example:
            assert part.notes, f"{part.id} is approximate/example without notes"


@pytest.mark.parametrize("part_id", REQUIRED_ACCELERATORS)
def test_required_accelerators_exist(catalog, part_id):
    assert catalog.get(part_id).kind == "accelerator"


@pytest.mark.parametrize("kind", sorted(REQUIRED_BY_KIND))
def test_required_parts_of_each_kind_exist(catalog, kind):
    ids = {p.id for p in catalog.of_kind(kind)}
    assert set(REQUIRED_BY_KIND[kind]) <= ids


def test_tray_accelerators_resolve_to_catalog_accelerators(catalog):
    for tray in catalog.of_kind("tray"):
        if tray.accelerator is not None:
            assert catalog.get(tray.accelerator).kind == "accelerator", tray.id
            assert tray.accelerators > 0, tray.id


def test_liquid_cooled_trays_state_a_coolant_limit(catalog):
    for tray in catalog.of_kind("tray"):
        if tray.liquid_cooled_fraction > 0:
            assert tray.max_coolant_supply_c is not None, tray.id


def test_hpr_power_shelf_is_six_by_5_5_kw(catalog):
    # ORv3 HPR deck (OCP 2024): "PSU Shelf ... 33kW (6*5.5kW PSUs)".
    shelf = catalog.get("orv3-hpr-power-shelf-33kw")
    assert (shelf.psu_count, shelf.psu_power_w) == (6, 5500.0)
    assert shelf.capacity_w == pytest.approx(33_000.0)
    assert "High Power Rack" in shelf.source_of("psu_power_w").title


def test_orv3_shelf_and_bbu_figures(catalog):
    # Same deck: ORv3 PSU shelf 18 kW (6 x 3 kW); BBU shelves 18 kW / 33 kW for 90 s.
    assert catalog.get("orv3-power-shelf-18kw").capacity_w == pytest.approx(18_000.0)
    bbus = (("orv3-bbu-shelf-18kw", 18_000.0), ("orv3-hpr-bbu-shelf-33kw", 33_000.0))
    for part_id, power_w in bbus:
        bbu = catalog.get(part_id)
        assert (bbu.power_w, bbu.holdup_s) == (power_w, 90.0)


def test_dgx_b200_figures(catalog):
    # NVIDIA DGX B200 User Guide: 10U, 142.4 kg max, 14.3 kW max.
    server = catalog.get("hgx-b200-8-server")
    assert (server.rack_units, server.mass_kg, server.max_power_w) == (10, 142.4, 14_300.0)
    assert server.accelerators * catalog.get(server.accelerator).hbm_bytes == pytest.approx(1.44e12)


def test_orv3_frame_figures(catalog):
    # Meta ORv3 frame spec (OCP 2022): 2286 H x 600 W x 1098 D mm, 44 OU, 1400 kg payload.
    rack = catalog.get("orv3-rack")
    assert (rack.height_m, rack.width_m, rack.depth_m) == pytest.approx((2.286, 0.6, 1.098))
    assert (rack.usable_units, rack.payload_kg) == (44, 1400.0)
    assert rack.unit_height_m == pytest.approx(0.048)


def test_800g_dr8_link_power_is_two_17_w_transceivers(catalog):
    link = catalog.get("optic-800g-dr8")
    assert link.gbps == pytest.approx(800.0)
    assert link.power_w == pytest.approx(2 * 17.0)


def _interpolate(coolant: Coolant, temp_c: float, attr: str) -> float:
    points = coolant.properties
    for lo, hi in zip(points, points[1:], strict=False):
        if lo.temp_c <= temp_c <= hi.temp_c:
            w = (temp_c - lo.temp_c) / (hi.temp_c - lo.temp_c)
            return (1 - w) * getattr(lo, attr) + w * getattr(hi, attr)
    raise ValueError(f"{temp_c} degC outside the table of {coolant.id}")


def test_pg25_at_25c_matches_ashrae_figures(catalog):
    # ASHRAE Fundamentals PG tables, 25 % by volume, 25 degC: cp 3.92 kJ/(kg K), 1021.5 kg/m3.
    # The catalog stores 20 and 30 degC points; linear interpolation between them must land
    # within 1 % (the curvature of cp(T) over 10 K is far below that).
    pg25 = catalog.get("pg25")
    cp = _interpolate(pg25, 25.0, "specific_heat_j_per_kg_k")
    rho = _interpolate(pg25, 25.0, "density_kg_per_m3")
    assert math.isclose(cp, 3920.0, rel_tol=0.01)
    assert math.isclose(rho, 1021.5, rel_tol=0.01)
    assert pg25.freezing_point_c < -5.0


def test_water_at_25c(catalog):
    # IAPWS-95 at 25 degC, 1 atm: cp 4181 J/(kg K), 997.0 kg/m3.
    water = catalog.get("water")
    cp = _interpolate(water, 25.0, "specific_heat_j_per_kg_k")
    assert math.isclose(cp, 4181.0, rel_tol=0.002)
    assert math.isclose(_interpolate(water, 25.0, "density_kg_per_m3"), 997.0, rel_tol=0.001)


def test_facts_check_120_kw_at_10_k_in_pg25_is_about_180_l_per_min(catalog):
    # FACTS.md check: 120 kW at 10 K in PG25 is about 3.06 kg/s, about 180 L/min.
    pg25 = catalog.get("pg25")
    cp = _interpolate(pg25, 30.0, "specific_heat_j_per_kg_k")
    rho = _interpolate(pg25, 30.0, "density_kg_per_m3")
    mass_flow = 120_000.0 / (cp * 10.0)
    assert mass_flow == pytest.approx(3.06, rel=0.02)
    assert mass_flow / rho * 60_000.0 == pytest.approx(180.0, rel=0.02)


def test_loop_limits_are_consistent(catalog):
    limits = catalog.get("tcs-cold-plate")
    assert limits.min_supply_c < limits.max_supply_c < limits.max_return_c
    assert limits.min_flow_lpm_per_kw <= 1.5 <= limits.max_flow_lpm_per_kw


def _nvlink_ports(tray) -> int:
    return sum(p.count for p in tray.ports if p.name.startswith("NVLink"))


def test_nvl72_nvlink_ports_balance(catalog):
    # 18 compute trays x 4 GPUs x 18 links = 9 switch trays x 144 ports (NVIDIA GB200 NVL72).
    compute = catalog.get("gb200-nvl72-compute-tray")
    switch = catalog.get("nvl72-nvlink-switch-tray")
    assert 18 * _nvlink_ports(compute) == 9 * _nvlink_ports(switch) == 72 * 18
    per_gpu_gbps = _nvlink_ports(compute) / compute.accelerators * 400.0
    scaleup = catalog.get(compute.accelerator).scaleup_bandwidth_bytes_per_s
    assert per_gpu_gbps * 1e9 / 8 == pytest.approx(scaleup)  # 900 GB/s per direction


def test_nvl72_rack_built_from_catalog_parts_matches_public_totals(catalog):
    # About 120 kW and 1.36 t per GB200 NVL72 rack (NVIDIA / press, 2024): 18 compute trays,
    # 9 switch trays and 8 shelves in the MGX rack (NVIDIA's rack has no in-rack CDU; the
    # frame mass stands in for busbar, manifolds and spine) should land near both.
    get = catalog.get
    compute, switch = get("gb200-nvl72-compute-tray"), get("nvl72-nvlink-switch-tray")
    power = 18 * compute.max_power_w + 9 * switch.max_power_w
    mass = (18 * compute.mass_kg + 9 * switch.mass_kg + 8 * get("mgx-power-shelf-33kw").mass_kg
            + get("mgx-nvl72-rack").mass_kg)
    assert power == pytest.approx(120_000.0, rel=0.05)
    assert mass == pytest.approx(1360.0, rel=0.10)
