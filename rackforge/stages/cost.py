"""The ``cost`` stage: the whole cost of the program the ramp deploys (racks, networks,
storage, facility, grid interconnect, land, and the carrying cost of racks and parts held),
quarter by quarter and per facility GW, checked against public all-in estimates
(:mod:`rackforge.deploy.program_cost`). It reads the ramp, the racks deployed, the lines'
cycle times (``build``, ``lines``) and the parts the sourcing plan holds (``source``) when those
stages run."""

from __future__ import annotations

from typing import Any

from rackforge.calendar import quarters_as_text
from rackforge.deploy.demand import Demand
from rackforge.deploy.program_cost import ProgramCost, ProgramOptions, program_cost
from rackforge.deploy.ramp import RampResult
from rackforge.economics import EconomicsSpec
from rackforge.factory.statistics import LineResult
from rackforge.sourcing.report import SourcingReport

TITLE = "Program cost"
SECTIONS = ("economics",)


def run(plan: RampResult, demand: Demand, economics: EconomicsSpec | None = None,
        build: LineResult | None = None, source: SourcingReport | None = None,
        lines: dict[str, LineResult] | None = None) -> ProgramCost:
    """Cost of the ramp's racks and of the halls they go live in, item by item; the work in
    progress of a generation built on a line variant (``lines``) at that variant's cycle
    time."""
    return program_cost(plan, demand, economics or EconomicsSpec(), build, source,
                        ProgramOptions(lines=lines or {}))


def summary(result: ProgramCost) -> str:
    check = result.check
    if check.usd_per_gw is None:
        return f"total capex ${result.total_usd / 1e9:,.1f}B; {check.message}"
    where = {True: "within", False: "outside"}[bool(check.within)]
    return (f"total capex ${result.total_usd / 1e9:,.1f}B, "
            f"${check.usd_per_gw / 1e9:,.1f}B per facility GW "
            f"({result.facility_power_w / 1e9:,.2f} GW), {where} the public range "
            f"${check.low_usd_per_gw / 1e9:,.0f}B-${check.high_usd_per_gw / 1e9:,.0f}B")


def data(result: ProgramCost) -> dict[str, Any]:
    """The cost as JSON-ready data (quarters as ``2027Q1``), for results.json."""
    return quarters_as_text(result.to_dict())
