"""The line as it builds another rack generation: a :class:`LineVariant` applied to the line.

A variant keeps the stations and the routing; it changes the trays per rack, scales station
times (``time_scale``: every time of the station's distribution, the batch timeout and tray
rework, not equipment repair) and sets servers. The result is validated again as a line, so a
variant that breaks the line (a CONWIP cap under a batch) is bad input.
"""

from __future__ import annotations

from typing import Any

from rackforge.factory.spec import LineSpec, LineVariant

TIME_KEYS = ("mean_h", "min_h", "mode_h", "max_h")
STATION_TIME_KEYS = ("rework_h", "batch_timeout_h")


def _scaled_time(time: dict[str, Any], factor: float) -> dict[str, Any]:
    out = dict(time)
    for key in TIME_KEYS:
        if out.get(key) is not None:
            out[key] = out[key] * factor
    if out.get("values_h") is not None:
        out["values_h"] = [v * factor for v in out["values_h"]]
    return out


def apply_variant(line: LineSpec, variant: LineVariant) -> LineSpec:
    """`line` as `variant` changes it, without variants of its own (module docstring)."""
    data = line.model_dump(exclude={"variants"})
    data["name"] = f"{line.name}.{variant.name}"
    if variant.rack is not None:
        data["rack"] = variant.rack.model_dump()
    for station in data["stations"]:
        factor = variant.time_scale.get(station["name"], 1.0)
        station["time_h"] = _scaled_time(station["time_h"], factor)
        for key in STATION_TIME_KEYS:
            if station.get(key) is not None:
                station[key] = station[key] * factor
        station["servers"] = variant.servers.get(station["name"], station["servers"])
    return LineSpec.model_validate(data)
