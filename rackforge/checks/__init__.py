"""Design rules, one module per domain. Each rule is a pure function returning findings."""

from __future__ import annotations

from dataclasses import dataclass

from rackforge.checks import cabling, cooling, mechanical, power
from rackforge.checks.findings import SEVERITY_ORDER, Finding, count, has_error, worst
from rackforge.design.budget import CableBudget, MassBudget, PowerBudget, RackBudget, ThermalBudget
from rackforge.design.rack import RackLayout
from rackforge.design.spec import SiteSpec

DOMAINS = (power, cooling, mechanical, cabling)


@dataclass(frozen=True)
class RackCheck:
    """The findings of one rack with the budgets they judged."""

    rack_id: str
    findings: list[Finding]
    power: PowerBudget
    thermal: ThermalBudget
    mass: MassBudget
    cables: tuple[CableBudget, ...]
    units_used: int
    accelerators: int


def check_rack(layout: RackLayout, site: SiteSpec | None = None) -> list[Finding]:
    """Apply every rule to one rack; findings sorted worst first, then by rule."""
    return check_rack_budget(RackBudget(layout), site).findings


def check_rack_budget(budget: RackBudget, site: SiteSpec | None = None) -> RackCheck:
    """Every rule applied to one rack's budget, with the budget's numbers kept."""
    findings = [f for domain in DOMAINS for f in domain.check(budget, site)]
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], f.rule))
    return RackCheck(budget.layout.id, findings, budget.power, budget.thermal, budget.mass,
                     budget.cables, budget.units_used, budget.layout.accelerators)


__all__ = ["Finding", "RackCheck", "check_rack", "check_rack_budget", "count", "has_error",
           "worst"]
