"""Cabling rules: run length from tray positions plus routing slack vs the medium's reach."""

from __future__ import annotations

from rackforge.checks.findings import Finding, info, upper
from rackforge.design.budget import RackBudget
from rackforge.design.spec import SiteSpec


def check(budget: RackBudget, site: SiteSpec | None = None) -> list[Finding]:
    out = []
    for run, cb in zip(budget.layout.cable_runs, budget.cables, strict=True):
        subject = cb.group
        out.append(upper("CABLE-REACH", subject, cb.longest_run_m, run.cable.reach_m, "m",
                         f"longest run exceeds the {run.cable.id} {run.cable.medium} reach at "
                         f"{run.cable.lane_gbps:g}G per lane; move the trays closer or use "
                         "an active cable or optics"))
        mass = f", {cb.mass_kg:.1f} kg" if cb.mass_kg is not None else ""
        out.append(info("CABLE-COUNT", subject, cb.cables, "cables",
                        f"{cb.cables} x {run.cable.id}, {cb.total_length_m:.0f} m in all{mass}"))
    return out
