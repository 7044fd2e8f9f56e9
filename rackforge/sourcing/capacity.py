"""What suppliers can deliver: per part of the BOM, the units its offers can have delivered by
each quarter, before any plan is made.

An offer ordered from the sourcing start delivers from the first quarter whose distance from
the start, at 13 weeks a quarter (:data:`rackforge.calendar.WEEKS_PER_QUARTER`), covers its lead
time, as the sourcing MIP counts it (:attr:`rackforge.sourcing.problem.SourcingProblem.allowed`),
then its capacity every quarter, except in the quarters its supplier is out
(``sourcing.outages``, as the MIP zeroes them in :meth:`rackforge.sourcing.whatif.SourcingCase.
problem`). Parts are stockable, so what limits the racks built by a quarter is the cumulative
number of units delivered by then. The ramp reads these limits; sourcing then buys for the
racks the ramp builds, within them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from rackforge.calendar import WEEKS_PER_QUARTER, quarter_index
from rackforge.sourcing.spec import SupplierOutage
from rackforge.sourcing.suppliers import ResolvedSourcing


@dataclass(frozen=True)
class PartSupply:
    """One BOM part: units per rack and its capacity per quarter [units/quarter].

    `added_per_quarter` holds steps ``(first quarter index from the start, units)``: an offer
    adds its capacity every quarter from its first delivery on. `lost_per_quarter` holds
    ``(quarter index, units)`` taken off single quarters while a supplier is out, so a part's
    capacity can drop (to zero when every supplier is out) and come back. `used_by` holds
    ``(design id, units per rack)`` of each sourced design that uses it; `units_per_rack` is the
    most of these.
    """

    part: str
    units_per_rack: float
    added_per_quarter: tuple[tuple[int, float], ...]
    lost_per_quarter: tuple[tuple[int, float], ...] = ()
    used_by: tuple[tuple[str, float], ...] = ()

    def capacity(self, n_quarters: int) -> np.ndarray:
        """Units deliverable in each of the first `n_quarters` quarters from the start
        [units/quarter]."""
        k = np.arange(max(n_quarters, 0))
        steps = np.array(self.added_per_quarter, float).reshape(-1, 2)
        cap = (k[:, None] >= steps[None, :, 0]).astype(float) @ steps[:, 1]
        lost = np.array(self.lost_per_quarter, float).reshape(-1, 2)
        inside = lost[:, 0] < len(k)
        np.subtract.at(cap, lost[inside, 0].astype(int), lost[inside, 1])
        return np.maximum(cap, 0.0)

    def delivered_by(self, start: date, quarters: Sequence[date]) -> np.ndarray:
        """Cumulative units deliverable by the end of each of `quarters` (0 before
        `start`) [units]."""
        index = np.array([quarter_index(q, start) for q in quarters], int)
        if index.size == 0:
            return np.zeros(0)
        cumulative = np.cumsum(self.capacity(max(int(index.max()) + 1, 1)))
        return np.where(index >= 0, cumulative[np.maximum(index, 0)], 0.0)


@dataclass(frozen=True)
class Supply:
    """The sourcing section resolved for each rack design it sources, and the supply limits of
    their parts. `resolved` is the first design's (the one single-design figures describe);
    `designs` every design's, the first first (empty: `resolved` alone)."""

    resolved: ResolvedSourcing
    start: date                     # first quarter orders can be placed
    parts: tuple[PartSupply, ...]   # BOM parts some supplier offers, by part id
    designs: tuple[ResolvedSourcing, ...] = ()

    @property
    def sourced(self) -> tuple[ResolvedSourcing, ...]:
        """Every design sourced, the first first."""
        return self.designs or ((self.resolved,) if self.resolved is not None else ())

    def generations(self, part: PartSupply, built_of: Mapping[str | None, Sequence[str]]
                    ) -> str | list[str]:
        """The generations whose rack designs use `part` (`built_of`: design id -> the ids of
        the generations built of it): one id, or a list when several share the part."""
        users = [d for d, _ in part.used_by] or [r.design.id for r in self.sourced]
        ids = [g for d in users for g in built_of.get(d, ())]
        return ids[0] if len(ids) == 1 else ids


def first_delivery(lead_time_weeks: float) -> int:
    """Quarters from the start to the first delivery of an offer with this lead time."""
    return math.ceil(lead_time_weeks / WEEKS_PER_QUARTER - 1e-9)


def supply(resolved: ResolvedSourcing | Sequence[ResolvedSourcing], start: date) -> Supply:
    """Supply limits of every BOM part (of one design or of several, the first first) some
    offer covers (parts nobody offers are reported by the sourcing plan as not sourced); an
    offer whose supplier is out in every quarter adds nothing."""
    designs = (resolved,) if isinstance(resolved, ResolvedSourcing) else tuple(resolved)
    main = designs[0]
    used: dict[str, dict[str, float]] = {}
    for design in designs:
        for part, count in design.bom.counts().items():
            if count > 0:
                used.setdefault(part, {})[design.design.id] = count
    counts = {part: max(by.values()) for part, by in used.items()}
    down = outage_quarters(main.spec.outages, start)
    added: dict[str, dict[int, float]] = {}
    lost: dict[str, dict[int, float]] = {}
    for offer in main.offers:
        quarters = down.get(offer.supplier, ())
        if counts.get(offer.part, 0.0) <= 0 or quarters is None:
            continue
        first = first_delivery(offer.lead_time_weeks)
        steps = added.setdefault(offer.part, {})
        steps[first] = steps.get(first, 0.0) + offer.capacity_per_quarter
        gaps = lost.setdefault(offer.part, {})
        for k in (k for k in quarters if k >= first):
            gaps[k] = gaps.get(k, 0.0) + offer.capacity_per_quarter
    several = len(designs) > 1
    parts = tuple(PartSupply(part, counts[part], tuple(sorted(steps.items())),
                             tuple(sorted(lost[part].items())),
                             tuple(used[part].items()) if several else ())
                  for part, steps in sorted(added.items()))
    return Supply(main, start, parts, designs if several else ())


def outage_quarters(outages: Sequence[SupplierOutage], start: date
                    ) -> dict[str, frozenset[int] | None]:
    """Per supplier, the quarter indices from `start` it delivers nothing in (None: every
    quarter); quarters before the start do not count."""
    out: dict[str, frozenset[int] | None] = {}
    for lost in outages:
        before = out.get(lost.supplier, frozenset())
        if lost.quarters is None or before is None:
            out[lost.supplier] = None
        else:
            index = (quarter_index(q, start) for q in lost.quarters)
            out[lost.supplier] = before | {k for k in index if k >= 0}
    return out
