"""Why a sourcing problem is infeasible, in the planner's terms.

The elastic version of the model (see :mod:`rackforge.sourcing.model`) puts priced slack on
the three limits a planner can negotiate: the domestic floor of each delivery year [USD of
domestic cost], each offer's capacity per quarter [units] and the need dates (backlog, units
late per quarter; what is still late at the end of the horizon is a shortfall). Penalties are
multiples of the part's landed cost (:data:`~rackforge.sourcing.model.PENALTY`), so the
solution gives the cheapest set of limits to relax; each one is reported with its amount. This is
the elastic-programming approach of Chinneck [1]_.

References
----------
.. [1] Chinneck, J. W. "Feasibility and Infeasibility in Optimization", Springer (2008),
   ch. 8 (elastic programming, phase-1 infeasibility analysis).
"""

from __future__ import annotations

import numpy as np

from rackforge.highs import SolveOptions
from rackforge.sourcing.mip import solve_mip
from rackforge.sourcing.model import PENALTY, Columns, build_model, part_reference_cost
from rackforge.sourcing.problem import SourcingProblem
from rackforge.sourcing.results import Explanation, Relaxation, shares
from rackforge.sourcing.solver import Solver
from rackforge.sourcing.spec import format_quarter

TOL = 1e-6
_WORDS = {"domestic_floor": "domestic-content floor", "capacity": "supplier capacity",
          "need_date": "need dates", "shortfall": "demand (shortfall)", "none": "nothing"}


def explain_infeasible(problem: SourcingProblem, solver: Solver, options: SolveOptions
                       ) -> tuple[Explanation, tuple[Columns, np.ndarray]]:
    """Solve the elastic version; return the relaxations it needs and its plan."""
    model, cols = build_model(problem, elastic=True)
    run = solve_mip(model, cols, solver, options)
    x = run.solution.x
    if x is None:  # cannot happen unless share caps alone are impossible
        msg = ("infeasible even with slack on floor, capacity and need dates: check the "
               "critical parts' max_supplier_share against how many suppliers offer them")
        return Explanation((), "supplier_share", msg), (cols, np.zeros(model.n_cols))
    found = [*_floor(problem, cols, x), *_capacity(problem, cols, x), *_late(problem, cols, x)]
    found.sort(key=lambda r: -r.penalty_usd)
    by_kind: dict[str, float] = {}
    for r in found:
        by_kind[r.kind] = by_kind.get(r.kind, 0.0) + r.penalty_usd
    main = max(by_kind, key=by_kind.get) if by_kind else "none"
    lines = "; ".join(r.message for r in found[:5])
    more = f" (+{len(found) - 5} more)" if len(found) > 5 else ""
    summary = f"infeasible: the {_WORDS[main]} must give. {lines}{more}"
    return Explanation(tuple(found), main, summary), (cols, x)


def _floor(problem: SourcingProblem, cols: Columns, x: np.ndarray) -> list[Relaxation]:
    out = []
    for d in range(max(len(problem.designs), 1)):
        _, by_year = shares(problem, cols, x, d if problem.several else None)
        name = f"{problem.designs[d]} " if problem.several else ""
        for ys in by_year:
            column = cols.floor_slack.get((d, ys.year))
            slack = x[column] if column is not None else 0.0
            if slack <= TOL * max(ys.total_usd, 1.0) or ys.share is None or \
                    ys.share >= ys.floor:
                continue
            points = 100.0 * (ys.floor - ys.share)
            fallback = (f"; it meets the {ys.fallback:.0%} fallback threshold"
                        if ys.test == "fallback" else "")
            out.append(Relaxation(
                "domestic_floor", "year-domestic_floor-lower", f"{name}{ys.year}", points, "pp",
                PENALTY["floor_per_usd"] * slack,
                f"domestic floor {name}{ys.year}: best plan reaches {ys.share:.1%} of "
                f"{ys.floor:.0%}{fallback}; lower it by {points:.1f} pp or shift about "
                f"{slack:,.0f} USD of purchases to domestic suppliers"))
    return out


def _capacity(problem: SourcingProblem, cols: Columns, x: np.ndarray) -> list[Relaxation]:
    o = problem.offers
    slack = x[cols.capacity_slack]
    out = []
    for j in np.nonzero(slack > 0.5)[0]:
        k, t = cols.pool_offer[j], cols.pool_quarter[j]
        cap, units = int(o.capacity[k, t]), float(np.ceil(slack[j] - TOL))
        part, quarter = problem.parts[o.part[k]], format_quarter(problem.quarters[t])
        out.append(Relaxation(
            "capacity", "offer-capacity-upper", f"{o.supplier[k]} {part} {quarter}", units,
            "units", PENALTY["capacity"] * float(o.landed_usd[k]) * units,
            f"{o.supplier[k]} must ship {units:,.0f} units of {part} in {quarter} beyond its "
            f"capacity of {cap:,}"))
    return out


def _late(problem: SourcingProblem, cols: Columns, x: np.ndarray) -> list[Relaxation]:
    backlog = x[cols.backlog]
    dear = part_reference_cost(problem, "max")
    last = format_quarter(problem.quarters[-1])
    out = []
    for p in np.nonzero(backlog.max(axis=1) > 0.5)[0]:
        part, late = problem.item_label(p), backlog[p, :-1].sum()
        if late > 0.5:
            first = format_quarter(problem.quarters[int(np.argmax(backlog[p] > 0.5))])
            out.append(Relaxation(
                "need_date", "part-balance-equal", part, float(round(late)), "unit-quarters",
                PENALTY["late_per_quarter"] * dear[p] * late,
                f"{part}: need dates slip by {late:,.0f} unit-quarters from {first} (lead times "
                f"or capacity cannot meet them)"))
        short = backlog[p, -1]
        if short > 0.5:
            out.append(Relaxation(
                "shortfall", "part-balance-equal", part, float(round(short)), "units",
                PENALTY["short"] * dear[p] * short,
                f"{part}: {short:,.0f} units cannot be delivered by {last}"))
    return out
