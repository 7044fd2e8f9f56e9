"""The sourcing MIP, built from the problem's tables by one ``define_*`` function per family.

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

from dataclasses import dataclass, field, replace

import numpy as np

from rackforge.sourcing.problem import SourcingProblem

INF = float("inf")
# Penalties of the elastic version [-]: capacity per unit as a multiple of the offer's landed cost,
# lateness and shortfall per unit as multiples of the part's dearest landed cost, the floor per USD
# of domestic cost missing. Exceeding a capacity costs more than a quarter of delay, a unit never
# delivered costs most; missing the floor costs half what buying the same USD above a domestic
# capacity would, so a floor that cannot be met is reported as the floor, not as capacity.
PENALTY = {"capacity": 10.0, "late_per_quarter": 2.5, "short": 20.0, "floor_per_usd": 5.0}


@dataclass(frozen=True)
class Block:
    """A family of columns or rows: positions [start, stop) and their keys (index arrays)."""

    name: str
    start: int
    stop: int
    keys: dict[str, np.ndarray]

    @property
    def index(self) -> np.ndarray:
        return np.arange(self.start, self.stop)


@dataclass(frozen=True)
class Arrays:
    """A model in the column-wise (CSC) form solvers take."""

    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray  # bool per column
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray  # int32, len = columns + 1
    index: np.ndarray  # int32 row of each entry
    value: np.ndarray


@dataclass
class LinearModel:
    """Columns, rows and matrix entries added family by family."""

    columns: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)
    _cols: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    _rows: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    _terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0

    def add_columns(self, name: str, cost: np.ndarray, bounds: tuple[object, object],
                    integer: bool, **keys: np.ndarray) -> np.ndarray:
        """Add ``len(cost)`` columns named `name`; returns their indices."""
        n = len(cost)
        lower, upper = (np.broadcast_to(np.asarray(b, float), (n,)) for b in bounds)
        self._cols.append((np.asarray(cost, float), lower, upper, np.full(n, integer)))
        self.columns[name] = Block(name, self.n_cols, self.n_cols + n, keys)
        self.n_cols += n
        return np.arange(self.n_cols - n, self.n_cols)

    def add_rows(self, name: str, lower: object, upper: object, n: int,
                 **keys: np.ndarray) -> np.ndarray:
        """Add `n` rows ``lower <= a x <= upper`` named `name`; returns their indices."""
        lo, hi = (np.broadcast_to(np.asarray(b, float), (n,)) for b in (lower, upper))
        self._rows.append((lo, hi))
        self.rows[name] = Block(name, self.n_rows, self.n_rows + n, keys)
        self.n_rows += n
        return np.arange(self.n_rows - n, self.n_rows)

    def add_terms(self, rows: np.ndarray, cols: np.ndarray, values: object) -> None:
        rows, cols = np.asarray(rows, np.int64).ravel(), np.asarray(cols, np.int64).ravel()
        values = np.broadcast_to(np.asarray(values, float).ravel(), rows.shape)
        self._terms.append((rows, cols, values))

    def arrays(self) -> Arrays:
        """Stack everything into CSC arrays; duplicate entries are summed."""
        cost, lo, hi, integer = (np.concatenate(parts) for parts in zip(*self._cols, strict=True))
        rlo, rhi = ((np.concatenate(p) if self._rows else np.zeros(0))
                    for p in zip(*self._rows, strict=True))
        r, c, v = (np.concatenate(p) for p in zip(*self._terms, strict=True))
        key = c * max(self.n_rows, 1) + r
        uniq, inverse = np.unique(key, return_inverse=True)
        v = np.bincount(inverse, weights=v, minlength=len(uniq))
        c, r = uniq // max(self.n_rows, 1), uniq % max(self.n_rows, 1)
        start = np.concatenate([[0], np.cumsum(np.bincount(c, minlength=self.n_cols))])
        return Arrays(cost, lo, hi, integer, rlo, rhi, start.astype(np.int32),
                      r.astype(np.int32), v)


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
