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

from rackforge import inputs
from rackforge.catalog import load_catalog
from rackforge.cli import app
from rackforge.errors import InputError, InputErrors
from rackforge.inputs import parse_yaml, validate
from rackforge.perf.workload import Workload
from rackforge.scenario import from_dict
from tests.conftest import MINI_PARTS, SRC, mini_rack

runner = CliRunner()


def mini_parts() -> list[dict]:
    """The mini catalog as scenario parts; one whose id the shipped catalog has replaces it."""
    shipped = load_catalog()
    return [{**p, "source": SRC, **({"replaces": True} if p["id"] in shipped else {})}
            for p in copy.deepcopy(MINI_PARTS)]


def scenario_text(mutate=None) -> str:
    data = {"name": "mini", "site": {"floor_rating_kg_per_m2": 1500},
            "parts": mini_parts(),
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


def run_check(tmp_path, text: str, name: str = "bad.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path, runner.invoke(app, ["check", str(path)], terminal_width=400)


@pytest.mark.parametrize(("text", "where"), [
    ("name: x\nname: y\n", "line 2, column 1: duplicate key 'name'"),
    ("name: x\nracks: []\nracks: []\n", "line 3, column 1: duplicate key 'racks'"),
    ("name: x\nracks:\n  - id: r\n    rack: a\n    id: s\n",
     "line 5, column 5: duplicate key 'id'"),
])
def test_duplicate_key_is_an_error(tmp_path, text, where):
    path, result = run_check(tmp_path, text)
    check_one_line(result, [f"{path}:{where}"], path)


def test_merge_key_may_be_overridden():
    data = parse_yaml("a: &x {b: 1, c: 2}\nd:\n  <<: *x\n  b: 3\n")
    assert data["d"] == {"b": 3, "c": 2}


@pytest.mark.parametrize("depth", [50_000, 990])
def test_deep_nesting_is_one_line(tmp_path, depth):
    # 50,000 levels: libyaml's depth limit; the Python loader raised RecursionError
    path, result = run_check(tmp_path, "name: x\nrisk: " + "[" * depth + "]" * depth + "\n")
    check_one_line(result, [str(path)], path)


def test_deep_nesting_python_loader_recursion(monkeypatch):
    def deep(*_args, **_kwargs):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(inputs.yaml, "load", deep)
    with pytest.raises(InputError, match="nested too deep"):
        parse_yaml("[[[]]]", "f.yaml")


def test_file_over_10_mb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: x\n" + "#" * (10 * 1024 * 1024) + "\n")
    result = runner.invoke(app, ["check", str(path)], terminal_width=400)
    check_one_line(result, ["file over 10 MB"], path)


def test_every_schema_error_of_a_file_is_reported(tmp_path):
    path, result = run_check(tmp_path, "name: x\neconomics: {pue: -1, bogus: 3}\nplan: 5\n")
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 3, result.output
    assert all(ln.startswith(f"Error: {path}:") for ln in lines)
    for key in ("economics.pue", "economics.bogus", "plan:"):
        assert any(key in ln for ln in lines), (key, lines)


def test_many_errors_stop_at_20(tmp_path):
    text = "name: x\neconomics: {" + ", ".join(f"bad{i}: 1" for i in range(25)) + "}\n"
    path, result = run_check(tmp_path, text)
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert result.exit_code == 2 and len(lines) == 21, result.output
    assert lines[-1] == "Error: and 5 more"


def test_input_errors_is_an_input_error():
    errors = InputErrors([InputError("a", "f", "x"), InputError("b", "f", "y")])
    assert isinstance(errors, InputError)
    assert str(errors) == "f:x: a\nf:y: b"
    assert str(errors.at(None, "p")) == "f:p.x: a\nf:p.y: b"


def _dup_part(data):
    data["parts"].append(copy.deepcopy(data["parts"][0]))


def _shipped_id(data):
    data["parts"][0]["id"] = "mgx-nvl72-rack"  # an id of the shipped catalog


MORE_CASES = {
    "duplicate-part-id": (_dup_part, ["parts[", "].id", "duplicate part id", "first at parts[0]"]),
    "part-id-in-catalog": (_shipped_id, ["parts[0].id", "part id already in the catalog",
                                         "'mgx-nvl72-rack'", "replaces: true"]),
    "bool-for-count": (_set(("slots", 0, "count"), True),
                       ["racks[0].slots[0].count", "true/false is not a number",
                        "expected a number"]),
}


@pytest.mark.parametrize("case", sorted(MORE_CASES))
def test_malformed_scenario_more(tmp_path, case):
    mutate, must_contain = MORE_CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(scenario_text(mutate))
    result = runner.invoke(app, ["check", str(path)], terminal_width=400)
    check_one_line(result, must_contain, path)


def test_part_with_replaces_takes_the_catalog_place(tmp_path):
    def replace_pg25(data):
        part = next(p for p in data["parts"] if p["id"] == "pg25")
        assert part["replaces"] is True
    path = tmp_path / "ok.yaml"
    path.write_text(scenario_text(replace_pg25))
    assert runner.invoke(app, ["check", str(path)]).exit_code == 0


def _workload(**changes):
    data = yaml.safe_load((Path(inputs.__file__).parent / "perf" / "data" / "workloads.yaml")
                          .read_text(encoding="utf-8"))["workloads"][0]
    return {**data, **changes}


def test_global_batch_below_one_sequence_is_refused():
    with pytest.raises(InputError, match="less than one sequence") as info:
        validate(Workload, _workload(global_batch_tokens=1), "f.yaml", "workloads[0]")
    assert "workloads[0]" in str(info.value)
    validate(Workload, _workload(global_batch_tokens=2048 * 4), "f.yaml")


@pytest.mark.parametrize(("field", "value"), [("layers", True), ("seq_len", False)])
def test_bool_for_plain_number_is_refused(field, value):
    with pytest.raises(InputError, match="true/false is not a number"):
        validate(Workload, _workload(**{field: value}), "f.yaml")


def test_a_slot_count_beyond_any_rack_is_bad_input_not_a_hang(mini_catalog, mini_scenario):
    data = copy.deepcopy(mini_scenario)
    data["racks"][0]["slots"][0]["count"] = 1_000_000_000
    with pytest.raises(InputError, match=r"racks\[0\]\.slots\[0\]\.count"):
        from_dict(data, mini_catalog)
