"""The sourcing MIP, built from the problem's tables by one ``define_*`` function per family
on a :class:`rackforge.highs.LinearModel`.

Variables (columns), all in units unless said otherwise:

* ``order[o, t]`` (integer): units of offer o (a supplier's part) delivered in quarter t;
  only where the order can be placed by the need date minus the lead time, after the start.
* ``order_made[o, t]`` (binary): an order is placed; only for offers with a minimum order > 1.
* ``inventory[p, t]``: units of part p held at the end of quarter t.
* elastic version only: ``backlog[p, t]`` (units late at the end of t), ``capacity_slack[o, t]``
  (units above capacity) and ``floor_slack[year]`` (domestic cost short of the floor [USD]).

Constraints, named ``{component}-{family}-{bound}`` as in PyPSA:

* ``part-balance-equal[p, t]``: inventory(t-1) + orders(t) - inventory(t) = demand(t)
  (+ backlog(t) - backlog(t-1) in the elastic version);
* ``offer-capacity-upper[o, t]``: order <= capacity (x order_made where a minimum exists);
* ``offer-min_order-lower[o, t]``: order >= minimum x order_made;
* ``year-domestic_floor-lower[y]``: sum (w - floor) x landed x order >= 0 over year y's orders,
  i.e. domestic cost / total cost >= floor, w the rule's domestic weight (see ``content.py``);
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
    """Index arrays of the decision variables, with the (offer, quarter) or (part, quarter) keys."""

    order: np.ndarray
    order_offer: np.ndarray
    order_quarter: np.ndarray
    order_part: np.ndarray
    order_minimum: np.ndarray  # smallest non-zero order [units], 0 where no minimum
    made: np.ndarray  # column of order_made per order column, -1 where none
    inventory: np.ndarray  # (parts, quarters)
    backlog: np.ndarray | None = None  # (parts, quarters), elastic only
    capacity_slack: np.ndarray | None = None  # per order column, elastic only
    floor_slack: dict[int, int] | None = None  # year -> column, elastic only


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


def define_orders(m: LinearModel, problem: SourcingProblem, elastic: bool) -> Columns:
    """Order columns where lead time allows, order-made binaries, inventory and slacks."""
    o_idx, t_idx = np.nonzero(problem.allowed)
    offers = problem.offers
    # Capacity is a row, not a bound, so that its dual price is reported.
    x = m.add_columns("order", order_cost(problem)[o_idx], (0.0, INF), True,
                      offer=o_idx, quarter=t_idx)
    has_min = offers.min_order_units[o_idx] > 1
    made = np.full(len(o_idx), -1, np.int64)
    made[has_min] = m.add_columns("order_made", np.zeros(has_min.sum()), (0.0, 1.0), True,
                                  offer=o_idx[has_min], quarter=t_idx[has_min])
    n_p, n_t = problem.demand.shape
    hold = problem.settings.holding_rate_per_quarter * part_reference_cost(problem)
    p_grid, t_grid = np.indices((n_p, n_t))
    inv = m.add_columns("inventory", np.repeat(hold, n_t), (0.0, INF), False,
                        part=p_grid.ravel(), quarter=t_grid.ravel()).reshape(n_p, n_t)
    minimum = np.where(has_min, offers.min_order_units[o_idx], 0).astype(float)
    cols = Columns(x, o_idx, t_idx, offers.part[o_idx], minimum, made, inv)
    return _define_slacks(m, problem, cols) if elastic else cols


def _define_slacks(m: LinearModel, problem: SourcingProblem, cols: Columns) -> Columns:
    n_p, n_t = problem.demand.shape
    dear = part_reference_cost(problem, "max")
    late = np.repeat(PENALTY["late_per_quarter"] * dear, n_t).reshape(n_p, n_t)
    late[:, -1] = PENALTY["short"] * dear
    p_grid, t_grid = np.indices((n_p, n_t))
    backlog = m.add_columns("backlog", late.ravel(), (0.0, INF), False, part=p_grid.ravel(),
                            quarter=t_grid.ravel()).reshape(n_p, n_t)
    landed = problem.offers.landed_usd[cols.order_offer]
    cap_slack = m.add_columns("capacity_slack", PENALTY["capacity"] * landed, (0.0, INF), False,
                              offer=cols.order_offer, quarter=cols.order_quarter)
    years = np.unique(problem.years)
    floor = m.add_columns("floor_slack", np.full(len(years), PENALTY["floor_per_usd"]),
                          (0.0, INF), False, year=years)
    return replace(cols, backlog=backlog, capacity_slack=cap_slack,
                   floor_slack=dict(zip(years.tolist(), floor.tolist(), strict=True)))


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
    """``offer-capacity-upper[o, t]``: order - capacity x made (- slack) <= 0 (or <= capacity)."""
    cap = problem.offers.capacity[cols.order_offer, cols.order_quarter].astype(float)
    has_made = cols.made >= 0
    rows = m.add_rows("offer-capacity-upper", -INF, np.where(has_made, 0.0, cap), len(cap),
                      offer=cols.order_offer, quarter=cols.order_quarter)
    m.add_terms(rows, cols.order, 1.0)
    m.add_terms(rows[has_made], cols.made[has_made], -cap[has_made])
    if cols.capacity_slack is not None:
        m.add_terms(rows, cols.capacity_slack, -1.0)


def define_offer_min_order(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``offer-min_order-lower[o, t]``: order - minimum x made >= 0 [units]."""
    has_made = cols.made >= 0
    offer, quarter = cols.order_offer[has_made], cols.order_quarter[has_made]
    minimum = problem.offers.min_order_units[offer].astype(float)
    rows = m.add_rows("offer-min_order-lower", 0.0, INF, len(offer), offer=offer,
                      quarter=quarter)
    m.add_terms(rows, cols.order[has_made], 1.0)
    m.add_terms(rows, cols.made[has_made], -minimum)


def define_domestic_floor(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``year-domestic_floor-lower[y]``: sum (w - floor_y) x landed x order >= 0 [USD]."""
    years = problem.years[cols.order_quarter]
    floors = {y: problem.floor_of_year(int(y)) for y in np.unique(problem.years)}
    active = np.array(sorted(y for y, f in floors.items() if f > 0), np.int64)
    rows = m.add_rows("year-domestic_floor-lower", 0.0, INF, len(active), year=active)
    row_of = dict(zip(active.tolist(), rows.tolist(), strict=True))
    use = np.isin(years, active)
    offer = cols.order_offer[use]
    floor = np.array([floors[y] for y in years[use]])
    coef = (problem.domestic_weight[offer] - floor) * problem.offers.landed_usd[offer]
    m.add_terms([row_of[int(y)] for y in years[use]], cols.order[use], coef)
    if cols.floor_slack is not None:
        m.add_terms(rows, [cols.floor_slack[int(y)] for y in active], 1.0)


def define_supplier_share(m: LinearModel, problem: SourcingProblem, cols: Columns) -> None:
    """``offer-supplier_share-upper[o]``: orders of o - share x orders of its part <= 0."""
    capped = np.nonzero(problem.max_share < 1.0)[0]
    offer_part = problem.offers.part
    offers = np.nonzero(np.isin(offer_part, capped))[0]
    rows = m.add_rows("offer-supplier_share-upper", -INF, 0.0, len(offers), offer=offers)
    row_of = np.full(len(offer_part), -1)
    row_of[offers] = rows
    col_part = offer_part[cols.order_offer]
    for o, r in zip(offers, rows, strict=True):  # few critical parts: a loop over rows is fine
        same = col_part == offer_part[o]
        share = problem.max_share[offer_part[o]]
        m.add_terms(np.full(same.sum(), r), cols.order[same],
                    np.where(cols.order_offer[same] == o, 1.0 - share, -share))


def build_model(problem: SourcingProblem, elastic: bool = False) -> tuple[LinearModel, Columns]:
    """The whole model: columns, then each family of constraints."""
    m = LinearModel()
    cols = define_orders(m, problem, elastic)
    for define in (define_part_balance, define_offer_capacity, define_offer_min_order,
                   define_domestic_floor, define_supplier_share):
        define(m, problem, cols)
    return m, cols
