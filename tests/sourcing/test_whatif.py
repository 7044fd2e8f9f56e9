"""What-ifs: a lost supplier raises cost or reports a shortfall; tariff and demand changes move
cost by the hand-calculated amount."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rackforge.calendar import add_quarters
from rackforge.sourcing.problem import ProblemInputs, Settings
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from rackforge.sourcing.spec import SupplierOutage, WhatIfSpec
from rackforge.sourcing.whatif import SourcingCase, apply_what_if, run_what_if
from tests.sourcing.helpers import Q0, offer

OPTIONS = PlanOptions(mip_gap=1e-9)
QUARTERS = [Q0, add_quarters(Q0, 1)]


def _case(offers, racks=(10, 10), tariffs=None, floor=0.0) -> SourcingCase:
    inputs = ProblemInputs(offers, {"x": 1.0}, dict(zip(QUARTERS, racks, strict=True)),
                           QUARTERS, tariffs or {})
    return SourcingCase(inputs, Settings("far25", {2027: floor}, 0.0, 0.0), Q0)


def test_losing_the_cheap_supplier_raises_cost():
    # 10 + 10 units; A at 100 (capacity 10), B at 130. Losing A in 2027Q2 moves 10 units to B.
    case = _case([offer("a", "x", 100), offer("b", "x", 130, "MX")])
    lost = WhatIfSpec(supplier_lost=[SupplierOutage(supplier="a", quarters=["2027Q2"])])
    w = run_what_if(case, "lose-a", lost, OPTIONS)
    assert w.base.cost.total_usd == pytest.approx(2000.0)
    assert w.case.status == "optimal"
    assert w.delta_cost_usd == pytest.approx(300.0)
    assert w.shortfall_units == 0


def test_losing_the_only_supplier_reports_the_shortfall():
    case = _case([offer("a", "x", 100, capacity=20), offer("b", "x", 90, "MX", 4)])
    w = run_what_if(case, "lose-a", WhatIfSpec(supplier_lost=[SupplierOutage(supplier="a")]),
                    OPTIONS)
    assert w.case.status == "infeasible"  # never a silent success
    # b ships 4 a quarter: 12 units beyond its capacity (capacity is cheaper than shortfall).
    assert w.shortfall_units == pytest.approx(12.0)
    assert "supplier capacity must give" in w.summary


def test_tariff_rise_costs_volume_x_price_x_rate():
    # 20 units from Taiwan at 100; duty 0 -> 25 %: +20 x 100 x 0.25 = +500; share unchanged.
    case = _case([offer("tw", "x", 100, "TW", 20)], tariffs={"TW": 0.0})
    w = run_what_if(case, "tw-25", WhatIfSpec(tariffs={"TW": 0.25}), OPTIONS)
    assert w.delta_cost_usd == pytest.approx(500.0)
    assert w.delta_share_by_year == {2027: 0.0}


def test_tariff_rise_can_move_purchases_home():
    # US 110 vs MX 100 + duty. A 20 % duty (landed 120) makes US cheaper: cost 2000 -> 2200,
    # and the domestic share goes from 0 to 100 %.
    case = _case([offer("us", "x", 110, capacity=20), offer("mx", "x", 100, "MX", 20)])
    w = run_what_if(case, "mx-20", WhatIfSpec(tariffs={"MX": 0.2}), OPTIONS)
    assert w.delta_cost_usd == pytest.approx(200.0)
    assert w.delta_share_by_year[2027] == pytest.approx(1.0)


def test_demand_surge():
    # 50 % more racks: 15 + 15 units, 10 a quarter from A at 100, 5 from B at 130: +1300.
    case = _case([offer("a", "x", 100), offer("b", "x", 130, "MX")])
    w = run_what_if(case, "surge", WhatIfSpec(demand_factor=1.5), OPTIONS)
    assert w.delta_cost_usd == pytest.approx(1300.0)


def test_a_base_case_outage_is_honoured_and_what_ifs_add_to_it():
    # A (100, capacity 10) is out in 2027Q2 in the base case itself: 10 units from A in 2027Q1,
    # 10 from B (130) in 2027Q2 -> 1000 + 1300 = 2300.
    case = replace(_case([offer("a", "x", 100), offer("b", "x", 130, "MX")]),
                   outages=(("a", (QUARTERS[1],)),))
    assert plan_sourcing(case.problem(), OPTIONS).cost.total_usd == pytest.approx(2300.0)
    lost = WhatIfSpec(supplier_lost=[SupplierOutage(supplier="b", quarters=["2027Q1"])])
    assert apply_what_if(case, lost).outages == (("a", (QUARTERS[1],)), ("b", (QUARTERS[0],)))
