"""``rackforge build`` and ``rackforge validate queueing`` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rackforge.cli import app

runner = CliRunner()
DATA = Path(__file__).parent.parent / "data" / "queueing_reference.csv"


def _pennyfab_csv(tmp_path: Path, tweak: bool = False) -> Path:
    rows = DATA.read_text().splitlines()
    keep = [rows[0]] + [r for r in rows[1:] if r.startswith(("pennyfab1-w1,", "pennyfab1-w4-"))]
    if tweak:  # claim a throughput 10 % too high for the first case
        keep[1] = keep[1].replace(",0.125,8,", ",0.1375,8,")
    path = tmp_path / "cases.csv"
    path.write_text("\n".join(keep) + "\n")
    return path


def test_build_reference_json():
    result = runner.invoke(app, ["build", "scenarios/reference.yaml", "--weeks", "4",
                                 "--replications", "2", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["bottleneck"] == "burn-in"
    assert data["replications"] == 2
    assert 300 < data["racks_per_week"]["mean"] < 450
    assert {s["name"] for s in data["stations"]} >= {"l11-integration", "leak-test"}
    assert data["little"]["relative_error"] < 0.05


def test_build_text_names_bottleneck():
    result = runner.invoke(app, ["build", "scenarios/reference.yaml", "--racks", "500",
                                 "-r", "2"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "bottleneck: burn-in" in result.output
    assert "racks per week" in result.output


def test_build_racks_and_weeks_together_exit_2():
    result = runner.invoke(app, ["build", "scenarios/reference.yaml", "--racks", "5",
                                 "--weeks", "2"], terminal_width=200)
    assert result.exit_code == 2
    assert "--racks or --weeks" in result.output


def test_validate_queueing_table_and_json(tmp_path):
    path = _pennyfab_csv(tmp_path)
    result = runner.invoke(app, ["validate", "queueing", str(path)], terminal_width=250)
    assert result.exit_code == 0, result.output
    assert "pennyfab1-w4-exp" in result.output
    assert "closed form by MVA (Reiser & Lavenberg): pennyfab1-w4-exp" in result.output
    result = runner.invoke(app, ["validate", "queueing", str(path), "--json"])
    data = json.loads(result.output)
    assert [c["case"] for c in data["cases"]] == ["pennyfab1-w1", "pennyfab1-w4-exp"]
    assert data["cases"][1]["analytic"]["method"].startswith("MVA")
    assert abs(data["cases"][1]["error"]["cycle_time"]) < 0.02


def test_validate_queueing_mismatch_exits_1(tmp_path):
    result = runner.invoke(app, ["validate", "queueing", str(_pennyfab_csv(tmp_path, True)),
                                 "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["failed"] == ["pennyfab1-w1"]


def test_validate_queueing_bad_file_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["validate", "queueing", str(bad)], terminal_width=200)
    assert result.exit_code == 2
    assert "not a queueing reference table" in result.output
    result = runner.invoke(app, ["validate", "queueing", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
