"""The reference scenario ramps to the end of 2029 and compares at least four systems."""

from __future__ import annotations

from pathlib import Path

import pytest

from rackforge.calendar import format_quarter
from rackforge.compare import compare
from rackforge.deploy import plan
from rackforge.scenario import load

REFERENCE = Path(__file__).parents[2] / "scenarios" / "reference.yaml"


@pytest.fixture(scope="module")
def reference():
    return load(REFERENCE)


def test_reference_ramp_to_2029(reference):
    result = plan(reference)
    assert format_quarter(result.quarters[0].quarter) == "2026Q3"
    assert format_quarter(result.final.quarter) == "2029Q4"
    # every campus is full at the end: 2.5 + 2.0 + 2.2 + 1.2 GW of facility power
    assert result.final.facility_power_online_w == pytest.approx(7.9e9, rel=1e-6)
    assert result.target_reached is False
    assert any(g.limit.startswith("site-power-upper") for g in result.growth)
    assert {q.binding_family for q in result.quarters} >= {"factory", "supply", "site"}


def test_reference_compares_four_candidates(reference):
    result = compare(reference)
    assert len(result.results) >= 4
    assert result.recommendation.candidate_id in result.ranking
    assert all(r.tco.cost_per_accelerator_hour_usd > 0 for r in result.results)
