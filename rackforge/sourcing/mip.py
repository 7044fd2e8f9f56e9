"""Solving the sourcing MIP: LP bound, relax-and-round incumbent, then branch-and-cut if needed.

Balance and capacity rows alone form a network (totally unimodular) matrix, so the LP
relaxation is nearly integral: only the domestic-floor and supplier-share rows make a few
quantities fractional. The pipeline is therefore

1. LP relaxation -> a lower bound on cost [USD];
2. fix each order-made binary to 1 where the LP orders anything and re-solve the LP with the
   floor and share rows tightened by the most that rounding up can cost them;
3. round the quantities up (inventory absorbs the surplus) -> an integer-feasible plan;
4. if its cost is within the gap of the LP bound, stop: the gap is proven by the LP bound;
   otherwise hand the plan to the MIP solver as a starting solution.

This is the classic relax-and-fix / rounding heuristic of lot-sizing MIPs [1]_.

References
----------
.. [1] Pochet, Y., Wolsey, L. A. "Production Planning by Mixed Integer Programming",
   Springer (2006), ch. 3 (relax-and-fix and rounding heuristics).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from rackforge.highs import Arrays, LinearModel, Solution, SolveOptions
from rackforge.sourcing.model import Columns
from rackforge.sourcing.solver import Solver, fixed_relaxation

TOL = 1e-6


@dataclass(frozen=True)
class MipRun:
    """A MIP solution and how it was found; `lp_bound` is a valid lower bound [USD]."""

    solution: Solution
    lp_bound: float
    method: str  # "lp-rounding" (gap proven by the LP bound) or the solver's name
    build_s: float = 0.0


def row_activity(arrays: Arrays, x: np.ndarray) -> np.ndarray:
    """A x for CSC `arrays`."""
    cols = np.repeat(np.arange(len(arrays.cost)), np.diff(arrays.start))
    return np.bincount(arrays.index, weights=arrays.value * x[cols],
                       minlength=len(arrays.row_lower))


def violation(arrays: Arrays, x: np.ndarray) -> float:
    """Largest violation of a row, bound or integrality by `x`, 0 when feasible [-].

    A row's violation is relative to its size, 1 + sum |a_ij x_j| (floor rows are in USD,
    balance rows in units); bounds and integrality are absolute.
    """
    act = row_activity(arrays, x)
    cols = np.repeat(np.arange(len(arrays.cost)), np.diff(arrays.start))
    size = 1.0 + np.bincount(arrays.index, weights=np.abs(arrays.value * x[cols]),
                             minlength=len(arrays.row_lower))
    parts = [(arrays.row_lower - act) / size, (act - arrays.row_upper) / size,
             arrays.col_lower - x, x - arrays.col_upper,
             np.abs(x - np.round(x)) * arrays.integer]
    return float(max(np.max(p, initial=0.0) for p in parts))


def solve_mip(model: LinearModel, cols: Columns, solver: Solver,
              options: SolveOptions) -> MipRun:
    """Solve the model to `options.mip_gap`; see the module docstring for the steps."""
    began = time.perf_counter()
    arrays = model.arrays()
    relaxed = replace(arrays, integer=np.zeros_like(arrays.integer))
    lp = solver.solve(relaxed, options)
    if lp.status != "optimal" or not arrays.integer.any():
        return MipRun(lp, lp.objective, solver.name)
    start = _round(model, cols, arrays, lp.x, solver, options)
    if start is not None:
        cost = float(arrays.cost @ start)
        gap = (cost - lp.objective) / max(abs(cost), 1e-9)
        if gap <= options.mip_gap:
            sol = Solution("optimal", start, cost, lp.objective, max(gap, 0.0),
                           row_activity(arrays, start), None, time.perf_counter() - began)
            return MipRun(sol, lp.objective, "lp-rounding")
    left = max(options.time_limit_s - (time.perf_counter() - began), 1.0)
    mip = solver.solve(arrays, replace(options, time_limit_s=left, start=start))
    bound = max(mip.bound, lp.objective) if mip.has_solution else lp.objective
    return MipRun(replace(mip, solve_s=time.perf_counter() - began), bound, solver.name)


def _round(model: LinearModel, cols: Columns, arrays: Arrays, x_lp: np.ndarray,
           solver: Solver, options: SolveOptions) -> np.ndarray | None:
    """An integer-feasible plan from the LP solution `x_lp`, or None if rounding fails."""
    made = cols.made[cols.made >= 0]
    x = x_lp.copy()
    x[made] = (x_lp[cols.order[cols.made >= 0]] > TOL).astype(float)
    fix = np.zeros(len(x), bool)
    fix[made] = True
    lp2 = solver.solve(_tightened(model, fixed_relaxation(arrays, x, fix),
                                        cols.inventory.shape[1]), options)
    if lp2.status != "optimal":
        return None
    x = lp2.x.copy()
    integer = arrays.integer
    x[integer] = np.ceil(x[integer] - TOL)
    x = _settle_continuous(model, cols, arrays, x)
    if not _feasible(arrays, x):
        return None
    trimmed = _settle_continuous(model, cols, arrays, _trim_surplus(cols, x.copy()))
    return trimmed if _feasible(arrays, trimmed) else x


def _feasible(arrays: Arrays, x: np.ndarray) -> bool:
    return violation(arrays, x) <= 1e-9


def _trim_surplus(cols: Columns, x: np.ndarray) -> np.ndarray:
    """Take back units that rounding up left in stock at the end, latest orders first.

    An order is cut only as far as the stock of every later quarter allows, and either to zero
    (its order-made binary then 0) or not below its minimum. One pass per part with surplus.
    """
    stock = x[cols.inventory]
    for p in np.nonzero(stock[:, -1] > 0.5)[0]:
        js = np.nonzero(cols.order_part == p)[0]
        for j in js[np.argsort(-cols.order_quarter[js], kind="stable")]:
            t, qty = cols.order_quarter[j], x[cols.order[j]]
            room = np.floor(stock[p, t:].min() + TOL)
            cut = qty if room >= qty else min(room, qty - cols.order_minimum[j])
            if cut >= 1:
                x[cols.order[j]] -= cut
                stock[p, t:] -= cut
                if cols.made[j] >= 0 and x[cols.order[j]] == 0:
                    x[cols.made[j]] = 0.0
    return x


def _tightened(model: LinearModel, arrays: Arrays, n_quarters: int) -> Arrays:
    """Floor and share rows tightened by what rounding up a few quantities can cost them."""
    lower, upper = arrays.row_lower.copy(), arrays.row_upper.copy()
    n_fractional = 2 + len(model.rows["offer-supplier_share-upper"].index)
    floor = model.rows["year-domestic_floor-lower"]
    if floor.stop > floor.start:
        negative = np.minimum(arrays.value, 0.0)
        worst = np.zeros(len(lower))
        np.minimum.at(worst, arrays.index, negative)
        rows = floor.index
        lower[rows] = -worst[rows] * n_fractional
    share = model.rows["offer-supplier_share-upper"].index
    upper[share] = -float(n_quarters)  # rounding up adds < 1 unit per quarter to an offer
    return replace(arrays, row_lower=lower, row_upper=upper)


def _settle_continuous(model: LinearModel, cols: Columns, arrays: Arrays,
                       x: np.ndarray) -> np.ndarray:
    """Recompute inventory (and backlog) so every part balance holds after rounding."""
    n_p, n_t = cols.inventory.shape
    demand = arrays.row_lower[model.rows["part-balance-equal"].index].reshape(n_p, n_t)
    supply = np.zeros((n_p, n_t))
    np.add.at(supply, (cols.order_part, cols.order_quarter), x[cols.order])
    net = np.cumsum(supply - demand, axis=1)
    x[cols.inventory] = np.maximum(net, 0.0)
    if cols.backlog is not None:
        x[cols.backlog] = np.maximum(-net, 0.0)
        _settle_slacks(model, cols, arrays, x)
    return x


def _settle_slacks(model: LinearModel, cols: Columns, arrays: Arrays, x: np.ndarray) -> None:
    """Elastic version: set capacity and floor slacks to exactly what the rounded plan needs."""
    x[cols.capacity_slack] = 0.0
    years = sorted(cols.floor_slack)
    x[[cols.floor_slack[y] for y in years]] = 0.0
    act = row_activity(arrays, x)
    cap_rows = model.rows["offer-capacity-upper"].index  # one per order column, same order
    x[cols.capacity_slack] = np.maximum(act[cap_rows] - arrays.row_upper[cap_rows], 0.0)
    floor = model.rows["year-domestic_floor-lower"]
    for row, year in zip(floor.index, floor.keys["year"], strict=True):
        x[cols.floor_slack[int(year)]] = max(arrays.row_lower[row] - act[row], 0.0)
