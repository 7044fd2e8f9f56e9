"""The solver is pluggable; a solver that finds nothing in time is an error, not 'infeasible'."""

from __future__ import annotations

import pytest

from rackforge.errors import SolverError
from rackforge.highs import Solution
from rackforge.sourcing.solve import PlanOptions, plan_sourcing
from rackforge.sourcing.solver import HighsSolver
from tests.sourcing.helpers import Q0, offer, problem


class CountingSolver:
    """Delegates to HiGHS and counts the calls (a stand-in for another solver)."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def solve(self, arrays, options):
        self.calls += 1
        return HighsSolver().solve(arrays, options)


class TimedOut:
    name = "timed-out"

    def solve(self, arrays, options):
        return Solution("time_limit", None, float("nan"), float("nan"), float("nan"), None,
                        None, options.time_limit_s)


P = problem([offer("a", "x", 100, capacity=4), offer("b", "x", 130, "MX")], [6, 6])


def test_custom_solver_is_used():
    solver = CountingSolver()
    result = plan_sourcing(P, PlanOptions(solver=solver))
    assert solver.calls >= 2  # LP relaxation, rounding LP, duals LP (and MIP if needed)
    assert result.cost.total_usd == pytest.approx(1320.0)


def test_time_limit_without_plan_raises():
    with pytest.raises(SolverError, match="raise sourcing.time_limit_s"):
        plan_sourcing(P, PlanOptions(solver=TimedOut(), time_limit_s=1))


def test_deliveries_and_risk_exposure():
    result = plan_sourcing(P, PlanOptions(mip_gap=1e-9))
    assert result.deliveries() == {"x": {Q0: 6, Q0.replace(month=4): 6}}
    risk = result.risk
    # A: 8 units x 100 = 800 (US); B: 4 units x 130 = 520 (MX).
    assert risk.spend_by_origin_usd == {"US": 800.0, "MX": 520.0}
    assert risk.top_supplier == {"x": ("a", 8 / 12)}
    assert any("FAR 25.103(e)" in n for n in result.notes)
