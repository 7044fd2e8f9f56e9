"""Scenario schema of the ``plan:`` section: the quarterly deployment ramp and its limits.

Schedules are step functions written as ``{quarter: value}`` mappings: a value holds from its
quarter until the next one, and quarters before the first key take 0. A plain number is a constant
schedule. Powers accept units (``"1.5 GW"``).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rackforge.calendar import Quarter, parse_quarter, quarter_range
from rackforge.catalog.models import Frozen
from rackforge.units import Power

Schedule = float | dict[Quarter, float]
PowerSchedule = dict[Quarter, Power]


MAX_TARGET_W = 1e12   # 1,000 GW: a target above it is a typo, not a plan
MAX_SCHEDULE = 1e6    # racks a week of one line, or lines running: more is a typo
MAX_UNITS = 1e12      # units of a part a quarter, or in stock: about 100 a person on Earth
MAX_SITE_W = 1e12     # 1,000 GW at one site: every grid of the world together is a few TW


def _non_negative(schedule: float | dict) -> float | dict:
    values = schedule.values() if isinstance(schedule, dict) else [schedule]
    if any(v < 0 for v in values):
        raise ValueError("schedule values must not be negative")
    return schedule


def _bounded_by(limit: float, unit: str):  # noqa: ANN202 - a pydantic validator
    """A validator: a schedule's values are at most `limit` (`unit` names it)."""
    def check(schedule: float | dict) -> float | dict:
        values = schedule.values() if isinstance(schedule, dict) else [schedule]
        if any(v > limit for v in values):
            raise ValueError(f"schedule values must be at most {limit:,.0f} {unit}")
        return schedule
    return check


_at_most = _bounded_by(MAX_SCHEDULE, "")


def _builds_something(schedule: float | dict) -> float | dict:
    """A line whose output is a plain 0 builds nothing: say so here, rather than let the ramp
    advise on its commissioning lag. (A step schedule of zeros stays allowed: the ramp
    tests probe it.)"""
    if not isinstance(schedule, dict) and schedule == 0:
        raise ValueError("the factory builds nothing: racks_per_week is 0; give more than 0 "
                         "racks a week (or a step schedule)")
    return schedule


class Provenance(Frozen):
    """Where the numbers of an entry come from: a source, or ``example: true``."""

    source: str | None = None
    example: bool = False
    note: str | None = None


class FactorySpec(Provenance):
    """Rack output of the integration factory at full rate, and its ramp-up from the start.

    Capacity per quarter = racks_per_week x lines x 13 weeks x ramp; ``racks_per_week`` is per
    line (the build stage's line throughput, see :mod:`rackforge.deploy.adapters`).
    """

    racks_per_week: Schedule = Field(description="full-rate output of one line; a mapping is a "
                                     "step schedule")
    lines: Schedule = Field(default=1.0, description="lines running (step schedule)")
    ramp_quarters: int = Field(default=0, ge=0, description="quarters from the plan start to "
                               "full rate")
    ramp_start_fraction: float = Field(default=1.0, gt=0, le=1,
                                       description="share of full rate in the first quarter")

    _check = field_validator("racks_per_week", "lines")(_non_negative)
    _bounded = field_validator("racks_per_week", "lines")(_at_most)
    _builds = field_validator("racks_per_week")(_builds_something)


class SupplySpec(Provenance):
    """A component in short supply: units delivered per quarter and units each rack needs.

    Parts are stockable: racks built up to a quarter may use every unit delivered up to it.
    """

    part: str = Field(min_length=1)
    generation: str | list[str] | None = Field(
        default=None, description="the generation(s) that use it; default every generation")
    units_per_rack: float = Field(gt=0, le=1e6)
    per_quarter: Schedule = Field(description="units delivered each quarter")
    initial_stock: float = Field(default=0.0, ge=0, le=MAX_UNITS)

    _check = field_validator("per_quarter")(_non_negative)
    _bounded = field_validator("per_quarter")(_bounded_by(MAX_UNITS, "units"))


class EquipmentOrder(Provenance):
    """Units of one power-chain item ordered for a site in a quarter; they carry load from
    the quarter they are delivered (lead time) and installed (install time) on."""

    item: str = Field(min_length=1, description="id of a power_chain item")
    units: float = Field(gt=0, le=1e6)
    ordered: Quarter


class PlanSite(Provenance):
    """A site: the facility power (PUE included) its grid connection gives from each quarter
    on, and optionally its power chain, cooling plant and installation crews."""

    name: str = Field(min_length=1)
    power_w: PowerSchedule = Field(min_length=1, description="facility power the grid "
                                   "interconnect gives from the quarter on (step schedule)")
    pue: float | None = Field(default=None, ge=1, le=3, description="default: from the "
                              "cooling plant and climate, else the plan's")
    cooling_plant: str | None = Field(default=None, description="a power_chain pue plant")
    climate: str | None = Field(default=None, description="a power_chain pue climate")
    equipment: list[EquipmentOrder] = Field(default_factory=list, max_length=100)
    crews: Schedule | None = Field(default=None, description="installation and "
                                  "commissioning crews (step schedule)")

    _check = field_validator("power_w")(_non_negative)
    _bounded = field_validator("power_w")(_bounded_by(MAX_SITE_W, "W"))

    @field_validator("crews")
    @classmethod
    def _crews(cls, schedule: float | dict | None) -> float | dict | None:
        return None if schedule is None else _at_most(_non_negative(schedule))

    @model_validator(mode="after")
    def _plant(self) -> PlanSite:
        if (self.cooling_plant is None) != (self.climate is None):
            raise ValueError(f"site {self.name!r}: give cooling_plant and climate together")
        if self.pue is not None and self.cooling_plant is not None:
            raise ValueError(f"site {self.name!r}: give pue or cooling_plant and climate, "
                             "not both")
        return self


class LearningSpec(Frozen):
    """Wright's law on the line for a new generation (:mod:`rackforge.factory.learning`)."""

    first_unit_factor: float = Field(default=1.0, ge=1, le=20,
                                     description="first unit's time over the steady time")
    rate: float = Field(default=0.85, gt=0.5, le=1,
                        description="unit time multiplier per doubling of units built")


class GenerationSpec(Provenance):
    """A rack generation the program may deploy, and from when.

    Its numbers come from, in order: the keys given here, the rack design it names (IT power,
    accelerators), the compare candidate (price), the roadmap entry (``roadmap``: available
    quarter, price, power, system)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    roadmap: str | None = Field(default=None, description="roadmap entry id")
    rack: str | None = Field(default=None, description="rack design id of this scenario")
    candidate: str | None = Field(default=None, description="compare candidate id")
    system: str | None = Field(default=None, description="catalog system, for its useful work")
    available: Quarter | None = Field(default=None, description="first quarter it is built")
    last: Quarter | None = Field(default=None, description="last quarter it is built")
    accelerators: int | None = Field(default=None, ge=1, le=100_000)
    it_power_w: Power | None = Field(default=None, gt=0, le=10e6)
    price_usd: float | None = Field(default=None, ge=0, le=1e9)
    line_variant: str | None = Field(default=None, description="line.variants name; default "
                                     "the base line")
    changeover_weeks: float = Field(default=0.0, ge=0, le=13,
                                    description="line time lost per line when it starts")
    learning: LearningSpec = LearningSpec()
    crew_racks_per_quarter: float | None = Field(
        default=None, gt=0, le=1e4, description="racks one crew energizes a quarter; default "
        "power_chain crew figure")
    share: Schedule | None = Field(default=None, description="fixed share of each quarter's "
                                   "builds (mix: fixed)")

    @field_validator("share")
    @classmethod
    def _share(cls, schedule: float | dict | None) -> float | dict | None:
        values = [] if schedule is None else (
            schedule.values() if isinstance(schedule, dict) else [schedule])
        if any(not 0 <= v <= 1 for v in values):
            raise ValueError("shares lie between 0 and 1")
        return schedule


class WorkSpec(Frozen):
    """The useful work generations are compared on: training tokens per second of a workload,
    from the ``evaluate`` stage's search of each generation's system (at its GPU count)."""

    workload: str = Field(min_length=1)


class PlanRack(Frozen):
    """The rack the program deploys; numbers not given come from a compare candidate."""

    candidate: str | None = Field(default=None, description="compare candidate id")
    accelerators: int | None = Field(default=None, ge=1)
    it_power_w: Power | None = Field(default=None, gt=0, description="per rack, full load")
    price_usd: float | None = Field(default=None, ge=0, description="hardware price per rack")


class PlanSpec(Frozen):
    """The ``plan:`` section: deploy racks quarter by quarter from `start` to `end`."""

    start: Quarter = Field(default=parse_quarter("2026Q3"))
    end: Quarter = Field(default=parse_quarter("2029Q4"))
    objective: Literal["max-capacity", "min-cost"] = "max-capacity"
    target_w: Power | None = Field(default=None, gt=0, le=MAX_TARGET_W,
                                   description="power online by the end (at most 1,000 GW)")
    target_basis: Literal["facility", "it"] = "facility"
    rack: PlanRack = PlanRack()
    generations: list[GenerationSpec] = Field(default_factory=list, max_length=12,
                                              description="rack generations (instead of rack)")
    mix: Literal["cost-per-work", "fixed"] = Field(
        default="cost-per-work", description="how each quarter's racks split over generations")
    work: WorkSpec | None = Field(default=None, description="the useful work racks are "
                                  "compared on (mix: cost-per-work)")
    factory: FactorySpec
    supply: list[SupplySpec] = Field(default_factory=list)
    sites: list[PlanSite] = Field(min_length=1)
    commissioning_quarters: int = Field(default=1, ge=0, description="from shipment to energized")
    pue: float | None = Field(default=None, ge=1, description="default: economics.pue")

    @model_validator(mode="after")
    def _check(self) -> PlanSpec:
        if self.end < self.start:
            raise ValueError("end is before start")
        if self.commissioning_quarters >= len(quarters_of(self)):
            raise ValueError("commissioning_quarters leaves no quarter of the plan to energize "
                             "racks in")
        if self.generations and self.rack != PlanRack():
            raise ValueError("give plan.rack or plan.generations, not both")
        if not self.generations and any(e.generation is not None for e in self.supply):
            raise ValueError("supply names a generation, but the plan has no generations")
        if self.mix == "fixed" and any(g.share is None for g in self.generations):
            raise ValueError("mix: fixed needs a share for every generation")
        for name, items in (("sites", [s.name for s in self.sites]),
                            ("supply", [(s.part, str(s.generation)) for s in self.supply]),
                            ("generations", [g.id for g in self.generations])):
            for i, key in enumerate(items):
                if key in items[:i]:
                    raise ValueError(f"duplicate name {key!r} at {name}[{i}]")
        return self


def quarters_of(spec: PlanSpec) -> list[date]:
    """The plan's quarters, start and end included."""
    return quarter_range(spec.start, spec.end)
