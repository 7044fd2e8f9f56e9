"""The ``demand`` stage: the racks the program deploys (one rack, or rack generations) and the
power it wants per quarter (:mod:`rackforge.deploy.demand`), from the ``plan`` section, the
rack designs, compare candidates and roadmap entries it names, and the useful work the
``evaluate`` stage found for each generation's system. Both the ramp and sourcing read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rackforge.calendar import format_quarter
from rackforge.catalog import Catalog
from rackforge.compare import candidate_rack
from rackforge.compare_spec import CompareSpec
from rackforge.deploy.demand import Demand, DeployedRack, deployed_rack, racks_wanted
from rackforge.deploy.generations import resolve, roadmap, useful_work
from rackforge.deploy.sites import site_pue as site_pue_of
from rackforge.deploy.spec import PlanSpec
from rackforge.design.rack import RackLayout
from rackforge.economics import EconomicsSpec
from rackforge.errors import InputError
from rackforge.inputs import closest
from rackforge.perf.api import TrainingEvaluation

TITLE = "Demand"
SECTIONS = ("plan", "catalog", "layouts", "compare", "economics")


def run(plan: PlanSpec, catalog: Catalog, layouts: Mapping[str, RackLayout] | None = None,
        compare: CompareSpec | None = None, economics: EconomicsSpec | None = None,
        evaluate: list[TrainingEvaluation] | None = None) -> Demand:
    """The racks deployed (``plan.rack``, or each of ``plan.generations`` with its useful work
    from ``evaluate``) and the power wanted energized by each quarter: what the sites can
    take, up to the target."""
    layouts = layouts or {}
    pue = plan.pue or (economics or EconomicsSpec()).pue
    site_pue = tuple(site_pue_of(site, i, pue) for i, site in enumerate(plan.sites))
    if plan.generations:
        named = {g.candidate for g in plan.generations if g.candidate}
        candidates = {c: _candidate(c, compare, layouts, catalog, "plan.generations[].candidate")
                      for c in named}
        work = useful_work(evaluate or [], plan.work.workload) if plan.work else {}
        _check_work(plan, work)
        racks = resolve(plan, layouts, candidates, work)
    else:
        base = None
        if plan.rack.candidate is not None:
            base = _candidate(plan.rack.candidate, compare, layouts, catalog,
                              "plan.rack.candidate")
        racks = (deployed_rack(plan.rack, base),)
    return racks_wanted(plan, racks, pue, site_pue)


def _check_work(plan: PlanSpec, work: Mapping[str, float]) -> None:
    """With ``mix: cost-per-work``, every generation's system has a useful-work figure."""
    if plan.mix != "cost-per-work" or len(plan.generations) < 2 or plan.work is None:
        return
    for i, g in enumerate(plan.generations):
        system = g.system or (roadmap()[g.roadmap].system if g.roadmap in roadmap() else None)
        if system is None or system not in work:
            raise InputError("no useful-work figure for this generation", None,
                             f"plan.generations[{i}]", g.id,
                             f"its system ({system or 'none named'}) under evaluate.systems "
                             f"and {plan.work.workload!r} under evaluate.workloads, or mix: "
                             "fixed")


def _candidate(candidate: str, compare: CompareSpec | None, layouts: Mapping[str, RackLayout],
               catalog: Catalog, where: str) -> DeployedRack:
    ids = [c.id for c in compare.candidates] if compare else []
    if candidate not in ids:
        raise InputError("unknown compare candidate", None, where, candidate,
                         "the id of a candidate under compare.candidates",
                         closest(candidate, ids))
    i = ids.index(candidate)
    rack = candidate_rack(compare.candidates[i], i, catalog, layouts)
    return DeployedRack(rack.design, candidate, rack.accelerators, rack.it_power_w,
                        rack.price_usd, system=rack.system.id)


def summary(result: Demand) -> str:
    racks = ", ".join(f"{r.id if len(result.racks) > 1 else (r.design or r.candidate or r.id)}"
                      f" ({r.accelerators} accelerators, {r.it_power_w / 1e3:,.0f} kW)"
                      for r in result.racks)
    wanted = result.wanted_online_w[-1]
    target = ("" if result.target_w is None else
              f", target {result.target_w / 1e9:,.2f} GW {result.target_basis}")
    return (f"{racks}; {wanted / 1e9:,.2f} GW ({result.target_basis}) wanted online by "
            f"{format_quarter(result.quarters[-1])}{target}")


def data(result: Demand) -> dict[str, Any]:
    racks = [{"id": r.id, "design": r.design, "candidate": r.candidate, "system": r.system,
              "accelerators": r.accelerators, "it_power_w": r.it_power_w,
              "price_usd": r.price_usd,
              "available": format_quarter(r.available) if r.available else None,
              "last": format_quarter(r.last) if r.last else None,
              "tokens_per_s_per_gpu": r.tokens_per_s_per_gpu, "origin": r.origin}
             for r in result.racks]
    return {"racks": racks, "rack": racks[0] | {"facility_power_w": result.rack_facility_w},
            "pue": result.pue, "site_pue": list(result.site_pue),
            "commissioning_quarters": result.lag,
            "target_w": result.target_w, "target_basis": result.target_basis,
            "quarters": [{"quarter": format_quarter(q), "power_wanted_online_w": online,
                          "power_wanted_shipped_w": shipped}
                         for q, online, shipped in zip(result.quarters, result.wanted_online_w,
                                                       result.wanted_shipped_w, strict=True)]}
