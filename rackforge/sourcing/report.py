"""The sourcing plan of a resolved section for a build schedule: BOM priced at the plan,
the plan itself, and a what-if on top (:func:`source`, :func:`with_what_if`).

Several rack designs (the rack generations a plan deploys) are bought for in one plan
(:func:`source_designs`): their shared parts share the suppliers' capacity, and each design's
purchases meet the domestic floor of each delivery year on their own. The report keeps the
first design's figures where a single design's are read (:attr:`SourcingReport.result`,
:attr:`~SourcingReport.bom`, :attr:`~SourcingReport.racks`...) and each design's in
:attr:`SourcingReport.designs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from rackforge.calendar import format_quarter
from rackforge.errors import InputError
from rackforge.inputs import closest
from rackforge.sourcing.bom import PricedBom
from rackforge.sourcing.results import SourcingResult, YearShare
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from rackforge.sourcing.suppliers import ResolvedSourcing
from rackforge.sourcing.whatif import WhatIfResult, build_case, run_what_if


def _share(years: Sequence[YearShare]) -> float | None:
    """Domestic share of the purchases of every year together [-] (None: nothing bought)."""
    total = sum(y.total_usd for y in years)
    return sum(y.domestic_usd for y in years) / total if total > 0 else None


class _Bought:
    """What a plan (or one design's part of it) bought for: `resolved` and `result` fields."""

    resolved: ResolvedSourcing
    result: SourcingResult

    @property
    def racks(self) -> dict[date, float]:
        """Racks sourced per quarter: the build schedule bought for [racks]."""
        return dict(sorted(self.resolved.spec.build_schedule.items()))

    @property
    def racks_total(self) -> float:
        return sum(self.racks.values())

    @property
    def domestic_share(self) -> float | None:
        """Domestic share of the purchases over the horizon, under the rule [-]."""
        return _share(self.result.share_by_year)


@dataclass(frozen=True)
class DesignSourcing(_Bought):
    """One rack design's part of a sourcing plan: the racks it buys for, its BOM priced at the
    plan, and its purchases (cost, domestic share per delivery year against the floor and the
    rule's thresholds)."""

    resolved: ResolvedSourcing      # spec with the design's build schedule bought for
    bom: PricedBom
    result: SourcingResult          # this design's part of the plan
    generation: str | None = None   # the plan's generation built of it, when it has several

    @property
    def design(self) -> str:
        return self.resolved.design.id

    def to_dict(self) -> dict:
        """Totals only (no supplier names: the plan by supplier is the first design's
        ``result``, or the command line's table)."""
        r = self.result
        return {
            "design": self.design, "generation": self.generation,
            "racks_total": self.racks_total,
            "racks_by_quarter": {format_quarter(q): n for q, n in self.racks.items()},
            "domestic_share": self.domestic_share, "bom_total_usd": self.bom.total_usd,
            "unpriced": list(self.bom.unpriced),
            "cost": None if r.cost is None else {
                "price_usd": r.cost.price_usd, "freight_usd": r.cost.freight_usd,
                "duty_usd": r.cost.duty_usd, "holding_usd": r.cost.holding_usd,
                "risk_usd": r.cost.risk_usd, "landed_usd": r.cost.landed_usd,
                "total_usd": r.cost.total_usd},
            "share_by_year": [vars(y) for y in r.share_by_year]}


@dataclass(frozen=True)
class SourcingReport(_Bought):
    """Everything ``rackforge source`` shows: BOM per rack priced at the plan, the racks it
    buys for, the plan, and a what-if.

    `resolved`, `bom` and `result` are the first design's (the one single-design readers
    mean: compare's sourced rack, the cost stage's parts held); `designs` holds every design's
    (the first first; empty for a plan of one design) and `overall` the whole plan of several
    (cost, domestic share of all purchases; None for one design: `result` is the whole plan).
    """

    resolved: ResolvedSourcing      # spec with the build schedule bought for
    bom: PricedBom
    result: SourcingResult
    what_if: WhatIfResult | None = None
    designs: tuple[DesignSourcing, ...] = ()
    overall: SourcingResult | None = None

    @property
    def whole(self) -> SourcingResult:
        """The whole plan: every design's purchases."""
        return self.overall or self.result

    @property
    def by_design(self) -> tuple[DesignSourcing, ...]:
        """Every design's part, the first first (the only one for a plan of one design)."""
        return self.designs or (DesignSourcing(self.resolved, self.bom, self.result),)

    def to_dict(self) -> dict:
        out = {
            "design": self.resolved.design.id, "example_data": self.resolved.example,
            "racks_total": self.racks_total,
            "racks_by_quarter": {format_quarter(q): n for q, n in self.racks.items()},
            "domestic_share": self.domestic_share,
            "bom_per_rack": {"lines": [line.__dict__ for line in self.bom.lines],
                             "unpriced": list(self.bom.unpriced),
                             "total_usd": self.bom.total_usd},
            "result": self.result.to_dict(),
            "what_if": self.what_if.to_dict() if self.what_if else None,
            "designs": [d.to_dict() for d in self.by_design]}
        whole = self.whole
        out["overall"] = {
            "status": whole.status, "racks_total": sum(d.racks_total for d in self.by_design),
            "domestic_share": _share(whole.share_by_year),
            "cost": None if whole.cost is None else {"landed_usd": whole.cost.landed_usd,
                                                     "total_usd": whole.cost.total_usd},
            "share_by_year": [vars(y) for y in whole.share_by_year],
            "objective_usd": whole.objective_usd, "gap": whole.gap, "method": whole.method,
            "build_s": whole.build_s, "solve_s": whole.solve_s}
        return out


def source(resolved: ResolvedSourcing, racks: Mapping[date, float],
           options: PlanOptions | None = None) -> SourcingReport:
    """The least-cost plan buying parts for `racks` built per quarter [racks]."""
    return source_designs([(resolved, racks, None)], options)


def source_designs(designs: Sequence[tuple[ResolvedSourcing, Mapping[date, float], str | None]],
                   options: PlanOptions | None = None) -> SourcingReport:
    """The least-cost plan buying parts for each ``(design, racks built per quarter [racks],
    generation id or None)``, the first first, in one MIP (module docstring)."""
    resolved = [replace(r, spec=r.spec.model_copy(update={"build_schedule": dict(racks)}))
                for r, racks, _ in designs]
    spec = resolved[0].spec
    options = options or PlanOptions(mip_gap=spec.mip_gap, time_limit_s=spec.time_limit_s)
    whole = plan_sourcing(build_case(resolved).problem(), options)
    views = whole.by_design or tuple(whole for _ in resolved)   # (infeasible, unexplained)
    parts = tuple(DesignSourcing(r, r.bom.priced(_plan_prices(view)), view, generation)
                  for r, view, (_, _, generation) in zip(resolved, views, designs, strict=True))
    first = parts[0]
    if len(parts) == 1:
        return SourcingReport(first.resolved, first.bom, first.result)
    return SourcingReport(first.resolved, first.bom, first.result, designs=parts, overall=whole)


def with_what_if(report: SourcingReport, name: str, options: PlanOptions | None = None
                 ) -> SourcingReport:
    """`report` with the named change of ``sourcing.what_if`` solved and compared (for every
    design it buys for)."""
    spec = report.resolved.spec
    if name not in spec.what_if:
        raise InputError("unknown what-if", None, "sourcing.what_if", name,
                         f"one of {', '.join(spec.what_if) or '(none defined)'}",
                         closest(name, spec.what_if))
    options = options or PlanOptions(mip_gap=spec.mip_gap, time_limit_s=spec.time_limit_s)
    case = build_case([d.resolved for d in report.by_design])
    change = run_what_if(case, name, spec.what_if[name], options, report.whole)
    return replace(report, what_if=change)


def _plan_prices(result: SourcingResult) -> dict[str, float]:
    """Average landed unit cost of each part in the plan [USD]."""
    cost: dict[str, float] = {}
    units: dict[str, int] = {}
    for line in result.plan:
        cost[line.part] = cost.get(line.part, 0.0) + line.cost_usd
        units[line.part] = units.get(line.part, 0) + line.quantity
    return {p: cost[p] / units[p] for p in cost if units[p] > 0}
