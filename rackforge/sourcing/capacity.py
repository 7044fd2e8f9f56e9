"""What suppliers can deliver: per part of the BOM, the units its offers can have delivered by
each quarter, before any plan is made.

An offer ordered from the sourcing start delivers from the first quarter whose distance from
the start, at 13 weeks a quarter (:data:`rackforge.calendar.WEEKS_PER_QUARTER`), covers its lead
time, as the sourcing MIP counts it (:attr:`rackforge.sourcing.problem.SourcingProblem.allowed`),
then its capacity every quarter. Parts are stockable, so what limits the racks built by a quarter
is the cumulative number of units delivered by then. The ramp reads these limits; sourcing then
buys for the racks the ramp builds, within them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from rackforge.calendar import WEEKS_PER_QUARTER, quarter_index
from rackforge.sourcing.suppliers import ResolvedSourcing


@dataclass(frozen=True)
class PartSupply:
    """One BOM part: units per rack and what its offers add per quarter from a quarter on."""

    part: str
    units_per_rack: float
    added_per_quarter: tuple[tuple[int, float], ...]  # (first quarter index from start, units)

    def delivered_by(self, start: date, quarters: Sequence[date]) -> np.ndarray:
        """Cumulative units deliverable by the end of each of `quarters` [units]."""
        index = np.array([quarter_index(q, start) for q in quarters], float)
        total = np.zeros(len(index))
        for first, units in self.added_per_quarter:
            total += np.maximum(index - first + 1, 0.0) * units
        return total


@dataclass(frozen=True)
class Supply:
    """The sourcing section resolved for one rack design, and its parts' supply limits."""

    resolved: ResolvedSourcing
    start: date                     # first quarter orders can be placed
    parts: tuple[PartSupply, ...]   # BOM parts some supplier offers, by part id


def first_delivery(lead_time_weeks: float) -> int:
    """Quarters from the start to the first delivery of an offer with this lead time."""
    return math.ceil(lead_time_weeks / WEEKS_PER_QUARTER - 1e-9)


def supply(resolved: ResolvedSourcing, start: date) -> Supply:
    """Supply limits of every BOM part some offer covers (parts nobody offers are reported by
    the sourcing plan as not sourced)."""
    counts = resolved.bom.counts()
    added: dict[str, dict[int, float]] = {}
    for offer in resolved.offers:
        if counts.get(offer.part, 0.0) <= 0:
            continue
        steps = added.setdefault(offer.part, {})
        first = first_delivery(offer.lead_time_weeks)
        steps[first] = steps.get(first, 0.0) + offer.capacity_per_quarter
    parts = tuple(PartSupply(part, counts[part], tuple(sorted(steps.items())))
                  for part, steps in sorted(added.items()))
    return Supply(resolved, start, parts)
