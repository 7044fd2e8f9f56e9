"""The sourcing plan of a resolved section for a build schedule: BOM priced at the plan,
the plan itself, and a what-if on top (:func:`source`, :func:`with_what_if`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from rackforge.calendar import format_quarter
from rackforge.errors import InputError
from rackforge.inputs import closest
from rackforge.sourcing.bom import PricedBom
from rackforge.sourcing.results import SourcingResult
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from rackforge.sourcing.suppliers import ResolvedSourcing
from rackforge.sourcing.whatif import WhatIfResult, build_case, run_what_if


@dataclass(frozen=True)
class SourcingReport:
    """Everything ``rackforge source`` shows: BOM per rack priced at the plan, the racks it
    buys for, the plan, and a what-if."""

    resolved: ResolvedSourcing      # spec with the build schedule bought for
    bom: PricedBom
    result: SourcingResult
    what_if: WhatIfResult | None = None

    @property
    def racks(self) -> dict[date, float]:
        """Racks sourced per quarter: the build schedule the plan buys parts for [racks]."""
        return dict(sorted(self.resolved.spec.build_schedule.items()))

    @property
    def racks_total(self) -> float:
        return sum(self.racks.values())

    @property
    def domestic_share(self) -> float | None:
        """Domestic share of the plan's purchases over its horizon, under its rule [-]."""
        years = self.result.share_by_year
        total = sum(y.total_usd for y in years)
        return sum(y.domestic_usd for y in years) / total if total > 0 else None

    def to_dict(self) -> dict:
        return {
            "design": self.resolved.design.id, "example_data": self.resolved.example,
            "racks_total": self.racks_total,
            "racks_by_quarter": {format_quarter(q): n for q, n in self.racks.items()},
            "domestic_share": self.domestic_share,
            "bom_per_rack": {"lines": [line.__dict__ for line in self.bom.lines],
                             "unpriced": list(self.bom.unpriced),
                             "total_usd": self.bom.total_usd},
            "result": self.result.to_dict(),
            "what_if": self.what_if.to_dict() if self.what_if else None}


def source(resolved: ResolvedSourcing, racks: Mapping[date, float],
           options: PlanOptions | None = None) -> SourcingReport:
    """The least-cost plan buying parts for `racks` built per quarter [racks]."""
    spec = resolved.spec.model_copy(update={"build_schedule": dict(racks)})
    resolved = replace(resolved, spec=spec)
    options = options or PlanOptions(mip_gap=spec.mip_gap, time_limit_s=spec.time_limit_s)
    result = plan_sourcing(build_case(resolved).problem(), options)
    return SourcingReport(resolved, resolved.bom.priced(_plan_prices(result)), result)


def with_what_if(report: SourcingReport, name: str, options: PlanOptions | None = None
                 ) -> SourcingReport:
    """`report` with the named change of ``sourcing.what_if`` solved and compared."""
    spec = report.resolved.spec
    if name not in spec.what_if:
        raise InputError("unknown what-if", None, "sourcing.what_if", name,
                         f"one of {', '.join(spec.what_if) or '(none defined)'}",
                         closest(name, spec.what_if))
    options = options or PlanOptions(mip_gap=spec.mip_gap, time_limit_s=spec.time_limit_s)
    change = run_what_if(build_case(report.resolved), name, spec.what_if[name], options,
                         report.result)
    return replace(report, what_if=change)


def _plan_prices(result: SourcingResult) -> dict[str, float]:
    """Average landed unit cost of each part in the plan [USD]."""
    cost: dict[str, float] = {}
    units: dict[str, int] = {}
    for line in result.plan:
        cost[line.part] = cost.get(line.part, 0.0) + line.cost_usd
        units[line.part] = units.get(line.part, 0) + line.quantity
    return {p: cost[p] / units[p] for p in cost if units[p] > 0}
