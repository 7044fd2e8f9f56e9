"""The ``plan`` stage: the quarterly deployment ramp and what binds it
(:mod:`rackforge.deploy`). It places the demand within the simulated line's output (``build``)
and what the suppliers can deliver (``supply``); sourcing then buys for the racks it builds."""

from __future__ import annotations

from typing import Any

from rackforge.calendar import add_quarters, format_quarter, quarters_as_text
from rackforge.deploy.demand import Demand
from rackforge.deploy.plan_inputs import PartLimit, plan_inputs
from rackforge.deploy.ramp import RampResult, plan_ramp
from rackforge.deploy.sites import chain_limits, crew_racks_per_quarter, crews
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec
from rackforge.errors import InputError
from rackforge.factory.statistics import LineResult
from rackforge.inputs import closest
from rackforge.sourcing.capacity import Supply

TITLE = "Deployment ramp"
SECTIONS = ("plan", "economics")


def run(plan: PlanSpec, demand: Demand, economics: EconomicsSpec | None = None,
        build: LineResult | None = None, supply: Supply | None = None,
        lines: dict[str, LineResult] | None = None) -> RampResult:
    """The ramp of `demand`: the line's mean racks per week per line (and per line variant a
    generation names), when simulated, the BOM parts' deliveries of the sourced design, when
    sourced, and the sites' power chain and crews limit it besides the plan section's own
    limits."""
    line = float(build.racks_per_week.mean) if build is not None else None
    variants = {name: float(r.racks_per_week.mean) for name, r in (lines or {}).items()}
    for i, rack in enumerate(demand.racks):
        if rack.line_variant is not None and rack.line_variant not in variants:
            raise InputError("unknown line variant", None,
                             f"plan.generations[{i}].line_variant", rack.line_variant,
                             "a name under line.variants", closest(rack.line_variant,
                                                                   list(variants)))
    parts = []
    if supply is not None:   # a part limits the generations built of the designs using it
        built_of: dict[str | None, list[str]] = {}
        for rack in demand.racks:
            built_of.setdefault(rack.design, []).append(rack.id)
        parts = [PartLimit(p.part, p.units_per_rack, p.delivered_by(supply.start,
                                                                    demand.quarters),
                           supply.generations(p, built_of) if len(demand.racks) > 1 else None)
                 for p in supply.parts]
    energize = [add_quarters(q, demand.lag) for q in demand.quarters]
    inputs = plan_inputs(plan, demand, economics or EconomicsSpec(), line, parts, variants,
                         chain_limits(plan, energize, demand.site_pue), crews(plan, energize),
                         crew_racks_per_quarter())
    return plan_ramp(inputs)


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
