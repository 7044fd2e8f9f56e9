"""Issue 14: bad line input and bad queueing tables exit 2 with one line, never NaN, never hang.

Each case goes through the CLI (Typer's runner): exit code 2, one line on stderr, no traceback,
nothing on stdout (so ``--json`` output is never half written), and no NaN or Infinity.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rackforge import pipeline
from rackforge.cli import app
from rackforge.factory.statistics import LittleCheck
from rackforge.factory.validate import read_cases, run_case
from rackforge.scenario import load

runner = CliRunner()
DATA = Path(__file__).parent.parent / "data" / "queueing_reference.csv"
HEADER = ("case,source,model,stations,servers,mean_service_h,arrival_rate_per_h,wip,"
          "distribution,throughput_per_h,cycle_time_h,note")


def _scenario(tmp_path: Path, station_b: dict | None = None, run: dict | None = None) -> Path:
    """A two-station CONWIP line: a (2 h) then b (1 h unless `station_b` overrides it)."""
    b = {"name": "b", "time_h": "1 h", "next": "ship"} | (station_b or {})
    data = {"name": "mini", "line": {
        "name": "mini-line", "release": {"policy": "conwip", "wip_cap": 4},
        "run": {"weeks": 1, "replications": 2, "warmup_h": 10} | (run or {}),
        "stations": [{"name": "a", "time_h": "2 h", "next": "b"}, b]}}
    path = tmp_path / "line.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _one_line_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(("station_b", "run", "needles"), [
    ({"time_h": 1e9}, None, ("time_h.mean_h", "8760")),                  # was "cycle time nan"
    ({"time_h": {"dist": "triangular", "min_h": 1, "mode_h": 2, "max_h": 1e9}}, None,
     ("max_h", "8760")),
    ({"mtbf_h": 100, "mttr_h": 1e6}, None, ("mttr_h", "8760")),           # was NaN
    ({"mtbf_h": 1e-6, "mttr_h": 1}, None, ("mtbf_h",)),                   # a failure per 4 ms
    ({"kind": "batch", "batch_size": 1_000_000, "batch_timeout_h": 1}, None,
     ("batch_size", "64")),                                               # raised throughput
    (None, {"weeks": 1e9}, ("run.weeks", "520")),
    (None, {"replications": 1_000_000}, ("run.replications", "100")),
    (None, {"weeks": None, "racks": 10**9}, ("run.racks", "1000000")),
    ({"time_h": 0}, {"warmup_h": 0}, ("0 h",)),  # (with a: 0 h too, below) CONWIP at t = 0
])
def test_line_input_out_of_range_exit_2(tmp_path, station_b, run, needles):
    path = _scenario(tmp_path, station_b, run)
    if station_b == {"time_h": 0}:
        path.write_text(path.read_text().replace("time_h: 2 h", "time_h: 0 h"))
    result = runner.invoke(app, ["build", str(path), "--no-cache", "--json"])
    _one_line_error(result, *needles)


@pytest.mark.parametrize("args", [["--racks", "1000000000"], ["--weeks", "1e6"],
                                  ["--replications", "1000000"], ["--weeks", "nan"]])
def test_build_run_options_capped(tmp_path, args):
    result = runner.invoke(app, ["build", str(_scenario(tmp_path)), "--no-cache", *args])
    _one_line_error(result)


def test_window_without_a_finished_rack_is_said_plainly(tmp_path):
    # b takes 8000 h (within the one-year bound) but the window is one week: nothing ships
    path = _scenario(tmp_path, {"time_h": "8000 h"})
    result = runner.invoke(app, ["build", str(path), "--no-cache", "--json"])
    _one_line_error(result, "shipped no rack", "slowest: 'b'")
    assert "nan" not in result.output.lower()


def test_build_json_is_valid_and_finite(tmp_path):
    result = runner.invoke(app, ["build", str(_scenario(tmp_path)), "--no-cache", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    # closed form: a CONWIP line of 4 racks, bottleneck 2 h, deterministic: 0.5 racks/h
    assert data["throughput_per_h"]["mean"] == pytest.approx(0.5, rel=1e-3)
    assert data["racks_per_week"]["mean"] == pytest.approx(84.0, rel=1e-3)


def test_little_check_never_nan():
    assert LittleCheck(0.0, 0.0, 0.0).relative_error == 0.0
    assert LittleCheck(1.0, 0.0, 0.0).relative_error == 1.0


def test_build_progress_reaches_the_pipeline(tmp_path):
    """``rackforge build`` runs the build stage through the pipeline; the stage's progress
    (replications done of total) must reach the pipeline's progress callback (the bar)."""
    calls = []
    scenario = load(_scenario(tmp_path, run={"replications": 3}))
    pipeline.run(scenario, ["build"], None, None, lambda *a: calls.append(a))
    assert calls == [("build", 1, 3), ("build", 2, 3), ("build", 3, 3)]


def _table(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


@pytest.mark.parametrize(("row", "needles"), [
    # M/M/1 with lambda = 1.2 / h, s = 1 h: rho = 1.2, no steady state (was 20 s and 'inf')
    ("mm1-over,x,open,1,1,1,1.2,,exponential,1.2,10,", ("unstable", "rho = 1.2", "line 2")),
    ("mm1-near,x,open,1,1,1,0.99,,exponential,0.99,100,", ("too close to 1",)),
    ("big-wip,x,conwip,1,1,1,,5000,exponential,1,5000,", ("column wip",)),
    ("neg,x,conwip,1,1,-2,,1,deterministic,0.5,2,", ("must be numbers (positive",)),
    ("nan-ref,x,conwip,1,1,2,,1,deterministic,nan,2,", ("must be numbers (positive",)),
])
def test_queueing_bad_row_exit_2(tmp_path, row, needles):
    result = runner.invoke(app, ["validate", "queueing", str(_table(tmp_path, row)), "--json"])
    _one_line_error(result, *needles)
    assert result.stdout == ""


def test_queueing_latin1_exit_2(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(DATA.read_bytes().replace(b"Hopp", b"H\xf6pp", 1))
    result = runner.invoke(app, ["validate", "queueing", str(path)])
    _one_line_error(result, "latin.csv", "UTF-8", "0xf6")


def test_queueing_other_kind_exit_2():
    result = runner.invoke(app, ["validate", "queueing",
                                 str(DATA.parent / "training_throughput.csv")])
    _one_line_error(result, "not a queueing reference table")


def test_sequential_stopping_closed_form():
    """Penny Fab One, WIP 1, deterministic: TH = 1 / (4 x 2 h) = 0.125 / h, CT = 8 h exactly;
    zero variance, so the procedure stops at its first n0 = 2 replications."""
    case = next(c for c in read_cases(DATA) if c.name == "pennyfab1-w1")
    seen = []
    r = run_case(case, on_progress=lambda done, most: seen.append((done, most)))
    assert r.throughput_per_h.mean == pytest.approx(0.125, rel=1e-9)
    assert r.cycle_time_h.mean == pytest.approx(8.0, rel=1e-9)
    assert r.throughput_per_h.n == 2 and seen[-1][0] == 2 and r.status == "passed"


def test_interval_never_narrow_is_inconclusive(tmp_path):
    case = next(c for c in read_cases(DATA) if c.name == "pennyfab1-w4-exp")
    r = run_case(case, precision=1e-5, max_replications=10)
    assert r.status == "inconclusive" and not r.passed and r.throughput_per_h.n == 10
    loose = run_case(case, precision=0.5, max_replications=40)
    assert loose.throughput_per_h.n == 10   # n0 = 10 already within 50 %


def test_cli_reports_inconclusive_not_failed(tmp_path):
    rows = DATA.read_text().splitlines()
    path = tmp_path / "one.csv"
    path.write_text("\n".join([rows[0], *[r for r in rows if r.startswith("pennyfab1-w4-exp")]]))
    result = runner.invoke(app, ["validate", "queueing", str(path), "--precision", "0.001",
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["inconclusive"] == ["pennyfab1-w4-exp"] and data["failed"] == []
    assert data["cases"][0]["status"] == "inconclusive"
    assert data["cases"][0]["replications"] == data["max_replications"]
