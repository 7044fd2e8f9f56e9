"""The shipped scenarios do what their comments say, on the shipped catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rackforge.cli import app

ROOT = Path(__file__).parent.parent
runner = CliRunner()

EXAMPLES = {
    "shelves-overloaded-n-plus-1.yaml": {"POWER-SHELF-CAPACITY"},
    "coolant-flow-short.yaml": {"COOLING-FLOW"},
    "copper-past-reach.yaml": {"CABLE-REACH"},
    "w45-water-too-warm.yaml": {"COOLING-PART-SUPPLY-TEMP", "COOLING-SUPPLY-TEMP"},
    "kyber-nvl576-48v.yaml": {"POWER-BUSBAR-CURRENT", "MECH-RACK-UNITS"},
}

PASSING = ("hgx-h100-air-pdu.yaml", "hgx-b200-rear-door.yaml", "gb300-nvl72.yaml",
           "mi355x-liquid.yaml", "orv3-rack.yaml", "vr-nvl144.yaml", "kyber-nvl576-800vdc.yaml")


def errors_of(path: Path) -> tuple[int, set[str]]:
    result = runner.invoke(app, ["check", str(path), "--json"])
    data = json.loads(result.stdout)
    rules = {f["rule"] for fs in data["racks"].values() for f in fs if f["severity"] == "error"}
    return result.exit_code, rules


def test_reference_passes_every_rule():
    code, rules = errors_of(ROOT / "scenarios" / "reference.yaml")
    assert (code, rules) == (0, set())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_fails_its_rule(name):
    code, rules = errors_of(ROOT / "scenarios" / "examples" / name)
    assert code == 1
    assert EXAMPLES[name] <= rules, rules


@pytest.mark.parametrize("name", PASSING)
def test_example_passes(name):
    assert errors_of(ROOT / "scenarios" / "examples" / name) == (0, set())


def test_every_example_is_covered():
    shipped = {p.name for p in (ROOT / "scenarios" / "examples").glob("*.yaml")
               if not p.name.startswith("cluster-")}
    assert set(EXAMPLES) | set(PASSING) == shipped


def test_version():
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout.strip()) == (0, "rackforge 0.1.0")


def test_an_air_cooled_pdu_rack_is_judged_by_its_own_rules():
    """No shelves, busbar or liquid loop: none of their rules; the PDU and air rules instead."""
    result = runner.invoke(app, ["check", str(ROOT / "scenarios" / "examples" /
                                              "hgx-h100-air-pdu.yaml"), "--json"])
    rules = {f["rule"] for fs in json.loads(result.stdout)["racks"].values() for f in fs}
    assert not {r for r in rules if r.startswith(("POWER-SHELF", "POWER-BUSBAR",
                                                   "COOLING-FLOW", "COOLING-CDU",
                                                   "COOLING-RETURN", "COOLING-SUPPLY"))}
    assert {"POWER-PDU-FEED-CAPACITY", "POWER-PDU-PHASE-CURRENT", "COOLING-INLET-CLASS"} <= rules
