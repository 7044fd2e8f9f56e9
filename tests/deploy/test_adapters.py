"""Adapters from other stages' results: the build stage's line throughput feeds the ramp."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rackforge.deploy.adapters import plan_data, plan_summary, run_plan
from rackforge.economics import PerfPoint
from rackforge.errors import InputError
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
    data = plan_data(built)
    assert data["quarters"][0]["quarter"] == "2026Q3"
    assert data["quarters"][-1]["racks_online"] == pytest.approx(1300)


def test_supply_limits_from_the_sourcing_offers():
    from rackforge.calendar import parse_quarter
    from rackforge.deploy.adapters import supply_from_sourcing

    def offer(part, capacity, lead_weeks):
        return SimpleNamespace(part=part, capacity_per_quarter=capacity,
                               lead_time_weeks=lead_weeks)

    # Stands in for rackforge.sourcing.stage.SourcingReport: the fields the adapter reads.
    report = SimpleNamespace(resolved=SimpleNamespace(
        bom=SimpleNamespace(counts=lambda: {"cdu": 1.0, "tray": 18.0}),
        spec=SimpleNamespace(quarters=(parse_quarter("2026Q3"),)),
        offers=(offer("tray", 900, 10), offer("tray", 1800, 26), offer("cdu", 50, 0),
                offer("not-in-bom", 5, 0)),
        design=SimpleNamespace(id="another-design"), example=True))
    cdu, tray = supply_from_sourcing(report)
    assert (cdu.part, cdu.units_per_rack, cdu.per_quarter) == \
        ("cdu", 1.0, {parse_quarter("2026Q3"): 50})
    # 10 weeks of lead time: from the next quarter; 26 weeks: two quarters on
    assert tray.units_per_rack == 18.0
    assert tray.per_quarter == {parse_quarter("2026Q4"): 900, parse_quarter("2027Q1"): 2700}
    scenario = from_dict(SCENARIO | {"plan": SCENARIO["plan"] | {
        "factory": {"racks_per_week": 100}}})
    result = run_plan(scenario, {"source": report})
    # 50 CDUs a quarter (stockable) bind, trays only from 2026Q4: racks built by 2027Q3 and
    # energized by 2027Q4 are 5 x 50 = 250
    assert result.final.racks_online == pytest.approx(250)
    assert result.final.binding == "supply-units-upper[cdu,2027Q3]"


def test_sourcing_prices_the_lab_built_rack_and_gives_its_domestic_share():
    from rackforge.compare import compare
    from rackforge.inputs import read_yaml
    from tests.deploy.test_reference import REFERENCE

    data = read_yaml(REFERENCE)
    cand = data["compare"]["candidates"][0]
    assert cand["rack"] == "nvl72-us"
    del cand["price_usd"], cand["domestic_share"]
    scenario = from_dict(data, file=str(REFERENCE))
    perf = {(c["id"], w["id"]): PerfPoint(1e3, 2e3)
            for c in data["compare"]["candidates"] for w in data["compare"]["workloads"]}
    report = SimpleNamespace(
        resolved=SimpleNamespace(design=SimpleNamespace(id="nvl72-us")),
        bom=SimpleNamespace(total_usd=2.5e6),
        result=SimpleNamespace(share_by_year=(
            SimpleNamespace(domestic_usd=60.0, total_usd=100.0),
            SimpleNamespace(domestic_usd=30.0, total_usd=100.0))))
    result = compare(scenario, perf, sourcing=report)
    gb200 = next(r for r in result.results if r.id == cand["id"])
    assert gb200.domestic_share == pytest.approx(0.45)
    econ = scenario.spec.economics
    assert gb200.tco.rack_capex_usd == pytest.approx(2.5e6 + econ.integration_usd_per_rack)
    with pytest.raises(InputError, match=r"compare.candidates\[0\].price_usd: missing key"):
        compare(scenario, perf)
