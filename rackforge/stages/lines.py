"""The ``lines`` stage: the line as it builds each other rack generation (``line.variants``),
simulated like the base line (:mod:`rackforge.factory.variants`). The ramp reads each
generation's racks per week from here."""

from __future__ import annotations

from collections.abc import Callable

from rackforge.factory.simulation import simulate
from rackforge.factory.spec import LineSpec
from rackforge.factory.statistics import LineResult
from rackforge.factory.variants import apply_variant

TITLE = "Line variants"
SECTIONS = ("line",)


def run(line: LineSpec, progress: Callable[[int, int], None] | None = None
        ) -> dict[str, LineResult]:
    """Racks per week, cycle time and bottleneck of the line for each variant, by name."""
    return {variant.name: simulate(apply_variant(line, variant), on_progress=progress)
            for variant in line.variants}


def summary(result: dict[str, LineResult]) -> str:
    if not result:
        return "no line variants"
    return "; ".join(f"{name}: {r.racks_per_week.mean:.1f} racks/week, bottleneck "
                     f"{r.bottleneck}" for name, r in result.items())
