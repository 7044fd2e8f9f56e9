"""``rackforge risk``: Monte Carlo samples of the ramp, summarized; alternatives on common random
numbers; the same numbers from the local pool and from Ray."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from rackforge.cli import app
from rackforge.inputs import read_yaml
from rackforge.risk_spec import RiskSpec
from rackforge.sweep.montecarlo import BASE, risk_context, run_risk
from tests.test_reference import REFERENCE

runner = CliRunner()


def _context(samples: int, alternatives: dict | None = None):
    data = read_yaml(REFERENCE)
    spec = RiskSpec.model_validate({"alternatives": alternatives or {}})
    return risk_context(str(REFERENCE), data, spec, samples, seed=11)


def test_risk_json_is_a_consistent_summary(tmp_path):
    result = runner.invoke(app, ["risk", str(REFERENCE), "--samples", "6", "--workers", "2",
                                 "--json", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["samples"] == 6 and data["failed_samples"] == 0
    assert [q["quarter"] for q in data["quarters"]][::13] == ["2026Q3", "2029Q4"]
    for q in data["quarters"]:
        assert q["p10_gw"] <= q["p50_gw"] <= q["p90_gw"]
        assert q["p10_racks"] <= q["p50_racks"] <= q["p90_racks"]
    # no sample can beat the 7.90 GW the sites hold by 2029Q4 (test_reference: the ramp fills
    # every campus), so none reaches 10 GW
    assert data["quarters"][-1]["p90_gw"] <= 7.9 + 1e-6
    p = data["p_target"]
    assert p["value"] == 0.0 and p["low"] == 0.0 and 0 < p["high"] < 0.5
    assert {d["input"].split("[")[0] for d in data["drivers"]} >= {"slip_weeks",
                                                                    "site_slip_quarters"}
    assert (tmp_path / "report.html").stat().st_size > 100_000
    assert json.loads((tmp_path / "risk.json").read_text()) == data


def test_an_unchanged_alternative_differs_from_the_base_by_exactly_nothing():
    """Common random numbers: the same draws, so the paired difference is zero, not noise."""
    report = run_risk(_context(4, {"same": {}, "more-power": {
        "plan.sites[3].power_w.2029Q1": "2.4 GW"}}), workers=2)
    same = report.differences["same"]["final_gw_difference"]
    assert same == {"value": 0.0, "low": 0.0, "high": 0.0}
    assert report.cases["same"].to_dict() == report.cases[BASE].to_dict()
    more = report.differences["more-power"]["final_gw_difference"]
    assert more["value"] > 0 and more["low"] >= 0        # 1.2 GW more at wy-1: never less


def test_ray_gives_the_local_numbers():
    ray = pytest.importorskip("ray")
    context = _context(4)
    local = run_risk(context, "local", 2).to_dict()
    try:
        on_ray = run_risk(context, "ray", 2).to_dict()
    finally:
        ray.shutdown()
    assert on_ray == local


def test_risk_without_a_plan_is_one_line_exit_2(tmp_path):
    data = read_yaml(REFERENCE)
    del data["plan"], data["sourcing"]
    path = tmp_path / "no-plan.yaml"
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["risk", str(path)], terminal_width=300)
    assert result.exit_code == 2
    assert "plan: the scenario has no plan: section" in result.output
