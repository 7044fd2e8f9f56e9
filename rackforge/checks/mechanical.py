"""Mechanical rules: rack units, slot overlaps, payload and floor load."""

from __future__ import annotations

from itertools import pairwise

from rackforge.checks.findings import Finding, failure, upper
from rackforge.design.budget import RackBudget
from rackforge.design.spec import SiteSpec


def check(budget: RackBudget, site: SiteSpec | None = None) -> list[Finding]:
    layout, mass = budget.layout, budget.mass
    rack = layout.rack
    out = [upper("MECH-RACK-UNITS", rack.id, budget.units_used, rack.usable_units,
                 "U", "parts need more units than the rack has", warn=0.0)]
    out += _geometry(budget)
    out.append(upper("MECH-PAYLOAD", rack.id, mass.payload_kg, rack.payload_kg, "kg",
                     "parts, busbar, cables and coolant exceed the rack's payload rating"))
    if site is not None:
        out.append(upper("MECH-FLOOR-LOAD", "footprint", mass.total_kg / rack.footprint_m2,
                         site.floor_rating_kg_per_m2, "kg/m2",
                         "rack mass over its footprint exceeds the floor rating; spread the "
                         "load or move to a stronger floor"))
    return out


def _geometry(budget: RackBudget) -> list[Finding]:
    layout = budget.layout
    top = layout.rack.usable_units
    out = []
    for p in layout.placed:
        if p.top_u > top:
            out.append(failure("MECH-SLOT-RANGE", f"slots[{p.slot_index}] {p.part.id}",
                               f"occupies units {p.bottom_u}-{p.top_u}, past the rack's top "
                               f"unit {top}", p.top_u, top, "U"))
    for a, b in pairwise(layout.placed):
        if b.bottom_u <= a.top_u:
            out.append(failure("MECH-SLOT-OVERLAP", f"U{b.bottom_u}",
                               f"{a.part.id} (units {a.bottom_u}-{a.top_u}) overlaps "
                               f"{b.part.id} (units {b.bottom_u}-{b.top_u})"))
    return out
