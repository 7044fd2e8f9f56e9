"""Infeasible instances are explained by the right limit, with the amount a hand calculation
gives; duals of binding constraints match hand-derived shadow prices."""

from __future__ import annotations

import pytest

from rackforge.calendar import add_quarters
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from tests.sourcing.helpers import Q0, offer, problem

OPTIONS = PlanOptions(mip_gap=1e-9)


def test_floor_that_cannot_be_met_must_give_by_20_points():
    # Demand 10; US capacity 4 at 100, MX 20 at 100; floor 60 %: the best share is 400/1000.
    p = problem([offer("us", "x", 100, capacity=4), offer("mx", "x", 100, "MX", 20)], [10],
                floor=0.6)
    result = plan_sourcing(p, OPTIONS)
    assert result.status == "infeasible"
    ex = result.explanation
    assert ex.main == "domestic_floor"
    (floor,) = [r for r in ex.relaxations if r.kind == "domestic_floor"]
    assert floor.subject == "2027" and floor.unit == "pp"
    assert floor.amount == pytest.approx(20.0)
    assert "domestic-content floor must give" in ex.summary


def test_capacity_short_by_3_units_names_the_cheaper_supplier():
    # Demand 10 in one quarter, capacities 4 (at 100) + 3 (at 120): 3 units beyond capacity.
    p = problem([offer("a", "x", 100, capacity=4), offer("b", "x", 120, "MX", 3)], [10])
    result = plan_sourcing(p, OPTIONS)
    ex = result.explanation
    assert result.status == "infeasible" and ex.main == "capacity"
    (cap,) = ex.relaxations
    assert (cap.subject, cap.amount, cap.unit) == ("a x 2027Q1", 3.0, "units")
    assert "beyond its capacity of 4" in cap.message


def test_lead_time_past_the_need_date_slips_the_need_date():
    # 5 units needed in 2027Q1; the only supplier quotes 13 weeks and orders start in 2027Q1,
    # so they arrive in 2027Q2: 5 unit-quarters late, none missing at the end.
    p = problem([offer("a", "x", 100, lead_time_weeks=13)], [5, 0])
    result = plan_sourcing(p, OPTIONS)
    ex = result.explanation
    assert result.status == "infeasible" and ex.main == "need_date"
    (late,) = ex.relaxations
    assert (late.kind, late.amount, late.unit) == ("need_date", 5.0, "unit-quarters")
    assert result.plan[0].quarter == add_quarters(Q0, 1)
    assert result.shortfall_units == 0


def test_capacity_shadow_price_is_the_price_difference():
    # Demand 10: A (100, capacity 6) then B (150): one more unit of A's capacity saves 50.
    p = problem([offer("a", "x", 100, capacity=6), offer("b", "x", 150, "MX")], [10])
    result = plan_sourcing(p, OPTIONS)
    (cap,) = [b for b in result.binding if b.constraint == "offer-capacity-upper"]
    assert cap.subject == "a x 2027Q1"
    assert cap.shadow_price_usd == pytest.approx(-50.0)
    assert cap.bound == 6 and cap.activity == pytest.approx(6)
    assert [(a.supplier, a.quantity, a.capacity) for a in result.at_capacity] == [("a", 6, 6)]


def test_floor_shadow_price_by_hand():
    # US 120, CN 80 + 25 % duty = 100 landed; demand 10; floor 50 %. Row: 60 u - 50 (10 - u)
    # >= b, so u = (b + 500) / 110 and cost = 1000 + 20 u: d cost / d b = 20 / 110.
    p = problem([offer("us", "x", 120), offer("cn", "x", 80, "CN")], [10], floor=0.5,
                tariffs={"CN": 0.25})
    result = plan_sourcing(p, OPTIONS)
    (floor,) = [b for b in result.binding if b.constraint == "year-domestic_floor-lower"]
    assert floor.shadow_price_usd == pytest.approx(20 / 110)
    assert "1 pp costs about" in floor.note
