"""``rackforge source`` through Typer's runner: exit codes, messages, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rackforge.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

SECTION = {
    "design": "nvl72-us", "start": "2026Q1",
    "build_schedule": {"2027Q1": 100, "2027Q2": 200},
    "suppliers_csv": str(ROOT / "scenarios" / "suppliers-reference.csv"),
    "tariffs": {"CN": 0.25, "TW": 0.2},
    "critical_parts": [{"part": "gb200-nvl72-compute-tray", "max_supplier_share": 0.7}],
    "what_if": {"lose-alamo": {"supplier_lost": [{"supplier": "alamo-systems"}]}},
}


@pytest.fixture
def scenario(tmp_path):
    """The reference scenario with a small sourcing section (two quarters) and no plan (with a
    plan, sourcing buys for the racks the ramp builds), unless the schedule is the plan's."""
    def write(**changes) -> str:
        data = yaml.safe_load((ROOT / "scenarios" / "reference.yaml").read_text("utf-8"))
        data["sourcing"] = {**SECTION, **changes}
        if data["sourcing"]["build_schedule"] != "plan":
            del data["plan"]
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
        return str(path)
    return write


def test_json_plan_meets_the_floor(scenario):
    result = runner.invoke(app, ["source", scenario(), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    res = data["result"]
    assert res["status"] == "optimal" and res["rule"] == "far25"
    assert data["example_data"] is True
    (year,) = res["share_by_year"][-1:]
    assert year["floor"] == 0.65 and year["share"] >= 0.65 - 1e-9  # FAR 25, 2024-2028
    trays = sum(p["quantity"] for p in res["plan"] if p["part"] == "gb200-nvl72-compute-tray")
    assert trays == 18 * 300
    assert "switch-51t-64x800g" in {line["part"] for line in data["bom_per_rack"]["lines"]}


def test_table_output_and_what_if(scenario):
    result = runner.invoke(app, ["source", scenario(), "--what-if", "lose-alamo"],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "Domestic share by delivery year" in result.output
    assert "What-if" in result.output and "lose-alamo" in result.output


def test_unknown_what_if_is_one_line_exit_2(scenario):
    result = runner.invoke(app, ["source", scenario(), "--what-if", "lose-alam"],
                           terminal_width=300)
    assert result.exit_code == 2
    assert "unknown what-if" in result.output and "Did you mean lose-alamo" in result.output


def test_infeasible_floor_exits_1_and_says_what_must_give(scenario):
    # Under the IRA method a US tray counts only its 55 % US content: 90 % is out of reach.
    result = runner.invoke(app, ["source", scenario(content_rule="ira", domestic_floor=0.9)],
                           terminal_width=300)
    assert result.exit_code == 1
    assert "domestic-content floor must give" in result.output
    # no plan, so no objective, bound or gap: null in JSON, never NaN
    as_json = runner.invoke(app, ["source", scenario(content_rule="ira", domestic_floor=0.9),
                                  "--json"])
    data = json.loads(as_json.stdout, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert (data["overall"]["objective_usd"], data["overall"]["gap"]) == (None, None)


def test_bad_csv_cell_is_one_line_exit_2(scenario, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("supplier,part,unit_price_usd,country_of_origin,capacity_per_quarter,"
                   "lead_time_weeks\nacme,mgx-nvl72-rack,cheap,US,10,4\n", "utf-8")
    result = runner.invoke(app, ["source", scenario(suppliers_csv="bad.csv")],
                           terminal_width=300)
    assert result.exit_code == 2
    assert "bad.csv:line 2, column unit_price_usd" in result.output
    assert result.output.strip().count("\n") == 0


def test_build_schedule_from_the_deployment_plan(scenario):
    # The plan builds from 2026Q3; in-rack CDUs quote 30-44 weeks, so orders start in 2025Q3.
    result = runner.invoke(app, ["source", scenario(build_schedule="plan", start="2025Q3"),
                                 "--json"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.stdout)["result"]
    floors = {y["year"]: y["floor"] for y in res["share_by_year"]}
    assert floors[2029] == 0.75  # FAR 25 from 2029 (87 FR 12780)
    assert all(y["share"] >= y["floor"] - 1e-9 for y in res["share_by_year"] if y["share"])


def test_a_schedule_of_its_own_beside_a_plan_is_bad_input(tmp_path):
    data = yaml.safe_load((ROOT / "scenarios" / "reference.yaml").read_text("utf-8"))
    data["sourcing"]["build_schedule"] = {"2027Q1": 100}
    path = tmp_path / "two-demands.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    result = runner.invoke(app, ["source", str(path)], terminal_width=300)
    assert result.exit_code == 2
    assert "sourcing.build_schedule: a build schedule of its own beside a plan" in result.output
