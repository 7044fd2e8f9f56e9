"""Power rules: shelf capacity under redundancy, busbar, facility feed, battery ride-through.

A busbar is fed by the rack's power shelves or, in a rack without shelves, by a sidecar power
rack (800 VDC, +-400 VDC): then the sidecar's rating replaces the shelf capacity rule.

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
    """Each rule where its equipment exists: shelves, busbar, shelf feed, PDUs, batteries."""
    layout, p = budget.layout, budget.power
    out = _shelves(budget) + _voltage(budget) + _pdus(budget) + _ride_through(budget)
    if layout.power_rack is not None:
        out.append(upper("POWER-SIDECAR-CAPACITY", layout.power_rack.id,
                         p.input_power_w, layout.power_rack.power_w, "W",
                         "input power exceeds the sidecar power rack's rating"))
    return out


def _shelves(budget: RackBudget) -> list[Finding]:
    layout, p = budget.layout, budget.power
    spec = layout.design.power
    out = []
    fed_by_sidecar = layout.power_rack is not None and not layout.shelves
    if layout.shelves or (layout.busbar is not None and layout.pdu is None
                          and not fed_by_sidecar):
        out.append(upper("POWER-SHELF-CAPACITY", f"shelves ({spec.redundancy})", p.it_power_w,
                         p.usable_capacity_w, "W",
                         "IT load exceeds the shelf capacity left after losing the spare "
                         "shelves; add shelves or use larger ones"))
    if layout.busbar is not None:
        out.append(upper("POWER-BUSBAR-CURRENT", f"busbar {layout.busbar.id}",
                         p.busbar_current_a, layout.busbar.current_rating_a, "A",
                         "busbar current exceeds its rating; use a higher-rated or "
                         "higher-voltage busbar"))
    if spec.feed is not None:
        out.append(upper("POWER-FEED-CAPACITY", "feed", p.input_power_w, p.feed_capacity_w, "W",
                         "input power (IT load / shelf efficiency) exceeds the feed's "
                         "continuous capacity; add circuits or use larger breakers"))
    return out


def _pdus(budget: RackBudget) -> list[Finding]:
    """PDU rules: one feed carries the whole rack (N+N after losing a feed)."""
    d = budget.pdu
    if d is None:
        return []
    feed = "one feed of A/B" if d.feeds == 2 else "feed"
    pdu = budget.layout.pdu
    out = [
        upper("POWER-PDU-FEED-CAPACITY", f"{d.pdus_per_feed} x {d.pdu_id} ({feed})", d.load_w,
              d.feed_capacity_w, "W",
              "the rack's load exceeds what one feed's PDUs carry continuously (breaker x "
              "derating x power factor); add PDUs per feed or use larger ones"),
        upper("POWER-PDU-PHASE-CURRENT", f"{d.pdu_id} worst phase ({feed})",
              d.max_phase_current_a, d.phase_limit_a, "A",
              "the most loaded phase exceeds the PDU breaker x derating; spread the cords over "
              "more PDUs or use a higher-rated PDU"),
        upper("POWER-PDU-OUTLETS", d.pdu_id, d.cords_per_pdu, pdu.outlets, "outlets",
              "more power cords than the PDU has outlets; add PDUs per feed", warn=0.0),
    ]
    if d.branch_limit_a is not None:
        out.append(upper("POWER-PDU-BRANCH-CURRENT",
                         f"{d.pdu_id} outlet group of {pdu.outlets_per_breaker}",
                         d.branch_current_a, d.branch_limit_a, "A",
                         "the cords on one branch breaker draw more than its rating x "
                         "derating; use fewer cords per outlet group, more cords per tray, or a "
                         "PDU with larger branch breakers"))
    if pdu.phases == 3:  # balance is a three-phase question
        out.append(_balance(d.imbalance, budget.layout.design.power.pdus.max_phase_imbalance,
                            d.pdu_id))
    return out


def _balance(imbalance: float, limit: float, pdu_id: str) -> Finding:
    """Phase imbalance (NEMA MG 1 definition, electrical.phase_imbalance) vs the scenario's
    limit: a warning, never an error (the breaker rule judges the overload itself)."""
    if imbalance <= limit:
        return Finding("POWER-PHASE-BALANCE", "pass", pdu_id, imbalance, limit,
                       (limit - imbalance) / limit, "", "ok")
    return Finding("POWER-PHASE-BALANCE", "warning", pdu_id, imbalance, limit,
                   (limit - imbalance) / limit, "",
                   f"phase loads deviate up to {imbalance:.0%} from their mean (limit "
                   f"{limit:.0%}, power.pdus.max_phase_imbalance); move cords to the lighter "
                   "phases or change cords_per_tray")


def _voltage(budget: RackBudget) -> list[Finding]:
    layout = budget.layout
    if layout.busbar is None:
        return []
    bus_v = layout.busbar.voltage_v
    out = []
    sidecar = layout.power_rack
    if sidecar is not None and not layout.shelves and \
            abs(sidecar.output_voltage_v - bus_v) > VOLTAGE_TOLERANCE * bus_v:
        out.append(failure("POWER-BUSBAR-VOLTAGE", sidecar.id,
                           f"sidecar output {sidecar.output_voltage_v:g} V does not match the "
                           f"{bus_v:g} V busbar it feeds; pick a busbar for the sidecar's bus",
                           sidecar.output_voltage_v, bus_v, "V"))
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
