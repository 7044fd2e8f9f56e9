"""The ``source`` stage: the least-cost sourcing plan under the domestic-content rule, buying
parts for the racks the ramp builds (:mod:`rackforge.sourcing`): for each rack design the
supply stage resolved (the plan's generations), the racks of its generation, in one plan."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from rackforge.deploy.demand import Demand
from rackforge.deploy.ramp import RampResult
from rackforge.errors import InputError
from rackforge.sourcing.capacity import Supply
from rackforge.sourcing.report import SourcingReport, source_designs
from rackforge.sourcing.results import YearShare
from rackforge.sourcing.spec import SourcingSpec
from rackforge.sourcing.suppliers import ResolvedSourcing

TITLE = "Sourcing"
SECTIONS = ("sourcing",)


def run(sourcing: SourcingSpec, supply: Supply, plan: RampResult | None = None,
        demand: Demand | None = None) -> SourcingReport:
    """Buy for the ramp's racks of each sourced design built per quarter (``build_schedule:
    plan``, the default; the loader makes sure a plan section exists then): a design's racks
    are those of the generation built of it. In a scenario without a plan, buy for the
    section's own schedule (one design)."""
    designs = supply.sourced
    if sourcing.build_schedule != "plan":
        return source_designs([(designs[0], sourcing.build_schedule, None)])
    built_of: dict[str, list[str]] = {}    # design -> the generations built of it
    if demand is not None and len(demand.racks) > 1:
        for rack in demand.racks:
            if rack.design is not None:
                built_of.setdefault(rack.design, []).append(rack.id)
    wanted = [(d, *_racks_of(d, plan, built_of)) for d in designs]
    if not any(n > 0 for _, racks, _ in wanted for n in racks.values()):
        raise InputError("the deployment plan builds no racks to source", None,
                         "sourcing.build_schedule", "plan",
                         "a plan whose factory builds racks, or racks per quarter")
    return source_designs(wanted)


def _racks_of(design: ResolvedSourcing, plan: RampResult, built_of: Mapping[str, list[str]]
              ) -> tuple[dict[date, float], str | None]:
    """Whole racks of `design` the ramp builds per quarter, and the generation(s) built of it
    (None in a plan of one rack: every rack it builds)."""
    if not built_of:
        return plan.racks_built_whole(), None
    generations = built_of.get(design.design.id, [])
    racks = {q: 0.0 for q in plan.racks_built_whole()}
    for generation in generations:
        for q, n in plan.racks_built_whole(generation).items():
            racks[q] += n
    return racks, "+".join(generations) or None


def _years(years: tuple[YearShare, ...]) -> str:
    return ", ".join(f"{y.year} {y.share:.1%}" + ("" if y.test == "threshold" else
                                                  f" [{y.test}]")
                     for y in years if y.share is not None)


def summary(report: SourcingReport) -> str:
    """One line for the run summary: status, racks, cost, domestic share against the floor,
    per design (generation) when the plan buys for several."""
    whole = report.whole
    if whole.status == "infeasible":
        return whole.explanation.summary if whole.explanation else "infeasible"
    parts = report.by_design
    if len(parts) == 1:
        years = ", ".join(f"{y.year} {y.share:.1%} (floor {y.floor:.0%})"
                          for y in whole.share_by_year if y.share is not None)
        return (f"{report.resolved.design.id}: {whole.status}, parts for "
                f"{report.racks_total:,.0f} racks, landed cost "
                f"{whole.cost.total_usd / 1e9:,.2f} B USD; {whole.rule} domestic share {years}")
    racks = sum(d.racks_total for d in parts)
    floors = _floors(tuple(y for y in whole.share_by_year if y.share is not None))
    shares = "; ".join(f"{d.generation or d.design} {_years(d.result.share_by_year)}"
                       for d in parts if d.racks_total > 0)
    return (f"{len(parts)} designs: {whole.status}, parts for {racks:,.0f} racks, landed cost "
            f"{whole.cost.total_usd / 1e9:,.2f} B USD; {whole.rule} domestic share by "
            f"generation: {shares} (floors {floors})")


def _floors(years: tuple[YearShare, ...]) -> str:
    """The floors by year, runs of equal floors joined: ``2026-2028 65%, 2029 75%``."""
    runs: list[list] = []
    for y in years:
        if runs and runs[-1][2] == y.floor and runs[-1][1] == y.year - 1:
            runs[-1][1] = y.year
        else:
            runs.append([y.year, y.year, y.floor])
    return ", ".join(f"{a}-{b} {f:.0%}" if b > a else f"{a} {f:.0%}" for a, b, f in runs)


def passed(report: SourcingReport) -> bool:
    """False when no plan meets every limit (the explanation says which must give)."""
    return report.whole.status != "infeasible"


def data(report: SourcingReport) -> dict:
    return report.to_dict()
