"""Tiny adapters from other stages' result objects to the ramp's inputs (never re-running them).

- :func:`factory_from_line`: the build stage's :class:`~rackforge.factory.statistics.LineResult`
  gives the racks per week of one line.
- :func:`run_plan` / :func:`plan_summary`: the deploy stage in the form the pipeline
  (:mod:`rackforge.pipeline`) runs stages, ``run(scenario, results_so_far)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rackforge.calendar import format_quarter
from rackforge.deploy.spec import FactorySpec

if TYPE_CHECKING:
    from rackforge.deploy.ramp import RampResult
    from rackforge.factory.statistics import LineResult
    from rackforge.scenario import Scenario


def factory_from_line(factory: FactorySpec, line: LineResult) -> FactorySpec:
    """`factory` with ``racks_per_week`` per line set to the simulated line's mean throughput;
    the lines schedule and the ramp-up stay as given."""
    mean = float(line.racks_per_week.mean)
    return factory.model_copy(update={
        "racks_per_week": mean, "example": False,
        "source": f"line simulation '{line.line}': {mean:.1f} racks/week "
                  f"(95% CI +-{line.racks_per_week.half_width:.1f}), {line.replications} "
                  "replications"})


def run_plan(scenario: Scenario, results: Mapping[str, Any]) -> RampResult:
    """The deploy stage: the ramp, with the build stage's line throughput when it ran."""
    from rackforge.deploy.run import plan

    return plan(scenario, line=results.get("build"))


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
