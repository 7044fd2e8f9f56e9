"""The report of the reference scenario: its parts are present and its numbers are those of
results.json; a headless browser renders every chart without console errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackforge.cli import app

ROOT = Path(__file__).parent.parent.parent
REFERENCE = ROOT / "scenarios" / "reference.yaml"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, str, Path]:
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(app, ["run", str(REFERENCE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "results.json").read_text())
    return doc, (out / "report.html").read_text(), out


def data_values(html: str) -> list[float]:
    return [float(v) for v in re.findall(r'data-value="([^"]+)"', html)]


def test_results_json_is_versioned_and_complete(report):
    doc, _, _ = report
    assert doc["schema_version"] == "1.2"
    assert doc["scenario"]["name"].startswith("Reference")
    schema = (Path(__file__).parents[2] / "docs" / "results-schema.md").read_text()
    assert f'"schema_version": "{doc["schema_version"]}"' in schema
    for stage in doc["stages"]:
        assert f"| `{stage}` |" in schema, f"docs/results-schema.md describes no {stage} stage"
    for stage in ("checks", "cluster", "evaluate", "source", "compare", "build", "plan",
                  "demand", "supply", "lines", "cost"):
        assert doc["stages"][stage]["status"] == "ok", doc["stages"][stage]
        assert doc["stages"][stage]["data"] is not None
        assert len(doc["stages"][stage]["key"]) == 64
    assert doc["stages"]["source"]["inputs"] == ["supply", "plan", "demand"]


def test_report_is_self_contained_with_every_part(report):
    _, html, _ = report
    assert "<script src=" not in html and "<link " not in html  # nothing fetched: works offline
    assert "plotly.js v" in html  # the library itself is inline
    for section in ("summary", "checks", "cluster", "evaluate", "source", "compare", "build",
                    "plan", "demand", "supply", "assumptions"):
        assert f'id="{section}"' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="elevation"' in html
    assert html.count('data-part="gb200-nvl72-compute-tray"') == 18
    assert '"type":"sankey"' in html
    assert "invented example data" in html  # supplier prices and line times are examples
    assert html.count("example (invented)") >= 3


def test_report_numbers_equal_results_json(report):
    doc, html, _ = report
    values = data_values(html)
    rack = doc["stages"]["checks"]["data"]["nvl72-us"]
    for finding in rack["findings"]:
        if finding["value"] is not None:
            assert any(v == pytest.approx(finding["value"], rel=1e-12) for v in values), finding
    assert any(v == pytest.approx(rack["power"]["it_power_w"], rel=1e-12) for v in values)
    line = doc["stages"]["build"]["data"]
    assert any(v == pytest.approx(line["racks_per_week"]["mean"], rel=1e-12) for v in values)
    for ev in doc["stages"]["evaluate"]["data"]:
        best = ev["top"][0]
        assert any(v == pytest.approx(best["step_s"], rel=1e-12) for v in values)
    source = doc["stages"]["source"]["data"]
    assert any(v == pytest.approx(source["bom_per_rack"]["total_usd"], rel=1e-12)
               for v in values)
    for year in (y for y in source["result"]["share_by_year"] if y["share"] is not None):
        assert any(v == pytest.approx(year["share"] * 100, rel=1e-12) for v in values), year
    for quarter in doc["stages"]["plan"]["data"]["quarters"]:
        assert any(v == pytest.approx(quarter["facility_power_online_w"], rel=1e-12, abs=1e-9)
                   for v in values)
    for cand in doc["stages"]["compare"]["data"]["results"]:
        assert any(v == pytest.approx(cand["cost_of_work_usd"], rel=1e-12) for v in values)
    built = doc["stages"]["plan"]["data"]["whole_racks_by_system_by_quarter"]
    for design in source["designs"]:        # sourced = built, generation by generation
        generations = design["generation"].split("+")
        for q, racks in design["racks_by_quarter"].items():
            assert sum(built[g][q] for g in generations) == racks
    for racks in source["racks_by_quarter"].values():
        assert any(v == racks for v in values)


def _browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_browser_renders_charts_without_console_errors(report):
    browser = _browser()
    if browser is None:
        pytest.skip("chromium is not installed and could not be installed by .ci/run "
                    "(apt-get install chromium); the browser check needs it")
    _, html, out = report
    page = (out / "report.html").resolve().as_uri()
    profile = out / "profile"
    dom = subprocess.run([browser, *BROWSER_FLAGS, f"--user-data-dir={profile}",
                          "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                          "--dump-dom", page], capture_output=True, text=True, timeout=120)
    console = [ln for ln in dom.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == [], console
    figures = html.count('class="figure"')
    assert figures >= 4
    assert dom.stdout.count('class="figure js-plotly-plot"') == figures
    shot = out / "report.png"
    subprocess.run([browser, *BROWSER_FLAGS, f"--user-data-dir={profile}",
                    "--window-size=1300,3000", f"--screenshot={shot}", page],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000
    (ROOT / "out").mkdir(exist_ok=True)
    shutil.copy(shot, ROOT / "out" / "report-screenshot.png")  # kept for people to look at
