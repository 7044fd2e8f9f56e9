"""Sourcing cases and what-ifs: tariff changes, lost suppliers, demand surges.

A :class:`SourcingCase` is everything :func:`~rackforge.sourcing.problem.make_problem` needs plus
supplier outages. :func:`run_what_if` solves the base and the changed case and reports the change
in cost [USD], in domestic share per year [-] and the shortfall [units]. A change that makes the
plan impossible is never a silent success: the changed case is then solved with priced slack and
what must give is reported (see :mod:`rackforge.sourcing.explain`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from rackforge.calendar import quarter_range
from rackforge.sourcing.content import year_fallback
from rackforge.sourcing.problem import (
    DesignDemand,
    ProblemInputs,
    Settings,
    SourcingProblem,
    default_floors,
    make_problem,
)
from rackforge.sourcing.results import SourcingResult
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from rackforge.sourcing.spec import SourcingSpec, SupplierOutage, WhatIfSpec
from rackforge.sourcing.suppliers import ResolvedSourcing


@dataclass(frozen=True)
class SourcingCase:
    """Inputs, settings and outages ``(supplier, quarters or None for all)`` of one case."""

    inputs: ProblemInputs
    settings: Settings
    start: date
    outages: tuple[tuple[str, tuple[date, ...] | None], ...] = ()

    def problem(self) -> SourcingProblem:
        """The tables of this case; a lost supplier has no capacity in its quarters."""
        problem = make_problem(self.inputs, self.settings, self.start)
        if not self.outages:
            return problem
        capacity = problem.offers.capacity.copy()
        for supplier, quarters in self.outages:
            rows = problem.offers.supplier == supplier
            cols = (np.ones(len(problem.quarters), bool) if quarters is None
                    else np.isin(np.array(problem.quarters), np.array(quarters)))
            capacity[np.ix_(rows, cols)] = 0
        return replace(problem, offers=replace(problem.offers, capacity=capacity))


def floors(spec: SourcingSpec, quarters: Sequence[date] | None = None) -> dict[int, float]:
    """The domestic floor per delivery year of `quarters` (default: the spec's horizon) [-]:
    given, the rule's fallback threshold where it has one ('fallback'), or the rule's threshold
    by year."""
    by_rule = default_floors(spec.content_rule, spec.quarters if quarters is None else quarters)
    if spec.domestic_floor is None:
        return by_rule
    if spec.domestic_floor == "fallback":
        fallback = {y: year_fallback(spec.content_rule, y) for y in by_rule}
        return {y: fallback[y].share if fallback[y] else f for y, f in by_rule.items()}
    if isinstance(spec.domestic_floor, dict):
        return {y: spec.domestic_floor.get(y, f) for y, f in by_rule.items()}
    return {y: float(spec.domestic_floor) for y in by_rule}


def outage_pairs(outages: Sequence[SupplierOutage]
                 ) -> tuple[tuple[str, tuple[date, ...] | None], ...]:
    """``(supplier, quarters or None for every quarter)`` of each outage."""
    return tuple((lost.supplier, tuple(lost.quarters) if lost.quarters else None)
                 for lost in outages)


def build_case(resolved: ResolvedSourcing | Sequence[ResolvedSourcing]) -> SourcingCase:
    """The base case of a resolved sourcing section (one design, or several bought for in one
    plan, the first first, each with its racks as its ``build_schedule``), its suppliers'
    outages included. The section's settings are the first design's; the horizon runs from
    the start to the last quarter any design is built in."""
    designs = (resolved,) if isinstance(resolved, ResolvedSourcing) else tuple(resolved)
    first = designs[0]
    spec = first.spec
    quarters = spec.quarters
    if len(designs) > 1:
        last = max(max(d.spec.build_schedule) for d in designs)
        quarters = tuple(quarter_range(min(d.spec.quarters[0] for d in designs), last))
    inputs = ProblemInputs(
        offers=first.offers, counts=first.bom.counts(),
        racks=dict(spec.build_schedule), quarters=quarters, tariffs=dict(spec.tariffs),
        max_share={c.part: c.max_supplier_share for c in spec.critical_parts},
        design=first.design.id,
        more=tuple(DesignDemand(d.design.id, d.bom.counts(), dict(d.spec.build_schedule))
                   for d in designs[1:]))
    settings = Settings(spec.content_rule, floors(spec, quarters),
                        spec.holding_rate_per_quarter, spec.risk_penalty)
    return SourcingCase(inputs, settings, quarters[0], outage_pairs(spec.outages))


def apply_what_if(case: SourcingCase, change: WhatIfSpec) -> SourcingCase:
    """`case` with `change` applied: new tariffs, outages (added to the base case's), scaled or
    extra racks (scaled for every design; extra racks are of the first design)."""
    racks = {q: n * change.demand_factor for q, n in case.inputs.racks.items()}
    for q, n in change.extra_racks.items():
        racks[q] = racks.get(q, 0.0) + n
    more = tuple(replace(d, racks={q: n * change.demand_factor for q, n in d.racks.items()})
                 for d in case.inputs.more)
    inputs = replace(case.inputs, tariffs={**case.inputs.tariffs, **change.tariffs},
                     racks=racks, more=more)
    outages = case.outages + outage_pairs(change.supplier_lost)
    return replace(case, inputs=inputs, outages=outages)


@dataclass(frozen=True)
class WhatIfResult:
    """A changed case against the base: cost [USD], shares [-], shortfall [units]."""

    name: str
    base: SourcingResult
    case: SourcingResult
    delta_cost_usd: float | None
    delta_share_by_year: dict[int, float | None] = field(default_factory=dict)
    shortfall_units: float = 0.0
    summary: str = ""
    delta_share_by_design: dict[str, dict[int, float | None]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "delta_cost_usd": self.delta_cost_usd,
                "delta_share_by_year": self.delta_share_by_year,
                "delta_share_by_design": self.delta_share_by_design,
                "shortfall_units": self.shortfall_units, "summary": self.summary,
                "base": self.base.to_dict(), "case": self.case.to_dict()}


def run_what_if(case: SourcingCase, name: str, change: WhatIfSpec,
                options: PlanOptions | None = None, base: SourcingResult | None = None
                ) -> WhatIfResult:
    """Solve the base (unless given) and the changed case; compare them."""
    options = options or PlanOptions()
    base = base or plan_sourcing(case.problem(), options)
    options.say(f"what-if {name}: solving the changed case")
    changed = plan_sourcing(apply_what_if(case, change).problem(), options)
    return compare(name, base, changed)


def _share_deltas(base: SourcingResult, case: SourcingResult) -> dict[int, float | None]:
    base_share = {y.year: y.share for y in base.share_by_year}
    return {y.year: (y.share - base_share[y.year]
                     if y.share is not None and base_share.get(y.year) is not None else None)
            for y in case.share_by_year}


def compare(name: str, base: SourcingResult, case: SourcingResult) -> WhatIfResult:
    """Differences of `case` against `base` (shares of all the plan's purchases, and of each
    design's when it buys for several); infeasible cases report their shortfall."""
    delta = (case.cost.total_usd - base.cost.total_usd
             if case.cost is not None and base.cost is not None else None)
    shares = _share_deltas(base, case)
    base_views = {v.design: v for v in base.by_design}
    by_design = {v.design: _share_deltas(base_views[v.design], v) for v in case.by_design
                 if v.design in base_views}
    if case.status == "infeasible":
        text = case.explanation.summary if case.explanation else "infeasible"
    else:
        text = f"cost changes by {delta:+,.0f} USD ({delta / base.cost.total_usd:+.2%})"
    lost = sum(r.amount for r in case.explanation.relaxations
               if r.kind in ("shortfall", "capacity")) if case.explanation else 0.0
    return WhatIfResult(name, base, case, delta, shares, lost, f"{name}: {text}", by_design)
