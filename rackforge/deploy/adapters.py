"""Tiny adapters from other stages' result objects to the ramp's inputs (never re-running them).

- :func:`factory_from_line`: the build stage's :class:`~rackforge.factory.statistics.LineResult`
  gives the racks per week of one line.
- :func:`supply_from_sourcing`: the source stage's
  :class:`~rackforge.sourcing.stage.SourcingReport` gives, per part of the rack's BOM, the units
  per rack and the suppliers' summed capacity per quarter from the first quarter each offer can
  deliver (order start + lead time, 13 weeks a quarter, as the sourcing model counts it).
- :func:`run_plan` / :func:`plan_summary`: the deploy stage in the form the pipeline
  (:mod:`rackforge.pipeline`) runs stages, ``run(scenario, results_so_far)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rackforge.calendar import WEEKS_PER_QUARTER, add_quarters, format_quarter
from rackforge.deploy.spec import FactorySpec, SupplySpec

if TYPE_CHECKING:
    from rackforge.deploy.ramp import RampResult
    from rackforge.factory.statistics import LineResult
    from rackforge.scenario import Scenario
    from rackforge.sourcing.stage import SourcingReport


def factory_from_line(factory: FactorySpec, line: LineResult) -> FactorySpec:
    """`factory` with ``racks_per_week`` per line set to the simulated line's mean throughput;
    the lines schedule and the ramp-up stay as given."""
    mean = float(line.racks_per_week.mean)
    return factory.model_copy(update={
        "racks_per_week": mean, "example": False,
        "source": f"line simulation '{line.line}': {mean:.1f} racks/week "
                  f"(95% CI +-{line.racks_per_week.half_width:.1f}), {line.replications} "
                  "replications"})


def supply_from_sourcing(report: SourcingReport) -> list[SupplySpec]:
    """Supply limits of the BOM's parts from the sourcing section's supplier offers."""
    counts = report.resolved.bom.counts()
    start = report.resolved.spec.quarters[0]
    steps: dict[str, dict] = {}
    for offer in report.resolved.offers:
        if counts.get(offer.part, 0.0) <= 0:
            continue
        first = add_quarters(start, math.ceil(offer.lead_time_weeks / WEEKS_PER_QUARTER - 1e-9))
        part = steps.setdefault(offer.part, {})
        part[first] = part.get(first, 0.0) + offer.capacity_per_quarter
    out = []
    for part, added in sorted(steps.items()):
        total, schedule = 0.0, {}
        for quarter in sorted(added):
            total += added[quarter]
            schedule[quarter] = total
        out.append(SupplySpec(part=part, units_per_rack=counts[part], per_quarter=schedule,
                              source="sourcing: summed supplier capacity per quarter after "
                                     "lead time", example=report.resolved.example))
    return out


def run_plan(scenario: Scenario, results: Mapping[str, Any]) -> RampResult:
    """The deploy stage: the ramp, with the build stage's line throughput and the source
    stage's supply limits when they ran (results under ``build`` and ``source``)."""
    from rackforge.deploy.run import plan

    return plan(scenario, line=results.get("build"), sourcing=results.get("source"))


def plan_summary(result: RampResult) -> str:
    final = result.final
    text = (f"{final.racks_online:,.0f} racks, {final.facility_power_online_w / 1e9:.2f} GW "
            f"facility ({final.it_power_online_w / 1e9:.2f} GW IT) by "
            f"{format_quarter(final.quarter)}")
    if result.target_w is None:
        return text
    if result.target_reached:
        return f"{text}; target {result.target_w / 1e9:.2f} GW reached in " \
               f"{format_quarter(result.target_quarter)}"
    grow = "; ".join(g.describe() for g in result.growth)
    return f"{text}; target {result.target_w / 1e9:.2f} GW not reached, grow {grow}"


def plan_data(result: RampResult) -> dict[str, Any]:
    """The ramp as JSON-ready data (quarters as ``2027Q1``), for results.json."""
    from rackforge.calendar import quarters_as_text

    return quarters_as_text(result.to_dict())
