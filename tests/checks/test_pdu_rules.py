"""PDU branch current, single-phase PDUs and room containment on the shipped HGX B200 example,
with the expected numbers worked by hand."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from rackforge.checks import check_rack
from rackforge.inputs import read_yaml
from rackforge.scenario import from_dict

EXAMPLE = Path(__file__).parents[2] / "scenarios" / "examples" / "hgx-b200-rear-door.yaml"
SINGLE_PHASE_PDU = {
    "id": "pdu-1ph-208v-30a", "kind": "pdu", "name": "test single-phase PDU", "phases": 1,
    "voltage_v": "208 V", "breaker_a": "30 A", "outlets": 12, "outlet_breaker_a": "20 A",
    "rack_units": 0, "mass_kg": "5 kg", "example": True,
    "source": {"title": "test part (invented)", "publisher": "rackforge tests", "year": 2026},
}


def findings(data: dict) -> dict[str, object]:
    scenario = from_dict(data)
    layout = next(iter(scenario.layouts.values()))
    return {f.rule: f for f in check_rack(layout, scenario.spec.site)}


@pytest.fixture
def b200() -> dict:
    return copy.deepcopy(read_yaml(EXAMPLE))


def test_three_cords_of_a_14_3_kw_server_overload_their_outlets(b200):
    # DGX B200 at 14.3 kW on the three cords of one feed: 4,766.7 W a cord at 415 / sqrt(3) =
    # 239.6 V and pf 0.95 is 20.94 A, against 20 A x 0.8 = 16 A.
    b200["racks"][0]["power"]["pdus"].update(redundancy="N+N", cords_per_tray=3)
    branch = findings(b200)["POWER-PDU-BRANCH-CURRENT"]
    assert branch.severity == "error"
    assert branch.value == pytest.approx(14_300 / 3 / (0.95 * 415 / 3 ** 0.5), rel=1e-3)
    assert branch.limit == pytest.approx(16.0)


def test_single_phase_pdu_current_and_no_phase_balance(b200):
    b200["parts"] = [SINGLE_PHASE_PDU]
    b200["racks"][0]["slots"] = [{"position": 2, "part": "hgx-b200-8-server"}]
    b200["racks"][0]["power"]["pdus"] = {"part": "pdu-1ph-208v-30a", "per_feed": 2,
                                         "cords_per_tray": 6}
    found = findings(b200)
    assert "POWER-PHASE-BALANCE" not in found
    # 14.3 kW over 2 PDUs: 7,150 W on the one phase of each, / (0.95 x 208 V) = 36.2 A > 24 A.
    phase = found["POWER-PDU-PHASE-CURRENT"]
    assert phase.value == pytest.approx(7_150 / (0.95 * 208), rel=1e-3)
    assert (phase.limit, phase.severity) == (pytest.approx(24.0), "error")
    # One cord: 14,300 / 6 = 2,383 W / (0.95 x 208) = 12.06 A against 16 A.
    assert found["POWER-PDU-BRANCH-CURRENT"].value == pytest.approx(2_383.3 / 197.6, rel=1e-3)


def test_containment_warns_but_never_fails(b200):
    cooling = b200["racks"][0]["cooling"]
    del cooling["rear_door"]
    cooling.update(containment="none", air_capacity_w="60 kW")
    rule = findings(b200)["COOLING-CONTAINMENT"]
    # 3 x 14.3 kW of air heat against the 6 kW a rack rejects to an uncontained room.
    assert (rule.severity, rule.value, rule.limit) == ("warning", pytest.approx(42_900), 6_000)
    cooling["rear_door"] = "rdhx-active-75kw"   # the door takes it all: nothing reaches the room
    rule = findings(b200)["COOLING-CONTAINMENT"]
    assert (rule.severity, rule.value) == ("pass", 0.0)
