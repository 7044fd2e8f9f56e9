"""Rack generations, line learning, power-chain items and crews in the ramp LP, on cases whose
answer is worked by hand.

Common case: 2026Q3 to 2027Q4 (6 quarters), one quarter from shipment to energized, a line of
10 racks a week (130 a quarter), PUE 1.25, a 1 GW site.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rackforge.calendar import parse_quarter
from rackforge.deploy.demand import DeployedRack, racks_wanted
from rackforge.deploy.plan_inputs import plan_inputs
from rackforge.deploy.ramp import plan_ramp
from rackforge.deploy.sites import chain_items, chain_limits, pue_table, site_pue
from rackforge.deploy.sites import crews as site_crews
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec
from rackforge.factory.learning import quarterly_time_factor

ECON = EconomicsSpec(pue=1.25, integration_usd_per_rack=0.0, facility_capex_usd_per_mw=10e6)
GW = {"2026Q3": "1 GW"}
BASE = {"start": "2026Q3", "end": "2027Q4", "commissioning_quarters": 1,
        "factory": {"racks_per_week": 10}, "sites": [{"name": "big", "power_w": GW}]}


def rack(gid: str, **keys) -> DeployedRack:
    values = {"accelerators": 72, "it_power_w": 100e3, "price_usd": 3e6} | keys
    return DeployedRack(None, None, id=gid, **values)


def solve(racks, plan=None, **extra):
    spec = PlanSpec.model_validate(BASE | (plan or {}))
    demand = racks_wanted(spec, tuple(racks), ECON.pue)
    inp = plan_inputs(spec, demand, ECON, **extra)
    return inp, plan_ramp(inp)


def built(result, gid):
    return np.array([q.racks_by_system[gid] for q in result.quarters])


def test_wright_learning_matches_numerical_integration():
    # F = 2, 80 % curve: T(n) = max(1, 2 n^log2(0.8)); a quarter of 100 steady units of line
    # time builds N units with integral_0^N T = 100. Integrate T on a fine grid instead.
    b = math.log2(0.8)
    grid = np.linspace(1e-9, 200, 2_000_001)
    cum = np.concatenate([[0.0], np.cumsum(np.maximum(1, 2 * grid[1:] ** b) * np.diff(grid))])
    units = [np.interp(w, cum, grid) for w in (100.0, 200.0)]
    factor = quarterly_time_factor(np.array([100.0, 100.0]), 2.0, 0.8)
    assert factor == pytest.approx([100 / units[0], 100 / (units[1] - units[0])], rel=1e-4)
    assert quarterly_time_factor(np.array([50.0]), 2.0, 1.0) == pytest.approx([1.0])
    assert quarterly_time_factor(np.array([50.0]), 1.0, 0.8) == pytest.approx([1.0])


def test_fixed_mix_splits_the_line_by_its_time():
    # Gen b takes twice the line time of a (a variant at 5 racks a week) and each is half the
    # racks: 130 = x + 2x, so 43.3 racks of each a quarter.
    racks = [rack("a", share=0.5), rack("b", share=0.5, line_variant="slow")]
    _, r = solve(racks, {"mix": "fixed"}, line_racks_per_week=10.0,
                 variant_rates={"slow": 5.0})
    assert built(r, "a") == pytest.approx([130 / 3] * 6, rel=1e-6)
    assert built(r, "b") == pytest.approx([130 / 3] * 6, rel=1e-6)


def test_a_generation_is_built_only_from_its_quarter_with_its_changeover():
    # b from 2027Q1 (index 2) with a 2-week changeover on the one line: 130 - 2 x 10 = 110
    # racks in 2027Q1; the LP prefers b (merit 1 against 0.5 at the same power).
    racks = [rack("a", tokens_per_s_per_gpu=1000.0),
             rack("b", tokens_per_s_per_gpu=2000.0, available=parse_quarter("2027Q1"),
                  changeover_weeks=2.0)]
    inp, r = solve(racks, {"work": {"workload": "llama3-70b"}})
    assert inp.merit == pytest.approx([0.5, 1.0])
    assert built(r, "b")[:2] == pytest.approx([0, 0], abs=1e-9)
    assert built(r, "a") + built(r, "b") == pytest.approx([130, 130, 110, 130, 130, 130])
    assert built(r, "b")[2:] == pytest.approx([110, 130, 130, 130])


def test_cost_per_work_picks_the_better_rack_when_power_binds():
    # 25 MW of facility power holds 200 racks of 100 kW at PUE 1.25, whichever generation;
    # the one with more work per cost fills it.
    site = [{"name": "s", "power_w": {"2026Q3": "25 MW"}}]
    racks = [rack("old", tokens_per_s_per_gpu=1000.0), rack("new", tokens_per_s_per_gpu=1500.0)]
    _, r = solve(racks, {"sites": site, "work": {"workload": "llama3-70b"}})
    assert r.final.online_by_system == pytest.approx({"old": 0.0, "new": 200.0}, abs=1e-6)


def test_power_chain_item_binds_and_says_when_to_order():
    # Transformers of 142.5 MW: 1 unit (ordered 2023Q3, ready 12 quarters later, 2026Q3)
    # holds 1,140 racks of 125 kW facility; the grid would take 8,000.
    site = [{"name": "la-1", "power_w": GW, "equipment": [
        {"item": "substation-transformer", "units": 1, "ordered": "2023Q3"}]}]
    spec = PlanSpec.model_validate(BASE | {"sites": site, "factory": {"racks_per_week": 100}})
    demand = racks_wanted(spec, (rack("a"),), ECON.pue)
    energize = [parse_quarter(q) for q in ("2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4",
                                           "2028Q1")]
    item = chain_items()["substation-transformer"]
    assert item.ready_quarters == 12 and item.unit_capacity_w == 142.5e6
    limits = chain_limits(spec, energize, (1.25,))
    assert limits[0].capacity_w == pytest.approx([142.5e6] * 6)
    r = plan_ramp(plan_inputs(spec, demand, ECON, chain=limits))
    assert r.final.racks_online == pytest.approx(142.5e6 / 125e3)
    chained = [q for q in r.quarters if q.binding_family == "chain"]
    assert chained and chained[0].binding.startswith("site-chain-upper[la-1,substation-")
    # more transformers for 2026Q4 needed ordering 12 quarters before: 2023Q4
    assert "order more by 2023Q4" in chained[0].binding_note


def test_crews_limit_racks_energized_each_quarter():
    # 2 crews of 24 racks a quarter energize 48 racks a quarter at most.
    site = [{"name": "s", "power_w": GW, "crews": 2}]
    spec = PlanSpec.model_validate(BASE | {"sites": site})
    demand = racks_wanted(spec, (rack("a"),), ECON.pue)
    energize = [parse_quarter(q) for q in ("2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4",
                                           "2028Q1")]
    crews = site_crews(spec, energize)
    assert crews == pytest.approx(np.full((1, 6), 2.0))
    r = plan_ramp(plan_inputs(spec, demand, ECON, crews=crews, crew_rate=24.0))
    assert [q.racks_energized for q in r.quarters] == pytest.approx([0] + [48] * 5)
    assert {q.binding_family for q in r.quarters[1:]} == {"crew"}


def test_site_pue_from_plant_and_climate():
    spec = PlanSpec.model_validate(BASE | {"sites": [
        {"name": "s", "power_w": GW, "cooling_plant": "dry_coolers", "climate": "cold"}]})
    assert site_pue(spec.sites[0], 0, 1.25) == pue_table()["dry_coolers"]["cold"]
    spec2 = PlanSpec.model_validate(BASE | {"sites": [{"name": "s", "power_w": GW,
                                                        "pue": 1.4}]})
    assert site_pue(spec2.sites[0], 0, 1.25) == 1.4
