"""The ``demand`` stage: the rack the program deploys and the racks it wants per quarter
(:mod:`rackforge.deploy.demand`), from the ``plan`` section and the compare candidate it
names. Both the ramp and sourcing read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rackforge.calendar import format_quarter
from rackforge.catalog import Catalog
from rackforge.compare import candidate_rack
from rackforge.compare_spec import CompareSpec
from rackforge.deploy.demand import Demand, DeployedRack, deployed_rack, racks_wanted
from rackforge.deploy.spec import PlanSpec
from rackforge.design.rack import RackLayout
from rackforge.economics import EconomicsSpec
from rackforge.errors import InputError
from rackforge.inputs import closest

TITLE = "Demand"
SECTIONS = ("plan", "catalog", "layouts", "compare", "economics")


def run(plan: PlanSpec, catalog: Catalog, layouts: Mapping[str, RackLayout] | None = None,
        compare: CompareSpec | None = None, economics: EconomicsSpec | None = None) -> Demand:
    """Racks wanted energized by each quarter: what the sites can take, up to the target."""
    base = None
    if plan.rack.candidate is not None:
        base = _candidate(plan.rack.candidate, compare, layouts or {}, catalog)
    rack = deployed_rack(plan.rack, base)
    return racks_wanted(plan, rack, plan.pue or (economics or EconomicsSpec()).pue)


def _candidate(candidate: str, compare: CompareSpec | None, layouts: Mapping[str, RackLayout],
               catalog: Catalog) -> DeployedRack:
    ids = [c.id for c in compare.candidates] if compare else []
    if candidate not in ids:
        raise InputError("unknown compare candidate", None, "plan.rack.candidate", candidate,
                         "the id of a candidate under compare.candidates",
                         closest(candidate, ids))
    i = ids.index(candidate)
    rack = candidate_rack(compare.candidates[i], i, catalog, layouts)
    return DeployedRack(rack.design, candidate, rack.accelerators, rack.it_power_w,
                        rack.price_usd)


def summary(result: Demand) -> str:
    rack = result.rack
    name = rack.design or rack.candidate or "plan.rack"
    wanted = result.wanted_online[-1]
    target = ("" if result.target_w is None else
              f", target {result.target_w / 1e9:,.2f} GW {result.target_basis}")
    return (f"{name}: {rack.accelerators} accelerators, {rack.it_power_w / 1e3:,.1f} kW IT per "
            f"rack; {wanted:,.0f} racks wanted online by {format_quarter(result.quarters[-1])}"
            f"{target}")


def data(result: Demand) -> dict[str, Any]:
    rack = result.rack
    return {"rack": {"design": rack.design, "candidate": rack.candidate,
                     "accelerators": rack.accelerators, "it_power_w": rack.it_power_w,
                     "price_usd": rack.price_usd, "facility_power_w": result.rack_facility_w},
            "pue": result.pue, "commissioning_quarters": result.lag,
            "target_w": result.target_w, "target_basis": result.target_basis,
            "target_racks": result.target_racks,
            "quarters": [{"quarter": format_quarter(q), "racks_wanted_online": online,
                          "racks_wanted_shipped": shipped}
                         for q, online, shipped in zip(result.quarters, result.wanted_online,
                                                       result.wanted_shipped, strict=True)]}
