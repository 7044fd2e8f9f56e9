"""Power rules: shelf capacity under redundancy, busbar, facility feed, battery ride-through.

Formulas live in :mod:`rackforge.design.electrical`; the numbers in
:class:`rackforge.design.budget.PowerBudget`.
"""

from __future__ import annotations

from rackforge.catalog.models import PowerShelf
from rackforge.checks.findings import Finding, failure, lower, upper
from rackforge.design.budget import RackBudget
from rackforge.design.spec import SiteSpec

VOLTAGE_TOLERANCE = 0.10  # a 48 V busbar takes 50 V shelves, not 12 V or 800 V ones


def check(budget: RackBudget, site: SiteSpec | None = None) -> list[Finding]:
    layout, p = budget.layout, budget.power
    spec = layout.design.power
    out = [
        upper("POWER-SHELF-CAPACITY", f"shelves ({spec.redundancy})", p.it_power_w,
              p.usable_capacity_w, "W",
              "IT load exceeds the shelf capacity left after losing the spare shelves; "
              "add shelves or use larger ones"),
        upper("POWER-BUSBAR-CURRENT", f"busbar {layout.busbar.id}", p.busbar_current_a,
              layout.busbar.current_rating_a, "A",
              "busbar current exceeds its rating; use a higher-rated or higher-voltage busbar"),
        upper("POWER-FEED-CAPACITY", "feed", p.input_power_w, p.feed_capacity_w, "W",
              "input power (IT load / shelf efficiency) exceeds the feed's continuous capacity; "
              "add circuits or use larger breakers"),
    ]
    out += _voltage(budget)
    out += _ride_through(budget)
    if layout.power_rack is not None:
        out.append(upper("POWER-SIDECAR-CAPACITY", layout.power_rack.id,
                         p.input_power_w, layout.power_rack.power_w, "W",
                         "input power exceeds the sidecar power rack's rating"))
    return out


def _voltage(budget: RackBudget) -> list[Finding]:
    layout = budget.layout
    bus_v = layout.busbar.voltage_v
    out = []
    for shelf in {p.part.id: p.part for p in layout.of_type(PowerShelf)}.values():
        if abs(shelf.output_voltage_v - bus_v) > VOLTAGE_TOLERANCE * bus_v:
            out.append(failure("POWER-BUSBAR-VOLTAGE", shelf.id,
                               f"shelf output {shelf.output_voltage_v:g} V does not match the "
                               f"{bus_v:g} V busbar; pick shelves for this busbar",
                               shelf.output_voltage_v, bus_v, "V"))
    return out


def _ride_through(budget: RackBudget) -> list[Finding]:
    layout, p = budget.layout, budget.power
    required = layout.design.power.ride_through_s
    out = []
    if p.bbu_power_w > 0:
        out.append(lower("POWER-BBU-CAPACITY", "battery shelves", p.bbu_power_w,
                         p.it_power_w, "W",
                         "battery shelves cannot carry the full IT load; add BBU shelves"))
    if required:
        out.append(lower("POWER-RIDE-THROUGH", "battery shelves", p.holdup_s,
                         required, "s",
                         "battery hold-up at full IT load is shorter than required; "
                         "add BBU shelves"))
    return out
