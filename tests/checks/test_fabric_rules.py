"""Cluster rules and the ``rackforge cluster`` command: failures, bad input (exit 2), output.

Uses the mini catalog and the scenario builder of tests/design/test_cluster.py (8-port 100G
switches, 40-GPU racks).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rackforge.checks.fabric import check_cluster
from rackforge.cli import app
from rackforge.errors import InputError
from rackforge.scenario import from_dict
from tests.design.test_cluster import scenario, sized

runner = CliRunner()
EXAMPLE = Path(__file__).parents[2] / "scenarios" / "examples" / "cluster-nvl72.yaml"


def rules(mini_catalog, data):
    return {(f.rule, f.subject): f for f in check_cluster(sized(mini_catalog, data))}


def errors(findings):
    return sorted({rule for (rule, _), f in findings.items() if f.severity == "error"})


def test_clean_cluster_has_no_errors(mini_catalog):
    f = rules(mini_catalog, scenario())
    assert errors(f) == []
    ports = f[("FABRIC-PORTS", "scale-out fabric")]
    assert (ports.value, ports.limit) == (80, 128)             # k^3/4 = 128 at k = 8


def test_ports_short_when_two_tiers_cannot_reach(mini_catalog):
    # 80 endpoints > k^2/2 = 32 in two tiers of 8-port switches.
    f = rules(mini_catalog, scenario(tiers=2))
    assert "FABRIC-PORTS" in errors(f)
    assert f[("FABRIC-PORTS", "scale-out fabric")].limit == 32


def test_su_larger_than_a_leaf_is_packed_not_oversubscribed(mini_catalog):
    # SUs of 6 nodes on 8-port rail leaves (4 down / 4 up at 1:1): the sizer packs 4 nodes per
    # rail leaf across the SUs, so the declared 1:1 holds. (Before packing the leaf took the
    # whole SU, 6 down / 2 up = 3:1, and this rule failed.)
    data = scenario(topology="rail-optimized", su_nodes=6)
    o = rules(mini_catalog, data)[("FABRIC-OVERSUBSCRIPTION", "scale-out leaf")]
    assert (o.severity, o.value, o.limit) == ("pass", 1.0, 1.0)


def test_oversubscription_above_declared(mini_catalog):
    # A leaf tier wired 6 down / 2 up (3:1) against a declared 1:1 fails the rule.
    r = sized(mini_catalog, scenario(topology="rail-optimized"))
    sizing = r.fabric.sizing
    leaf = replace(sizing.tiers[0], down_ports=6, up_ports=2, oversubscription=3.0)
    fabric = replace(r.fabric, sizing=replace(sizing, tiers=(leaf, *sizing.tiers[1:])))
    f = {(x.rule, x.subject): x for x in check_cluster(replace(r, fabric=fabric))}
    o = f[("FABRIC-OVERSUBSCRIPTION", "scale-out leaf")]
    assert (o.severity, o.value, o.limit) == ("error", 3.0, 1.0)
    assert "wire more uplinks" in o.message


def test_link_beyond_reach(mini_catalog):
    data = scenario(media={"spine_core": "cu-100"})
    f = rules(mini_catalog, data)
    reach = f[("FABRIC-LINK-REACH", "scale-out spine-core (cu-100)")]
    assert reach.severity == "error" and reach.value == pytest.approx(6.2)


def test_hall_power_and_area_limits(mini_catalog):
    data = scenario()
    data["cluster"]["hall"].update(max_power_w="200 kW", area_m2=5)
    f = rules(mini_catalog, data)
    assert errors(f) == ["HALL-AREA", "HALL-POWER"]
    assert f[("HALL-POWER", "hall")].value == pytest.approx(1.5 * 135_848)
    assert f[("HALL-AREA", "hall")].value == pytest.approx(7.2)


@pytest.mark.parametrize("path,value,message", [
    (("fabric", "switch"), "t-compute", "not a network switch"),
    (("fabric", "switch"), "cu-100", "not a tray"),
    (("fabric", "tiers"), 4, "tiers must be 2 or 3"),
    (("fabric", "nics_per_accelerator"), 0, "greater than or equal to 1"),
    (("fabric", "port_gbps"), "30 Gbit/s", "does not divide"),
    (("fabric", "media"), {"leaf_spine": "sw-8"}, "not a cable"),
    (("rack",), "r2", "unknown rack design id"),
])
def test_bad_fabric_input_names_the_key(mini_catalog, path, value, message):
    data = scenario()
    target = data["cluster"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InputError) as exc:
        from_dict(data, mini_catalog)
    assert message in str(exc.value)
    assert "cluster." + path[0] in str(exc.value)


def write(tmp_path, data) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize("edit,message", [
    ({"switch": "gb200-nvl72-compute-tray"}, "not a network switch"),
    ({"tiers": 1}, "tiers must be 2 or 3"),
    ({"nics_per_accelerator": 0}, "cluster.fabric.nics_per_accelerator"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, edit, message):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["cluster"]["fabric"].update(edit)
    result = runner.invoke(app, ["cluster", write(tmp_path, data)], terminal_width=400)
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.strip().count("\n") == 0


def test_cli_example_json_and_exit_codes(tmp_path):
    result = runner.invoke(app, ["cluster", str(EXAMPLE), "--all", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    small, big = out["clusters"]
    assert (small["accelerators"], big["accelerators"]) == (1152, 100_008)
    fabric = small["fabrics"]["scale-out"]
    # 288 trays packed 58 per rail leaf: 5 leaves x 4 rails; 20 x 60 uplinks over 10 spines.
    # (Before packing: one 36-tray SU per rail leaf, [32, 9].)
    assert [t["switches"] for t in fabric["tiers"]] == [20, 10]
    assert (fabric["leaf_nodes"], fabric["su_nodes"], fabric["scalable_units"]) == (58, 36, 8)
    assert big["fabrics"]["scale-out"]["feasible"] is True
    assert [t["name"] for t in big["tiers"]] == ["scale-up", "leaf", "spine", "core"]
    data = yaml.safe_load(EXAMPLE.read_text())
    data["cluster"]["hall"]["max_power_w"] = "1 MW"
    failed = runner.invoke(app, ["cluster", write(tmp_path, data)])
    assert failed.exit_code == 1 and "HALL-POWER" in failed.output
    missing = runner.invoke(app, ["cluster", str(EXAMPLE), "--variant", "nope"],
                            terminal_width=400)
    assert missing.exit_code == 2 and "unknown cluster variant" in missing.output


def test_cli_ethernet_scaleup_example():
    path = EXAMPLE.parent / "cluster-ethernet-scaleup.yaml"
    result = runner.invoke(app, ["cluster", str(path), "--json"])
    assert result.exit_code == 0, result.output
    c = json.loads(result.output)["clusters"][0]
    # 8,192 XPUs in domains of 8 racks x 64 = 512; 32 planes x 1 switch (512 x 200G) each.
    assert c["scaleup"]["domains"] == 16 and c["scaleup"]["switches"] == 16 * 32
    assert c["scaleup"]["bandwidth_bytes_per_s_per_gpu"] == pytest.approx(32 * 200e9 / 8)
    assert [t["switches"] for t in c["fabrics"]["scale-out"]["tiers"]] == [128, 128, 64]
    text = runner.invoke(app, ["cluster", str(path)], terminal_width=200)
    assert "scale-up Ethernet: 16 domains of 512 GPUs" in text.output


def test_cli_strict_fails_on_warnings(tmp_path):
    # The example's facility power is about 2.38 MW: a 2.4 MW hall passes by under 5%.
    data = yaml.safe_load(EXAMPLE.read_text())
    data["cluster"]["hall"]["max_power_w"] = "2.4 MW"
    path = write(tmp_path, data)
    assert runner.invoke(app, ["cluster", path]).exit_code == 0
    strict = runner.invoke(app, ["cluster", path, "--strict"])
    assert strict.exit_code == 1 and "HALL-POWER" in strict.output
