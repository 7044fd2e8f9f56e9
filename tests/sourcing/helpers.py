"""Small sourcing instances built by hand, and a brute-force solver to check the MIP against."""

from __future__ import annotations

import itertools
import math
from datetime import date

import numpy as np
import pytest

from rackforge.calendar import add_quarters
from rackforge.sourcing.model import order_cost, part_reference_cost
from rackforge.sourcing.problem import ProblemInputs, Settings, SourcingProblem, make_problem
from rackforge.sourcing.solve import PlanOptions, SourcingResult, plan_sourcing
from rackforge.sourcing.spec import SupplierOffer

Q0 = date(2027, 1, 1)


def offer(supplier: str, part: str, price: float, origin: str = "US", capacity: int = 10,
          **kw) -> SupplierOffer:
    """An offer with defaults: no lead time, no minimum, no freight."""
    kw.setdefault("lead_time_weeks", 0)
    return SupplierOffer(supplier=supplier, part=part, unit_price_usd=price,
                         country_of_origin=origin, capacity_per_quarter=capacity, **kw)


def problem(offers: list[SupplierOffer], racks: list[int], floor: float = 0.0,
            counts: dict[str, float] | None = None, **kw) -> SourcingProblem:
    """Parts needed once per rack (or `counts`), `racks` built per quarter from Q0."""
    quarters = [add_quarters(Q0, i) for i in range(len(racks))]
    counts = counts or {o.part: 1.0 for o in offers}
    inputs = ProblemInputs(offers, counts, dict(zip(quarters, racks, strict=True)), quarters,
                           kw.pop("tariffs", {}), kw.pop("max_share", {}))
    settings = Settings(kw.pop("rule", "far25"), {2027: floor, 2028: floor},
                        kw.pop("holding", 0.02), kw.pop("risk_penalty", 0.0))
    return make_problem(inputs, settings, kw.pop("start", Q0))


def brute_force(p: SourcingProblem) -> float:
    """Least cost over every integer order vector within capacity (inf if none is feasible).

    Mirrors the model's definition of feasibility and cost independently of it: stock never
    negative, minimum orders, domestic floor per year, supplier share caps; cost = landed x
    (1 + risk penalty x risk) per unit + holding rate x cheapest landed cost per unit-quarter.
    """
    o_idx, t_idx = np.nonzero(p.allowed)
    caps = p.offers.capacity[o_idx, t_idx]
    grid = np.array(list(itertools.product(*[range(c + 1) for c in caps])), float)
    grid = grid.reshape(len(grid), len(o_idx))
    n_p, n_t = p.demand.shape
    part = p.offers.part[o_idx]
    supply = np.zeros((len(grid), n_p, n_t))
    for j in range(len(o_idx)):
        supply[:, part[j], t_idx[j]] += grid[:, j]
    stock = np.cumsum(supply - p.demand[None], axis=2)
    ok = (stock >= -1e-9).all(axis=(1, 2))
    minimum = p.offers.min_order_units[o_idx]
    ok &= ((grid == 0) | (grid >= minimum) | (minimum <= 1)).all(axis=1)
    landed, weight = p.offers.landed_usd[o_idx], p.domestic_weight[o_idx]
    for year in set(p.years.tolist()):
        in_year = p.years[t_idx] == year
        floor = p.floor_of_year(year)
        ok &= (grid[:, in_year] * ((weight - floor) * landed)[in_year]).sum(axis=1) >= -1e-6
    for k in range(len(p.offers)):
        share = p.max_share[p.offers.part[k]]
        if share < 1:
            mine = grid[:, o_idx == k].sum(axis=1)
            ok &= mine <= share * grid[:, part == p.offers.part[k]].sum(axis=1) + 1e-9
    hold = p.settings.holding_rate_per_quarter * part_reference_cost(p)
    cost = grid @ order_cost(p)[o_idx] + (stock * hold[None, :, None]).sum(axis=(1, 2))
    return float(cost[ok].min()) if ok.any() else float("inf")


def solved_like_brute_force(p: SourcingProblem, best: float) -> SourcingResult:
    """Solve `p` to a tight gap and check it against the exhaustive optimum `best` (infinite:
    infeasible); the plan is returned for further checks."""
    result = plan_sourcing(p, PlanOptions(mip_gap=1e-9, duals=False, explain=False))
    if math.isinf(best):
        assert result.status == "infeasible"
    else:
        assert result.status == "optimal"
        assert result.cost.total_usd == pytest.approx(best, rel=1e-7, abs=1e-6)
    return result
