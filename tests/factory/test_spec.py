"""Bad line definitions are InputErrors naming what is wrong; good ones parse units."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rackforge.cli import app
from rackforge.errors import InputError
from rackforge.factory.spec import LineSpec
from rackforge.inputs import validate

from .conftest import serial_line

BASE = {"name": "l", "release": {"policy": "conwip", "wip_cap": 3},
        "stations": [{"name": "a", "time_h": "90 min", "next": "b"},
                     {"name": "b", "time_h": {"dist": "exponential", "mean_h": "2 h"},
                      "next": "ship"}]}


def _with(station: int, **changes) -> dict:
    stations = [dict(s) for s in BASE["stations"]]
    stations[station].update(changes)
    return {**BASE, "stations": stations}


def test_units_are_parsed_to_hours():
    line = validate(LineSpec, BASE)
    assert line.stations[0].time_h.mean_h == pytest.approx(1.5)
    assert line.stations[1].time_h.expected_h == pytest.approx(2.0)


@pytest.mark.parametrize(("data", "words"), [
    (_with(0, next="nowhere"), ["next 'nowhere' is not a station", "expected one of a, b"]),
    (_with(1, next="a"), ["no route to 'ship'", "loop"]),
    ({**BASE, "stations": [{"name": "a", "time_h": 1}]},
     ["stations[0].next", "missing key", "expected this key to be present"]),
    (_with(0, servers=0), ["servers", "greater than or equal to 1", "got 0"]),
    (_with(0, time_h="-2 h"), ["time_h", "greater than or equal to 0"]),
    (_with(0, time_h={"dist": "triangular", "min_h": 3, "mode_h": 2, "max_h": 4}),
     ["min_h <= mode_h <= max_h"]),
    (_with(0, first_pass_yield=1.2), ["first_pass_yield", "less than or equal to 1"]),
    (_with(0, first_pass_yield="0 %"), ["first_pass_yield", "greater than 0"]),
    (_with(0, rework_to="c"), ["rework_to 'c' is not a station"]),
    (_with(0, mtbf_h="100 h"), ["give both mtbf_h and mttr_h"]),
    (_with(1, name="a"), ["unique"]),
    ({**BASE, "release": {"policy": "push"}}, ["needs one of rate_per_h or rate_per_week"]),
    ({**BASE, "rack": {"trays": {"compute": 18}}}, ["exactly one assembly station"]),
    (_with(0, kind="batch", batch_size=8), ["never starts"]),
])
def test_bad_lines_raise_input_error(data, words):
    with pytest.raises(InputError) as err:
        validate(LineSpec, data, "f.yaml", "line")
    text = str(err.value)
    assert text.startswith("f.yaml:line")
    for w in words:
        assert w in text, text


def test_unreached_station_is_an_error():
    data = {**BASE, "stations": [*BASE["stations"],
                                 {"name": "c", "time_h": 1, "next": "ship"}]}
    with pytest.raises(InputError, match=r"\['c'\] are never reached"):
        validate(LineSpec, data)


def test_tray_station_must_feed_its_kind_or_the_assembly():
    data = {"name": "t", "rack": {"trays": {"compute": 2}},
            "release": {"policy": "conwip", "wip_cap": 2},
            "stations": [{"name": "tray", "unit": "compute", "time_h": 1, "next": "ship"},
                         {"name": "asm", "kind": "assembly", "time_h": 1, "next": "ship"}]}
    with pytest.raises(InputError, match="must route to another compute station"):
        validate(LineSpec, data)


def test_bad_line_in_scenario_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nline:\n  name: l\n  release: {policy: conwip, wip_cap: 2}\n"
                   "  stations:\n    - {name: a, servers: 0, time_h: 1 h, next: ship}\n")
    result = CliRunner().invoke(app, ["build", str(bad)], terminal_width=300)
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0
    assert "line.stations[0].servers" in result.output


def test_scenario_without_line_exits_2(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("name: no line\n")
    result = CliRunner().invoke(app, ["build", str(f)], terminal_width=300)
    assert result.exit_code == 2
    assert "no line section" in result.output


def test_serial_line_helper():
    line = serial_line([1, 2])
    assert [s.next for s in line.stations] == ["s2", "ship"]
