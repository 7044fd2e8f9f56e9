"""``rackforge compare`` and ``rackforge plan`` through Typer's runner: output, JSON, exit codes."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from rackforge.cli import app

runner = CliRunner()

SCENARIO = {
    "name": "cli-test",
    "economics": {"pue": 1.25, "integration_usd_per_rack": 0},
    "compare": {
        "decision": "2026Q3", "deadline": "2027Q4",
        "fleet": {"it_power_w": "10 MW"},
        "workloads": [{"id": "pretrain", "model": "llama3-70b", "tokens": 9e13}],
        "candidates": [
            {"id": "gb200", "system": "gb200-nvl72", "available": "2026Q3", "price_usd": 3e6,
             "accelerators": 72, "it_power_w": "100 kW", "performance": {"pretrain": 1000}},
            {"id": "gb300", "system": "gb300-nvl72", "available": "2027Q1", "price_usd": 3e6,
             "accelerators": 72, "it_power_w": "100 kW", "performance": {"pretrain": 2000}},
        ]},
    "plan": {
        "start": "2026Q3", "end": "2027Q4",
        "rack": {"candidate": "gb200"},
        "factory": {"racks_per_week": 10},
        "sites": [{"name": "tx", "power_w": {"2026Q3": "1 GW"}}]},
}


def write(tmp_path, data=None):
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data or SCENARIO))
    return str(path)


def test_plan_json_answers_the_target(tmp_path):
    result = runner.invoke(app, ["plan", write(tmp_path), "--json", "--target-gw", "0.1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    final = data["quarters"][-1]
    assert final["quarter"] == "2027Q4"
    assert final["facility_power_online_w"] == pytest.approx(650 * 125e3)   # 130 racks/q x 5
    assert data["target_reached"] is False
    (growth,) = data["growth"]
    assert growth["limit"] == "factory-output-upper"
    assert growth["relative"] == pytest.approx(800 / 650 - 1)


def test_plan_table(tmp_path):
    result = runner.invoke(app, ["plan", write(tmp_path), "--target-gw", "0.05"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines() if line.startswith(" 2027Q")]
    assert [r[0] for r in rows] == ["2027Q1", "2027Q2", "2027Q3", "2027Q4"]
    # 0.05 GW at 125 kW a rack is 400 racks: the factory binds (130 a quarter) until the racks
    # wanted are placed, then the demand does
    assert [r[-1] for r in rows] == ["factory", "factory", "demand", "demand"]
    assert [r[4] for r in rows] == ["260", "390", "400", "400"]  # racks online
    assert "Target 0.05 GW facility reached in 2027Q3" in result.output


def test_compare_table_and_json(tmp_path):
    result = runner.invoke(app, ["compare", write(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Recommendation: wait gb300" in result.output
    assert "Cushman & Wakefield" in result.output          # assumptions cite their sources
    result = runner.invoke(app, ["compare", write(tmp_path), "--json"])
    data = json.loads(result.output)
    assert [r["id"] for r in data["results"]] == ["gb300", "gb200"]
    assert data["recommendation"]["action"] == "wait"


@pytest.mark.parametrize(("path", "value", "message"), [
    (["plan", "rack", "candidate"], "gb20", "plan.rack.candidate: unknown compare candidate"),
    (["compare", "candidates", 0, "system"], "gb200-nvl7",
     "compare.candidates[0].system: unknown system id"),
    (["plan", "start"], "2026-07", "plan.start: '2026-07' is not a quarter"),
    (["plan", "objective"], "min-cost", "objective min-cost needs a target"),
    (["plan", "commissioning_quarters"], 6, "leaves no quarter of the plan"),
    (["plan", "sites", 0, "power_w", "2026Q3"], "-1 GW", "must not be negative"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, path, value, message):
    data = json.loads(json.dumps(SCENARIO))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    result = runner.invoke(app, [path[0], write(tmp_path, data)], terminal_width=300)
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0
    assert message in result.output


@pytest.mark.parametrize("command", ["plan", "compare"])
def test_missing_section_is_one_line_exit_2(tmp_path, command):
    data = {k: v for k, v in SCENARIO.items() if k != command}
    result = runner.invoke(app, [command, write(tmp_path, data)], terminal_width=300)
    assert result.exit_code == 2
    assert f"{command}: the scenario has no {command}: section" in result.output
