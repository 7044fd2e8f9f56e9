"""Sourcing MIP: build and solve time and optimality gap on synthetic instances of growing size.

Target (issue "Source it in America"): the largest, 1,000 parts x 30 suppliers x 14 quarters,
solved to a 0.5 % gap in under 60 s on this machine. Instances come from
:func:`rackforge.sourcing.problem.random_problem` (invented data, seeded): each part is offered by
3-6 of the suppliers (``dense``: 10-20), half of them domestic; a third of the offers have a
minimum order (binary); the FAR 25-style floor of 50 % binds.

The gap is (plan cost - best bound) / plan cost, the bound being the LP relaxation or the MIP
solver's dual bound. Run: ``.venv/bin/python benchmarks/bench_sourcing.py [--quick]``;
``--highs-only`` solves the three smallest with HiGHS branch-and-cut alone, for comparison.
"""

from __future__ import annotations

import sys
import time

from rackforge.highs import SolveOptions
from rackforge.sourcing.mip import solve_mip, violation
from rackforge.sourcing.model import build_model
from rackforge.sourcing.problem import random_problem
from rackforge.sourcing.solver import HighsSolver

SIZES = [  # parts, suppliers, quarters, offers per part
    (10, 5, 4, (3, 6)),
    (50, 10, 8, (3, 6)),
    (200, 20, 12, (3, 6)),
    (500, 30, 14, (3, 6)),
    (1000, 30, 14, (3, 6)),
    (1000, 30, 14, (10, 20)),
]
GAP, TIME_LIMIT_S = 0.005, 60.0


def run(parts: int, suppliers: int, quarters: int, per_part: tuple[int, int],
        highs_only: bool = False) -> dict:
    problem = random_problem(parts, suppliers, quarters, seed=2027, offers_per_part=per_part)
    began = time.perf_counter()
    model, cols = build_model(problem)
    arrays = model.arrays()
    build_s = time.perf_counter() - began
    if highs_only:  # branch-and-cut alone, for comparison with the rounding pipeline
        sol = HighsSolver().solve(arrays, SolveOptions(GAP, TIME_LIMIT_S))
        method, gap = "highs only", sol.gap
    else:
        run_ = solve_mip(model, cols, HighsSolver(), SolveOptions(GAP, TIME_LIMIT_S))
        sol, method = run_.solution, run_.method
        gap = (max(sol.objective - run_.lp_bound, 0.0) / sol.objective if sol.has_solution
               else float("nan"))
    return {"size": f"{parts} x {suppliers} x {quarters}", "offers": len(problem.offers),
            "cols": model.n_cols, "rows": model.n_rows, "integer": int(arrays.integer.sum()),
            "build_s": build_s, "solve_s": sol.solve_s, "gap": gap, "method": method,
            "status": sol.status,
            "feasible": sol.has_solution and violation(arrays, sol.x) <= 1e-9}


def main() -> None:
    highs_only = "--highs-only" in sys.argv
    sizes = SIZES[:3] if "--quick" in sys.argv or highs_only else SIZES
    header = (f"{'parts x suppliers x quarters':>29} {'offers':>7} {'columns':>8} {'rows':>8} "
              f"{'integer':>8} {'build s':>8} {'solve s':>8} {'gap':>8}  method / status")
    print(header)
    for parts, suppliers, quarters, per_part in sizes:
        r = run(parts, suppliers, quarters, per_part, highs_only)
        dense = " dense" if per_part[0] >= 10 else ""
        ok = "" if r["feasible"] else " INFEASIBLE PLAN"
        print(f"{r['size'] + dense:>29} {r['offers']:>7,} {r['cols']:>8,} {r['rows']:>8,} "
              f"{r['integer']:>8,} {r['build_s']:>8.2f} {r['solve_s']:>8.2f} {r['gap']:>8.3%}  "
              f"{r['method']} / {r['status']}{ok}")
    print(f"target: largest under {TIME_LIMIT_S:.0f} s to a {GAP:.1%} gap")


if __name__ == "__main__":
    main()
