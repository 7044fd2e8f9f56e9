"""Stage adapters pass results between domains without re-running them: the line's throughput
and the suppliers' deliveries limit the ramp; sourcing's domestic share and landed cost reach the
comparison."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rackforge.calendar import parse_quarter
from rackforge.compare import CompareInputs, SourcedRack, compare
from rackforge.economics import PerfPoint
from rackforge.errors import InputError
from rackforge.inputs import read_yaml
from rackforge.scenario import from_dict
from rackforge.sourcing.capacity import PartSupply, Supply
from rackforge.stages import compare as compare_stage
from rackforge.stages import demand as demand_stage
from rackforge.stages import plan as plan_stage
from tests.deploy.test_cli import SCENARIO
from tests.test_reference import REFERENCE

# Stands in for rackforge.factory.statistics.LineResult: only the fields the stage reads.
LINE = SimpleNamespace(line="test-line", replications=5,
                       racks_per_week=SimpleNamespace(mean=20.0, half_width=0.5))


def _ramp(data: dict, **upstream):
    scenario = from_dict(data)
    spec = scenario.spec
    demand = demand_stage.run(spec.plan, scenario.catalog, scenario.layouts, spec.compare,
                              spec.economics)
    return plan_stage.run(spec.plan, demand, spec.economics, **upstream)


def test_line_throughput_replaces_racks_per_week():
    base, built = _ramp(SCENARIO), _ramp(SCENARIO, build=LINE)
    # 10 racks/week in the file, 20 from the line: 130 or 260 racks a quarter, 5 energized
    assert base.final.racks_online == pytest.approx(650)
    assert built.final.racks_online == pytest.approx(1300)
    assert built.quarters[0].racks_built == pytest.approx(260)
    assert "1,300 online" in plan_stage.summary(built)
    data = plan_stage.data(built)
    assert data["quarters"][0]["quarter"] == "2026Q3"
    assert data["quarters"][-1]["racks_online"] == pytest.approx(1300)
    assert data["racks_total"] == 6 * 260 and data["racks_by_quarter"]["2026Q3"] == 260


def test_supplier_deliveries_limit_the_ramp():
    start = parse_quarter("2026Q3")
    # 50 CDUs a quarter from the start; trays (18 per rack): 900 a quarter after 10 weeks of
    # lead time (from 2026Q4), 1,800 more after 26 weeks (from 2027Q1).
    supply = Supply(resolved=None, start=start, parts=(
        PartSupply("cdu", 1.0, ((0, 50.0),)), PartSupply("tray", 18.0, ((1, 900.0), (2, 1800.0)))))
    quarters = [parse_quarter(q) for q in ("2026Q3", "2026Q4", "2027Q1", "2027Q2")]
    assert supply.parts[1].delivered_by(start, quarters).tolist() == [0, 900, 3600, 6300]
    data = SCENARIO | {"plan": SCENARIO["plan"] | {"factory": {"racks_per_week": 100}}}
    result = _ramp(data, supply=supply)
    # 50 CDUs a quarter (stockable) bind: racks built by 2027Q3 and energized by 2027Q4 are
    # 5 x 50 = 250
    assert result.final.racks_online == pytest.approx(250)
    assert result.final.binding == "supply-units-upper[cdu,2027Q3]"


def test_a_supplier_outage_lowers_the_ramp_by_the_quarter_it_loses():
    start = parse_quarter("2026Q3")
    # As above, but the CDU supplier is out in 2027Q1 (quarter index 2): 4 x 50 = 200 CDUs by
    # 2027Q3 instead of 250, so 200 racks online.
    cdu = PartSupply("cdu", 1.0, ((0, 50.0),), ((2, 50.0),))
    quarters = [parse_quarter(q) for q in ("2026Q3", "2026Q4", "2027Q1", "2027Q2")]
    assert cdu.delivered_by(start, quarters).tolist() == [50, 100, 100, 150]
    data = SCENARIO | {"plan": SCENARIO["plan"] | {"factory": {"racks_per_week": 100}}}
    result = _ramp(data, supply=Supply(resolved=None, start=start, parts=(cdu,)))
    assert result.final.racks_online == pytest.approx(200)


def test_sourcing_prices_the_lab_built_rack_and_gives_its_domestic_share():
    data = read_yaml(REFERENCE)
    cand = data["compare"]["candidates"][0]
    assert cand["rack"] == "nvl72-us"
    del cand["price_usd"]
    scenario = from_dict(data, file=str(REFERENCE))
    perf = {(c["id"], w["id"]): PerfPoint(1e3, 2e3)
            for c in data["compare"]["candidates"] for w in data["compare"]["workloads"]}
    inputs = CompareInputs(scenario.catalog, scenario.layouts, scenario.spec.economics, perf,
                           {"nvl72-us": SourcedRack("nvl72-us", 2.5e6, 0.45)})
    result = compare(scenario.spec.compare, inputs)
    gb200 = next(r for r in result.results if r.id == cand["id"])
    assert (gb200.domestic_share, gb200.domestic_basis) == (0.45, "sourced")
    assert gb200.landed_cost_usd == 2.5e6
    econ = scenario.spec.economics
    assert gb200.tco.rack_capex_usd == pytest.approx(2.5e6 + econ.integration_usd_per_rack)
    others = [r for r in result.results if r.id != cand["id"]]
    assert {(r.domestic_share, r.domestic_basis) for r in others} == {(None, "not sourced")}
    unsourced = CompareInputs(scenario.catalog, scenario.layouts, scenario.spec.economics, perf)
    with pytest.raises(InputError, match=r"compare.candidates\[0\].price_usd: missing key"):
        compare(scenario.spec.compare, unsourced)


def test_compare_reuses_what_evaluate_found_for_the_same_case():
    scenario = from_dict(SCENARIO | {"compare": SCENARIO["compare"] | {"candidates": [
        {"id": "gb200", "system": "gb200-nvl72", "available": "2026Q3", "price_usd": 3e6}]}})
    spec = scenario.spec.compare          # workload: llama3-70b training on 1,152 GPUs, bf16
    best = SimpleNamespace(tokens_per_s_per_gpu=1234.5, regime_mape_pct=6.8)
    same = SimpleNamespace(system="gb200-nvl72", workload="llama3-70b", n_gpus=1152,
                           dtype="bf16", best=best)
    other = SimpleNamespace(**{**vars(same), "n_gpus": 1024, "best": SimpleNamespace(
        tokens_per_s_per_gpu=1.0, regime_mape_pct=None)})
    result = compare_stage.run(spec, scenario.catalog, scenario.layouts,
                               scenario.spec.economics, evaluate=[other, same])
    # the rate and the model's error in its layout family come with it
    perf = result.results[0].perf["pretrain"]
    assert (perf.tokens_per_s_per_gpu, perf.model_error_pct) == (1234.5, 6.8)
