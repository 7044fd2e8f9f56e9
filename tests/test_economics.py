"""TCO, cost per accelerator-hour and per token against hand calculations."""

from __future__ import annotations

import pytest

from rackforge.economics import (
    EconomicsSpec,
    PerfPoint,
    RackCost,
    capital_recovery_factor,
    defaults,
    provenance,
    tco,
    token_economics,
)

# Round numbers so every figure below can be checked by hand.
SPEC = EconomicsSpec(energy_price_usd_per_kwh=0.10, pue=1.25, facility_capex_usd_per_mw=10e6,
                     facility_life_years=20, depreciation_years=5, cost_of_capital_per_year=0.0,
                     maintenance_fraction_per_year=0.05, integration_usd_per_rack=100_000,
                     utilization=0.8, idle_power_fraction=0.5)
RACK = RackCost(accelerators=10, price_usd=1_000_000, it_power_w=100_000)


def test_tco_matches_hand_calculation():
    t = tco(RACK, SPEC)
    assert t.rack_capex_usd == pytest.approx(1_100_000)        # 1.0 M + 0.1 M integration
    assert t.facility_capex_usd == pytest.approx(1_000_000)    # 0.1 MW x 10 M/MW
    assert t.annual_capex_usd == pytest.approx(220_000 + 50_000)  # 1.1 M / 5 + 1.0 M / 20
    # load 0.5 + 0.5 x 0.8 = 0.9; 100 kW x 0.9 x 1.25 x 8760 h = 985,500 kWh
    assert t.energy_kwh_per_year == pytest.approx(985_500)
    assert t.annual_energy_usd == pytest.approx(98_550)
    assert t.annual_maintenance_usd == pytest.approx(55_000)
    assert t.annual_cost_usd == pytest.approx(423_550)
    assert t.accelerator_hours_per_year == pytest.approx(70_080)  # 10 x 8760 x 0.8
    assert t.cost_per_accelerator_hour_usd == pytest.approx(423_550 / 70_080)  # 6.0438


def test_cost_and_energy_per_token():
    t = tco(RACK, SPEC)
    te = token_economics(t, PerfPoint(tokens_per_s_per_gpu=1000, power_per_gpu_w=10_000), SPEC)
    # 6.0438 USD per GPU-hour / 3.6 M tokens per GPU-hour
    assert te.cost_per_mtok_usd == pytest.approx(6.043807 / 3.6, rel=1e-6)
    # 10 kW x 1.25 / 1000 tok/s = 12.5 J per token -> 12.5 MJ = 3.472 kWh per Mtok
    assert te.energy_per_mtok_kwh == pytest.approx(12.5e6 / 3.6e6)
    assert te.tokens_per_s_per_kw == pytest.approx(100.0)
    assert te.tokens_per_usd == pytest.approx(1e6 / te.cost_per_mtok_usd)


def test_capital_recovery_factor():
    assert capital_recovery_factor(0.0, 4) == pytest.approx(0.25)
    assert capital_recovery_factor(0.08, 5) == pytest.approx(0.25046, abs=1e-5)  # A/P table
    t = tco(RACK, SPEC.model_copy(update={"cost_of_capital_per_year": 0.08}))
    expected = 1_100_000 * 0.2504565 + 1_000_000 * capital_recovery_factor(0.08, 20)
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
