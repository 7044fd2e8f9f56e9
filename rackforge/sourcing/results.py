"""Result objects of sourcing and their read-back from a solution vector.

Money in US dollars [USD], quantities in units, shares as fractions [-], quarters as
:class:`datetime.date` (first day); :meth:`SourcingResult.to_dict` writes quarters as ``2027Q1``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np

from rackforge.highs import Arrays, LinearModel, Solution
from rackforge.sourcing.content import ContentTest, content_test, year_fallback, year_threshold
from rackforge.sourcing.model import Columns, order_cost, part_reference_cost
from rackforge.sourcing.problem import SourcingProblem
from rackforge.sourcing.spec import format_quarter

TOL = 1e-6


@dataclass(frozen=True)
class PlanLine:
    """Units of a part from a supplier delivered in a quarter, and what they cost landed."""

    supplier: str
    part: str
    quarter: date
    quantity: int
    country_of_origin: str
    landed_unit_usd: float
    cost_usd: float
    design: str = ""  # the rack design it is bought for, when a plan buys for several


@dataclass(frozen=True)
class CostBreakdown:
    """Cost of a plan [USD]: landed = price + freight + duty; holding and risk are penalties."""

    price_usd: float
    freight_usd: float
    duty_usd: float
    holding_usd: float
    risk_usd: float

    @property
    def landed_usd(self) -> float:
        return self.price_usd + self.freight_usd + self.duty_usd

    @property
    def total_usd(self) -> float:
        return self.landed_usd + self.holding_usd + self.risk_usd


@dataclass(frozen=True)
class YearShare:
    """Domestic share of a delivery year's purchases [-] against its floor [-] (the plan's
    constraint) and the rule's threshold and fallback threshold of that year [-]: `test` says
    which one the share meets, "threshold", "fallback" (only the fallback) or "neither" (None:
    nothing delivered that year)."""

    year: int
    share: float | None
    floor: float
    domestic_usd: float
    total_usd: float
    threshold: float | None = None
    fallback: float | None = None   # None where the rule has none that year
    test: ContentTest | None = None


@dataclass(frozen=True)
class Binding:
    """A constraint at its bound with its shadow price: cost change [USD] per unit of bound."""

    constraint: str  # family name, e.g. offer-capacity-upper
    subject: str  # e.g. "acme cdu-x 2027Q2"
    activity: float
    bound: float
    shadow_price_usd: float
    note: str = ""
    design: str = ""  # the rack design the row is about, when a plan buys for several; "" for
                      # a row several designs share (a shared offer's capacity)


@dataclass(frozen=True)
class AtCapacity:
    supplier: str
    part: str
    quarter: date
    quantity: int
    capacity: int


@dataclass(frozen=True)
class Relaxation:
    """One limit that must give for a plan to exist, and by how much (in `unit`)."""

    kind: str  # "domestic_floor" | "capacity" | "need_date" | "shortfall"
    constraint: str  # the constraint family it relaxes
    subject: str
    amount: float
    unit: str
    penalty_usd: float
    message: str


@dataclass(frozen=True)
class Explanation:
    """Why a sourcing problem is infeasible: the relaxations the priced-slack version chose."""

    relaxations: tuple[Relaxation, ...]
    main: str  # kind with the largest penalty
    summary: str


@dataclass(frozen=True)
class RiskExposure:
    """Where the money goes: spend by origin [USD], and each part's largest single supplier."""

    spend_by_origin_usd: dict[str, float]
    top_supplier: dict[str, tuple[str, float]]  # part -> (supplier, share of its units [-])
    risk_weighted_spend_usd: float  # sum of spend x supplier risk score [USD]


@dataclass(frozen=True)
class SourcingResult:
    status: str  # "optimal" (within gap) | "feasible" (time limit) | "infeasible"
    rule: str
    rule_text: str
    plan: tuple[PlanLine, ...]
    cost: CostBreakdown | None
    objective_usd: float | None  # None: no plan (infeasible)
    lp_bound_usd: float | None
    gap: float | None
    share_by_quarter: dict[date, float | None]
    share_by_year: tuple[YearShare, ...]
    binding: tuple[Binding, ...]
    at_capacity: tuple[AtCapacity, ...]
    explanation: Explanation | None
    build_s: float
    solve_s: float
    method: str
    dual_method: str | None
    unsourced: tuple[str, ...]
    quarters: tuple[date, ...]
    risk: RiskExposure | None = None
    notes: tuple[str, ...] = ()
    design: str = ""    # the rack design this result covers; "" the whole plan
    by_design: tuple[SourcingResult, ...] = ()   # per design, when the plan buys for several

    def deliveries(self) -> dict[str, dict[date, int]]:
        """Planned deliveries per part and quarter [units], for the deploy stage."""
        out: dict[str, dict[date, int]] = {}
        for line in self.plan:
            part = out.setdefault(line.part, {})
            part[line.quarter] = part.get(line.quarter, 0) + line.quantity
        return out

    @property
    def shortfall_units(self) -> float:
        """Units never delivered within the horizon (0 unless infeasible) [units]."""
        if self.explanation is None:
            return 0.0
        return sum(r.amount for r in self.explanation.relaxations if r.kind == "shortfall")

    def to_dict(self) -> dict:
        """JSON-ready dictionary; quarters as ``2027Q1``."""
        data = asdict(self)
        del data["by_design"]   # each design's is reported on its own (SourcingReport)
        data["share_by_quarter"] = {format_quarter(q): s for q, s in self.share_by_quarter.items()}
        data["quarters"] = [format_quarter(q) for q in self.quarters]
        for key in ("plan", "at_capacity"):
            for row in data[key]:
                row["quarter"] = format_quarter(row["quarter"])
        if self.cost is not None:
            data["cost"].update(landed_usd=self.cost.landed_usd, total_usd=self.cost.total_usd)
        data["shortfall_units"] = self.shortfall_units
        return data


def risk_exposure(problem: SourcingProblem, plan: tuple[PlanLine, ...]) -> RiskExposure:
    """Spend by country of origin, each part's most-used supplier and risk-weighted spend."""
    o = problem.offers
    risk = {(str(o.supplier[k]), problem.parts[o.part[k]]): float(o.risk[k])
            for k in range(len(o))}
    by_origin: dict[str, float] = {}
    units: dict[str, dict[str, int]] = {}
    weighted = 0.0
    for line in plan:
        by_origin[line.country_of_origin] = by_origin.get(line.country_of_origin, 0.0) + \
            line.cost_usd
        per = units.setdefault(line.part, {})
        per[line.supplier] = per.get(line.supplier, 0) + line.quantity
        weighted += line.cost_usd * risk[(line.supplier, line.part)]
    top = {}
    for part, per in units.items():
        supplier = max(per, key=per.get)
        top[part] = (supplier, per[supplier] / sum(per.values()))
    return RiskExposure(dict(sorted(by_origin.items(), key=lambda kv: -kv[1])), top, weighted)


def _used(cols: Columns, x: np.ndarray) -> np.ndarray:
    return np.nonzero(x[cols.order] > 0.5)[0]


def _of_design(problem: SourcingProblem, cols: Columns, design: int | None) -> np.ndarray:
    """Mask of the order columns bought for `design` (every column when None)."""
    if design is None:
        return np.ones(len(cols.order), bool)
    return problem.item_design[cols.order_part] == design


def plan_lines(problem: SourcingProblem, cols: Columns, x: np.ndarray,
               design: int | None = None) -> tuple[PlanLine, ...]:
    """Non-zero orders (of one design, when given), sorted by quarter, part and supplier."""
    o = problem.offers
    landed = o.landed_usd
    mine = _of_design(problem, cols, design)
    out = []
    for j in _used(cols, x):
        if not mine[j]:
            continue
        k, t = cols.order_offer[j], cols.order_quarter[j]
        qty = int(round(x[cols.order[j]]))
        name = problem.designs[problem.item_design[o.part[k]]] if problem.several else ""
        out.append(PlanLine(str(o.supplier[k]), problem.parts[o.part[k]], problem.quarters[t],
                            qty, str(o.origin[k]), float(landed[k]), qty * float(landed[k]),
                            name))
    return tuple(sorted(out, key=lambda r: (r.quarter, r.design, r.part, r.supplier)))


def cost_breakdown(problem: SourcingProblem, cols: Columns, x: np.ndarray,
                   design: int | None = None) -> CostBreakdown:
    """Price, freight, duty, holding and risk cost of the plan `x` (of one design's orders and
    stock, when given) [USD]."""
    o = problem.offers
    mine = _of_design(problem, cols, design)
    k, qty = cols.order_offer[mine], np.round(x[cols.order[mine]])
    price = float(qty @ o.unit_price_usd[k])
    freight = float(qty @ o.freight_usd_per_unit[k])
    duty = float(qty @ (o.unit_price_usd[k] * o.tariff_rate[k]))
    risk = float(qty @ (order_cost(problem)[k] - o.landed_usd[k]))
    hold_rate = problem.settings.holding_rate_per_quarter * part_reference_cost(problem)
    items = np.ones(len(problem.parts), bool) if design is None else \
        problem.item_design == design
    holding = float((x[cols.inventory[items]] * hold_rate[items, None]).sum())
    return CostBreakdown(price, freight, duty, holding, risk)


def year_share(problem: SourcingProblem, year: int, domestic_usd: float, total_usd: float
               ) -> YearShare:
    """A delivery year's share [-] with the plan's floor and the rule's thresholds."""
    rule = problem.settings.rule
    share = domestic_usd / total_usd if total_usd > 0 else None
    fallback = year_fallback(rule, year)
    return YearShare(year, share, problem.floor_of_year(year), domestic_usd, total_usd,
                     year_threshold(rule, year).share, fallback.share if fallback else None,
                     content_test(rule, year, share))


def shares(problem: SourcingProblem, cols: Columns, x: np.ndarray, design: int | None = None
           ) -> tuple[dict[date, float | None], tuple[YearShare, ...]]:
    """Domestic share of purchases (of one design's, when given) per delivery quarter and per
    year under the rule [-]."""
    n_t = len(problem.quarters)
    mine = _of_design(problem, cols, design)
    k, qty = cols.order_offer, np.where(mine, np.round(x[cols.order]), 0.0)
    cost = qty * problem.offers.landed_usd[k]
    total = np.bincount(cols.order_quarter, weights=cost, minlength=n_t)
    domestic = np.bincount(cols.order_quarter, weights=cost * problem.domestic_weight[k],
                           minlength=n_t)
    by_quarter = {q: (float(domestic[t] / total[t]) if total[t] > 0 else None)
                  for t, q in enumerate(problem.quarters)}
    years = problem.years
    by_year = []
    for year in np.unique(years):
        tot, dom = float(total[years == year].sum()), float(domestic[years == year].sum())
        by_year.append(year_share(problem, int(year), dom, tot))
    return by_quarter, tuple(by_year)


def capacity_hits(problem: SourcingProblem, cols: Columns, x: np.ndarray,
                  design: int | None = None) -> tuple[AtCapacity, ...]:
    """Offers delivering their full capacity in a quarter (those of offers one design buys
    from, when given); an offer several designs share counts their orders together."""
    o = problem.offers
    cap = o.capacity[cols.pool_offer, cols.pool_quarter]
    qty = np.bincount(cols.pool_row, weights=np.round(x[cols.order]),
                      minlength=len(cols.pool_offer))
    hit = (cap > 0) & (qty >= cap)
    if design is not None:
        mine = np.zeros(len(cols.pool_offer), bool)
        mine[cols.pool_row[_of_design(problem, cols, design)]] = True
        hit &= mine
    return tuple(AtCapacity(str(o.supplier[cols.pool_offer[r]]),
                            problem.parts[o.part[cols.pool_offer[r]]],
                            problem.quarters[cols.pool_quarter[r]], int(qty[r]), int(cap[r]))
                 for r in np.nonzero(hit)[0])


def row_design(problem: SourcingProblem, keys: dict[str, np.ndarray], i: int) -> str:
    """The design row `i` of a family is about, when the plan buys for several ("" for one,
    or for an offer several designs share)."""
    if not problem.several:
        return ""
    if "design" in keys:
        return problem.designs[keys["design"][i]]
    if "part" in keys:
        return problem.designs[problem.item_design[keys["part"][i]]]
    if "offer" in keys:
        o = problem.offers
        members = o.pools == o.pools[keys["offer"][i]]
        designs = np.unique(problem.item_design[o.part[members]])
        return problem.designs[designs[0]] if len(designs) == 1 else ""
    return ""


def row_subject(problem: SourcingProblem, keys: dict[str, np.ndarray], i: int) -> str:
    """A readable name of row `i` of a family, from its keys."""
    words = []
    if "design" in keys and problem.several:
        words.append(problem.designs[keys["design"][i]])
    if "offer" in keys:
        k = keys["offer"][i]
        words += [str(problem.offers.supplier[k]), problem.parts[problem.offers.part[k]]]
    if "part" in keys:
        words.append(problem.item_label(keys["part"][i]))
    if "quarter" in keys:
        words.append(format_quarter(problem.quarters[keys["quarter"][i]]))
    if "year" in keys:
        words.append(str(keys["year"][i]))
    return " ".join(words)


def binding_constraints(problem: SourcingProblem, model: LinearModel, arrays: Arrays,
                        lp: Solution) -> tuple[Binding, ...]:
    """Inequality rows at their bound with a non-zero dual, dearest first.

    Balance rows (equalities) are left out: every one binds, its dual is the marginal cost of a
    unit of that part in that quarter. The floor row's dual is per USD of
    (domestic - floor x total) cost; its note gives the cost of one percentage point of floor.
    """
    out = []
    for name, block in model.rows.items():
        if name == "part-balance-equal":
            continue
        rows = block.index
        duals = lp.row_dual[rows]
        for i in np.nonzero(np.abs(duals) > TOL)[0]:
            row = rows[i]
            bound = arrays.row_upper[row] if duals[i] < 0 else arrays.row_lower[row]
            out.append(Binding(name, row_subject(problem, block.keys, i),
                               float(lp.row_activity[row]), float(bound), float(duals[i]),
                               _note(problem, name, block.keys, i, float(duals[i])),
                               row_design(problem, block.keys, i)))
    return tuple(sorted(out, key=lambda b: -abs(b.shadow_price_usd)))


def _note(problem: SourcingProblem, name: str, keys: dict, i: int, dual: float) -> str:
    if name == "offer-capacity-upper":
        return f"one more unit of capacity saves {-dual:,.2f} USD"
    if name == "offer-min_order-lower":
        return f"a minimum order one unit smaller saves {dual:,.2f} USD"
    return ""
