"""Cabling rules: run length from tray positions plus routing slack vs the medium's reach.

CABLE-REACH and CABLE-PORTS judge links (one link = one port at each end); CABLE-COUNT reports
the physical cables that make them (``cables_per_link`` of the cable part per link).
"""

from __future__ import annotations

from rackforge.checks.findings import Finding, info, upper
from rackforge.design.budget import CableBudget, RackBudget
from rackforge.design.rack import CableRun, port_count
from rackforge.design.spec import SiteSpec


def check(budget: RackBudget, site: SiteSpec | None = None) -> list[Finding]:
    out = []
    for run, cb in zip(budget.layout.cable_runs, budget.cables, strict=True):
        subject = cb.group
        out.append(upper("CABLE-REACH", subject, cb.longest_run_m, run.cable.reach_m, "m",
                         f"longest run exceeds the {run.cable.id} {run.cable.medium} reach at "
                         f"{run.cable.lane_gbps:g}G per lane; the run is the trays' height "
                         "offset + 2 x horizontal_m + slack_m of the cable group (port names "
                         "the trays' ports): shorten horizontal_m or slack_m, move the trays "
                         "closer, or use an active cable or optics"))
        out += _ports(run)
        out.append(info("CABLE-COUNT", subject, cb.cables, "cables", _count_message(run, cb)))
    return out


def _count_message(run: CableRun, cb: CableBudget) -> str:
    """Physical cables, the links they make, their length [m] and mass [kg]."""
    mass = f", {cb.mass_kg:,.1f} kg" if cb.mass_kg is not None else ""
    per_link = run.cable.cables_per_link
    links = (f"{cb.links:,} links x {per_link} cables of {run.cable.id} = {cb.cables:,} cables"
             if per_link > 1 else f"{cb.links:,} x {run.cable.id}")
    return f"{links}, {cb.total_length_m:,.0f} m in all{mass}"


def _ports(run: CableRun) -> list[Finding]:
    """Links each tray of the mesh terminates vs the ports of the named kind it has."""
    group = run.group
    if group.port is None:
        return []
    out = []
    for ends, others in ((run.from_parts, run.to_parts), (run.to_parts, run.from_parts)):
        tray = ends[0].part
        out.append(upper("CABLE-PORTS", f"{group.name} {tray.id}",
                         len(others) * group.cables_per_pair, port_count(tray, group.port),
                         "ports", f"each {tray.id} needs more {group.port} ports than it has; "
                         "fewer cables per pair or more trays on the other end", warn=0.0))
    return out
