"""Pluggable solvers for the sourcing model; HiGHS [1]_ through ``highspy`` by default.

A solver takes the model's CSC :class:`~rackforge.sourcing.model.Arrays` and returns a
:class:`Solution`. Any object with ``name`` and ``solve(arrays, options)`` will do.

References
----------
.. [1] Huangfu, Q., Hall, J. A. J. "Parallelizing the dual revised simplex method",
   Mathematical Programming Computation 10 (2018) 119-142; HiGHS, https://highs.dev.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Literal, Protocol

import numpy as np

from rackforge.errors import SolverError
from rackforge.highs import quiet_stdout
from rackforge.sourcing.model import Arrays

Status = Literal["optimal", "time_limit", "infeasible", "unbounded"]


@dataclass(frozen=True)
class SolveOptions:
    mip_gap: float = 0.005  # relative [-]
    time_limit_s: float = 60.0
    log: bool = False
    start: np.ndarray | None = None  # a feasible solution to start from


@dataclass(frozen=True)
class Solution:
    """What a solver found. `gap` is relative [-]; duals only for continuous models."""

    status: Status
    x: np.ndarray | None
    objective: float
    bound: float
    gap: float
    row_activity: np.ndarray | None
    row_dual: np.ndarray | None
    solve_s: float

    @property
    def has_solution(self) -> bool:
        return self.x is not None


class Solver(Protocol):
    name: str

    def solve(self, arrays: Arrays, options: SolveOptions) -> Solution: ...


class HighsSolver:
    """HiGHS branch-and-cut (MIP) and dual simplex (LP), through highspy's array API."""

    name = "highs"

    def solve(self, arrays: Arrays, options: SolveOptions) -> Solution:
        solution = self._solve(arrays, options)
        if options.start is not None and solution.has_solution and not _consistent(
                arrays, solution):
            # HiGHS 1.16 can report the improved objective but return the user's start as the
            # column values; solve again without the start rather than trust either.
            solution = self._solve(arrays, replace(options, start=None))
        return solution

    def _solve(self, arrays: Arrays, options: SolveOptions) -> Solution:
        import highspy

        with quiet_stdout():
            h = highspy.Highs()
        h.setOptionValue("output_flag", options.log)
        h.setOptionValue("mip_rel_gap", options.mip_gap)
        h.setOptionValue("time_limit", float(options.time_limit_s))
        a = arrays
        status = h.passModel(len(a.cost), len(a.row_lower), len(a.value), 1, 1, 0.0,
                             a.cost, a.col_lower, a.col_upper, a.row_lower, a.row_upper,
                             a.start, a.index, a.value, a.integer.astype(np.int32))
        if status == highspy.HighsStatus.kError:
            raise SolverError("HiGHS rejected the sourcing model")
        if options.start is not None:
            h.setSolution(len(options.start), np.arange(len(options.start), dtype=np.int32),
                          np.asarray(options.start, float))
        began = time.perf_counter()
        h.run()
        return _read(h, highspy, bool(a.integer.any()), time.perf_counter() - began)


def _consistent(arrays: Arrays, solution: Solution) -> bool:
    cost = float(arrays.cost @ solution.x)
    return abs(cost - solution.objective) <= 1e-7 * max(1.0, abs(cost))


def _read(h, highspy, is_mip: bool, seconds: float) -> Solution:  # noqa: ANN001
    ms = highspy.HighsModelStatus
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_x = info.primal_solution_status == 2  # feasible
    if model_status == ms.kOptimal:
        status: Status = "optimal"
    elif model_status in (ms.kInfeasible, ms.kUnboundedOrInfeasible) and not has_x:
        status = "infeasible"
    elif model_status == ms.kUnbounded:
        status = "unbounded"
    elif model_status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit,
                          ms.kInterrupt):
        status = "time_limit"
    else:
        raise SolverError(f"HiGHS stopped with status {h.modelStatusToString(model_status)}")
    sol = h.getSolution()
    x = np.asarray(sol.col_value) if has_x else None
    objective = info.objective_function_value if has_x else float("nan")
    bound = info.mip_dual_bound if is_mip else objective
    gap = info.mip_gap if is_mip and has_x else 0.0
    duals = np.asarray(sol.row_dual) if (not is_mip and sol.dual_valid) else None
    activity = np.asarray(sol.row_value) if has_x else None
    return Solution(status, x, objective, bound, gap, activity, duals, seconds)


def fixed_relaxation(arrays: Arrays, x: np.ndarray, fix: np.ndarray) -> Arrays:
    """The LP with columns `fix` (a bool mask) fixed at `x` and every other column continuous.

    Used for dual prices of a MIP: the binaries (which orders are made) are fixed at the MIP
    solution and quantities relaxed, so the duals price the constraints around that plan.
    """
    lower, upper = arrays.col_lower.copy(), arrays.col_upper.copy()
    lower[fix] = upper[fix] = np.round(x[fix])
    return replace(arrays, col_lower=lower, col_upper=upper,
                   integer=np.zeros_like(arrays.integer))
