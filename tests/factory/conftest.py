"""Small lines for the factory tests."""

from __future__ import annotations

from typing import Any

from rackforge.factory.spec import LineSpec
from rackforge.inputs import validate


def serial_line(times: list[Any], servers: list[int] | None = None, *,
                release: dict | None = None, **extra: Any) -> LineSpec:
    """Stations s1..sn in series; `times` are ``time_h`` values, default CONWIP of 2."""
    servers = servers or [1] * len(times)
    names = [f"s{i + 1}" for i in range(len(times))]
    stations = [{"name": n, "servers": c, "time_h": t,
                 "next": names[i + 1] if i + 1 < len(names) else "ship"}
                for i, (n, c, t) in enumerate(zip(names, servers, times, strict=True))]
    data = {"name": "tiny", "release": release or {"policy": "conwip", "wip_cap": 2},
            "stations": stations, **extra}
    return validate(LineSpec, data)
