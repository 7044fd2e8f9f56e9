"""The stage pipeline: a failing stage is recorded and the others still run; a stage whose
input failed is skipped with the reason."""

from __future__ import annotations

from typer.testing import CliRunner

from rackforge import pipeline
from rackforge.cli import app
from rackforge.errors import InputError
from rackforge.pipeline import Stage, run_all
from rackforge.scenario import from_dict


def _stage(name: str, run, needs=()) -> Stage:
    return Stage(name, name.title(), lambda s: True, run, lambda r: f"{name}: {r}", needs)


def _boom(scenario, results):
    raise InputError("no such thing", "x.yaml", "line.stations[0]", 0, "a station")


def _bug(scenario, results):
    return 1 / 0


def test_failures_are_recorded_and_later_stages_still_run(mini_catalog, mini_scenario):
    scen = from_dict(mini_scenario, mini_catalog)
    stages = [_stage("a", _boom), _stage("b", _bug), _stage("c", lambda s, r: sorted(r)),
              _stage("d", lambda s, r: 1, needs=("a",))]
    out = run_all(scen, stages=stages).outcomes
    assert out["a"].status == "failed" and "line.stations[0]" in out["a"].error
    assert out["b"].status == "failed" and "ZeroDivisionError" in out["b"].summary
    assert out["c"].status == "ok" and out["c"].result == []   # no failed result is passed on
    assert out["d"].status == "skipped" and "a failed" in out["d"].summary


def test_json_document_reports_every_stage(mini_catalog, mini_scenario):
    scen = from_dict(mini_scenario, mini_catalog)
    doc = run_all(scen, stages=[_stage("a", _boom), *pipeline.STAGES[:1]]).to_json()
    assert doc["schema_version"] == pipeline.SCHEMA_VERSION
    assert doc["stages"]["a"]["status"] == "failed" and doc["stages"]["a"]["data"] is None
    checks = doc["stages"]["checks"]
    assert checks["status"] == "ok" and checks["passed"] is True
    assert checks["data"]["r1"]["power"]["it_power_w"] == 62_000


def test_run_exits_1_when_a_design_fails(tmp_path):
    from tests.test_scenario_errors import _set, scenario_text

    path = tmp_path / "fail.yaml"
    path.write_text(scenario_text(_set(("cooling", "available_flow_lpm"), "60 L/min")))
    result = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert (tmp_path / "out" / "report.html").stat().st_size > 1_000_000
    assert "FAIL" in result.output
