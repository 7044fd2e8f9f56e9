"""Rack generations the plan deploys: the roadmap (catalog data) and each generation of
``plan.generations`` resolved to numbers.

A generation's numbers come, in order, from the keys it gives, the rack design it names (its
accelerators and IT power, from the design's power budget), the compare candidate (price,
system), and the roadmap entry (available quarter, price, rack power, system). Its useful work
is the ``evaluate`` stage's best training rate for its system on ``plan.work.workload``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from rackforge.calendar import Quarter, format_quarter, quarter_range, step_schedule
from rackforge.catalog.models import Frozen, Source
from rackforge.deploy.demand import DeployedRack
from rackforge.deploy.spec import GenerationSpec, PlanSpec
from rackforge.design.budget import RackBudget
from rackforge.design.rack import RackLayout
from rackforge.errors import InputError
from rackforge.inputs import closest, read_yaml, validate

ROADMAP_FILE = Path(__file__).parent / "data" / "roadmap.yaml"


class RoadmapEntry(Frozen):
    """A rack generation as announced or shipped: when, how much power, at what price."""

    id: str
    system: str
    name: str
    available: Quarter
    rack_it_power_w: float = Field(gt=0)
    accelerators_per_rack: int = Field(ge=1)
    rack_price_usd: float = Field(gt=0)
    power_architecture: str | None = None
    cooling: str | None = None
    approximate: bool = False
    example: bool = False
    notes: str | None = None
    source: list[Source] = Field(min_length=1)
    assumptions: dict[str, str] = Field(default_factory=dict)


@lru_cache(maxsize=2)
def roadmap(path: Path = ROADMAP_FILE) -> dict[str, RoadmapEntry]:
    """The shipped roadmap by generation id."""
    data: Any = read_yaml(path)
    entries = [validate(RoadmapEntry, e, str(path), f"generations[{i}]")
               for i, e in enumerate(data["generations"])]
    return {e.id: e for e in entries}


def resolve(plan: PlanSpec, layouts: Mapping[str, RackLayout],
            candidates: Mapping[str, DeployedRack],
            work: Mapping[str, float] | None = None) -> tuple[DeployedRack, ...]:
    """Each generation of `plan` in numbers (module docstring). `candidates` are the compare
    candidates' racks by id; `work` the useful work per accelerator of each system [1/s]."""
    out = tuple(_generation(g, i, layouts, candidates, work or {})
                for i, g in enumerate(plan.generations))
    if plan.mix == "fixed":
        _check_shares(out, quarter_range(plan.start, plan.end))
    ids = [g.id for g in out]
    for i, entry in enumerate(plan.supply):
        named = [entry.generation] if isinstance(entry.generation, str) else \
            entry.generation or []
        for gid in named:
            if gid not in ids:
                raise InputError("unknown generation", None, f"plan.supply[{i}].generation",
                                 gid, "the id of a generation under plan.generations",
                                 closest(gid, ids))
    if plan.mix == "cost-per-work" and len(out) > 1 and plan.work is None:
        raise InputError("missing key", None, "plan.work", None, "plan.work.workload: the "
                         "useful work generations are compared on (or mix: fixed)")
    return out


def _generation(g: GenerationSpec, i: int, layouts: Mapping[str, RackLayout],
                candidates: Mapping[str, DeployedRack], work: Mapping[str, float]
                ) -> DeployedRack:
    where = f"plan.generations[{i}]"
    entry = _roadmap_entry(g, where)
    design = _design(g, layouts, where)
    candidate = _candidate(g, candidates, where)
    layout = layouts[design] if design else None
    values = {
        "accelerators": g.accelerators or (layout.accelerators if layout else None)
        or (candidate.accelerators if candidate else None)
        or (entry.accelerators_per_rack if entry else None),
        "it_power_w": g.it_power_w or (RackBudget(layout).power.it_power_w if layout else None)
        or (candidate.it_power_w if candidate else None)
        or (entry.rack_it_power_w if entry else None),
        "price_usd": g.price_usd if g.price_usd is not None else
        (candidate.price_usd if candidate and candidate.price_usd is not None else
         (entry.rack_price_usd if entry else None)),
    }
    for key, value in values.items():
        if value is None:
            raise InputError("missing key", None, f"{where}.{key}", None,
                             f"{key}, or a rack, candidate or roadmap entry that gives it")
    system = g.system or (candidate.system if candidate else None) or \
        (entry.system if entry else None)
    origin = ", ".join(filter(None, [f"rack {design}" if design else None,
                                     f"candidate {g.candidate}" if g.candidate else None,
                                     f"roadmap {entry.id}" if entry else None])) or where
    return DeployedRack(
        design, g.candidate, int(values["accelerators"]), float(values["it_power_w"]),
        float(values["price_usd"]), id=g.id, system=system,
        available=g.available or (entry.available if entry else None), last=g.last,
        line_variant=g.line_variant, changeover_weeks=g.changeover_weeks,
        first_unit_factor=g.learning.first_unit_factor, learning_rate=g.learning.rate,
        share=g.share, tokens_per_s_per_gpu=work.get(system) if system else None,
        crew_racks_per_quarter=g.crew_racks_per_quarter,
        origin=origin)


def _roadmap_entry(g: GenerationSpec, where: str) -> RoadmapEntry | None:
    if g.roadmap is None:
        return None
    entries = roadmap()
    if g.roadmap not in entries:
        raise InputError("unknown roadmap entry", None, f"{where}.roadmap", g.roadmap,
                         "a generation id of deploy/data/roadmap.yaml",
                         closest(g.roadmap, list(entries)))
    return entries[g.roadmap]


def _design(g: GenerationSpec, layouts: Mapping[str, RackLayout], where: str) -> str | None:
    if g.rack is not None and g.rack not in layouts:
        raise InputError("unknown rack design id", None, f"{where}.rack", g.rack,
                         "the id of a rack under racks:", closest(g.rack, list(layouts)))
    return g.rack


def _candidate(g: GenerationSpec, candidates: Mapping[str, DeployedRack], where: str
               ) -> DeployedRack | None:
    if g.candidate is None:
        return None
    if g.candidate not in candidates:
        raise InputError("unknown compare candidate", None, f"{where}.candidate", g.candidate,
                         "the id of a candidate under compare.candidates",
                         closest(g.candidate, list(candidates)))
    return candidates[g.candidate]


def _check_shares(racks: Sequence[DeployedRack], quarters: list[date]) -> None:
    """Fixed shares add up to 1 in every quarter something may be built."""
    shares = np.array([step_schedule(r.share, quarters) if isinstance(r.share, dict)
                       else [r.share] * len(quarters) for r in racks], float)
    total = shares.sum(axis=0)
    bad = [format_quarter(q) for q, x in zip(quarters, total, strict=True)
           if abs(x - 1.0) > 1e-6]
    if bad:
        raise InputError("shares do not add up to 1", None, "plan.generations[].share",
                         ", ".join(bad[:4]), "shares of the generations adding up to 1 in "
                         "every quarter of the plan")


def useful_work(evaluations: Sequence[Any], workload: str) -> dict[str, float]:
    """Best training tokens per second per GPU of each system on `workload` (the ``evaluate``
    stage's results)."""
    return {e.system: float(e.best.tokens_per_s_per_gpu) for e in evaluations
            if e.workload == workload}
