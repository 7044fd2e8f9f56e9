"""The optimizer's cost equals brute-force enumeration on small instances."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rackforge.sourcing.mip import violation
from rackforge.sourcing.model import build_model
from rackforge.sourcing.problem import random_problem
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from tests.sourcing.helpers import brute_force, offer, problem, solved_like_brute_force

EXACT = PlanOptions(mip_gap=1e-9, duals=False, explain=False)


def test_cheapest_supplier_then_the_next():
    # Demand 6 + 6; A (100, cap 4) then B (130); holding 2 % of 100 per unit-quarter.
    # Best: A 4 + B 2 in each quarter = 2 x (400 + 260) = 1320.
    p = problem([offer("a", "x", 100, capacity=4), offer("b", "x", 130, "MX")], [6, 6])
    result = plan_sourcing(p, EXACT)
    assert result.cost.total_usd == pytest.approx(1320.0)
    assert brute_force(p) == pytest.approx(1320.0)


def test_floor_forces_dearer_domestic_units():
    # Demand 10; US 120, CN 100 (+25 % duty = 125 landed, so US is cheaper anyway) -> all US.
    # With CN at 80 (+25 % = 100 landed): floor 50 % needs 120 u >= 0.5 (120 u + 100 (10 - u)),
    # u >= 50/11 = 4.55 -> u = 5: cost 5 x 120 + 5 x 100 = 1100.
    p = problem([offer("us", "x", 120), offer("cn", "x", 80, "CN")], [10], floor=0.5,
                tariffs={"CN": 0.25})
    result = plan_sourcing(p, EXACT)
    assert result.cost.total_usd == pytest.approx(1100.0)
    assert result.share_by_year[0].share == pytest.approx(600 / 1100)


@st.composite
def small_problems(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    n_parts = int(rng.integers(1, 3))
    offers = []
    for k in range(int(rng.integers(n_parts, 5))):
        part = f"p{k % n_parts}"
        offers.append(offer(
            f"s{k}", part, float(rng.integers(5, 20)), str(rng.choice(["US", "CN", "MX"])),
            int(rng.integers(1, 4)), lead_time_weeks=float(rng.choice([0, 0, 13, 26])),
            min_order_units=int(rng.choice([0, 0, 2])), risk=float(rng.choice([0, 0.5]))))
    return problem(offers, [int(v) for v in rng.integers(0, 3, 2)],
                   floor=float(rng.choice([0.0, 0.3, 0.6])),
                   tariffs={"CN": float(rng.choice([0, 0.25]))},
                   max_share={"p0": float(rng.choice([1.0, 0.6]))},
                   risk_penalty=float(rng.choice([0, 0.1])),
                   start=date(2026, 10, 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_matches_brute_force(p):
    solved_like_brute_force(p, brute_force(p))


def test_rounding_heuristic_plan_is_feasible_and_within_gap():
    p = random_problem(20, 8, 5, seed=7)
    model, _ = build_model(p)
    result = plan_sourcing(p, PlanOptions(mip_gap=0.005, duals=False))
    assert result.status == "optimal" and result.gap <= 0.005
    assert result.lp_bound_usd <= result.objective_usd
    exact = plan_sourcing(p, PlanOptions(mip_gap=1e-6, duals=False, time_limit_s=30))
    assert result.objective_usd <= exact.objective_usd * 1.005
    assert violation(model.arrays(), _x_of(p, result)) == 0.0


def _x_of(p, result):
    """Rebuild the solution vector of `result` to check it against the model's rows."""
    model, cols = build_model(p)
    x = np.zeros(model.n_cols)
    key = {(str(p.offers.supplier[k]), p.parts[p.offers.part[k]]): k for k in range(len(p.offers))}
    where = {(o, t): j for j, (o, t) in enumerate(zip(cols.order_offer, cols.order_quarter,
                                                      strict=True))}
    supply = np.zeros(p.demand.shape)
    for line in result.plan:
        k, t = key[(line.supplier, line.part)], p.quarters.index(line.quarter)
        x[cols.order[where[(k, t)]]] = line.quantity
        supply[p.offers.part[k], t] += line.quantity
        if cols.made[where[(k, t)]] >= 0:
            x[cols.made[where[(k, t)]]] = 1.0
    x[cols.inventory] = np.cumsum(supply - p.demand, axis=1)
    return x


def test_plan_invariants_on_a_random_instance():
    """Deliveries cover demand cumulatively, floors and share caps hold, capacity is kept."""
    p = random_problem(60, 15, 8, seed=11)
    p = type(p)(**{**p.__dict__, "max_share": np.where(np.arange(60) % 5 == 0, 0.7, 1.0)})
    result = plan_sourcing(p, PlanOptions(duals=False))
    supply = np.zeros(p.demand.shape)
    units: dict[tuple[str, str], int] = {}
    for line in result.plan:
        t = p.quarters.index(line.quarter)
        supply[p.parts.index(line.part), t] += line.quantity
        units[(line.part, line.supplier)] = units.get((line.part, line.supplier), 0) + \
            line.quantity
    assert (np.cumsum(supply, axis=1) >= np.cumsum(p.demand, axis=1)).all()
    assert all(y.share >= y.floor - 1e-9 for y in result.share_by_year if y.share is not None)
    for (part, _), n in units.items():
        i = p.parts.index(part)
        assert n <= p.max_share[i] * supply[i].sum() + 1e-9
    assert all(a.quantity <= a.capacity for a in result.at_capacity)
