"""Malformed scenarios: each gives one clear line (file, key path, value, expectation), exit 2.

The scenarios carry the mini catalog of conftest.py in their ``parts`` section, so the tests
run the real CLI on files and do not depend on the shipped catalog.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rackforge.cli import app
from tests.conftest import MINI_PARTS, SRC, mini_rack

runner = CliRunner()


def scenario_text(mutate=None) -> str:
    data = {"name": "mini", "site": {"floor_rating_kg_per_m2": 1500},
            "parts": [{**p, "source": SRC} for p in copy.deepcopy(MINI_PARTS)],
            "racks": [mini_rack()]}
    if mutate:
        mutate(data)
    return yaml.safe_dump(data, sort_keys=False)


def rack(data):
    return data["racks"][0]


def _set(path, value):
    def mutate(data):
        node = rack(data)
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _del(path):
    def mutate(data):
        node = rack(data)
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


CASES = {
    "unknown-part": (_set(("slots", 3, "part"), "t-compte"),
                     ["racks[0].slots[3].part", "'t-compte'", "Did you mean t-compute"]),
    "negative-power": (_set(("cooling", "air_capacity_w"), "-5 kW"),
                       ["racks[0].cooling.air_capacity_w", "-5000 W", "greater than or equal"]),
    "wrong-unit": (_set(("cooling", "available_flow_lpm"), "120 kg"),
                   ["racks[0].cooling.available_flow_lpm", "'120 kg' is not a flow"]),
    "missing-key": (_del(("power", "busbar")), ["racks[0].power.busbar", "missing key"]),
    "duplicate-slot": (_set(("slots", 4, "position"), 10),
                       ["racks[0]", "duplicate slot", "position 10"]),
    "text-for-number": (_set(("power", "feed", "breaker_a"), "lots"),
                        ["racks[0].power.feed.breaker_a", "'lots' is not a current"]),
    "unknown-key": (_set(("cooling", "flow"), 3), ["racks[0].cooling.flow", "no such key"]),
    "wrong-kind": (_set(("power", "busbar"), "shelf-33"),
                   ["racks[0].power.busbar", "power_shelf, not a busbar"]),
    "bad-facility-class": (_set(("cooling", "facility_class"), "W50"),
                           ["racks[0].cooling.facility_class", "W17, W27"]),
    "bad-redundancy": (_set(("power", "redundancy"), "N+3"),
                       ["racks[0].power.redundancy", "'N+3'", "'N+1'"]),
    "cable-end-not-slotted": (_set(("cabling", 0, "to_part"), "shelf-33x"),
                              ["racks[0].cabling[0].to_part", "no slot holds this part"]),
    "unknown-port": (_set(("cabling", 0, "port"), "PCIe"),  # the mini trays have NVLink
                     ["racks[0].cabling[0].port", "no port of t-compute matches", "NVLink"]),
    "zero-count": (_set(("slots", 0, "count"), 0),
                   ["racks[0].slots[0].count", "greater than or equal to 1"]),
    "unslottable-part": (_set(("slots", 0, "part"), "pg25"),
                         ["racks[0].slots[0].part", "coolant does not go in a rack slot"]),
    "row-cdu-in-a-slot": (_set(("slots", 2, "part"), "cdu-row-1mw"),
                          ["racks[0].slots[2].part", "not rack-mounted", "cooling.cdu"]),
    "bool-for-number": (_set(("cooling", "delta_t_k"), True),
                        ["racks[0].cooling.delta_t_k", "True is not a delta_t"]),
    "duplicate-rack": (lambda d: d["racks"].append(copy.deepcopy(d["racks"][0])),
                       ["racks", "duplicate rack id 'r1'"]),
    "unknown-section": (lambda d: d.update(rackz=[]), ["rackz", "no such key"]),
    "bad-part": (lambda d: d["parts"][0].update(mass_kg="heavy"),
                 ["parts[0].mass_kg", "'heavy' is not a mass"]),
    "bad-accelerator-ref": (lambda d: d["parts"][0].update(accelerator="h100"),
                            ["t-compute.accelerator", "unknown accelerator id", "h100-sxm"]),
    "part-without-source": (lambda d: d["parts"][0].pop("source"),
                            ["parts[0].source", "missing key"]),
}


def check_one_line(result, must_contain, path: Path):
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert str(path) in lines[0]
    for text in must_contain:
        assert text in lines[0], (text, lines[0])
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_scenario(tmp_path, case):
    mutate, must_contain = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(scenario_text(mutate))
    result = runner.invoke(app, ["check", str(path)], terminal_width=400)
    check_one_line(result, must_contain, path)


@pytest.mark.parametrize(("text", "must_contain"), [
    ("name: x\nracks: [\n", ["YAML syntax error", "line"]),
    ("- just\n- a list\n", ["a scenario must be a YAML mapping"]),
    ("", ["a scenario must be a YAML mapping"]),
])
def test_malformed_file(tmp_path, text, must_contain):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["check", str(path)], terminal_width=400)
    check_one_line(result, must_contain, path)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["check", str(path)], terminal_width=400)
    check_one_line(result, ["file not found"], path)


def test_valid_mini_scenario_passes(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(scenario_text())
    result = runner.invoke(app, ["check", str(path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output


def test_failing_design_exits_1(tmp_path):
    path = tmp_path / "fail.yaml"
    path.write_text(scenario_text(_set(("cooling", "available_flow_lpm"), "60 L/min")))
    result = runner.invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 1
    assert '"COOLING-FLOW"' in result.output
