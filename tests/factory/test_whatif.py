"""What-if changes: applied and validated, and worth what theory says on a simple line."""

from __future__ import annotations

import pytest

from rackforge.errors import InputError
from rackforge.factory.whatif import compare, with_changes

from .conftest import serial_line


def test_changes_apply_and_revalidate():
    line = serial_line([1, 2])
    changed = with_changes(line, {"s2.servers": 2, "release.wip_cap": 6,
                                  "calendar.hours_per_day": "16 h"})
    assert changed.station("s2").servers == 2
    assert changed.release.wip_cap == 6
    assert changed.calendar.hours_per_day == 16.0
    assert line.station("s2").servers == 1  # the original is untouched
    with pytest.raises(InputError, match="Did you mean s2"):
        with_changes(line, {"s3.servers": 2})
    with pytest.raises(InputError, match="changes.stations.1.servers|servers"):
        with_changes(line, {"s2.servers": 0})


def test_second_server_at_the_bottleneck_is_worth_its_capacity():
    # Deterministic best case: TH = min(w / T0, rb). s2 (2 h) limits to 0.5/h = 84/week;
    # a second s2 server lifts the bottleneck rate to 1/h, reached with w = 3 >= rb T0.
    line = serial_line([1, 2], release={"policy": "conwip", "wip_cap": 3})
    base, more = compare(line, {"second s2": {"s2.servers": 2}}, weeks=10, replications=2)
    assert base.result.racks_per_week.mean == pytest.approx(84.0, rel=1e-3)
    assert more.racks_per_week_gain == pytest.approx(84.0, rel=1e-2)
    assert more.result.bottleneck in ("s1", "s2")
