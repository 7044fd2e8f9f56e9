"""The ``checks`` stage: every rack design against the power, cooling, mechanical and cabling
rules (:mod:`rackforge.checks`)."""

from __future__ import annotations

from collections.abc import Mapping

from rackforge.checks import RackCheck, check_rack_budget, count, has_error
from rackforge.design.budget import RackBudget
from rackforge.design.rack import RackLayout
from rackforge.design.spec import SiteSpec

TITLE = "Design checks"
SECTIONS = ("layouts", "site")


def run(layouts: Mapping[str, RackLayout], site: SiteSpec | None = None
        ) -> dict[str, RackCheck]:
    """The findings and budgets of each rack design, by rack id."""
    return {rid: check_rack_budget(RackBudget(layout), site) for rid, layout in layouts.items()}


def summary(result: dict[str, RackCheck]) -> str:
    totals = count([f for rc in result.values() for f in rc.findings])
    verdict = "FAIL" if totals["error"] else "PASS"
    return (f"{verdict}: {len(result)} rack design(s), {totals['error']} error(s), "
            f"{totals['warning']} warning(s), {totals['pass']} passed")


def passed(result: dict[str, RackCheck]) -> bool:
    return not any(has_error(rc.findings) for rc in result.values())
