"""The ``source`` stage: the least-cost sourcing plan under the domestic-content rule, buying
parts for the racks the ramp builds (:mod:`rackforge.sourcing`)."""

from __future__ import annotations

from rackforge.deploy.demand import Demand
from rackforge.deploy.ramp import RampResult
from rackforge.errors import InputError
from rackforge.sourcing.capacity import Supply
from rackforge.sourcing.report import SourcingReport, source
from rackforge.sourcing.spec import SourcingSpec

TITLE = "Sourcing"
SECTIONS = ("sourcing",)


def run(sourcing: SourcingSpec, supply: Supply, plan: RampResult | None = None,
        demand: Demand | None = None) -> SourcingReport:
    """Buy for the ramp's racks of the sourced design built per quarter (``build_schedule:
    plan``, the default; the loader makes sure a plan section exists then), or for the
    section's own schedule in a scenario without a plan."""
    racks = sourcing.build_schedule
    if racks == "plan":
        design = supply.resolved.design.id
        generation = next((r.id for r in demand.racks if r.design == design), None) \
            if demand is not None and len(demand.racks) > 1 else None
        racks = plan.racks_built_whole(generation)
        if not any(n > 0 for n in racks.values()):
            raise InputError("the deployment plan builds no racks to source", None,
                             "sourcing.build_schedule", "plan",
                             "a plan whose factory builds racks, or racks per quarter")
    return source(supply.resolved, racks)


def summary(report: SourcingReport) -> str:
    """One line for the run summary: status, racks, cost, domestic share against the floor."""
    result = report.result
    if result.status == "infeasible":
        return result.explanation.summary if result.explanation else "infeasible"
    years = ", ".join(f"{y.year} {y.share:.1%} (floor {y.floor:.0%})"
                      for y in result.share_by_year if y.share is not None)
    return (f"{report.resolved.design.id}: {result.status}, parts for "
            f"{report.racks_total:,.0f} racks, landed cost "
            f"{result.cost.total_usd / 1e9:,.2f} B USD; {result.rule} domestic share {years}")


def passed(report: SourcingReport) -> bool:
    """False when no plan meets every limit (the explanation says which must give)."""
    return report.result.status != "infeasible"


def data(report: SourcingReport) -> dict:
    return report.to_dict()
