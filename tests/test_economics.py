"""TCO, cost per accelerator-hour and per token against hand calculations."""

from __future__ import annotations

import pytest

from rackforge.economics import (
    CAPEX_FILE,
    EconomicsSpec,
    PerfPoint,
    RackCost,
    capital_recovery_factor,
    defaults,
    facility_table,
    provenance,
    tco,
    token_economics,
)
from rackforge.inputs import read_yaml

# Round numbers so every figure below can be checked by hand.
SPEC = EconomicsSpec(energy_price_usd_per_kwh=0.10, pue=1.25, facility_capex_usd_per_mw=10e6,
                     facility_life_years=20, depreciation_years=5, cost_of_capital_per_year=0.0,
                     maintenance_fraction_per_year=0.05, integration_usd_per_rack=100_000,
                     utilization=0.8, idle_power_fraction=0.5,
                     scaleout_network_usd_per_gpu=8_000, frontend_network_usd_per_gpu=2_000,
                     storage_usd_per_gpu=1_000, grid_interconnect_usd_per_mw=500_000,
                     land_usd_per_acre=200_000, land_acres_per_mw=2.5)
RACK = RackCost(accelerators=10, price_usd=1_000_000, it_power_w=100_000)


def test_tco_matches_hand_calculation():
    t = tco(RACK, SPEC)
    assert t.rack_capex_usd == pytest.approx(1_100_000)        # 1.0 M + 0.1 M integration
    assert t.network_capex_usd == pytest.approx(100_000)       # 10 GPUs x (8,000 + 2,000)
    assert t.storage_capex_usd == pytest.approx(10_000)        # 10 GPUs x 1,000
    assert t.it_capex_usd == pytest.approx(1_210_000)
    assert t.facility_capex_usd == pytest.approx(1_000_000)    # 0.1 MW x 10 M/MW
    # 0.1 MW x (0.5 M/MW grid + 2.5 acres/MW x 0.2 M/acre land) = 0.1 x 1.0 M
    assert t.site_capex_usd == pytest.approx(100_000)
    assert t.capex_usd == pytest.approx(2_310_000)
    # 1.21 M / 5 + (1.0 M + 0.1 M) / 20 = 242,000 + 55,000
    assert t.annual_capex_usd == pytest.approx(297_000)
    # load 0.5 + 0.5 x 0.8 = 0.9; 100 kW x 0.9 x 1.25 x 8760 h = 985,500 kWh
    assert t.energy_kwh_per_year == pytest.approx(985_500)
    assert t.annual_energy_usd == pytest.approx(98_550)
    assert t.annual_maintenance_usd == pytest.approx(60_500)   # 5 % of 1.21 M
    assert t.annual_cost_usd == pytest.approx(456_050)         # 297,000 + 98,550 + 60,500
    assert t.accelerator_hours_per_year == pytest.approx(70_080)  # 10 x 8760 x 0.8
    assert t.cost_per_accelerator_hour_usd == pytest.approx(456_050 / 70_080)  # 6.50756


def test_cost_and_energy_per_token():
    t = tco(RACK, SPEC)
    te = token_economics(t, PerfPoint(tokens_per_s_per_gpu=1000, power_per_gpu_w=10_000), SPEC)
    # 6.50756 USD per GPU-hour / 3.6 M tokens per GPU-hour
    assert te.cost_per_mtok_usd == pytest.approx(6.507563 / 3.6, rel=1e-6)
    # 10 kW x 1.25 / 1000 tok/s = 12.5 J per token -> 12.5 MJ = 3.472 kWh per Mtok
    assert te.energy_per_mtok_kwh == pytest.approx(12.5e6 / 3.6e6)
    assert te.tokens_per_s_per_kw == pytest.approx(100.0)
    assert te.tokens_per_usd == pytest.approx(1e6 / te.cost_per_mtok_usd)


def test_capital_recovery_factor():
    assert capital_recovery_factor(0.0, 4) == pytest.approx(0.25)
    assert capital_recovery_factor(0.08, 5) == pytest.approx(0.25046, abs=1e-5)  # A/P table
    t = tco(RACK, SPEC.model_copy(update={"cost_of_capital_per_year": 0.08}))
    expected = 1_210_000 * 0.2504565 + 1_100_000 * capital_recovery_factor(0.08, 20)
    assert t.annual_capex_usd == pytest.approx(expected, rel=1e-6)


def test_defaults_cite_a_source_or_say_example():
    for section in defaults().values():
        for name, a in section.items():
            assert a.example or a.source is not None, name
    origins = {p["name"]: p["origin"] for p in provenance(EconomicsSpec(pue=1.1))}
    assert origins["pue"] == "scenario"
    assert "Energy Information Administration" in origins["energy_price_usd_per_kwh"]
    assert "Cushman" in origins["facility_capex_usd_per_mw"]
    assert origins["utilization"] == "example"


def test_facility_cost_follows_tier_and_cooling():
    """Unless stated, the facility cost per MW is capex.yaml's for the tier and cooling; the
    economics.yaml default is that of tier 3, liquid."""
    assert facility_table() == {(3, "air"): 11.7e6, (3, "liquid"): 12.7e6,
                                (4, "air"): 14.6e6, (4, "liquid"): 15.9e6}
    assert EconomicsSpec().facility_capex_usd_per_mw == 12.7e6
    assert defaults()["economics"]["facility_capex_usd_per_mw"].value == 12.7e6
    assert EconomicsSpec(facility_tier=4).facility_capex_usd_per_mw == 15.9e6
    assert EconomicsSpec(cooling="air").facility_capex_usd_per_mw == 11.7e6
    stated = EconomicsSpec(facility_tier=4, facility_capex_usd_per_mw=9e6)
    assert stated.facility_capex_usd_per_mw == 9e6
    origins = {p["name"]: p["origin"] for p in provenance(EconomicsSpec(facility_tier=4))}
    assert origins["facility_capex_usd_per_mw"] == \
        "deploy/data/capex.yaml facility-tier4-liquid (assumption)"
    assert "facility_tier" not in origins and "cooling" not in origins


def test_new_defaults_are_capex_yaml_figures():
    """The network, storage, grid and land defaults repeat capex.yaml's items, with sources."""
    items = {i["id"]: i for i in read_yaml(CAPEX_FILE)["items"]}
    spec = EconomicsSpec()
    assert spec.scaleout_network_usd_per_gpu == items["scale-out-network"]["usd_per_gpu"]
    assert spec.frontend_network_usd_per_gpu == items["front-end-network"]["usd_per_gpu"]
    assert spec.storage_usd_per_gpu == items["storage"]["usd_per_gpu"]
    assert spec.grid_interconnect_usd_per_mw == \
        items["grid-interconnect-substation"]["usd_per_mw"]
    assert spec.land_usd_per_acre == items["land-price"]["usd_per_acre"]
    assert spec.land_acres_per_mw == items["land-area"]["acres_per_mw"]
    assert spec.network_usd_per_gpu == 10_700                  # 8,200 + 2,500
    assert spec.site_capex_usd_per_mw == pytest.approx(787_200)  # 470,000 + 1.3 x 244,000
