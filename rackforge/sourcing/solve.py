"""Plan sourcing: solve the MIP, read the plan back with costs, shares, duals and binding limits.

:func:`plan_sourcing` is the library entry point. Money in US dollars [USD], quantities in units,
shares as fractions [-]. When the problem is infeasible the result carries an
:class:`~rackforge.sourcing.explain.Explanation` from the elastic version (priced slack on the
domestic floor, capacities and need dates) and the plan of that version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from rackforge.errors import SolverError
from rackforge.highs import LinearModel, SolveOptions
from rackforge.sourcing.content import RULE_NOTES, RULE_TEXT
from rackforge.sourcing.explain import explain_infeasible
from rackforge.sourcing.mip import MipRun, solve_mip
from rackforge.sourcing.model import Columns, build_model
from rackforge.sourcing.problem import SourcingProblem
from rackforge.sourcing.results import (
    Binding,
    CostBreakdown,
    Explanation,
    PlanLine,
    SourcingResult,
    binding_constraints,
    capacity_hits,
    cost_breakdown,
    plan_lines,
    risk_exposure,
    shares,
)
from rackforge.sourcing.solver import HighsSolver, Solver, fixed_relaxation

Progress = Callable[[str], None]

DUAL_METHOD = ("LP with the order-made binaries fixed at the MIP plan and quantities relaxed; "
               "shadow price = change of cost [USD] per unit of the constraint's bound")


@dataclass(frozen=True)
class PlanOptions:
    mip_gap: float = 0.005  # relative [-]
    time_limit_s: float = 60.0
    duals: bool = True
    explain: bool = True
    solver: Solver = field(default_factory=HighsSolver)
    progress: Progress | None = None

    def solve_options(self) -> SolveOptions:
        return SolveOptions(self.mip_gap, self.time_limit_s)

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)


def plan_sourcing(problem: SourcingProblem, options: PlanOptions | None = None
                  ) -> SourcingResult:
    """The least-cost sourcing plan of `problem`, or why none exists.

    Returns a :class:`SourcingResult`: ``status`` "optimal" (within ``mip_gap``), "feasible"
    (time limit hit with a plan) or "infeasible" (then ``explanation`` says what must give).
    """
    options = options or PlanOptions()
    options.say(f"building model: {len(problem.parts)} parts, {len(problem.offers)} offers, "
                f"{len(problem.quarters)} quarters")
    began = time.perf_counter()
    model, cols = build_model(problem)
    build_s = time.perf_counter() - began
    options.say("solving sourcing MIP with " + options.solver.name)
    run = solve_mip(model, cols, options.solver, options.solve_options())
    if not run.solution.has_solution and run.solution.status != "infeasible":
        raise SolverError(f"no sourcing plan found within {options.time_limit_s:g} s "
                          f"(solver status {run.solution.status}); raise sourcing.time_limit_s "
                          "or sourcing.mip_gap")
    if not run.solution.has_solution:
        return _infeasible(problem, options, build_s, run)
    return _result(problem, (model, cols), run, options, build_s)


def _result(problem: SourcingProblem, built: tuple[LinearModel, Columns], run: MipRun,
            options: PlanOptions, build_s: float) -> SourcingResult:
    model, cols = built
    x = run.solution.x
    binding: tuple = ()
    if options.duals:
        options.say("pricing binding constraints (LP with binaries fixed)")
        binding = _duals(problem, built, x, options)
    status = "optimal" if run.solution.status == "optimal" else "feasible"
    binding = tuple(_floor_note(b, problem, cols, x) for b in binding)
    whole = replace(
        _read_back(problem, cols, x, None), status=status, objective_usd=run.solution.objective,
        lp_bound_usd=run.lp_bound, gap=run.solution.gap, binding=binding, build_s=build_s,
        solve_s=run.solution.solve_s, method=run.method,
        dual_method=DUAL_METHOD if options.duals else None)
    return replace(whole, by_design=_views(problem, cols, x, whole))


_SOLVE_FIGURES = ("status", "objective_usd", "lp_bound_usd", "gap", "build_s", "solve_s",
                  "method", "dual_method", "explanation")


def _read_back(problem: SourcingProblem, cols: Columns, x: np.ndarray, design: int | None
               ) -> SourcingResult:
    """The plan `x` (one design's part of it, when given) as a result; the solve's figures
    (objective, bound, gap, times, method, binding limits) are left for the caller."""
    by_quarter, by_year = shares(problem, cols, x, design)
    plan = plan_lines(problem, cols, x, design)
    unsourced = problem.unsourced if design is None else problem.design_unsourced[design]
    return SourcingResult(
        status="optimal", rule=problem.settings.rule, rule_text=RULE_TEXT[problem.settings.rule],
        plan=plan, cost=cost_breakdown(problem, cols, x, design), objective_usd=None,
        lp_bound_usd=None, gap=None, share_by_quarter=by_quarter,
        share_by_year=by_year, binding=(), at_capacity=capacity_hits(problem, cols, x, design),
        explanation=None, build_s=0.0, solve_s=0.0, method="", dual_method=None,
        unsourced=unsourced, quarters=problem.quarters, risk=risk_exposure(problem, plan),
        notes=result_notes(problem, unsourced),
        design=problem.designs[design] if design is not None else "")


def _views(problem: SourcingProblem, cols: Columns, x: np.ndarray, whole: SourcingResult
           ) -> tuple[SourcingResult, ...]:
    """Each design's part of the plan `x`, when the problem buys for several (else ()), with
    the solve's figures of the `whole` plan and the binding limits about that design (or
    shared by several)."""
    if not problem.several:
        return ()
    solve = {k: getattr(whole, k) for k in _SOLVE_FIGURES}
    views = tuple(replace(_read_back(problem, cols, x, d), **solve,
                          binding=tuple(b for b in whole.binding if b.design in ("", name)))
                  for d, name in enumerate(problem.designs))
    if whole.status == "infeasible":   # the plan of the elastic version: no capacity is kept
        views = tuple(replace(v, at_capacity=()) for v in views)
    return views


def result_notes(problem: SourcingProblem, unsourced: tuple[str, ...] | None = None
                 ) -> tuple[str, ...]:
    """Caveats a reader of the numbers needs: exemptions, proxies, parts left out."""
    notes = [RULE_NOTES[problem.settings.rule]]
    unsourced = problem.unsourced if unsourced is None else unsourced
    if unsourced:
        notes.append("not sourced (no supplier offers them, left out of cost and share): "
                     + ", ".join(unsourced))
    return tuple(notes)


def _floor_note(b: Binding, problem: SourcingProblem, cols: Columns, x: np.ndarray
                ) -> Binding:
    """Restate a floor row's dual as the cost of one percentage point of floor [USD/pp]."""
    if b.constraint != "year-domestic_floor-lower":
        return b
    design = problem.designs.index(b.design) if b.design else None
    year = int(b.subject.rsplit(" ", 1)[-1])
    _, by_year = shares(problem, cols, x, design)
    total = next((y.total_usd for y in by_year if y.year == year), 0.0)
    per_point = b.shadow_price_usd * total / 100.0
    return replace(b, note=f"raising the {b.subject} floor by 1 pp costs about "
                           f"{per_point:,.0f} USD (dual x purchases / 100)")


def _duals(problem: SourcingProblem, built: tuple[LinearModel, Columns], x: np.ndarray,
           options: PlanOptions) -> tuple:
    model, cols = built
    arrays = model.arrays()
    fix = np.zeros(len(x), bool)
    fix[cols.made[cols.made >= 0]] = True
    lp = options.solver.solve(fixed_relaxation(arrays, x, fix), options.solve_options())
    if lp.row_dual is None:
        return ()
    return binding_constraints(problem, model, arrays, lp)


def _infeasible(problem: SourcingProblem, options: PlanOptions, build_s: float,
                run: MipRun) -> SourcingResult:
    explanation: Explanation | None = None
    plan: tuple[PlanLine, ...] = ()
    cost: CostBreakdown | None = None
    by_quarter: dict[date, float | None] = {}
    by_year: tuple = ()
    views: tuple[SourcingResult, ...] = ()
    x = None
    if options.explain:
        options.say("infeasible: solving with priced slack to find what must give")
        explanation, (cols, x) = explain_infeasible(problem, options.solver,
                                                    options.solve_options())
        plan, cost = plan_lines(problem, cols, x), cost_breakdown(problem, cols, x)
        by_quarter, by_year = shares(problem, cols, x)
    whole = SourcingResult(
        status="infeasible", rule=problem.settings.rule,
        rule_text=RULE_TEXT[problem.settings.rule], plan=plan, cost=cost,
        objective_usd=None, lp_bound_usd=None, gap=None,
        share_by_quarter=by_quarter, share_by_year=by_year, binding=(), at_capacity=(),
        explanation=explanation, build_s=build_s, solve_s=run.solution.solve_s,
        method=run.method, dual_method=None, unsourced=problem.unsourced,
        quarters=problem.quarters, risk=risk_exposure(problem, plan) if plan else None,
        notes=result_notes(problem))
    if x is not None:
        views = _views(problem, cols, x, whole)
    return replace(whole, by_design=views)
