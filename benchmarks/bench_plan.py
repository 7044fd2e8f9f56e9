"""Time to plan the ramp and compare candidates.

- the reference ramp (14 quarters, 4 sites, 2 parts): build + solve, and with the elastic
  re-solve that says what must grow;
- a large ramp (40 quarters, 50 sites, 20 parts, about 2,000 columns and 3,000 rows) to show how
  the vectorized construction and HiGHS scale;
- the reference comparison with performance given (TCO, ranking and 10 sensitivity cases).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from timing import timed

from rackforge.calendar import add_quarters, format_quarter, parse_quarter
from rackforge.compare import CompareInputs, compare
from rackforge.deploy.demand import DeployedRack, racks_wanted
from rackforge.deploy.plan_inputs import plan_inputs
from rackforge.deploy.ramp import plan_ramp
from rackforge.deploy.spec import PlanSpec
from rackforge.economics import EconomicsSpec, PerfPoint
from rackforge.scenario import load
from rackforge.stages import demand

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


def main() -> None:
    scen = load(REFERENCE)
    spec = scen.spec
    wanted = demand.run(spec.plan, scen.catalog, scen.layouts, spec.compare, spec.economics)
    inp = plan_inputs(spec.plan, wanted, spec.economics)
    no_target = replace(inp, demand=replace(inp.demand, target_w=None))
    solve_s = timed(lambda: plan_ramp(no_target), 5)[0]
    print(f"reference ramp, solve only      {solve_s * 1e3:7.1f} ms")
    print(f"reference ramp + what must grow {timed(lambda: plan_ramp(inp), 5)[0] * 1e3:7.1f} ms")
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
