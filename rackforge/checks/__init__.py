"""Design rules, one module per domain. Each rule is a pure function returning findings."""

from __future__ import annotations

from rackforge.checks import cabling, cooling, mechanical, power
from rackforge.checks.findings import SEVERITY_ORDER, Finding, count, worst
from rackforge.design.budget import RackBudget
from rackforge.design.rack import RackLayout
from rackforge.design.spec import SiteSpec

DOMAINS = (power, cooling, mechanical, cabling)


def check_rack(layout: RackLayout, site: SiteSpec | None = None) -> list[Finding]:
    """Apply every rule to one rack; findings sorted worst first, then by rule."""
    budget = RackBudget(layout)
    findings = [f for domain in DOMAINS for f in domain.check(budget, site)]
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule))


__all__ = ["Finding", "check_rack", "count", "worst"]
