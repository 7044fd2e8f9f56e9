"""A rack design resolved against the catalog: placed parts, their unit spans and positions.

:func:`resolve` is called by the scenario loader; it turns ids into parts and raises
:class:`InputError` for ids that do not exist or name the wrong kind of part. Geometry that can
be wrong by design (overlaps, units past the top) is left to the mechanical checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from rackforge.catalog import Catalog
from rackforge.catalog.models import (
    BatteryShelf,
    Busbar,
    Cable,
    Cdu,
    Coolant,
    LoopLimits,
    PartBase,
    Pdu,
    Port,
    PowerRack,
    PowerShelf,
    Rack,
    RearDoor,
    Tray,
)
from rackforge.design.spec import CableGroup, RackDesign
from rackforge.errors import InputError

SLOTTED = (Tray, PowerShelf, BatteryShelf, Cdu)


@dataclass(frozen=True)
class Placed:
    """One unit of a part in the rack, spanning units ``bottom_u .. top_u`` (1-based)."""

    part: Tray | PowerShelf | BatteryShelf | Cdu
    bottom_u: int
    slot_index: int

    @property
    def top_u(self) -> int:
        return self.bottom_u + self.part.rack_units - 1

    def center_height_m(self, unit_height_m: float) -> float:
        """Height of the part's centre above the lowest unit's bottom edge [m]."""
        return (self.bottom_u - 1 + self.part.rack_units / 2) * unit_height_m


@dataclass(frozen=True)
class CableRun:
    """A cable group resolved: the placed trays at each end of its full mesh."""

    group: CableGroup
    cable: Cable
    from_parts: tuple[Placed, ...]
    to_parts: tuple[Placed, ...]

    @property
    def links(self) -> int:
        """Links of the mesh: every from-tray to every to-tray, ``cables_per_pair`` each (the
        group's key counts links, which is what the trays' ports terminate)."""
        return len(self.from_parts) * len(self.to_parts) * self.group.cables_per_pair

    @property
    def cables(self) -> int:
        """Physical cables: ``cable.cables_per_link`` per link (an NVLink 5 spine link is four
        twinax cables, so the NVL72's 1,296 links are 5,184 cables)."""
        return self.links * self.cable.cables_per_link


@dataclass(frozen=True)
class RackLayout:
    """Everything the checks need about one rack, in base units."""

    design: RackDesign
    rack: Rack
    placed: tuple[Placed, ...]
    busbar: Busbar | None
    coolant: Coolant | None
    loop: LoopLimits | None
    cdu: Cdu | None
    rear_door: RearDoor | None
    power_rack: PowerRack | None
    cable_runs: tuple[CableRun, ...]
    pdu: Pdu | None = None

    @property
    def id(self) -> str:
        return self.design.id

    def of_type(self, kind: type) -> list[Placed]:
        return [p for p in self.placed if isinstance(p.part, kind)]

    @property
    def trays(self) -> list[Placed]:
        return self.of_type(Tray)

    @property
    def shelves(self) -> list[Placed]:
        return self.of_type(PowerShelf)

    @property
    def accelerators(self) -> int:
        return sum(p.part.accelerators for p in self.trays)


def resolve(design: RackDesign, catalog: Catalog, where: str, file: str | None = None
            ) -> RackLayout:
    """Resolve `design`'s ids in `catalog`; `where` is its key path (e.g. ``racks[0]``)."""

    def get(part_id: str | None, kind: type, key: str) -> PartBase | None:
        if part_id is None:
            return None
        return catalog.get(part_id, kind, where=f"{where}.{key}", file=file)

    placed = _place(design, catalog, where, file)
    cooling, power = design.cooling, design.power
    if power.busbar is None and any(isinstance(p.part, PowerShelf) for p in placed):
        raise InputError("missing key", file, f"{where}.power.busbar", None,
                         "the busbar the power shelves feed")
    if power.feed is None and any(isinstance(p.part, PowerShelf) for p in placed):
        raise InputError("missing key", file, f"{where}.power.feed", None,
                         "the facility feed into the power shelves")
    return RackLayout(
        design=design,
        rack=get(design.rack, Rack, "rack"),
        placed=placed,
        busbar=get(power.busbar, Busbar, "power.busbar"),
        coolant=get(cooling.coolant, Coolant, "cooling.coolant"),
        loop=get(cooling.loop, LoopLimits, "cooling.loop"),
        cdu=get(cooling.cdu, Cdu, "cooling.cdu"),
        rear_door=get(cooling.rear_door, RearDoor, "cooling.rear_door"),
        power_rack=get(power.power_rack, PowerRack, "power.power_rack"),
        cable_runs=_cable_runs(design, placed, catalog, where, file),
        pdu=get(power.pdus.part, Pdu, "power.pdus.part") if power.pdus else None,
    )


def _place(design: RackDesign, catalog: Catalog, where: str, file: str | None
           ) -> tuple[Placed, ...]:
    placed = []
    for i, slot in enumerate(design.slots):
        part = catalog.get(slot.part, None, where=f"{where}.slots[{i}].part", file=file)
        if not isinstance(part, SLOTTED):
            raise InputError(f"a {part.kind} does not go in a rack slot", file,
                             f"{where}.slots[{i}].part", slot.part,
                             "a tray, power shelf, battery shelf or in-rack CDU")
        if isinstance(part, Cdu) and part.rack_units == 0:
            raise InputError("this CDU is not rack-mounted", file, f"{where}.slots[{i}].part",
                             slot.part, "an in-rack CDU (give row CDUs as cooling.cdu)")
        placed += [Placed(part, slot.position + k * part.rack_units, i) for k in range(slot.count)]
    return tuple(sorted(placed, key=lambda p: (p.bottom_u, p.slot_index)))


def _cable_runs(design: RackDesign, placed: tuple[Placed, ...], catalog: Catalog, where: str,
                file: str | None) -> tuple[CableRun, ...]:
    runs = []
    for i, group in enumerate(design.cabling):
        key = f"{where}.cabling[{i}]"
        cable = catalog.get(group.cable, Cable, where=f"{key}.cable", file=file)
        ends = []
        for end in ("from_part", "to_part"):
            part_id = getattr(group, end)
            found = tuple(p for p in placed if p.part.id == part_id)
            if not found:
                raise InputError("no slot holds this part", file, f"{key}.{end}", part_id,
                                 "the id of a part placed in this rack's slots")
            if group.port is not None:
                _port(found[0].part, group.port, f"{key}.port", file)
            ends.append(found)
        runs.append(CableRun(group, cable, ends[0], ends[1]))
    return tuple(runs)


def _port(tray: PartBase, name: str, where: str, file: str | None) -> Port:
    """The port of `tray` whose name contains `name` (case-insensitive)."""
    ports = [p for p in getattr(tray, "ports", []) if name.lower() in p.name.lower()]
    if len(ports) != 1:
        names = "; ".join(p.name for p in getattr(tray, "ports", [])) or "none"
        raise InputError(f"{'no' if not ports else 'more than one'} port of {tray.id} matches",
                         file, where, name, f"part of one port name ({names})")
    return ports[0]


def port_count(tray: PartBase, name: str) -> int:
    """Number of ports of `tray` whose name contains `name` (checked at resolve time)."""
    return _port(tray, name, "port", None).count
