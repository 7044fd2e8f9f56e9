"""Time to plan the ramp and compare candidates.

- the reference ramp (14 quarters, 4 generations, 4 sites with transformers and crews, 5
  parts): build + solve, and with the elastic re-solve that says what must grow;
- the same generations on 10 sites, each with its power chain and crews (the issue's bound:
  under 5 s);
- a large ramp (40 quarters, 50 sites, 20 parts, about 2,000 columns and 3,000 rows) to show how
  the vectorized construction and HiGHS scale;
- the reference comparison with performance given (TCO, ranking and 10 sensitivity cases).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from timing import timed

from rackforge import pipeline
from rackforge.calendar import add_quarters, format_quarter, parse_quarter
from rackforge.compare import CompareInputs, compare
from rackforge.deploy.demand import DeployedRack, racks_wanted
from rackforge.deploy.plan_inputs import plan_inputs
from rackforge.deploy.ramp import plan_ramp
from rackforge.deploy.sites import chain_limits, crew_racks_per_quarter, crews, site_pue
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec, PerfPoint
from rackforge.scenario import load

REFERENCE = Path(__file__).parent.parent / "scenarios" / "reference.yaml"



def large_inputs(n_quarters: int = 40, n_sites: int = 50, n_parts: int = 20):
    rng = np.random.default_rng(0)
    start = parse_quarter("2026Q3")
    qs = [format_quarter(add_quarters(start, k)) for k in range(n_quarters)]
    sites = [{"name": f"site-{i}", "power_w": {q: float(p) for q, p in zip(
        qs, np.cumsum(rng.uniform(0, 40e6, n_quarters)), strict=True)}} for i in range(n_sites)]
    supply = [{"part": f"part-{i}", "units_per_rack": float(rng.integers(1, 80)),
               "per_quarter": float(rng.uniform(1e4, 1e5))} for i in range(n_parts)]
    spec = PlanSpec.model_validate({
        "start": qs[0], "end": qs[-1], "factory": {"racks_per_week": 300, "lines": 2},
        "supply": supply, "sites": sites, "target_w": 50e9})
    rack = DeployedRack(None, None, 72, 130e3, 3.5e6)
    return plan_inputs(spec, racks_wanted(spec, rack, EconomicsSpec().pue), EconomicsSpec())


def reference_inputs():
    """The reference ramp's inputs, from the stages it reads (cached after the first run)."""
    scen = load(REFERENCE)
    run = pipeline.run(scen, ["plan"])
    spec, outcomes = scen.spec, run.outcomes
    plan = spec.plan
    energize = [add_quarters(q, plan.commissioning_quarters) for q in
                outcomes["demand"].result.quarters]
    return scen, plan, outcomes, energize


def ten_sites(plan: PlanSpec) -> PlanSpec:
    """The reference plan on 10 sites: its 4 sites, and copies of them renamed."""
    sites = [site.model_copy(update={"name": f"{site.name}-{k}"})
             for k in range(3) for site in plan.sites][:10]
    return plan.model_copy(update={"sites": sites})


def main() -> None:
    scen, plan, outcomes, energize = reference_inputs()
    spec = scen.spec
    wanted = outcomes["demand"].result
    variants = {n: float(r.racks_per_week.mean) for n, r in outcomes["lines"].result.items()}
    line = float(outcomes["build"].result.racks_per_week.mean)

    def inputs(plan_spec: PlanSpec, demand_result):
        return plan_inputs(plan_spec, demand_result, spec.economics, line, (), variants,
                           chain_limits(plan_spec, energize, demand_result.site_pue),
                           crews(plan_spec, energize), crew_racks_per_quarter())

    inp = inputs(plan, wanted)
    no_target = replace(inp, demand=replace(inp.demand, target_w=None))
    solve_s = timed(lambda: plan_ramp(no_target), 5)[0]
    print(f"reference ramp, solve only      {solve_s * 1e3:7.1f} ms")
    print(f"reference ramp + what must grow {timed(lambda: plan_ramp(inp), 5)[0] * 1e3:7.1f} ms")
    wide = ten_sites(plan)
    wide_demand = replace(wanted, site_pue=tuple(
        site_pue(site, i, wanted.pue) for i, site in enumerate(wide.sites)))
    wide_inp = inputs(wide, wide_demand)
    print(f"4 generations x 10 sites with power chain and crews + growth "
          f"{timed(lambda: plan_ramp(wide_inp), 3)[0] * 1e3:7.1f} ms (bound 5,000 ms)")
    big = large_inputs()
    print(f"large ramp (40 q, 50 sites, 20 parts) + growth "
          f"{timed(lambda: plan_ramp(big), 3)[0] * 1e3:7.1f} ms")
    perf = {(c.id, w.id): PerfPoint(1000.0, 1500.0) for c in spec.compare.candidates
            for w in spec.compare.workloads}
    given = CompareInputs(scen.catalog, scen.layouts, spec.economics, perf)
    modelled = CompareInputs(scen.catalog, scen.layouts, spec.economics)
    print(f"reference comparison (perf given) "
          f"{timed(lambda: compare(spec.compare, given), 5)[0] * 1e3:7.1f} ms")
    print(f"reference comparison (perf model) "
          f"{timed(lambda: compare(spec.compare, modelled), 1)[0] * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
