"""The sourcing MIP, built from the problem's tables by one ``define_*`` function per family
on a :class:`rackforge.highs.LinearModel`.

Variables (columns), all in units unless said otherwise:

* ``order[o, t]`` (integer): units of offer o (a supplier's part) delivered in quarter t;
  only where the order can be placed by the need date minus the lead time, after the start.
* ``order_made[o, t]`` (binary): an order is placed; only for offers with a minimum order > 1
  (one per pool of offers sharing capacity, see :mod:`rackforge.sourcing.problem`).
* ``inventory[p, t]``: units of part p held at the end of quarter t.
* elastic version only: ``backlog[p, t]`` (units late at the end of t), ``capacity_slack[o, t]``
  (units above capacity) and ``floor_slack[design, year]`` (domestic cost short of the floor
  [USD]).

Constraints, named ``{component}-{family}-{bound}`` as in PyPSA:

* ``part-balance-equal[p, t]``: inventory(t-1) + orders(t) - inventory(t) = demand(t)
  (+ backlog(t) - backlog(t-1) in the elastic version);
* ``offer-capacity-upper[o, t]``: order <= capacity (x order_made where a minimum exists);
* ``offer-min_order-lower[o, t]``: order >= minimum x order_made;
* ``year-domestic_floor-lower[d, y]``: sum (w - floor) x landed x order >= 0 over design d's
  orders delivered in year y, i.e. domestic cost / total cost >= floor, w the rule's domestic
  weight (see ``content.py``); one design: one row per year;
* ``offer-supplier_share-upper[o]``: orders of o <= max share x all orders of its part, over the
  horizon (dual sourcing of critical parts).

Objective [USD]: landed cost (price + freight + duty) x (1 + risk penalty x risk score) per unit
ordered, plus holding rate x the part's cheapest landed cost per unit held per quarter, plus the
slack penalties (:data:`PENALTY`) in the elastic version. Capacity is a row rather than a column
bound so that its dual price is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rackforge.highs import INF, LinearModel
from rackforge.sourcing.problem import SourcingProblem

# Penalties of the elastic version [-]: capacity per unit as a multiple of the offer's landed cost,
# lateness and shortfall per unit as multiples of the part's dearest landed cost, the floor per USD
# of domestic cost missing. Exceeding a capacity costs more than a quarter of delay, a unit never
# delivered costs most; missing the floor costs half what buying the same USD above a domestic
# capacity would, so a floor that cannot be met is reported as the floor, not as capacity.
PENALTY = {"capacity": 10.0, "late_per_quarter": 2.5, "short": 20.0, "floor_per_usd": 5.0}


@dataclass(frozen=True)
class Columns:
    """Index arrays of the decision variables, with the (offer, quarter) or (part, quarter) keys.

    Offers sharing capacity (a pool, see :mod:`rackforge.sourcing.problem`) share one capacity
    row, one order-made binary and one minimum order per quarter: a *pool row* (one per order
    column when every pool is one offer).
    """

    order: np.ndarray
    order_offer: np.ndarray
    order_quarter: np.ndarray
    order_part: np.ndarray
    order_minimum: np.ndarray  # smallest non-zero order of its pool [units], 0 where no minimum
    made: np.ndarray  # column of order_made per order column, -1 where none
    inventory: np.ndarray  # (parts, quarters)
    backlog: np.ndarray | None = None  # (parts, quarters), elastic only
    capacity_slack: np.ndarray | None = None  # per pool row, elastic only
    floor_slack: dict[tuple[int, int], int] | None = None  # (design, year) -> column, elastic
    pool_row: np.ndarray | None = None  # per order column, its pool row
    pool_offer: np.ndarray | None = None  # per pool row, an offer of the pool (the first)
    pool_quarter: np.ndarray | None = None  # per pool row, its quarter

    @property
    def row_made(self) -> np.ndarray:
        """Per pool row, its order_made column (-1 where the pool has no minimum)."""
        out = np.full(len(self.pool_offer), -1, np.int64)
        out[self.pool_row] = self.made
        return out


def order_cost(problem: SourcingProblem) -> np.ndarray:
    """Objective coefficient of one unit of each offer [USD]: landed x (1 + penalty x risk)."""
    o = problem.offers
    return o.landed_usd * (1.0 + problem.settings.risk_penalty * o.risk)


def part_reference_cost(problem: SourcingProblem, how: str = "min") -> np.ndarray:
    """Cheapest (or dearest) landed cost of each part over its offers [USD]."""
    out = np.full(len(problem.parts), np.inf if how == "min" else 0.0)
    fn = np.minimum if how == "min" else np.maximum
    fn.at(out, problem.offers.part, problem.offers.landed_usd)
    return np.where(np.isfinite(out), out, 0.0)


def floor_rows(problem: SourcingProblem) -> list[tuple[int, int]]:
    """``(design, year)`` of each domestic-floor row: every year with a floor above 0, for every
    design with something to buy (with several designs)."""
    years = [int(y) for y in np.unique(problem.years) if problem.floor_of_year(int(y)) > 0]
    n_designs = max(len(problem.designs), 1)
    wanted = np.bincount(problem.item_design, weights=problem.demand.sum(axis=1),
                         minlength=n_designs)
    designs = [d for d in range(n_designs) if not problem.several or wanted[d] > 0]
    return [(d, y) for d in designs for y in years]


def define_orders(m: LinearModel, problem: SourcingProblem, elastic: bool) -> Columns:
    """Order columns where lead time allows, order-made binaries (one per pool row with a
    minimum order), inventory and slacks."""
    o_idx, t_idx = np.nonzero(problem.allowed)
    offers = problem.offers
    n_p, n_t = problem.demand.shape
    # Capacity is a row, not a bound, so that its dual price is reported.
    x = m.add_columns("order", order_cost(problem)[o_idx], (0.0, INF), True,
                      offer=o_idx, quarter=t_idx)
    key = offers.pools[o_idx] * n_t + t_idx
    unique, first, pool_row = np.unique(key, return_index=True, return_inverse=True)
    pool_row = pool_row.ravel()
    pool_offer, pool_quarter = o_idx[first], t_idx[first]
    has_min = offers.min_order_units[pool_offer] > 1
    row_made = np.full(len(unique), -1, np.int64)
    row_made[has_min] = m.add_columns("order_made", np.zeros(has_min.sum()), (0.0, 1.0), True,
                                      offer=pool_offer[has_min], quarter=pool_quarter[has_min])
    made = row_made[pool_row]
    hold = problem.settings.holding_rate_per_quarter * part_reference_cost(problem)
    p_grid, t_grid = np.indices((n_p, n_t))
    inv = m.add_columns("inventory", np.repeat(hold, n_t), (0.0, INF), False,
                        part=p_grid.ravel(), quarter=t_grid.ravel()).reshape(n_p, n_t)
    minimum = np.where(made >= 0, offers.min_order_units[o_idx], 0).astype(float)
    cols = Columns(x, o_idx, t_idx, offers.part[o_idx], minimum, made, inv,
                   pool_row=pool_row, pool_offer=pool_offer, pool_quarter=pool_quarter)
    return _define_slacks(m, problem, cols) if elastic else cols


def _define_slacks(m: LinearModel, problem: SourcingProblem, cols: Columns) -> Columns:
    n_p, n_t = problem.demand.shape
    dear = part_reference_cost(problem, "max")
    late = np.repeat(PENALTY["late_per_quarter"] * dear, n_t).reshape(n_p, n_t)
    late[:, -1] = PENALTY["short"] * dear
    p_grid, t_grid = np.indices((n_p, n_t))
    backlog = m.add_columns("backlog", late.ravel(), (0.0, INF), False, part=p_grid.ravel(),
                            quarter=t_grid.ravel()).reshape(n_p, n_t)
    landed = problem.offers.landed_usd[cols.pool_offer]
    cap_slack = m.add_columns("capacity_slack", PENALTY["capacity"] * landed, (0.0, INF), False,
                              offer=cols.pool_offer, quarter=cols.pool_quarter)
    pairs = floor_rows(problem)
    floor = m.add_columns("floor_slack", np.full(len(pairs), PENALTY["floor_per_usd"]),
                          (0.0, INF), False, design=np.array([d for d, _ in pairs], np.int64),
                          year=np.array([y for _, y in pairs], np.int64))
    return replace(cols, backlog=backlog, capacity_slack=cap_slack,
                   floor_slack=dict(zip(pairs, floor.tolist(), strict=True)))


def define_part_balance(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``part-balance-equal[p, t]``: stock in + deliveries - stock out = demand [units]."""
    n_p, n_t = problem.demand.shape
    p_grid, t_grid = np.indices((n_p, n_t))
    rows = m.add_rows("part-balance-equal", problem.demand.ravel(), problem.demand.ravel(),
                      n_p * n_t, part=p_grid.ravel(), quarter=t_grid.ravel()).reshape(n_p, n_t)
    m.add_terms(rows[cols.order_part, cols.order_quarter], cols.order, 1.0)
    m.add_terms(rows, cols.inventory, -1.0)
    m.add_terms(rows[:, 1:], cols.inventory[:, :-1], 1.0)
    if cols.backlog is not None:
        m.add_terms(rows, cols.backlog, 1.0)
        m.add_terms(rows[:, 1:], cols.backlog[:, :-1], -1.0)


def define_offer_capacity(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``offer-capacity-upper[o, t]``: orders of the pool - capacity x made (- slack) <= 0
    (or <= capacity), one row per pool row."""
    cap = problem.offers.capacity[cols.pool_offer, cols.pool_quarter].astype(float)
    row_made = cols.row_made
    has_made = row_made >= 0
    rows = m.add_rows("offer-capacity-upper", -INF, np.where(has_made, 0.0, cap), len(cap),
                      offer=cols.pool_offer, quarter=cols.pool_quarter)
    m.add_terms(rows[cols.pool_row], cols.order, 1.0)
    m.add_terms(rows[has_made], row_made[has_made], -cap[has_made])
    if cols.capacity_slack is not None:
        m.add_terms(rows, cols.capacity_slack, -1.0)


def define_offer_min_order(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``offer-min_order-lower[o, t]``: orders of the pool - minimum x made >= 0 [units]."""
    row_made = cols.row_made
    with_min = np.nonzero(row_made >= 0)[0]
    offer, quarter = cols.pool_offer[with_min], cols.pool_quarter[with_min]
    minimum = problem.offers.min_order_units[offer].astype(float)
    rows = m.add_rows("offer-min_order-lower", 0.0, INF, len(offer), offer=offer,
                      quarter=quarter)
    row_of = np.full(len(row_made), -1, np.int64)
    row_of[with_min] = rows
    member = row_of[cols.pool_row] >= 0
    m.add_terms(row_of[cols.pool_row[member]], cols.order[member], 1.0)
    m.add_terms(rows, row_made[with_min], -minimum)


def define_domestic_floor(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``year-domestic_floor-lower[d, y]``: sum (w - floor_y) x landed x order >= 0 [USD] over
    design d's orders delivered in year y."""
    pairs = floor_rows(problem)
    rows = m.add_rows("year-domestic_floor-lower", 0.0, INF, len(pairs),
                      design=np.array([d for d, _ in pairs], np.int64),
                      year=np.array([y for _, y in pairs], np.int64))
    row_of = dict(zip(pairs, rows.tolist(), strict=True))
    years = problem.years[cols.order_quarter]
    designs = problem.item_design[cols.order_part]
    use = np.array([(int(d), int(y)) in row_of for d, y in zip(designs, years, strict=True)],
                   bool)
    offer = cols.order_offer[use]
    floor = np.array([problem.floor_of_year(int(y)) for y in years[use]])
    coef = (problem.domestic_weight[offer] - floor) * problem.offers.landed_usd[offer]
    m.add_terms([row_of[(int(d), int(y))] for d, y in zip(designs[use], years[use],
                                                          strict=True)], cols.order[use], coef)
    if cols.floor_slack is not None:
        m.add_terms(rows, [cols.floor_slack[pair] for pair in pairs], 1.0)


def define_supplier_share(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``offer-supplier_share-upper[o]``: orders of o's pool - share x all orders of its part
    (for every design) <= 0."""
    offers = problem.offers
    pools = offers.pools
    capped = np.nonzero(problem.max_share[offers.part] < 1.0)[0]   # offer rows of capped parts
    pool_ids, first = np.unique(pools[capped], return_index=True)
    reps = capped[first]
    rows = m.add_rows("offer-supplier_share-upper", -INF, 0.0, len(reps), offer=reps)
    names = np.array(problem.parts, object)
    col_name = names[cols.order_part]
    col_pool = pools[cols.order_offer]
    for r, pool, k in zip(rows, pool_ids, reps, strict=True):  # few critical parts: a loop
        same = col_name == names[offers.part[k]]
        share = problem.max_share[offers.part[k]]
        m.add_terms(np.full(same.sum(), r), cols.order[same],
                    np.where(col_pool[same] == pool, 1.0 - share, -share))


def build_model(problem: SourcingProblem, elastic: bool = False) -> tuple[LinearModel, Columns]:
    """The whole model: columns, then each family of constraints."""
    m = LinearModel()
    cols = define_orders(m, problem, elastic)
    for define in (define_part_balance, define_offer_capacity, define_offer_min_order,
                   define_domestic_floor, define_supplier_share):
        define(m, problem, cols)
    return m, cols
