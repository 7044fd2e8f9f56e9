"""Solving the sourcing MIP: LP bound, relax-and-round incumbent, then branch-and-cut if needed.

Balance and capacity rows alone form a network (totally unimodular) matrix, so the LP
relaxation is nearly integral: only the domestic-floor and supplier-share rows make a few
quantities fractional. The pipeline is therefore

1. LP relaxation -> a lower bound on cost [USD];
2. fix each order-made binary, open where the LP orders at least the minimum order (else
   closed: its units move to other offers), and re-solve the LP with the floor and share rows
   tightened by the most that rounding up can cost them (floor rows where the LP buys);
3. round the quantities up (inventory absorbs the surplus) -> an integer-feasible plan;
4. if that fails, or costs more than the gap above the LP bound, try again opening every order
   the LP makes at all, and tightening every floor row; keep the cheapest plan;
5. if its cost is within the gap of the LP bound, stop: the gap is proven by the LP bound;
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
    """The cheapest integer-feasible plan rounded from the LP solution `x_lp` (module
    docstring, steps 2-4), or None if rounding fails."""
    has_made = cols.made >= 0
    pooled = np.bincount(cols.pool_row, weights=x_lp[cols.order],
                         minlength=len(cols.pool_offer))[cols.pool_row[has_made]]
    best, best_cost = None, np.inf
    bound = float(arrays.cost @ x_lp)
    for opened, scope in ((pooled >= cols.order_minimum[has_made] - TOL, "bought"),
                          (pooled > TOL, "bought"), (pooled > TOL, "all")):
        x = _round_with(model, cols, arrays, x_lp, opened, scope, solver, options)
        if x is not None and float(arrays.cost @ x) < best_cost:
            best, best_cost = x, float(arrays.cost @ x)
        if best is not None and (best_cost - bound) <= options.mip_gap * max(abs(best_cost),
                                                                             1e-9):
            break
    return best


def _round_with(model: LinearModel, cols: Columns, arrays: Arrays, x_lp: np.ndarray,
                opened: np.ndarray, scope: str, solver: Solver, options: SolveOptions
                ) -> np.ndarray | None:
    """One rounding: order-made binaries fixed at `opened` (per order column with one), floor
    rows tightened where the LP buys (`scope` "bought") or all of them ("all")."""
    made = cols.made[cols.made >= 0]
    x = x_lp.copy()
    x[made] = opened.astype(float)
    fix = np.zeros(len(x), bool)
    fix[made] = True
    tight = _tightened(model, fixed_relaxation(arrays, x, fix), cols,
                       _bought(arrays, x_lp) if scope == "bought" else None)
    lp2 = solver.solve(tight, options)
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


def _bought(arrays: Arrays, x: np.ndarray) -> np.ndarray:
    """Per row, whether `x` has a non-zero entry in it (a floor row whose year has purchases)."""
    cols = np.repeat(np.arange(len(arrays.cost)), np.diff(arrays.start))
    size = np.bincount(arrays.index, weights=np.abs(arrays.value * x[cols]),
                       minlength=len(arrays.row_lower))
    return size > TOL


def _feasible(arrays: Arrays, x: np.ndarray) -> bool:
    return violation(arrays, x) <= 1e-9


def _trim_surplus(cols: Columns, x: np.ndarray) -> np.ndarray:
    """Take back units that rounding up left in stock at the end, latest orders first.

    An order is cut only as far as the stock of every later quarter allows, and so that its
    pool's order in that quarter goes either to zero (its order-made binary then 0) or not below
    its minimum. One pass per part with surplus.
    """
    stock = x[cols.inventory]
    pooled = np.bincount(cols.pool_row, weights=x[cols.order], minlength=len(cols.pool_offer))
    for p in np.nonzero(stock[:, -1] > 0.5)[0]:
        js = np.nonzero(cols.order_part == p)[0]
        for j in js[np.argsort(-cols.order_quarter[js], kind="stable")]:
            t, qty, r = cols.order_quarter[j], x[cols.order[j]], cols.pool_row[j]
            room = np.floor(stock[p, t:].min() + TOL)
            rest = pooled[r] - qty          # the pool's other orders that quarter
            if room >= qty and (rest < 0.5 or rest >= cols.order_minimum[j]):
                cut = qty
            else:
                cut = min(room, qty, pooled[r] - cols.order_minimum[j])
            if cut >= 1:
                x[cols.order[j]] -= cut
                stock[p, t:] -= cut
                pooled[r] -= cut
                if cols.made[j] >= 0 and pooled[r] < 0.5:
                    x[cols.made[j]] = 0.0
    return x


def _tightened(model: LinearModel, arrays: Arrays, cols: Columns,
               bought: np.ndarray | None = None) -> Arrays:
    """Floor and share rows tightened by what rounding up a few quantities can cost them; only
    the floor rows `bought` marks, when given (rows without purchases stay as they are)."""
    lower, upper = arrays.row_lower.copy(), arrays.row_upper.copy()
    n_fractional = 2 + len(model.rows["offer-supplier_share-upper"].index)
    floor = model.rows["year-domestic_floor-lower"]
    if floor.stop > floor.start:
        negative = np.minimum(arrays.value, 0.0)
        worst = np.zeros(len(lower))
        np.minimum.at(worst, arrays.index, negative)
        rows = floor.index if bought is None else floor.index[bought[floor.index]]
        lower[rows] = -worst[rows] * n_fractional
    share = model.rows["offer-supplier_share-upper"].index
    # rounding up adds < 1 unit per order column: per quarter, per design sharing the pool
    per_pool = np.bincount(cols.pool_row, minlength=len(cols.pool_offer)).max(initial=1)
    upper[share] = -float(cols.inventory.shape[1] * per_pool)
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
    x[list(cols.floor_slack.values())] = 0.0
    act = row_activity(arrays, x)
    cap_rows = model.rows["offer-capacity-upper"].index  # one per pool row, same order
    x[cols.capacity_slack] = np.maximum(act[cap_rows] - arrays.row_upper[cap_rows], 0.0)
    floor = model.rows["year-domestic_floor-lower"]
    for row, design, year in zip(floor.index, floor.keys["design"], floor.keys["year"],
                                 strict=True):
        x[cols.floor_slack[(int(design), int(year))]] = max(arrays.row_lower[row] - act[row],
                                                            0.0)
