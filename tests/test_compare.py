"""Candidate comparison: buy now or wait, against hand calculations.

Two candidates with the same 100 kW, 100-GPU rack at $1 M, plus $2,000 of network per GPU
($0.2 M a rack): "now" (delivered 2026Q3, 1,000 tokens/s per GPU) and "later" (2027Q1, twice as
fast). The halls take 10 MW of IT, so either fleet is 100 racks = 10,000 GPUs; at 50 %
utilization "now" does 1.8e10 tokens an hour and "later" 3.6e10. The portfolio is 9e13
tokens: 5,000 h of "now" or 2,500 h of "later". With one quarter of commissioning, "now" works
from 2026-10-01 and "later" from 2027-04-01.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rackforge import compare as compare_mod
from rackforge.calendar import parse_quarter
from rackforge.compare import CandidateData, CompareInputs, compare, compare_data, to_dict
from rackforge.compare_spec import CompareSpec
from rackforge.economics import EconomicsSpec, PerfPoint, RackCost
from rackforge.perf import Serving, TrainingOptions, evaluate_inference, evaluate_training
from rackforge.scenario import from_dict
from rackforge.stages.compare import summary

ECON = EconomicsSpec(energy_price_usd_per_kwh=0.10, pue=1.0, facility_capex_usd_per_mw=0.0,
                     depreciation_years=5, cost_of_capital_per_year=0.0,
                     maintenance_fraction_per_year=0.0, integration_usd_per_rack=0.0,
                     utilization=0.5, idle_power_fraction=0.0,
                     scaleout_network_usd_per_gpu=1_500, frontend_network_usd_per_gpu=500,
                     storage_usd_per_gpu=0.0, grid_interconnect_usd_per_mw=0.0,
                     land_usd_per_acre=0.0)
RACK = RackCost(accelerators=100, price_usd=1e6, it_power_w=100e3)
NOW = CandidateData("now", "sys-a", parse_quarter("2026Q3"), RACK, "liquid", 0.70)
LATER = CandidateData("later", "sys-b", parse_quarter("2027Q1"), RACK, "liquid", 0.50)
PERF = {("now", "pretrain"): PerfPoint(1000.0, 1000.0),
        ("later", "pretrain"): PerfPoint(2000.0, 1000.0)}


def spec(deadline: str, **extra) -> CompareSpec:
    data = {"decision": "2026Q3", "deadline": deadline, "commissioning_quarters": 1,
            "fleet": {"it_power_w": "10 MW"},
            "workloads": [{"id": "pretrain", "model": "llama3-70b", "tokens": 9e13}],
            "candidates": [{"id": c.id, "system": c.system_id, "price_usd": 1e6,
                            "available": c.available} for c in (NOW, LATER)]} | extra
    return CompareSpec.model_validate(data)


def run(deadline: str, cands=(NOW, LATER), **extra):
    return compare_data(spec(deadline, **extra), list(cands), PERF, ECON)


def test_later_faster_system_loses_when_the_deadline_is_tight():
    result = run("2027Q2")             # ends 2027-07-01: 6,552 h for now, 2,184 h for later
    assert result.ranking == ("now", "later")
    now, later = result.results
    assert now.racks == 100 and now.accelerators == 10_000
    assert now.hours_needed == pytest.approx(5000.0)
    assert later.hours_needed == pytest.approx(2500.0)
    assert now.meets_deadline and not later.meets_deadline
    assert later.work_done_fraction == pytest.approx(2184 / 2500)
    assert result.recommendation.candidate_id == "now"
    assert result.recommendation.action == "buy now"
    assert summary(result).startswith("2 candidates; buy now now (delivery 2026Q3)")


def test_later_faster_system_wins_when_the_deadline_is_loose():
    result = run("2027Q4")
    assert result.ranking == ("later", "now")
    later, now = result.results
    # per rack: ($1 M + 100 GPUs x $2,000 network) / 5 a = 240,000; 100 kW x 0.5 x 8760 h x
    # $0.10 = 43,800 -> 283,800 a year
    assert now.tco.network_capex_usd == pytest.approx(200_000)
    assert now.tco.annual_cost_usd == pytest.approx(283_800)
    assert now.tco.cost_per_accelerator_hour_usd == pytest.approx(283_800 / 438_000)
    # the fleet of 100 racks busy for 5,000 h
    assert now.cost_of_work_usd == pytest.approx(100 * 283_800 * 5000 / 8760)
    assert later.cost_of_work_usd == pytest.approx(now.cost_of_work_usd / 2)
    assert now.tokens["pretrain"].cost_per_mtok_usd == pytest.approx(283_800 / 438_000 / 3.6)
    assert later.finish == date(2027, 7, 14)          # 2027-04-01 + 2,500 h (104.2 days)
    rec = result.recommendation
    assert (rec.candidate_id, rec.action, rec.quarter) == ("later", "wait", date(2027, 1, 1))


def test_sensitivity_to_delivery_slip():
    result = run("2027Q4")
    cases = {c.name: c for c in result.sensitivity}
    # one quarter late, "later" still has 4,416 h for its 2,500; two late it has 2,208 h only
    assert cases["late candidates slip 1 q"].winner == "later"
    assert cases["late candidates slip 2 q"].winner == "now"
    assert cases["late candidates slip 2 q"].winner_changed
    assert not cases["energy price x2"].winner_changed
    assert cases["base"].ranking == result.ranking
    assert cases["deadline 2028Q2"].winner == "later"


def test_sensitivity_to_the_deadline():
    cases = {c.name: c for c in run("2027Q2").sensitivity}
    assert cases["base"].winner == "now"
    assert cases["deadline 2027Q4"].winner == "later" and cases["deadline 2027Q4"].winner_changed


def test_fleet_from_budget_and_hall_fit():
    result = run("2027Q4", fleet={"budget_usd": 10e6},
                 halls={"max_rack_power_w": "50 kW", "cooling": ["liquid"]})
    assert [r.racks for r in result.results] == [8, 8]     # $10 M / $1.2 M a rack = 8.3
    assert not any(r.fits_hall for r in result.results)
    assert "100 kW rack > 50 kW hall limit" in result.results[0].fit_note
    air = CandidateData("air", "sys-c", parse_quarter("2026Q3"),
                        RackCost(8, 0.3e6, 40e3), "air", None)
    perf = dict(PERF) | {("air", "pretrain"): PerfPoint(1.0, 1000.0)}
    s = spec("2027Q4", halls={"max_rack_power_w": "150 kW", "cooling": ["liquid"]})
    s = s.model_copy(update={"candidates": [*s.candidates, s.candidates[0].model_copy(
        update={"id": "air"})]})
    result = compare_data(s, [NOW, LATER, air], perf, ECON)
    assert result.ranking[-1] == "air"
    assert result.results[-1].fit_note.startswith("air cooling not offered")


def test_domestic_content_against_threshold():
    result = run("2027Q4")
    by_id = {r.id: r for r in result.results}
    assert by_id["now"].meets_domestic is True       # 70 % >= 65 % (FAR 2024-2028)
    assert by_id["later"].meets_domestic is False


def test_json_has_quarters_and_derived_costs():
    data = to_dict(run("2027Q2"))
    assert data["deadline"] == "2027Q2"
    assert data["results"][0]["available"] == "2026Q3"
    assert data["results"][0]["tco"]["annual_cost_usd"] == pytest.approx(283_800)
    assert data["results"][0]["tco"]["capex_usd"] == pytest.approx(1_200_000)


SCENARIO = {
    "name": "compare-wiring",
    "compare": {
        "decision": "2026Q3", "deadline": "2027Q4", "fleet": {"it_power_w": "10 MW"},
        "workloads": [{"id": "train", "model": "llama3-70b", "tokens": 1e12, "gpus": 1152},
                      {"id": "serve", "model": "llama3-70b", "mode": "serving", "tokens": 1e12}],
        "candidates": [{"id": "a", "system": "gb200-nvl72", "available": "2026Q3",
                        "price_usd": 3e6},
                       {"id": "b", "system": "hgx-b200-8", "available": "2026Q3",
                        "price_usd": 2e6, "accelerators": 32,
                        "performance": {"train": 1234.0, "serve": 999.0}}]},
}


def compare_scenario(data: dict):
    scenario = from_dict(data)
    return compare(scenario.spec.compare, CompareInputs(scenario.catalog, scenario.layouts))


def test_performance_comes_from_the_perf_model_unless_given():
    result = compare_scenario(SCENARIO)
    a = next(r for r in result.results if r.id == "a")
    b = next(r for r in result.results if r.id == "b")
    train = evaluate_training("gb200-nvl72", "llama3-70b", 1152, TrainingOptions(top=1))
    serve = evaluate_inference("gb200-nvl72", "llama3-70b", 72, Serving(2048, 512), "fp8")
    assert a.perf["train"].tokens_per_s_per_gpu == pytest.approx(train.best.tokens_per_s_per_gpu)
    assert a.perf["serve"].tokens_per_s_per_gpu == pytest.approx(serve.tokens_per_s_per_gpu)
    assert b.perf["train"].tokens_per_s_per_gpu == 1234.0
    # the model's error on published runs of the estimate's kind comes along; a stated rate
    # claims none
    assert a.perf["train"].model_error_pct == train.best.regime_mape_pct is not None
    assert a.perf["serve"].model_error_pct == serve.validation.mape_pct
    assert b.perf["train"].model_error_pct is None and b.perf["serve"].model_error_pct is None
    # defaults: 72 GPUs and 72 x power_per_gpu_w from the catalog; 32 x for the HGX rack
    assert a.accelerators == a.racks * 72
    assert b.rack_it_power_w == pytest.approx(32 * 1787.5)


def test_the_adapter_can_be_replaced(monkeypatch):
    calls = []

    def fake(system, workload, catalog):
        calls.append((system.id, workload.id))
        return compare_mod.Estimate(500.0)

    monkeypatch.setattr(compare_mod, "estimate_performance", fake)
    result = compare_scenario(SCENARIO)
    assert sorted(calls) == [("gb200-nvl72", "serve"), ("gb200-nvl72", "train")]
    assert result.results[0].perf["train"].tokens_per_s_per_gpu in (500.0, 1234.0)


@settings(max_examples=40, deadline=None)
@given(speed=st.floats(100, 5000), faster=st.floats(1.0, 3.0), cheaper=st.floats(0.3, 1.0),
       tokens=st.floats(1e12, 1e15), deadline=st.sampled_from(["2026Q4", "2027Q2", "2028Q4"]))
def test_a_dominating_candidate_never_ranks_behind(speed, faster, cheaper, tokens, deadline):
    """Earlier (or as early), at least as fast and at most as expensive: never ranked behind."""
    better = CandidateData("better", "a", parse_quarter("2026Q3"),
                           RackCost(100, 1e6 * cheaper, 100e3), "liquid")
    worse = CandidateData("worse", "b", parse_quarter("2026Q4"), RackCost(100, 1e6, 100e3),
                          "liquid")
    perf = {("better", "pretrain"): PerfPoint(speed * faster, 1000.0),
            ("worse", "pretrain"): PerfPoint(speed, 1000.0)}
    s = spec(deadline).model_copy(update={"workloads": [
        spec(deadline).workloads[0].model_copy(update={"tokens": tokens})]})
    result = compare_data(s, [worse, better], perf, ECON)
    assert result.ranking[0] == "better"


def test_serving_priced_at_a_stated_interactivity():
    """Issue 12: 20 tokens/s per user is the same target as a 50 ms TPOT; both at once is bad
    input."""
    from rackforge.compare_spec import ServingShape
    assert ServingShape(tokens_per_s_per_user=20).tpot_s == pytest.approx(0.05)
    assert ServingShape(tpot_target_s=0.05).tpot_s == 0.05
    with pytest.raises(ValueError, match="not both"):
        ServingShape(tpot_target_s=0.05, tokens_per_s_per_user=20)


def test_serving_workload_serves_the_precision_it_states():
    """A serving workload's checkpoint precision reaches the serving search (W4A8 MXFP4 needs
    FP4 operands, which an H200 lacks); an unknown precision is bad input."""
    from rackforge.catalog import load_catalog
    from rackforge.catalog.models import System
    from rackforge.compare_spec import ServingShape, WorkloadItem
    from rackforge.errors import InputError
    item = WorkloadItem(id="serve", model="gpt-oss-120b", mode="serving", tokens=1e12,
                        serving=ServingShape(precision="mxfp4_fp8"))
    catalog = load_catalog()
    b200, h200 = (catalog.get(s, System) for s in ("hgx-b200-8", "hgx-h200-8"))
    assert compare_mod.estimate_performance(b200, item, catalog).tokens_per_s_per_gpu > 0
    with pytest.raises(InputError, match="has no fp4 tensor cores"):
        compare_mod.estimate_performance(h200, item, catalog)
    with pytest.raises(ValueError, match="unknown serving precision"):
        ServingShape(precision="int3")


def test_serving_workload_drafts_only_with_measured_acceptance():
    """Speculative decoding in a serving workload: DeepSeek-R1's MTP module serves more
    tokens/s per GPU at the same TPOT target than plain decoding; a model with no measured
    draft acceptance, or more drafts than measured, is bad input located at the workload."""
    from rackforge.catalog import load_catalog
    from rackforge.catalog.models import System
    from rackforge.compare_spec import ServingShape, WorkloadItem
    from rackforge.perf.inference import Engine

    def item(model: str, drafts: int) -> WorkloadItem:
        return WorkloadItem(id="serve", model=model, mode="serving", tokens=1e12,
                            serving=ServingShape(precision="fp4", tpot_target_s=0.02,
                                                 engine=Engine(draft_tokens=drafts)))
    catalog = load_catalog()
    b200 = catalog.get("hgx-b200-8", System)
    plain, mtp = (compare_mod.estimate_performance(b200, item("deepseek-r1", k), catalog)
                  for k in (0, 2))
    assert mtp.tokens_per_s_per_gpu > plain.tokens_per_s_per_gpu > 0
    for model, drafts, needle in (("llama3-70b", 1, "no measured speculative-decoding"),
                                  ("deepseek-v3", 2, "measured up to 1 draft tokens")):
        with pytest.raises(ValueError, match=needle):
            item(model, drafts)


def test_serving_workload_prices_the_engine_it_states():
    """A serving workload's engine settings reach the serving search: an engine admitting 16
    requests at a time serves at most 16 sequences per engine, so no more tokens/s per GPU
    than the framework's default engine; bad settings are input errors."""
    from rackforge.catalog import load_catalog
    from rackforge.catalog.models import System
    from rackforge.compare_spec import WorkloadItem
    from rackforge.perf.inference import Engine
    system = load_catalog().get("hgx-h200-8", System)
    item = WorkloadItem(id="serve", model="llama3-70b", mode="serving", tokens=1e12)
    small = item.model_copy(update={"serving": item.serving.model_copy(update={
        "engine": Engine(max_batch_size=16, chunked_prefill=False)})})
    default, capped = (compare_mod.estimate_performance(system, w, load_catalog())
                       for w in (item, small))
    assert 0 < capped.tokens_per_s_per_gpu < default.tokens_per_s_per_gpu
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Engine(max_num_tokens=0)
    with pytest.raises(ValueError, match="whole numbers >= 1"):
        Engine(cuda_graph_batch_sizes=(128, 0))
    assert Engine(cuda_graph_batch_sizes=(256, 128, 256)).cuda_graph_batch_sizes == (128, 256)
