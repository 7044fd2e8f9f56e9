"""``rackforge evaluate`` and ``rackforge validate training|inference`` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rackforge.cli import app

runner = CliRunner()
DATA = Path(__file__).parents[1] / "data"


def test_evaluate_json():
    res = runner.invoke(app, ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-8b",
                              "--gpus", "64", "--tokens", "1e12", "--top", "2", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert len(data[0]["top"]) == 2
    best = data[0]["top"][0]
    assert best["step_s"] <= data[0]["top"][1]["step_s"]
    assert set(best["breakdown_s"]) >= {"gemm", "bubble", "dp_comm"}


def test_evaluate_table_and_unknown_system():
    res = runner.invoke(app, ["evaluate", "--system", "hgx-h100-8", "--model", "llama3-8b",
                              "--gpus", "16"])
    assert res.exit_code == 0 and "MFU" in res.output and "Best layout" in res.output
    bad = runner.invoke(app, ["evaluate", "--system", "h100", "--model", "llama3-8b",
                              "--gpus", "16"])
    assert bad.exit_code == 2
    assert "unknown system id" in bad.output and "Did you mean" in bad.output


def test_validate_training_json():
    res = runner.invoke(app, ["validate", "training", str(DATA / "training_throughput.csv"),
                              "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"case", "predicted_step_s", "measured_step_s", "error"} <= set(data["rows"][0])
    assert data["mape"] <= 0.10 and data["max_abs_error"] <= 0.25


def test_validate_text_summary_and_missing_file():
    res = runner.invoke(app, ["validate", "inference", str(DATA / "inference_throughput.csv")])
    assert res.exit_code == 0 and "MAPE" in res.output
    bad = runner.invoke(app, ["validate", "training", "nope.csv"])
    assert bad.exit_code == 2 and "file not found" in bad.output


def test_evaluate_with_serving_and_bad_serve_value():
    res = runner.invoke(app, ["evaluate", "--system", "hgx-h200-8", "--model", "llama3-70b",
                              "--gpus", "32", "--top", "1", "--serve", "2000:500:40", "--json"])
    assert res.exit_code == 0, res.output
    inf = json.loads(res.stdout)[0]["inference"]
    assert inf["tpot_s"] <= 0.040 and inf["batch"] <= inf["max_batch"]
    bad = runner.invoke(app, ["evaluate", "--system", "hgx-h200-8", "--model", "llama3-70b",
                              "--gpus", "8", "--serve", "2000"])
    assert bad.exit_code == 2 and "--serve" in bad.output
