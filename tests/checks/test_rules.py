"""Design rules on the mini rack of conftest.py, with every expected number worked by hand.

Mini rack: 10 compute trays x 6 kW + 2 switch trays x 1 kW = 62 kW IT load on 3 x 33 kW
shelves (N+1: 66 kW usable), 50 V busbar, 97.5% shelves, PG25 at 40 degC supply, 10 K.
"""

from __future__ import annotations

import pytest

from rackforge.checks import check_rack, worst
from rackforge.scenario import from_dict

PG25 = 1021.5 * 3920  # rho * cp of the fixture coolant [J/(m3 K)]


def run(mini_catalog, scenario):
    scen = from_dict(scenario, mini_catalog)
    return {f.rule + " " + f.subject: f for f in check_rack(scen.layouts["r1"], scen.spec.site)}


def by_rule(findings, rule):
    hits = [f for key, f in findings.items() if key.startswith(rule + " ")]
    assert hits, f"no finding for {rule}"
    return hits[0]


def test_reference_mini_rack_passes_with_hand_numbers(mini_catalog, mini_scenario):
    f = run(mini_catalog, mini_scenario)
    assert worst(list(f.values())) in ("pass", "info", "warning")
    assert not [x for x in f.values() if x.severity == "error"]
    shelf = by_rule(f, "POWER-SHELF-CAPACITY")
    assert (shelf.value, shelf.limit) == (62_000, 66_000)
    assert shelf.margin == pytest.approx(4 / 66)
    assert by_rule(f, "POWER-BUSBAR-CURRENT").value == pytest.approx(1_240)
    feed = by_rule(f, "POWER-FEED-CAPACITY")
    assert feed.value == pytest.approx(62_000 / 0.975)
    assert feed.limit == pytest.approx(2 * 415 * 60 * 3 ** 0.5 * 0.8)
    assert by_rule(f, "POWER-RIDE-THROUGH").value == pytest.approx(2 * 33_000 * 90 / 62_000)
    flow = by_rule(f, "COOLING-FLOW")
    assert flow.value == pytest.approx(55_000 / (PG25 * 10) * 60_000)  # 82.4 L/min
    assert flow.limit == 120
    ret = by_rule(f, "COOLING-RETURN-TEMP")
    assert ret.value == pytest.approx(40 + 55_000 / (PG25 * 120 / 60_000))  # 46.9 degC
    air = by_rule(f, "COOLING-AIR-CAPACITY")
    assert air.value == pytest.approx(7_000 + 62_000 / 0.975 - 62_000)
    assert by_rule(f, "MECH-RACK-UNITS").value == 21
    # 20 tray pairs x 4 cables; summed unit offsets 120 x 44.45 mm plus 0.9 m routing per pair.
    cables = by_rule(f, "CABLE-COUNT")
    assert cables.value == 80
    reach = by_rule(f, "CABLE-REACH")
    assert reach.value == pytest.approx(11 * 0.04445 + 0.9)
    payload = by_rule(f, "MECH-PAYLOAD")
    cable_kg = (120 * 0.04445 + 20 * 0.9) * 4 * 0.1
    assert payload.value == pytest.approx(680 + 20 + cable_kg)
    floor = by_rule(f, "MECH-FLOOR-LOAD")
    assert floor.value == pytest.approx((200 + 700 + cable_kg) / 0.72)


def _mutate(scenario, path, value):
    node = scenario["racks"][0]
    *parents, last = path
    for key in parents:
        node = node[key]
    node[last] = value
    return scenario


@pytest.mark.parametrize(("path", "value", "rule"), [
    (("power", "redundancy"), "N+N", "POWER-SHELF-CAPACITY"),
    (("power", "feed", "circuits"), 1, "POWER-FEED-CAPACITY"),
    (("power", "ride_through_s"), "2 min", "POWER-RIDE-THROUGH"),
    (("cooling", "available_flow_lpm"), "60 L/min", "COOLING-FLOW"),
    (("cooling", "facility_class"), "W45", "COOLING-FACILITY-CLASS"),
    (("cooling", "supply_temp_c"), "46 degC", "COOLING-PART-SUPPLY-TEMP"),
    (("cooling", "delta_t_k"), "20 K", "COOLING-DELTA-T"),
    (("cooling", "air_capacity_w"), "5 kW", "COOLING-AIR-CAPACITY"),
    (("slots", 4, "position"), 40, "CABLE-REACH"),
    (("slots", 3, "position"), 9, "MECH-SLOT-OVERLAP"),
    (("slots", 4, "position"), 48, "MECH-SLOT-RANGE"),
    (("cabling", 0, "cables_per_pair"), 5, "CABLE-PORTS"),
    (("power", "busbar"), "bus-800v", "POWER-BUSBAR-VOLTAGE"),
])
def test_each_rule_fails_when_broken(mini_catalog, mini_scenario, path, value, rule):
    _mutate(mini_scenario, ("cabling", 0, "port"), "nvlink")
    findings = run(mini_catalog, _mutate(mini_scenario, path, value))
    errors = {f.rule for f in findings.values() if f.severity == "error"}
    assert rule in errors


def test_floor_and_busbar_limits(mini_catalog, mini_scenario):
    mini_scenario["site"]["floor_rating_kg_per_m2"] = 1000
    f = run(mini_catalog, mini_scenario)
    assert by_rule(f, "MECH-FLOOR-LOAD").severity == "error"
    assert by_rule(f, "MECH-FLOOR-LOAD").margin < 0


def test_cdu_flow_cap_limits_delivered_flow(mini_catalog, mini_scenario):
    _mutate(mini_scenario, ("cooling", "available_flow_lpm"), "500 L/min")
    flow = by_rule(run(mini_catalog, mini_scenario), "COOLING-FLOW")
    assert flow.limit == 400  # the CDU's maximum, not the 500 L/min offered


def test_margin_sign_and_warning_band(mini_catalog, mini_scenario):
    # 3 shelves N+1 carry 66 kW; 11 x 6 kW trays + 2 kW = 68 kW -> -3.0% margin, an error.
    _mutate(mini_scenario, ("slots", 3, "count"), 11)
    _mutate(mini_scenario, ("slots", 4, "position"), 21)
    shelf = by_rule(run(mini_catalog, mini_scenario), "POWER-SHELF-CAPACITY")
    assert shelf.severity == "error"
    assert shelf.margin == pytest.approx(-2 / 66)


def test_ports_used_exactly_pass(mini_catalog, mini_scenario):
    # 10 compute trays x 2 switch trays x 4 cables: 8 of 8 ports per compute tray, 40 of 40
    # per switch tray. Using every port is the design, not a warning.
    _mutate(mini_scenario, ("cabling", 0, "port"), "nvlink")
    ports = [f for k, f in run(mini_catalog, mini_scenario).items() if k.startswith("CABLE-PORTS")]
    assert sorted((f.value, f.limit, f.severity) for f in ports) == [
        (8, 8, "pass"), (40, 40, "pass")]


def test_cable_count_is_physical_cables_ports_and_reach_stay_on_links(mini_catalog,
                                                                      mini_scenario):
    # The spine cable as an NVLink-5-like part: each link is 4 cables (2 lanes x TX/RX) of
    # 0.025 kg/m. 10 x 2 tray pairs x 4 links = 80 links = 320 cables; the ports still see
    # 8 and 40 links, the reach one link's run; the cable mass is 320 cables of the runs
    # worked in the first test: (120 x 44.45 mm + 20 x 0.9 m) x 4 links x 4 x 0.025 kg/m.
    mini_scenario["parts"] = [{
        "kind": "cable", "id": "cu-200g", "name": "copper 200G, 4 cables a link",
        "replaces": True, "medium": "passive-copper", "lane_gbps": 200, "lanes": 2,
        "reach_m": 2.0, "power_w": 0, "cables_per_link": 4, "mass_kg_per_m": 0.025,
        "source": {"title": "rackforge test fixture", "publisher": "rackforge", "year": 2026}}]
    _mutate(mini_scenario, ("cabling", 0, "port"), "nvlink")
    f = run(mini_catalog, mini_scenario)
    count = by_rule(f, "CABLE-COUNT")
    assert (count.value, count.unit) == (320, "cables")
    assert "80 links x 4 cables" in count.message
    ports = sorted(x.value for k, x in f.items() if k.startswith("CABLE-PORTS"))
    assert ports == [8, 40]
    assert by_rule(f, "CABLE-REACH").value == pytest.approx(11 * 0.04445 + 0.9)
    cable_kg = (120 * 0.04445 + 20 * 0.9) * 4 * 4 * 0.025
    assert by_rule(f, "MECH-PAYLOAD").value == pytest.approx(680 + 20 + cable_kg)


def test_sidecar_power_rack_capacity(mini_catalog, mini_scenario):
    # 62 kW / 0.975 = 63.6 kW of input power on a 60 kW sidecar: short by 6%.
    _mutate(mini_scenario, ("power", "power_rack"), "sidecar-60k")
    side = by_rule(run(mini_catalog, mini_scenario), "POWER-SIDECAR-CAPACITY")
    assert (side.severity, side.limit) == ("error", 60_000)
    assert side.value == pytest.approx(62_000 / 0.975)


def test_battery_shelves_must_carry_the_load(mini_catalog, mini_scenario):
    _mutate(mini_scenario, ("slots", 1, "count"), 1)   # one 33 kW BBU for 62 kW
    _mutate(mini_scenario, ("slots", 2, "position"), 5)
    f = run(mini_catalog, mini_scenario)
    assert by_rule(f, "POWER-BBU-CAPACITY").severity == "error"
    assert by_rule(f, "POWER-RIDE-THROUGH").value == pytest.approx(33_000 * 90 / 62_000)


def test_row_cdu_gives_each_rack_its_share(mini_catalog, mini_scenario):
    # A 1 MW, 1,500 L/min row CDU shared by 20 racks: 50 kW and 75 L/min for this one, so the
    # 55 kW of liquid heat and the 82.4 L/min it needs both fail; the in-rack CDU slot goes.
    rack = mini_scenario["racks"][0]
    rack["slots"] = [s for s in rack["slots"] if s["part"] != "cdu-250"]
    rack["cooling"].update(cdu="cdu-row-1mw", cdu_share=0.05)
    f = run(mini_catalog, mini_scenario)
    cdu = by_rule(f, "COOLING-CDU-CAPACITY")
    assert (cdu.value, cdu.limit, cdu.severity) == (55_000, 50_000, "error")
    flow = by_rule(f, "COOLING-FLOW")
    assert flow.limit == pytest.approx(75.0) and flow.severity == "error"
