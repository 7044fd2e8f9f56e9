"""Design rules, one module per domain. Each rule is a pure function returning findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def run_checks(scenario, results: Mapping[str, Any]) -> dict[str, RackCheck]:  # noqa: ANN001
    """The ``checks`` stage of ``rackforge run``: every rack design of the scenario."""
    site = scenario.spec.site
    return {rid: check_rack_budget(RackBudget(layout), site)
            for rid, layout in scenario.layouts.items()}


def checks_summary(result: dict[str, RackCheck]) -> str:
    totals = count([f for rc in result.values() for f in rc.findings])
    verdict = "FAIL" if totals["error"] else "PASS"
    return (f"{verdict}: {len(result)} rack design(s), {totals['error']} error(s), "
            f"{totals['warning']} warning(s), {totals['pass']} passed")


def checks_passed(result: dict[str, RackCheck]) -> bool:
    return not any(has_error(rc.findings) for rc in result.values())


__all__ = ["Finding", "RackCheck", "check_rack", "check_rack_budget", "checks_passed",
           "checks_summary", "count", "run_checks", "worst"]
