"""What is a change to the line worth? Apply changes, simulate each variant on common random
numbers, report the difference in racks per week and cycle time.

A change is a mapping of dotted keys to values: ``{"burn-in.servers": 15}`` (station name, then
field), ``{"calendar.hours_per_day": "24 h"}``, ``{"release.wip_cap": 300}``,
``{"l11-rack-test.first_pass_yield": "98 %"}``. The changed line is validated again, so a bad
change is an :class:`~rackforge.errors.InputError` like a bad file.

Variants run with the same seed, so each replication of each variant sees the same random
streams per station (common random numbers; Law, *Simulation Modeling and Analysis*, 5th ed.,
sec. 11.2), which makes differences between variants sharper than the separate intervals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rackforge.errors import InputError
from rackforge.factory.simulation import simulate
from rackforge.factory.spec import LineSpec
from rackforge.factory.statistics import LineResult
from rackforge.inputs import closest, validate

SECTIONS = ("release", "calendar", "rack", "run")


def with_changes(line: LineSpec, changes: Mapping[str, Any]) -> LineSpec:
    """A copy of `line` with `changes` (dotted keys, see the module docstring) applied."""
    data = line.model_dump(mode="python", exclude_none=True)
    stations = {s["name"]: s for s in data["stations"]}
    for key, value in changes.items():
        head, _, field = key.partition(".")
        if head in SECTIONS and field:
            data[head][field] = value
        elif head in stations and field:
            stations[head][field] = value
        else:
            raise InputError("unknown change", None, "changes", key,
                             "'<station>.<field>' or 'release|calendar|rack|run.<field>'",
                             closest(head, [*stations, *SECTIONS]))
    return validate(LineSpec, data, None, "changes")


@dataclass(frozen=True)
class Variant:
    """One variant of the line and what it delivers compared with the baseline."""

    label: str
    result: LineResult
    racks_per_week_gain: float
    cycle_time_change_h: float


def compare(line: LineSpec, variants: Mapping[str, Mapping[str, Any]], *,
            racks: int | None = None, weeks: float | None = None,
            replications: int | None = None, seed: int | None = None) -> list[Variant]:
    """Simulate the baseline and each labelled variant on the same seed; the first entry of
    the returned list is the baseline (gain 0) [racks/week, h]."""
    run = {"racks": racks, "weeks": weeks, "replications": replications, "seed": seed}
    base = simulate(line, **run)
    out = [Variant("baseline", base, 0.0, 0.0)]
    for label, changes in variants.items():
        r = simulate(with_changes(line, changes), **run)
        out.append(Variant(label, r, r.racks_per_week.mean - base.racks_per_week.mean,
                           r.cycle_time_h.mean - base.cycle_time_h.mean))
    return out
