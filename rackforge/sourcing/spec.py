"""Scenario schema of the ``sourcing:`` section, supplier offers and quarters.

Quarters are text like ``2027Q1`` at the edge and :class:`datetime.date` (first day of the
quarter) inside. Money is in US dollars [USD]; tariff and share figures are fractions [-].

Example::

    sourcing:
      design: nvl72-reference      # or designs: [nvl72-us, gb300-us], one plan for them all
      build_schedule: {2027Q1: 40, 2027Q2: 80}
      suppliers_csv: suppliers-reference.csv
      tariffs: {CN: 0.25, TW: 0.10}
      content_rule: far25          # or ira
      critical_parts: [{part: cdu-in-row-1.3mw, max_supplier_share: 0.7}]
      outages: [{supplier: alamo-systems, quarters: [2027Q3, 2027Q4]}]   # in the base case
      what_if:
        taiwan-tariff: {tariffs: {TW: 0.25}}
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from rackforge.calendar import Quarter, format_quarter, parse_quarter, quarter_range
from rackforge.catalog.models import Frozen
from rackforge.units import Fraction

ContentRule = Literal["far25", "ira"]
# A duty rate: not negative, and may exceed 100 % (e.g. stacked tariffs).
TariffRate = Annotated[Fraction, Field(ge=0, le=10)]   # at most 1,000 %
Share = Annotated[Fraction, Field(ge=0, le=1)]

Country = Annotated[str, BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
                    Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")]


class SupplierOffer(Frozen):
    """One supplier's offer of one part: a row of the supplier table."""

    supplier: str = Field(min_length=1)
    part: str = Field(min_length=1)
    unit_price_usd: float = Field(gt=0, le=1e9, description="purchase price per unit [USD]")
    country_of_origin: Country
    capacity_per_quarter: int = Field(ge=0, le=10**12,
                                      description="units the supplier can ship [1/quarter]")
    lead_time_weeks: float = Field(ge=0, le=520, description="order to delivery [weeks]")
    min_order_units: int = Field(default=0, ge=0, description="smallest non-zero order [units]")
    freight_usd_per_unit: float = Field(default=0.0, ge=0, le=1e9,
                                        description="to the assembly site [USD]")
    us_content_fraction: Fraction | None = Field(
        default=None, ge=0, le=1,
        description="US-origin share of the part's cost, for the IRA method; default 1 for US "
                    "origin, 0 otherwise [-]")
    tariff_rate: Fraction | None = Field(
        default=None, ge=0, le=1, description="duty on this part from this origin [-]; "
        "overrides the origin's rate (e.g. an HTS heading excluded from a tariff)")
    risk: Fraction = Field(default=0.0, ge=0, le=1, description="supply-risk score [-]")
    example: bool = False


class CriticalPart(Frozen):
    """A part no single supplier may deliver more than `max_supplier_share` of (dual sourcing)."""

    part: str
    max_supplier_share: Fraction = Field(gt=0, le=1, description="of the horizon's units [-]")


class ExtraLine(Frozen):
    """A BOM line outside the rack design (fabric switches, optics) until cluster sizing exists."""

    part: str
    count_per_rack: float = Field(gt=0, description="units per rack built [-]")
    label: str = "extra"


class SupplierOutage(Frozen):
    """A supplier that delivers nothing in some quarters (all its offers, every part)."""

    supplier: str = Field(min_length=1)
    quarters: list[Quarter] | None = Field(default=None, min_length=1,
                                           description="delivery quarters lost; default: every "
                                                       "quarter")


class WhatIfSpec(Frozen):
    """A change to the base case: tariffs, lost suppliers, a demand surge."""

    description: str | None = None
    tariffs: dict[Country, TariffRate] = Field(default_factory=dict,
                                             description="new rates by origin, others unchanged")
    supplier_lost: list[SupplierOutage] = Field(default_factory=list)
    demand_factor: float = Field(default=1.0, gt=0, le=100,
                                 description="multiplies the build schedule")
    extra_racks: dict[Quarter, Annotated[int, Field(ge=0)]] = Field(default_factory=dict,
                                            description="racks added to these quarters")


class SourcingSpec(Frozen):
    """The ``sourcing:`` section of a scenario."""

    design: str | None = Field(default=None, description="rack design id; default: the rack "
                               "designs the plan deploys, else the only one")
    designs: list[str] | None = Field(
        default=None, min_length=1,
        description="rack design ids to source in one plan (their parts share the suppliers' "
                    "capacity; each meets the domestic floor on its own). `designs` wins over "
                    "`design`: given both, `design` must be one of `designs` and comes first; "
                    "the first design is the one the single-design figures describe")
    build_schedule: dict[Quarter, float] | Literal["plan"] = Field(
        default="plan", description="'plan' (the default): the racks the deployment ramp "
        "builds; or racks built per quarter, in a scenario without a plan: section")
    start: Quarter | None = Field(default=None, description="first quarter orders can be placed; "
                                  "default: the first quarter of the schedule")
    suppliers: list[SupplierOffer] = Field(default_factory=list)
    suppliers_csv: str | None = Field(default=None, description="relative to the scenario file")
    tariffs: dict[Country, TariffRate] = Field(default_factory=dict,
                                             description="duty rate by country of origin [-]")
    content_rule: ContentRule = "far25"
    domestic_floor: Share | dict[int, Share] | Literal["fallback"] | None = Field(
        default=None, description="floor on domestic share per delivery year [-]; default: the "
                                  "rule's threshold by year; 'fallback': the rule's fallback "
                                  "threshold where one applies (FAR 25: 60% through 2029), "
                                  "else its threshold; 0 switches it off")
    critical_parts: list[CriticalPart] = Field(default_factory=list)
    extra_lines: list[ExtraLine] = Field(default_factory=list)
    fabric: Literal["cluster", "none"] = Field(
        default="cluster", description="add the scenario cluster's fabric parts (switches, "
                                       "cables, optics) per rack when the cluster uses this design")
    risk_penalty: float = Field(default=0.0, ge=0, le=10,
                                description="added cost per unit of risk score [fraction of "
                                            "landed cost]")
    holding_rate_per_quarter: Fraction = Field(default=0.02, ge=0, le=1,
                                               description="cost of holding a unit one quarter "
                                                           "[fraction of landed cost]")
    mip_gap: Fraction = Field(default=0.005, gt=0, lt=1)
    time_limit_s: float = Field(default=60.0, gt=0)
    outages: list[SupplierOutage] = Field(
        default_factory=list, description="suppliers down in the base case: no deliveries in "
                                          "their quarters (every quarter when none are named)")
    what_if: dict[str, WhatIfSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _checks(self) -> SourcingSpec:
        if isinstance(self.build_schedule, dict) and (
                any(v < 0 for v in self.build_schedule.values())
                or not any(v > 0 for v in self.build_schedule.values())):
            raise ValueError("build_schedule: give racks >= 0 per quarter, more than 0 in at "
                             "least one quarter")
        if not self.suppliers and not self.suppliers_csv:
            raise ValueError("give suppliers (a list) or suppliers_csv (a file)")
        self._check_designs()
        self._schedule_after_start()
        return self

    def _check_designs(self) -> None:
        if self.designs is None:
            return
        if len(set(self.designs)) != len(self.designs):
            raise ValueError("designs: name each rack design once")
        if self.design is not None and self.design not in self.designs:
            raise ValueError(f"design {self.design} is not one of designs "
                             f"({', '.join(self.designs)}): give one of them, or only designs")

    @property
    def design_ids(self) -> list[str]:
        """The designs named, `design` first (it wins the first place); [] when none is."""
        if self.designs is None:
            return [self.design] if self.design else []
        first = [self.design] if self.design else []
        return first + [d for d in self.designs if d != self.design]

    def _schedule_after_start(self) -> None:
        """No rack may be scheduled before `start`, the first quarter orders can be placed."""
        if not (isinstance(self.build_schedule, dict) and self.start and self.build_schedule):
            return
        first = min(self.build_schedule)
        if first < self.start:
            raise ValueError(f"build_schedule starts in {format_quarter(first)}, before "
                             f"start {format_quarter(self.start)}: schedule them from the "
                             "start quarter on, or move start earlier")

    @property
    def quarters(self) -> tuple[date, ...]:
        """Planning horizon: from `start` (or the first scheduled quarter) to the last one.

        Needs a schedule of racks per quarter (the ``source`` stage puts the ramp's there).
        """
        if not isinstance(self.build_schedule, dict):
            raise ValueError("the build schedule 'plan' is resolved from the deployment plan")
        first = min(self.build_schedule)
        start = min(self.start, first) if self.start else first
        return tuple(quarter_range(start, max(self.build_schedule)))


__all__ = ["ContentRule", "Quarter", "SourcingSpec", "SupplierOffer", "SupplierOutage",
           "WhatIfSpec", "format_quarter", "parse_quarter"]
