"""The ``build`` stage of ``rackforge run``: the scenario's line, as its ``run`` block says."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rackforge.factory.simulation import simulate
from rackforge.factory.statistics import LineResult


def run_build(scenario, results: Mapping[str, Any]) -> LineResult:  # noqa: ANN001
    return simulate(scenario.spec.line)


def build_summary(r: LineResult) -> str:
    return (f"{r.racks_per_week.mean:.1f} racks/week (95% CI +-{r.racks_per_week.half_width:.1f}),"
            f" cycle time {r.cycle_time_h.mean:.1f} h, bottleneck {r.bottleneck}")
