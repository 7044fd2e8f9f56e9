"""The ``supply`` stage: the bills of materials of the racks the program deploys (every rack
design sourcing buys for) and what their suppliers can deliver by each quarter
(:mod:`rackforge.sourcing.capacity`). The ramp reads it as parts limits; sourcing buys from it
for the racks the ramp builds."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from rackforge.calendar import add_quarters, format_quarter
from rackforge.catalog import Catalog
from rackforge.checks.fabric import ClusterCheck
from rackforge.deploy.demand import Demand
from rackforge.design.cluster import fabric_bom
from rackforge.design.rack import RackLayout
from rackforge.errors import InputError
from rackforge.sourcing.bom import per_rack
from rackforge.sourcing.capacity import Supply, supply
from rackforge.sourcing.spec import SourcingSpec
from rackforge.sourcing.suppliers import pick_designs, resolve_sourcing

TITLE = "Parts supply"
SECTIONS = ("sourcing", "layouts", "catalog")


def run(sourcing: SourcingSpec, layouts: Mapping[str, RackLayout], catalog: Catalog,
        cluster: ClusterCheck | None = None, demand: Demand | None = None) -> Supply:
    """Each sourced design's BOM (with the cluster's fabric per rack for the design the cluster
    is built of) and, per part, the units its offers can deliver by each quarter. Sourced:
    ``sourcing.designs`` or ``sourcing.design``, else every design the plan deploys."""
    deployed = demand.designs() if demand is not None else []
    designs = pick_designs(sourcing, [layout.design for layout in layouts.values()], deployed)
    if len(designs) > 1 and isinstance(sourcing.build_schedule, dict):
        raise InputError("a build schedule of racks per quarter is for one design", None,
                         "sourcing.designs", ", ".join(d.id for d in designs),
                         "one design, or racks from the plan (build_schedule: plan)")
    for design in designs:
        if demand is not None and design.id not in deployed:
            key = "sourcing.design" if sourcing.designs is None else \
                f"sourcing.designs[{sourcing.designs.index(design.id)}]"
            raise InputError("sourcing a rack the plan does not deploy", None, key, design.id,
                             "a rack the plan deploys ("
                             + (", ".join(deployed) or "it names no rack design")
                             + "), so that sourcing buys for the racks the ramp builds")
    resolved = []
    for design in designs:
        extra: list[tuple[str, float, str]] = []
        if cluster is not None and sourcing.fabric == "cluster" and \
                cluster.base.spec.rack == design.id:
            extra = per_rack(fabric_bom(cluster.base), cluster.base.racks)
        resolved.append(resolve_sourcing(sourcing, catalog, design, extra))
    return supply(resolved, _start(sourcing, demand))


def _start(sourcing: SourcingSpec, demand: Demand | None) -> date:
    """First quarter orders can be placed: given, else the first quarter racks are built."""
    if sourcing.start is not None:
        return sourcing.start
    if isinstance(sourcing.build_schedule, dict):
        return min(sourcing.build_schedule)
    return demand.quarters[0]


def summary(result: Supply) -> str:
    designs = result.sourced
    lines = sum(len(d.bom.lines) for d in designs)
    parts = {p.part for p in result.parts}
    suppliers = {o.supplier for o in result.resolved.offers if o.part in parts}
    return (f"{', '.join(d.design.id for d in designs)}: {lines} BOM lines, {len(parts)} parts "
            f"offered by {len(suppliers)} suppliers, orders from {format_quarter(result.start)}")


def data(result: Supply) -> dict[str, Any]:
    return {"design": result.resolved.design.id, "start": format_quarter(result.start),
            "designs": [d.design.id for d in result.sourced],
            "example_data": result.resolved.example,
            "bom_per_rack": [vars(line) for line in result.resolved.bom.lines],
            "bom_per_rack_by_design": {d.design.id: [vars(line) for line in d.bom.lines]
                                       for d in result.sourced},
            "parts": [{"part": p.part, "units_per_rack": p.units_per_rack,
                       "used_by": [{"design": d, "units_per_rack": n} for d, n in p.used_by],
                       "capacity_added": [{"from_quarter": format_quarter(
                           add_quarters(result.start, first)), "units_per_quarter": units}
                           for first, units in p.added_per_quarter],
                       "capacity_lost": [{"quarter": format_quarter(
                           add_quarters(result.start, index)), "units": units}
                           for index, units in p.lost_per_quarter]}
                      for p in result.parts]}
