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


class Slot(Frozen):
    """`count` copies of `part` stacked upwards from unit `position` (1 = lowest unit)."""

    position: int = Field(ge=1, description="lowest rack unit occupied, 1-based")
    part: PartId
    count: int = Field(default=1, ge=1)


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


class PowerSpec(Frozen):
    redundancy: Redundancy = Field(default="N+1", description="spare shelves")
    psu_redundancy: Literal["N", "N+1"] = Field(default="N", description="spare PSUs per shelf")
    busbar: PartId
    feed: Feed
    ride_through_s: Seconds | None = Field(default=None, ge=0,
                                           description="battery hold-up the site requires")
    power_rack: PartId | None = Field(default=None, description="sidecar power rack, if any")


class CoolingSpec(Frozen):
    """Liquid loop (technology cooling system) and air path of the rack."""

    coolant: PartId
    loop: PartId = Field(description="loop_limits id of the cold-plate loop")
    cdu: PartId | None = Field(default=None, description="CDU serving this rack")
    cdu_share: Fraction = Field(default=1.0, gt=0, le=1,
                                description="share of a row CDU's capacity given to this rack")
    facility_class: str = Field(description="ASHRAE liquid class, W17 to W45")
    supply_temp_c: Temperature | None = Field(
        default=None, description="secondary supply; default facility class limit + CDU approach")
    delta_t_k: DeltaT = Field(gt=0, description="design secondary delta-T")
    available_flow_lpm: Flow = Field(gt=0)
    coolant_volume_l: float = Field(default=0.0, ge=0, description="coolant held in the rack [L]")
    air_capacity_w: Power = Field(ge=0, description="heat the air path removes")
    air_delta_t_k: DeltaT = Field(default=15.0, gt=0, description="air temperature rise")
    available_airflow_m3_per_h: AirFlow | None = Field(default=None, gt=0)
    rear_door: PartId | None = None

    @field_validator("facility_class")
    @classmethod
    def _w_class(cls, value: str) -> str:
        if not re.fullmatch(r"W(17|27|32|40|45)", value):
            raise ValueError("expected an ASHRAE liquid class: W17, W27, W32, W40 or W45")
        return value

    @property
    def facility_supply_max_c(self) -> float:
        """Highest facility water supply temperature of the class [degC] (ASHRAE TC 9.9)."""
        return float(self.facility_class[1:])


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
