"""Every row of the queueing reference table is reproduced within 2 %.

Tolerance: the simulated mean must be within 2 % of the reference and the 95 % confidence
interval's half-width must also be within 2 % of it, so the agreement is resolved, not luck.
The deterministic Penny Fab rows have zero variance and must match to rounding. The reference
CSV is a copy described in tests/data/README.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rackforge.factory.queueing import analytic
from rackforge.factory.validate import TOLERANCE, read_cases, run_case

DATA = Path(__file__).parent.parent / "data" / "queueing_reference.csv"
CASES = read_cases(DATA)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reference_row(case):
    r = run_case(case)
    for est, ref in ((r.throughput_per_h, case.throughput_per_h),
                     (r.cycle_time_h, case.cycle_time_h)):
        assert abs(est.mean / ref - 1) <= TOLERANCE, (case.name, est, ref)
        assert est.half_width / ref <= TOLERANCE, (case.name, est, ref)
    if all(s.time_h.dist == "fixed" for s in case.line.stations):
        assert r.throughput_per_h.mean == pytest.approx(case.throughput_per_h, rel=1e-9)
        assert r.cycle_time_h.mean == pytest.approx(case.cycle_time_h, rel=1e-9)
    assert r.passed


def test_closed_forms_match_every_row():
    for case in CASES:
        a = analytic(case.line)
        assert a.throughput_per_h == pytest.approx(case.throughput_per_h, rel=5e-4), case.name
        assert a.cycle_time_h == pytest.approx(case.cycle_time_h, rel=5e-4), case.name
