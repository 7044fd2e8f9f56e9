"""The ``build`` stage: the assembly and test line, simulated as its ``run`` block says
(:mod:`rackforge.factory`)."""

from __future__ import annotations

from collections.abc import Callable

from rackforge.factory.simulation import simulate
from rackforge.factory.spec import LineSpec
from rackforge.factory.statistics import LineResult

TITLE = "Assembly and test line"
SECTIONS = ("line",)


def run(line: LineSpec, progress: Callable[[int, int], None] | None = None) -> LineResult:
    """Racks per week, cycle time and bottleneck over the line's replications."""
    return simulate(line, on_progress=progress)


def summary(result: LineResult) -> str:
    return (f"{result.racks_per_week.mean:.1f} racks/week (95% CI "
            f"+-{result.racks_per_week.half_width:.1f}), cycle time "
            f"{result.cycle_time_h.mean:.1f} h, bottleneck {result.bottleneck}")
