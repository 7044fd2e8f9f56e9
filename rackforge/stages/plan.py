"""The ``plan`` stage: the quarterly deployment ramp and what binds it
(:mod:`rackforge.deploy`). It places the demand within the simulated line's output (``build``)
and what the suppliers can deliver (``supply``); sourcing then buys for the racks it builds."""

from __future__ import annotations

from typing import Any

from rackforge.calendar import format_quarter, quarters_as_text
from rackforge.deploy.demand import Demand
from rackforge.deploy.plan_inputs import PartLimit, plan_inputs
from rackforge.deploy.ramp import RampResult, plan_ramp
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec
from rackforge.factory.statistics import LineResult
from rackforge.sourcing.capacity import Supply

TITLE = "Deployment ramp"
SECTIONS = ("plan", "economics")


def run(plan: PlanSpec, demand: Demand, economics: EconomicsSpec | None = None,
        build: LineResult | None = None, supply: Supply | None = None) -> RampResult:
    """The ramp of `demand`: the line's mean racks per week per line, when simulated, and the
    BOM parts' deliveries, when sourced, limit it besides the plan section's own limits."""
    line = float(build.racks_per_week.mean) if build is not None else None
    parts = []
    if supply is not None:
        parts = [PartLimit(p.part, p.units_per_rack, p.delivered_by(supply.start,
                                                                    demand.quarters))
                 for p in supply.parts]
    return plan_ramp(plan_inputs(plan, demand, economics or EconomicsSpec(), line, parts))


def summary(result: RampResult) -> str:
    final = result.final
    text = (f"{result.racks_total:,.0f} racks built, {final.racks_online:,.0f} online, "
            f"{final.facility_power_online_w / 1e9:.2f} GW facility "
            f"({final.it_power_online_w / 1e9:.2f} GW IT) by {format_quarter(final.quarter)}")
    if result.target_w is None:
        return text
    if result.target_reached:
        return (f"{text}; target {result.target_w / 1e9:.2f} GW reached in "
                f"{format_quarter(result.target_quarter)}")
    grow = "; ".join(g.describe() for g in result.growth)
    return f"{text}; target {result.target_w / 1e9:.2f} GW not reached, grow {grow}"


def data(result: RampResult) -> dict[str, Any]:
    """The ramp as JSON-ready data (quarters as ``2027Q1``), for results.json."""
    return quarters_as_text(result.to_dict())
