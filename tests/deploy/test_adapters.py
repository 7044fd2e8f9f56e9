"""Adapters from other stages' results: the build stage's line throughput feeds the ramp."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rackforge.deploy.adapters import plan_summary, run_plan
from rackforge.scenario import from_dict
from tests.deploy.test_cli import SCENARIO

# Stands in for rackforge.factory.statistics.LineResult: only the fields the adapter reads.
LINE = SimpleNamespace(line="test-line", replications=5,
                       racks_per_week=SimpleNamespace(mean=20.0, half_width=0.5))


def test_line_throughput_replaces_racks_per_week():
    scenario = from_dict(SCENARIO)
    base = run_plan(scenario, {})
    built = run_plan(scenario, {"build": LINE})
    # 10 racks/week in the file, 20 from the line: 130 or 260 racks a quarter, 5 energized
    assert base.final.racks_online == pytest.approx(650)
    assert built.final.racks_online == pytest.approx(1300)
    assert built.quarters[0].racks_built == pytest.approx(260)
    assert "1,300 racks" in plan_summary(built)
