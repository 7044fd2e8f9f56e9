"""The ramp LP on cases whose answer is known by hand.

Common case: 2026Q3 to 2027Q4 (6 quarters), one quarter from shipment to energized, racks of
100 kW IT at PUE 1.25, so 125 kW of facility power and 8 racks per MW.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackforge.deploy.demand import DeployedRack, racks_wanted
from rackforge.deploy.plan_inputs import factory_capacity, plan_inputs
from rackforge.deploy.ramp import plan_ramp
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec

RACK = DeployedRack(None, None, accelerators=72, it_power_w=100e3, price_usd=3e6)
ECON = EconomicsSpec(pue=1.25, integration_usd_per_rack=0.0, facility_capex_usd_per_mw=10e6)
BIG_SITE = [{"name": "big", "power_w": {"2026Q3": "1 GW"}}]


def ramp(target_w=None, **plan):
    data = {"start": "2026Q3", "end": "2027Q4", "commissioning_quarters": 1,
            "factory": {"racks_per_week": 10}, "sites": BIG_SITE} | plan
    spec = PlanSpec.model_validate(data | {"target_w": target_w})
    inp = plan_inputs(spec, racks_wanted(spec, RACK, ECON.pue), ECON)
    return inp, plan_ramp(inp)


def column(result, name):
    return np.array([getattr(q, name) for q in result.quarters])


def assert_limits_hold(inp, result):
    built, shipped = column(result, "racks_built"), column(result, "racks_shipped")
    assert np.all(built <= inp.factory_racks + 1e-6)
    assert np.all(np.cumsum(shipped) <= np.cumsum(built) + 1e-6)
    for p in range(len(inp.parts)):
        assert np.all(np.cumsum(built) * inp.units_per_rack[p] <= inp.supply_cum[p] + 1e-6)
    online_w = column(result, "facility_power_online_w")
    # site_power_w[:, t] is the power of the quarter racks shipped in t are energized in
    site_w = inp.site_power_w.sum(axis=0)[: inp.n_quarters - inp.lag]
    assert np.all(online_w[inp.lag:] <= site_w + 1e-3)


def test_factory_bound_ramp():
    inp, r = ramp()
    # 10 racks/week x 13 weeks = 130 racks a quarter, energized one quarter later
    assert column(r, "racks_built") == pytest.approx([130] * 6)
    assert column(r, "racks_energized") == pytest.approx([0, 130, 130, 130, 130, 130])
    assert r.final.racks_online == pytest.approx(650)
    assert r.final.accelerators_online == pytest.approx(650 * 72)
    assert r.final.it_power_online_w == pytest.approx(65e6)
    assert r.final.facility_power_online_w == pytest.approx(81.25e6)
    assert r.quarters[0].binding_family == "commissioning"
    assert [q.binding for q in r.quarters[1:3]] == ["factory-output-upper[2026Q3]",
                                                   "factory-output-upper[2026Q4]"]
    assert {q.binding_family for q in r.quarters[1:]} == {"factory"}
    assert r.quarters[0].rack_capex_usd == pytest.approx(130 * 3e6)
    assert r.quarters[1].facility_capex_usd == pytest.approx(13e6 * 10)  # 13 MW IT x 10 M/MW
    assert "factory-output-upper[2026Q3]" in r.duals
    assert_limits_hold(inp, r)


def test_site_power_bound_ramp():
    site = [{"name": "tx", "power_w": {"2026Q3": "25 MW", "2027Q1": "50 MW", "2027Q3": "100 MW"}}]
    inp, r = ramp(factory={"racks_per_week": 100}, sites=site)
    # 25 / 50 / 100 MW hold 200 / 400 / 800 racks of 125 kW; built just in time
    assert column(r, "racks_online") == pytest.approx([0, 200, 400, 400, 800, 800])
    assert column(r, "racks_built") == pytest.approx([200, 200, 0, 400, 0, 0], abs=1e-6)
    assert r.quarters[1].binding == "site-power-upper[tx,2026Q4]"
    assert {q.binding_family for q in r.quarters[1:]} == {"site"}
    assert column(r, "site_power_w") == pytest.approx([25e6, 25e6, 50e6, 50e6, 100e6, 100e6])
    assert r.racks_online_by_site["tx"] == pytest.approx([0, 200, 400, 400, 800, 800])
    assert r.capex_usd == pytest.approx(800 * 3e6 + 800 * 0.1 * 10e6)   # racks + facility
    assert_limits_hold(inp, r)


def test_supply_bound_ramp_uses_stock():
    supply = [{"part": "gpu", "units_per_rack": 72, "per_quarter": 7200, "initial_stock": 3600}]
    inp, r = ramp(factory={"racks_per_week": 100}, supply=supply)
    # 50 racks of stock, then 100 racks of GPUs a quarter
    assert column(r, "racks_built") == pytest.approx([150, 100, 100, 100, 100, 100])
    assert r.quarters[1].binding == "supply-units-upper[gpu,2026Q3]"
    assert {q.binding_family for q in r.quarters[1:]} == {"supply"}
    assert_limits_hold(inp, r)


def test_factory_ramp_up():
    cap = factory_capacity(np.full(4, 10.0), np.ones(4), ramp_quarters=2, start_fraction=0.5)
    assert cap == pytest.approx([65.0, 97.5, 130.0, 130.0])
    # a second line from the third quarter ramps on its own: 130 + 65, 130 + 97.5
    cap = factory_capacity(np.full(5, 10.0), np.array([1, 1, 2, 2, 2]), 2, 0.5)
    assert cap == pytest.approx([65.0, 97.5, 195.0, 227.5, 260.0])
    cap = factory_capacity(np.full(3, 10.0), np.array([2, 2, 1]), 0, 1.0)
    assert cap == pytest.approx([260.0, 260.0, 130.0])
    inp, r = ramp(factory={"racks_per_week": {"2026Q3": 10, "2027Q2": 20}})
    assert inp.factory_racks == pytest.approx([130, 130, 130, 260, 260, 260])


def test_target_reached_exactly_when_inputs_allow():
    _, r = ramp(target_w=81.25e6)          # the most 650 racks can give
    assert r.target_reached and r.target_quarter == r.final.quarter and r.growth == ()
    _, r = ramp(target_w=100e6)            # 800 racks: 23.1 % more factory output
    assert r.target_reached is False
    (g,) = r.growth
    assert g.limit == "factory-output-upper"
    assert g.relative == pytest.approx(800 / 650 - 1)
    assert g.peak_racks_per_week == pytest.approx(10 * (800 / 650 - 1))
    _, grown = ramp(target_w=100e6, factory={"racks_per_week": 10 * 800 / 650})
    assert grown.target_reached
    _, short = ramp(target_w=100e6, factory={"racks_per_week": 10 * 800 / 650 * 0.999})
    assert not short.target_reached


def test_site_growth_when_power_is_short():
    site = [{"name": "tx", "power_w": {"2026Q3": "50 MW"}}]
    _, r = ramp(target_w=60e6, factory={"racks_per_week": 100}, sites=site)
    assert r.final.facility_power_online_w == pytest.approx(50e6)
    (g,) = r.growth
    assert g.limit == "site-power-upper" and g.unit == "W" and list(g.by_subject) == ["tx"]
    assert g.extra == pytest.approx(10e6)
    assert g.relative == pytest.approx(0.2)


def test_min_cost_builds_just_in_time():
    inp, r = ramp(target_w=50e6, objective="min-cost")   # 400 racks by 2027Q4
    assert r.target_reached
    assert column(r, "racks_built") == pytest.approx([0, 10, 130, 130, 130, 0], abs=1e-6)
    assert r.final.racks_online == pytest.approx(400)
    assert_limits_hold(inp, r)


def test_target_on_it_basis():
    _, r = ramp(target_w=65e6, target_basis="it")
    assert r.target_reached
    _, r = ramp(target_w=66e6, target_basis="it")
    assert not r.target_reached


@settings(max_examples=25, deadline=None)
@given(rate=st.lists(st.floats(0, 50), min_size=6, max_size=6),
       power=st.lists(st.floats(0, 200), min_size=6, max_size=6),
       supply=st.lists(st.floats(0, 20000), min_size=6, max_size=6),
       lag=st.integers(0, 2))
def test_every_limit_holds(rate, power, supply, lag):
    quarters = ["2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4"]
    inp, r = ramp(commissioning_quarters=lag,
                  factory={"racks_per_week": dict(zip(quarters, rate, strict=True))},
                  sites=[{"name": "s", "power_w": {q: p * 1e6 for q, p in zip(
                      quarters, np.maximum.accumulate(power), strict=True)}}],
                  supply=[{"part": "gpu", "units_per_rack": 72,
                           "per_quarter": dict(zip(quarters, supply, strict=True))}])
    assert_limits_hold(inp, r)


def test_reported_growth_is_exactly_enough():
    """GPUs for 100 racks a quarter and a 50 MW site; 75 MW (600 racks) by 2027Q4 needs 20 %
    more GPUs (600 racks built by 2027Q3 against 500) and 25 MW more power."""
    def case(gpus_per_quarter, site_w):
        return ramp(target_w=75e6, factory={"racks_per_week": 100},
                    supply=[{"part": "gpu", "units_per_rack": 72,
                             "per_quarter": gpus_per_quarter}],
                    sites=[{"name": "tx", "power_w": {"2026Q3": site_w}}])[1]

    r = case(7200, 50e6)
    supply, site = r.growth
    assert supply.limit == "supply-units-upper[gpu]"
    assert supply.relative == pytest.approx(0.2)
    assert site.extra == pytest.approx(25e6)
    assert case(7200 * (1 + supply.relative), 50e6 + site.extra).target_reached
    assert not case(7200 * (1 + supply.relative) * 0.999, 50e6 + site.extra).target_reached
    assert not case(7200 * (1 + supply.relative), 50e6 + site.extra * 0.999).target_reached
