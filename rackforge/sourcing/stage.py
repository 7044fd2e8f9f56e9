"""The ``source`` stage: a loaded scenario in, BOM, domestic content and sourcing plan out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rackforge.errors import InputError
from rackforge.inputs import closest
from rackforge.sourcing.bom import PricedBom, per_rack
from rackforge.sourcing.results import SourcingResult
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from rackforge.sourcing.suppliers import ResolvedSourcing, resolve_sourcing
from rackforge.sourcing.whatif import WhatIfResult, build_case, compare, run_what_if


@dataclass(frozen=True)
class SourcingReport:
    """Everything ``rackforge source`` shows: BOM per rack priced at the plan, plan, what-if."""

    resolved: ResolvedSourcing
    bom: PricedBom
    result: SourcingResult
    what_if: WhatIfResult | None = None

    def to_dict(self) -> dict:
        return {
            "design": self.resolved.design.id, "example_data": self.resolved.example,
            "bom_per_rack": {"lines": [line.__dict__ for line in self.bom.lines],
                             "unpriced": list(self.bom.unpriced),
                             "total_usd": self.bom.total_usd},
            "result": self.result.to_dict(),
            "what_if": self.what_if.to_dict() if self.what_if else None}


def fabric_lines(scenario, design_id: str) -> list[tuple[str, float, str]]:  # noqa: ANN001
    """The scenario cluster's fabric parts per rack, when its cluster is built of `design_id`."""
    cluster = getattr(scenario.spec, "cluster", None)
    if cluster is None or getattr(cluster, "rack", None) != design_id:
        return []
    from rackforge.design.cluster import fabric_bom, size_cluster

    sized = size_cluster(scenario)
    return per_rack(fabric_bom(sized), sized.racks)


def resolve_scenario(scenario) -> ResolvedSourcing:  # noqa: ANN001
    """Resolve the ``sourcing`` section of a loaded scenario (with the cluster's fabric)."""
    spec = getattr(scenario.spec, "sourcing", None)
    if spec is None:
        raise InputError("the scenario has no sourcing section", scenario.file, "sourcing",
                         expected="a sourcing: mapping with build_schedule and suppliers")
    if spec.build_schedule == "plan":
        spec = spec.model_copy(update={"build_schedule": planned_racks(scenario)})
        if not any(v > 0 for v in spec.build_schedule.values()):
            raise InputError("the deployment plan builds no racks to source", scenario.file,
                             "sourcing.build_schedule", "plan",
                             "a plan whose factory builds racks, or racks per quarter")
    racks = list(getattr(scenario.spec, "racks", []))
    design = spec.design or (racks[0].id if len(racks) == 1 else None)
    extra = fabric_lines(scenario, design) if design and spec.fabric == "cluster" else []
    folder = Path(scenario.file).parent if scenario.file else Path(".")
    return resolve_sourcing(spec, folder, scenario.catalog, racks, scenario.file, extra)


def planned_racks(scenario) -> dict[date, float]:  # noqa: ANN001
    """Racks built per quarter by the deployment plan (``plan:`` section), without supply
    limits from sourcing (those would make the two stages circular)."""
    if getattr(scenario.spec, "plan", None) is None:
        raise InputError("build_schedule 'plan' needs a plan: section", scenario.file,
                         "sourcing.build_schedule", "plan",
                         "a mapping of racks per quarter, or a scenario with a plan section")
    from rackforge.deploy.run import plan

    return {q.quarter: max(q.racks_built, 0.0) for q in plan(scenario).quarters}


def source_scenario(scenario, what_if: str | None = None,  # noqa: ANN001
                    options: PlanOptions | None = None) -> SourcingReport:
    """Plan the sourcing of a loaded scenario; with `what_if`, also that named change."""
    resolved = resolve_scenario(scenario)
    spec = resolved.spec
    if what_if is not None and what_if not in spec.what_if:
        raise InputError("unknown what-if", scenario.file, "sourcing.what_if", what_if,
                         f"one of {', '.join(spec.what_if) or '(none defined)'}",
                         closest(what_if, spec.what_if))
    options = options or PlanOptions(mip_gap=spec.mip_gap, time_limit_s=spec.time_limit_s)
    case = build_case(resolved)
    base = plan_sourcing(case.problem(), options)
    change = None
    if what_if is not None:
        change = run_what_if(case, what_if, spec.what_if[what_if], options, base)
    return SourcingReport(resolved, resolved.bom.priced(_plan_prices(base)), base, change)


def run_source(scenario, results: Mapping[str, Any] | None = None  # noqa: ANN001
               ) -> SourcingReport:
    """The source stage in the pipeline's form ``run(scenario, results_so_far)``."""
    return source_scenario(scenario)


def source_summary(report: SourcingReport) -> str:
    """One line for the run summary: status, cost, domestic share against the floor."""
    r = report.result
    if r.status == "infeasible":
        return r.explanation.summary if r.explanation else "infeasible"
    years = ", ".join(f"{y.year} {y.share:.1%} (floor {y.floor:.0%})"
                      for y in r.share_by_year if y.share is not None)
    return (f"{report.resolved.design.id}: {r.status}, landed cost "
            f"{r.cost.total_usd / 1e9:,.2f} B USD; {r.rule} domestic share {years}")


def source_passed(report: SourcingReport) -> bool:
    """False when no plan meets every limit (the explanation says which must give)."""
    return report.result.status != "infeasible"


def _plan_prices(result: SourcingResult) -> dict[str, float]:
    """Average landed unit cost of each part in the plan [USD]."""
    cost: dict[str, float] = {}
    units: dict[str, int] = {}
    for line in result.plan:
        cost[line.part] = cost.get(line.part, 0.0) + line.cost_usd
        units[line.part] = units.get(line.part, 0) + line.quantity
    return {p: cost[p] / units[p] for p in cost if units[p] > 0}


__all__ = ["SourcingReport", "compare", "resolve_scenario", "run_source", "source_passed",
           "source_scenario", "source_summary"]
