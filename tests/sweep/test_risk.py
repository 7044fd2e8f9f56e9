"""Monte Carlo risk of the ramp: defaults with their origin, draws with common random numbers,
one sample's scenario, and the statistics checked against hand calculations and published
values (never against the code under test)."""

from __future__ import annotations

import copy
import json
import math
from datetime import date

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rackforge.calendar import add_quarters, parse_quarter
from rackforge.errors import InputError
from rackforge.inputs import read_yaml
from rackforge.risk_spec import DATA_FILE, RiskSpec, provenance
from rackforge.scenario import ScenarioSpec, from_dict, load
from rackforge.sweep.risk import (
    Draws,
    compare_alternatives,
    discrete,
    draw,
    fan_chart,
    perturb,
    rank_average,
    sourcing_quarters,
    spearman,
    summarize,
    triangular,
    wilson_interval,
)
from tests.test_reference import REFERENCE


@pytest.fixture(scope="module")
def reference():
    return load(REFERENCE)


def _fixed(value: float) -> dict:
    return {"low": value, "mode": value, "high": value}


# --- The section and its defaults ---------------------------------------------------------------

def test_every_default_cites_a_source_or_says_why_it_is_assumed():
    for name, entry in read_yaml(DATA_FILE).items():
        if "source" in entry:
            assert {"title", "publisher", "year", "url"} <= set(entry["source"]), name
        else:
            assert entry["assumption"] is True and len(entry["reason"]) > 40, name
    spec = RiskSpec()
    assert (spec.samples, spec.line_replications, spec.line_weeks) == (200, 2, 6.5)
    assert spec.lead_time_slip_weeks.model_dump() == {"low": 0, "mode": 2, "high": 13}
    assert all(p["origin"].startswith("assumption: ") for p in provenance(spec))
    assert provenance(RiskSpec(samples=50))[0] == {"name": "samples", "value": 50,
                                                   "origin": "scenario"}


@pytest.mark.parametrize("bad, message", [
    ({"lead_time_slip_weeks": {"low": 3, "mode": 1, "high": 5}}, "low <= mode <= high"),
    ({"site_power_slip_quarters": {"values": [0, 1], "probabilities": [0.5, 0.4]}}, "add up"),
    ({"site_power_slip_quarters": {"values": [0, 1], "probabilities": [1.0]}}, "one probab"),
    ({"line_mtbf_factor": {"low": 0, "mode": 1, "high": 2}}, "low > 0"),
    ({"supplier_failure": {"probability": 1.5, "duration_quarters": 2}}, "less than or equal"),
    ({"line_replications": 1}, "greater than or equal to 2"),
    # delays and sizes the calendar or the memory cannot take (were an OverflowError, a year
    # out of range and an array of 10^12 samples)
    ({"lead_time_slip_weeks": {"low": 0, "mode": 1, "high": 1e12}}, "high <= 520 weeks"),
    ({"suppliers": {"s": {"lead_time_slip_weeks": {"low": 0, "mode": 1, "high": 600}}}},
     "suppliers.s.lead_time_slip_weeks: a slip needs high <= 520"),
    ({"site_power_slip_quarters": {"values": [10**9], "probabilities": [1]}},
     "less than or equal to 40"),
    ({"samples": 10**12}, "less than or equal to 1000000"),
])
def test_bad_distributions_are_rejected(bad, message):
    with pytest.raises(ValueError, match=message):
        RiskSpec.model_validate(bad)


def test_a_scenario_carries_the_section_and_null_switches_an_input_off():
    data = read_yaml(REFERENCE)
    data["risk"] = {"samples": 50, "supplier_failure": None,
                    "alternatives": {"two-lines": {"plan.factory.lines": 2}}}
    risk = from_dict(data, file=str(REFERENCE)).spec.risk
    assert risk.samples == 50 and risk.supplier_failure is None
    assert risk.alternatives == {"two-lines": {"plan.factory.lines": 2}}


# --- Drawing ------------------------------------------------------------------------------------

def test_inverse_cdfs_by_hand():
    # Triangular(0, 1, 2): F(x) = x^2 / 2 below the mode, so F(0.5) = 0.125 and F(1) = 0.5;
    # above it F(x) = 1 - (2 - x)^2 / 2, so F(1.5) = 0.875.
    dist = RiskSpec.model_validate({"lead_time_slip_weeks": {"low": 0, "mode": 1, "high": 2}})
    u = np.array([0.0, 0.125, 0.5, 0.875, 1.0])
    np.testing.assert_allclose(triangular(dist.lead_time_slip_weeks, u),
                               [0.0, 0.5, 1.0, 1.5, 2.0], atol=1e-12)
    # values 0, 1, 2 with probabilities 0.5, 0.3, 0.2: cumulative 0.5, 0.8, 1.0
    slips = RiskSpec().site_power_slip_quarters
    assert discrete(slips, np.array([0.0, 0.49, 0.5, 0.79, 0.8, 0.999])).tolist() == \
        [0, 0, 1, 1, 2, 2]


def test_draws_cover_the_scenarios_inputs(reference):
    d = draw(RiskSpec(), reference, 400, 1)
    suppliers = {o.supplier for o in reference.spec.sourcing.suppliers}
    assert len(suppliers) == 25 and d.n == 400
    # 3 per supplier, 4 sites, the yield factor and (burn-in has an MTBF) the MTBF factor
    assert len(d.values) == 3 * 25 + 4 + 2
    slip = d["slip_weeks[alamo-systems]"]
    assert slip.min() >= 0 and slip.max() <= 13
    # mean of a triangular distribution: (0 + 2 + 13) / 3 = 5 weeks; its standard deviation
    # is sqrt((a^2 + b^2 + c^2 - ab - ac - bc) / 18) = sqrt(147 / 18) = 2.86, so the mean of
    # 400 draws is within 3 x 2.86 / 20 = 0.43 of it
    assert slip.mean() == pytest.approx(5.0, abs=0.43)
    assert set(np.unique(d["site_slip_quarters[tx-1]"])) <= {0.0, 1.0, 2.0}
    assert set(np.unique(d["fails[alamo-systems]"])) <= {0.0, 1.0}
    assert d["fail_start_quarter[alamo-systems]"].max() < len(sourcing_quarters(reference))


def test_common_random_numbers(reference):
    spec = RiskSpec()
    base = draw(spec, reference, 50, 7)
    again = draw(spec, reference, 50, 7)
    more = draw(spec, reference, 80, 7)
    other = draw(spec, reference, 50, 8)
    for name, values in base.values.items():
        np.testing.assert_array_equal(values, again[name])
        np.testing.assert_array_equal(values, more[name][:50])   # more samples: same first 50
    np.testing.assert_array_equal(base.line_seed, more.line_seed[:50])
    assert not np.array_equal(base["yield_factor"], other["yield_factor"])
    # an input switched off, a supplier's own distribution, an alternative, another supplier:
    # every other input keeps its draws
    changed = RiskSpec.model_validate({
        "line_mtbf_factor": None, "alternatives": {"x": {"plan.target_w": 5e9}},
        "suppliers": {"formosa-ems": {"lead_time_slip_weeks": _fixed(4.0)}}})
    sourcing = reference.spec.sourcing
    extra = sourcing.suppliers[0].model_copy(update={"supplier": "new-supplier"})
    bigger = reference.spec.model_copy(update={"sourcing": sourcing.model_copy(
        update={"suppliers": [*sourcing.suppliers, extra]})})
    scenario = type(reference)(bigger, reference.catalog, reference.file, reference.layouts)
    d = draw(changed, scenario, 50, 7)
    assert "mtbf_factor" not in d.values and "slip_weeks[new-supplier]" in d.values
    assert d["slip_weeks[formosa-ems]"].tolist() == [4.0] * 50
    for name, values in base.values.items():
        if name not in ("mtbf_factor", "slip_weeks[formosa-ems]"):
            np.testing.assert_array_equal(values, d[name])


def test_unknown_supplier_or_site_is_an_input_error(reference):
    spec = RiskSpec.model_validate({"suppliers": {"alamo-system": {}}})
    with pytest.raises(InputError) as err:
        draw(spec, reference, 10, 1)
    assert err.value.path == "risk.suppliers.alamo-system"
    assert "alamo-systems" in err.value.hint
    spec = RiskSpec.model_validate({"sites": {"tx1": {"values": [1], "probabilities": [1]}}})
    with pytest.raises(InputError, match="unknown site") as err:
        draw(spec, reference, 10, 1)
    assert "tx-1" in err.value.hint


# --- One sample's scenario ----------------------------------------------------------------------

def test_perturb_keeps_the_scenario_valid_and_leaves_the_original(reference):
    spec = RiskSpec.model_validate({"supplier_failure": {"probability": 0.5,
                                                         "duration_quarters": 3}})
    d = draw(spec, reference, 20, 3)
    before = reference.spec.model_dump(mode="json")
    for i in range(20):
        sample = perturb(reference, d, i, spec)
        again = ScenarioSpec.model_validate(sample.spec.model_dump(mode="json"))
        assert all(0 < s.first_pass_yield <= 1 for s in again.line.stations)
        assert all(o.lead_time_weeks >= 0 for o in again.sourcing.suppliers)
        run = again.line.run
        assert (run.replications, run.weeks, run.racks, run.seed) == (
            spec.line_replications, spec.line_weeks, None, d.line_seed[i])
    assert reference.spec.model_dump(mode="json") == before


def test_perturb_shifts_each_site_by_its_drawn_quarters(reference):
    spec = RiskSpec.model_validate({"sites": {"tx-1": {"values": [2], "probabilities": [1]}}})
    d = draw(spec, reference, 30, 5)
    q = parse_quarter
    for i in range(30):
        sites = {s.name: s.power_w for s in perturb(reference, d, i, spec).spec.plan.sites}
        # tx-1 always 2 quarters later: {2026Q3: 400 MW, 2027Q1: 900 MW, 2027Q3: 1.5 GW,
        # 2028Q3: 2.5 GW} -> {2027Q1, 2027Q3, 2028Q1, 2029Q1}
        assert sites["tx-1"] == {q("2027Q1"): 400e6, q("2027Q3"): 900e6, q("2028Q1"): 1.5e9,
                                 q("2029Q1"): 2.5e9}
        k = int(d["site_slip_quarters[oh-1]"][i])
        assert sites["oh-1"] == {add_quarters(q("2027Q2"), k): 300e6,
                                 add_quarters(q("2028Q1"), k): 1.0e9,
                                 add_quarters(q("2029Q1"), k): 2.0e9}


def test_perturb_slips_lead_times_scales_the_line_and_adds_failures(reference):
    spec = RiskSpec.model_validate({
        "lead_time_slip_weeks": _fixed(5.0), "line_yield_factor": _fixed(0.5),
        "line_mtbf_factor": _fixed(2.0), "supplier_failure": None,
        "suppliers": {"alamo-systems": {"failure": {"probability": 1, "duration_quarters": 2}},
                      "gulf-chemical": {"lead_time_slip_weeks": _fixed(-30.0)}}})
    d = draw(spec, reference, 10, 9)
    sample = perturb(reference, d, 4, spec).spec
    leads = {(o.supplier, o.part): o.lead_time_weeks for o in sample.sourcing.suppliers}
    assert leads[("alamo-systems", "gb200-nvl72-compute-tray")] == 16 + 5
    assert leads[("gulf-chemical", "pg25")] == 0          # 2 - 30 weeks, never below 0
    stations = {s.name: s for s in sample.line.stations}
    assert stations["l10-compute-test"].first_pass_yield == pytest.approx(0.97 * 0.5)
    assert stations["l10-compute-build"].first_pass_yield == 1.0   # does not test
    assert stations["burn-in"].mtbf_h == pytest.approx(1000.0)
    # the horizon runs 2025Q4 (sourcing start) to 2029Q4: 17 quarters; alamo fails from the
    # drawn quarter for 2 quarters (1 when it starts in the last one)
    k = int(d["fail_start_quarter[alamo-systems]"][4])
    lost = [add_quarters(date(2025, 10, 1), j) for j in (k, k + 1) if j < 17]
    assert [(o.supplier, o.quarters) for o in sample.sourcing.outages] == [
        ("alamo-systems", lost)]


# --- Statistics ---------------------------------------------------------------------------------

def _draws(n: int, **values) -> Draws:
    return Draws({k: np.asarray(v, float) for k, v in values.items()}, np.zeros(n, int))


def test_quantiles_of_evenly_spaced_samples():
    # NumPy's default quantile ("linear", Hyndman & Fan definition 7) of x_0..x_100 = 0..100:
    # position p x (n - 1) = 10, 50, 90 falls on a sample, so P10 = 10, P50 = 50, P90 = 90.
    x = np.arange(101.0)
    quarters = [date(2027, 1, 1), date(2027, 4, 1)]
    power_w = np.column_stack([x * 1e9, 2 * x * 1e9])
    racks = np.column_stack([x, 3 * x])
    result = summarize(quarters, power_w, racks, None, _draws(101, a=x))
    rows = result.to_dict()["quarters"]
    assert [rows[0][k] for k in ("p10_gw", "p50_gw", "p90_gw")] == [10, 50, 90]
    assert [rows[1][k] for k in ("p10_gw", "p50_gw", "p90_gw")] == [20, 100, 180]
    assert [rows[1][k] for k in ("p10_racks", "p50_racks", "p90_racks")] == [30, 150, 270]
    assert rows[0]["quarter"] == "2027Q1" and result.to_dict()["p_target"] is None


def test_wilson_interval_of_45_in_50_by_hand():
    # p = 0.9, n = 50, z = 1.959964, z^2 = 3.841459:
    # denominator 1 + z^2/n = 1.0768292; centre (0.9 + z^2/100) / 1.0768292 = 0.9384146 /
    # 1.0768292 = 0.871461; half-width z sqrt(0.09/50 + z^2/10000) / 1.0768292
    # = 1.959964 x sqrt(0.0021841) / 1.0768292 = 0.085063 -> 0.786398 to 0.956524
    ci = wilson_interval(45, 50)
    assert ci.value == 0.9
    assert (ci.low, ci.high) == (pytest.approx(0.786398, abs=2e-6),
                                 pytest.approx(0.956524, abs=2e-6))


@pytest.mark.parametrize("k, n, low, high", [
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718)])
def test_wilson_interval_against_newcombe(k, n, low, high):
    # R. G. Newcombe, "Two-sided confidence intervals for the single proportion: comparison of
    # seven methods", Statistics in Medicine 17:857-872 (1998), Table II, method 3 (score
    # method without continuity correction), printed to 4 decimals.
    ci = wilson_interval(k, n)
    assert (ci.low, ci.high) == (pytest.approx(low, abs=6e-5), pytest.approx(high, abs=6e-5))


def test_spearman_of_a_hand_ranked_example_with_ties():
    x = np.array([10.0, 20, 30, 40, 50])
    y = np.array([3.0, 1, 4, 1, 5])
    # y's two 1s share ranks 1 and 2: 1.5 each; then 3 -> 3, 4 -> 4, 5 -> 5
    assert rank_average(y).tolist() == [3, 1.5, 4, 1.5, 5]
    # deviations from the mean rank 3: dx = -2 -1 0 1 2, dy = 0 -1.5 1 -1.5 2;
    # sum dx dy = 4, sum dx^2 = 10, sum dy^2 = 9.5: rho = 4 / sqrt(95) = 0.410391
    assert spearman(x, y) == pytest.approx(0.410391, abs=1e-6)
    # no ties: 1 - 6 sum d^2 / (n (n^2 - 1)) with d = -1 1 -1 1 0: 1 - 24 / 120 = 0.8
    assert spearman(np.array([1.0, 2, 3, 4, 5]), np.array([2.0, 1, 4, 3, 5])) == \
        pytest.approx(0.8)


def test_spearman_of_a_monotone_transform_is_one():
    x = np.random.default_rng(0).normal(size=200)
    assert spearman(x, np.exp(3 * x)) == pytest.approx(1.0)
    assert spearman(x, -x ** 3) == pytest.approx(-1.0)
    assert spearman(x, np.ones(200)) is None


def test_drivers_rank_by_magnitude_and_a_constant_input_comes_last():
    x = np.arange(20.0)
    final_w = x ** 2 * 1e9
    d = _draws(20, up=x, down=-x, weak=np.sin(x), flat=np.zeros(20))
    result = summarize([date(2027, 1, 1)], final_w[:, None], x[:, None], None, d)
    names = [r["input"] for r in result.to_dict()["drivers"]]
    assert names[:2] == ["down", "up"] and names[-1] == "flat"   # |-1| = |1|: by name
    assert result.to_dict()["drivers"][-1]["rank_correlation"] is None


def test_probability_of_reaching_the_target():
    final_w = np.array([9.0, 10.0, 11.0, 10.0 * (1 - 1e-7), 8.0]) * 1e9
    result = summarize([date(2029, 10, 1)], final_w[:, None], final_w[:, None] / 1e5, 10e9,
                       _draws(5, a=np.arange(5.0)))
    # 10, 11 and 10 x (1 - 1e-7) (within the LP's 1e-6) reach 10 GW: 3 of 5
    p = result.to_dict()["p_target"]
    assert p["value"] == 0.6 and p["low"] < 0.6 < p["high"]
    assert result.to_dict()["target_gw"] == 10


@st.composite
def _ramps(draw_):
    n = draw_(st.integers(1, 30))
    t = draw_(st.integers(1, 5))
    power = draw_(arrays(float, (n, t), elements=st.floats(0, 2e10)))
    racks = draw_(arrays(float, (n, t), elements=st.floats(0, 2e5)))
    inputs = draw_(arrays(float, (n,), elements=st.floats(-50, 50)))
    target = draw_(st.none() | st.floats(1e6, 2e10))
    return power, racks, inputs, target


@settings(max_examples=150, deadline=None)
@given(_ramps())
def test_summary_invariants(ramp):
    power_w, racks, inputs, target_w = ramp
    n, t = power_w.shape
    quarters = [add_quarters(date(2027, 1, 1), k) for k in range(t)]
    result = summarize(quarters, power_w, racks, target_w, _draws(n, x=inputs))
    assert np.all(np.diff(result.power_w, axis=0) >= 0)   # P10 <= P50 <= P90
    assert np.all(np.diff(result.racks, axis=0) >= 0)
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    if target_w is not None:
        p = out["p_target"]
        assert 0 <= p["low"] <= p["value"] <= p["high"] <= 1
    rho = out["drivers"][0]["rank_correlation"]
    assert rho is None or -1 - 1e-12 <= rho <= 1 + 1e-12


def test_compare_alternatives_by_hand():
    base = np.array([1.0, 2, 3, 4]) * 1e9
    alt = np.array([2.0, 2, 4, 5]) * 1e9
    out = compare_alternatives(base, alt, 3.5e9)
    # differences 1, 0, 1, 1 GW: mean 0.75, sample sd sqrt(0.75 / 3) = 0.5, se 0.25:
    # 0.75 +- 1.959964 x 0.25 = 0.260009 to 1.239991
    diff = out["final_gw_difference"]
    assert diff["value"] == pytest.approx(0.75)
    assert (diff["low"], diff["high"]) == (pytest.approx(0.260009, abs=1e-6),
                                           pytest.approx(1.239991, abs=1e-6))
    # reaching 3.5 GW: base 0 0 0 1, alternative 0 0 1 1: differences 0 0 1 0, mean 0.25,
    # sd sqrt((3 x 0.0625 + 0.5625) / 3) = 0.5, se 0.25: -0.239991 to 0.739991
    hit = out["p_target_difference"]
    assert hit["value"] == pytest.approx(0.25)
    assert hit["low"] == pytest.approx(-0.239991, abs=1e-6)
    assert out["samples"] == 4
    assert compare_alternatives(base[:1], alt[:1], None) == {
        "samples": 1, "final_gw_difference": {"value": 1.0, "low": None, "high": None},
        "p_target_difference": None}


def test_fan_chart_has_the_band_the_median_and_the_target():
    x = np.arange(101.0)
    quarters = [date(2027, 1, 1), date(2027, 4, 1)]
    result = summarize(quarters, np.column_stack([x, x]) * 1e8, np.column_stack([x, x]),
                       8e9, _draws(101, a=x))
    fig = fan_chart(result)
    assert isinstance(fig, go.Figure) and len(fig.data) == 3
    assert list(fig.data[2].y) == [5.0, 5.0] and fig.data[2].name == "P50"
    assert fig.layout.shapes[0].y0 == 8.0
    assert math.isclose(fig.data[0].y[0], 9.0) and math.isclose(fig.data[1].y[0], 1.0)


def test_mismatched_shapes_are_rejected():
    with pytest.raises(ValueError, match="shape"):
        summarize([date(2027, 1, 1)], np.zeros((3, 2)), np.zeros((3, 2)), None,
                  _draws(3, a=np.zeros(3)))
    copy.deepcopy(RiskSpec())   # frozen and plain: copies for the process pool
