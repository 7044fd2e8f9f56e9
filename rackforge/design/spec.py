"""Scenario schema of a rack design: slots, power, cooling, cabling and the site floor.

Quantities accept numbers in the unit the key names or strings with units (see
:mod:`rackforge.units`). Catalog ids are resolved later, in :mod:`rackforge.design.rack`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rackforge.catalog.models import Frozen
from rackforge.units import (
    AirFlow,
    ArealMass,
    Current,
    DeltaT,
    Flow,
    Fraction,
    Length,
    Power,
    Seconds,
    Temperature,
    Voltage,
)

Redundancy = Literal["N", "N+1", "N+2", "N+N"]
PartId = str


MAX_RACK_UNITS = 60   # the tallest frames hold 52-58 U (EIA 58U); no slot starts or repeats beyond


class Slot(Frozen):
    """`count` copies of `part` stacked upwards from unit `position` (1 = lowest unit)."""

    position: int = Field(ge=1, le=MAX_RACK_UNITS, description="lowest rack unit occupied, "
                          "1-based")
    part: PartId
    count: int = Field(default=1, ge=1, le=MAX_RACK_UNITS,
                       description="copies; a part takes at least one unit, so no more than "
                                   "the tallest rack's units")


class Feed(Frozen):
    """Facility feed into the rack's power shelves."""

    type: Literal["ac", "dc"] = "ac"
    voltage_v: Voltage = Field(gt=0, description="line-to-line for AC")
    phases: Literal[1, 3] = 3
    breaker_a: Current = Field(gt=0)
    circuits: int = Field(default=1, ge=1, description="number of feeds of this rating")
    redundancy: Literal["N", "N+N"] = "N"
    derating: Fraction = Field(default=0.8, gt=0, le=1,
                               description="continuous-load factor (NEC 210.19: 80%)")


class PduSpec(Frozen):
    """Rack PDUs feeding the servers' power cords, on one feed (N) or on A and B feeds (N+N)."""

    part: PartId = Field(description="catalog id of a pdu part")
    per_feed: int = Field(default=1, ge=1, description="PDUs on each feed")
    redundancy: Literal["N", "N+N"] = Field(
        default="N+N", description="N+N: A and B feeds, either one carries the whole rack")
    cords_per_tray: int = Field(default=2, ge=1,
                                description="power cords of each tray on one feed")
    derating: Fraction = Field(default=0.8, gt=0, le=1,
                               description="continuous-load factor (NEC 210.19: 80%)")
    power_factor: Fraction = Field(default=0.95, gt=0, le=1,
                                   description="of the server power supplies at full load")
    max_phase_imbalance: Fraction = Field(
        default=0.2, gt=0, le=1, description="largest deviation of a phase from the mean "
        "phase load, as a fraction of the mean, before a warning (assumption)")

    @property
    def feeds(self) -> int:
        return 2 if self.redundancy == "N+N" else 1


class PowerSpec(Frozen):
    """Power path: rectifier shelves on a DC busbar (with a feed), rack PDUs, or both."""

    redundancy: Redundancy = Field(default="N+1", description="spare shelves")
    psu_redundancy: Literal["N", "N+1"] = Field(default="N", description="spare PSUs per shelf")
    busbar: PartId | None = Field(default=None, description="DC busbar, where shelves feed one")
    feed: Feed | None = Field(default=None, description="facility feed into the shelves")
    pdus: PduSpec | None = Field(default=None, description="rack PDUs, where trays plug in")
    ride_through_s: Seconds | None = Field(default=None, ge=0,
                                           description="battery hold-up the site requires")
    power_rack: PartId | None = Field(default=None, description="sidecar power rack, if any")

    @model_validator(mode="after")
    def _fed(self) -> PowerSpec:
        if self.pdus is None and self.feed is None:
            raise ValueError("power needs a feed (shelves on a busbar) or pdus (rack PDUs)")
        return self


LIQUID_KEYS = ("coolant", "loop", "facility_class", "delta_t_k", "available_flow_lpm")


class CoolingSpec(Frozen):
    """Liquid loop (technology cooling system), if any, and air path of the rack.

    The liquid keys (``coolant``, ``loop``, ``facility_class``, ``delta_t_k``,
    ``available_flow_lpm``) come together or not at all: an air-cooled rack leaves them out.
    """

    coolant: PartId | None = None
    loop: PartId | None = Field(default=None, description="loop_limits id of the cold-plate loop")
    cdu: PartId | None = Field(default=None, description="CDU serving this rack")
    cdu_share: Fraction = Field(default=1.0, gt=0, le=1,
                                description="share of a row CDU's capacity given to this rack")
    facility_class: str | None = Field(default=None, description="ASHRAE liquid class, W17-W45")
    supply_temp_c: Temperature | None = Field(
        default=None, description="secondary supply; default facility class limit + CDU approach")
    delta_t_k: DeltaT | None = Field(default=None, gt=0, description="design secondary delta-T")
    available_flow_lpm: Flow | None = Field(default=None, gt=0)
    coolant_volume_l: float = Field(default=0.0, ge=0, description="coolant held in the rack [L]")
    air_capacity_w: Power = Field(ge=0, description="heat the air path removes")
    air_delta_t_k: DeltaT = Field(default=15.0, gt=0, description="air temperature rise")
    available_airflow_m3_per_h: AirFlow | None = Field(default=None, gt=0)
    inlet_class: Literal["A1", "A2", "A3", "A4"] | None = Field(
        default=None, description="ASHRAE TC 9.9 air class the room holds at the inlets")
    inlet_temp_c: Temperature | None = Field(
        default=None, description="design inlet air temperature; default the class's maximum")
    rear_door: PartId | None = None
    containment: Literal["none", "cold-aisle", "hot-aisle", "chimney"] | None = Field(
        default=None, description="airflow containment of the room's rows, if stated")

    @field_validator("facility_class")
    @classmethod
    def _w_class(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"W(17|27|32|40|45)", value):
            raise ValueError("expected an ASHRAE liquid class: W17, W27, W32, W40 or W45")
        return value

    @model_validator(mode="after")
    def _liquid_together(self) -> CoolingSpec:
        given = [k for k in LIQUID_KEYS if getattr(self, k) is not None]
        if given and len(given) < len(LIQUID_KEYS):
            missing = ", ".join(k for k in LIQUID_KEYS if getattr(self, k) is None)
            raise ValueError(f"a liquid loop needs {', '.join(LIQUID_KEYS)}; missing {missing} "
                             "(leave all of them out for an air-cooled rack)")
        return self

    @property
    def liquid(self) -> bool:
        """Whether the rack has a liquid loop."""
        return self.coolant is not None

    @property
    def facility_supply_max_c(self) -> float:
        """Highest facility water supply temperature of the class [degC] (ASHRAE TC 9.9)."""
        return float(self.facility_class[1:]) if self.facility_class else float("nan")


class CableGroup(Frozen):
    """Links from every `from_part` tray to every `to_part` tray (a full mesh, like NVLink)."""

    name: str
    from_part: PartId
    to_part: PartId
    cable: PartId
    cables_per_pair: int = Field(ge=1)
    port: str | None = Field(default=None, description="name of the port both ends use "
                             "(a part of the port's name in the catalog, e.g. NVLink)")
    horizontal_m: Length = Field(default=0.3, ge=0, description="routing depth at each end")
    slack_m: Length = Field(default=0.3, ge=0, description="service loop and bend slack")


class RackDesign(Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
    name: str | None = None
    rack: PartId
    slots: list[Slot] = Field(min_length=1)
    power: PowerSpec
    cooling: CoolingSpec
    cabling: list[CableGroup] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_positions(self) -> RackDesign:
        seen: set[int] = set()
        for i, slot in enumerate(self.slots):
            if slot.position in seen:
                raise ValueError(f"duplicate slot: slots[{i}] repeats position {slot.position}")
            seen.add(slot.position)
        return self


class SiteSpec(Frozen):
    floor_rating_kg_per_m2: ArealMass = Field(gt=0, description="rated distributed floor load")
    name: str | None = None
