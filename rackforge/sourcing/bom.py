"""Bill of materials of a rack design, down to the parts the catalog holds.

Counts per rack [units, or litres for coolant]: every slot (part x count), the busbar (1), the
power rack if any (1), the CDU (1 in-rack unless a slot holds it already; a row CDU counts its
``cooling.cdu_share``), the rear
door, the rack frame, the coolant (``cooling.coolant_volume_l`` [L]) and the cables of each cabling
group: count(from_part trays) x count(to_part trays) x cables_per_pair. Accelerators inside a tray
are part of the tray. Lines from outside the rack (fabric switches and optics from cluster sizing)
come in as ``extra_lines``: ``(part_id, count, label)`` tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rackforge.catalog import Catalog
from rackforge.catalog.models import Cable, Cdu, Coolant, PartBase
from rackforge.design.spec import RackDesign
from rackforge.errors import InputError


@dataclass(frozen=True)
class BomLine:
    """`count` of `part` per rack [units; L for coolant], from `source` (a key path or label)."""

    part: str
    kind: str
    count: float
    source: str
    unit: str = "unit"


@dataclass(frozen=True)
class Bom:
    """The bill of materials of one rack design, per rack."""

    design: str
    lines: tuple[BomLine, ...]

    def counts(self) -> dict[str, float]:
        """Count per part id, lines of the same part summed [units per rack]."""
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.part] = out.get(line.part, 0.0) + line.count
        return out

    def priced(self, unit_price_usd: Mapping[str, float]) -> PricedBom:
        """Extended cost per part at `unit_price_usd` [USD/unit]; parts without price listed."""
        rows = [(p, n, unit_price_usd.get(p)) for p, n in sorted(self.counts().items())]
        priced = tuple(PricedLine(p, n, u, n * u) for p, n, u in rows if u is not None)
        missing = tuple(p for p, _, u in rows if u is None)
        return PricedBom(self.design, priced, missing)


@dataclass(frozen=True)
class PricedLine:
    part: str
    count: float
    unit_price_usd: float
    extended_usd: float


@dataclass(frozen=True)
class PricedBom:
    design: str
    lines: tuple[PricedLine, ...]
    unpriced: tuple[str, ...]

    @property
    def total_usd(self) -> float:
        """Sum of extended costs per rack [USD]."""
        return sum(line.extended_usd for line in self.lines)


ExtraLines = Iterable[tuple[str, float, str]]


def rack_bom(design: RackDesign, catalog: Catalog, extra_lines: ExtraLines = (),
             where: str = "design") -> Bom:
    """The BOM of one rack of `design`, plus `extra_lines` ``(part_id, count, label)``.

    Every id is checked against `catalog`; an unknown id raises :class:`InputError` naming
    its key path under `where`.
    """
    lines = list(_slot_lines(design, catalog, where))
    lines += _power_cooling_lines(design, catalog, where)
    lines += _cable_lines(design, catalog, where)
    for i, (part_id, count, label) in enumerate(extra_lines):
        part = catalog.get(part_id, where=f"extra_lines[{i}].part")
        if count < 0:
            raise InputError("negative BOM count", None, f"extra_lines[{i}].count", count,
                             "a count >= 0")
        lines.append(BomLine(part.id, part.kind, float(count), label, _unit(part)))
    return Bom(design.id, tuple(line for line in lines if line.count > 0))


def _unit(part: PartBase) -> str:
    return "L" if isinstance(part, Coolant) else "unit"


def _slot_lines(design: RackDesign, catalog: Catalog, where: str) -> list[BomLine]:
    lines = []
    for i, slot in enumerate(design.slots):
        part = catalog.get(slot.part, where=f"{where}.slots[{i}].part")
        lines.append(BomLine(part.id, part.kind, float(slot.count), f"slots[{i}]"))
    return lines


def _power_cooling_lines(design: RackDesign, catalog: Catalog, where: str) -> list[BomLine]:
    cooling = design.cooling
    singles = [("rack", design.rack, 1.0), ("power.busbar", design.power.busbar, 1.0),
               ("power.power_rack", design.power.power_rack, 1.0),
               ("cooling.rear_door", cooling.rear_door, 1.0),
               ("cooling.coolant", cooling.coolant, cooling.coolant_volume_l)]
    pdus = design.power.pdus
    if pdus is not None:  # per_feed PDUs on each of the A and B feeds
        singles.append(("power.pdus.part", pdus.part, float(pdus.per_feed * pdus.feeds)))
    lines = []
    in_slots = {slot.part for slot in design.slots}
    if cooling.cdu is not None:
        cdu = catalog.get(cooling.cdu, Cdu, where=f"{where}.cooling.cdu")
        share = 1.0 if cdu.placement == "in-rack" else cooling.cdu_share
        if not (cdu.placement == "in-rack" and cdu.id in in_slots):  # counted with the slots
            lines.append(BomLine(cdu.id, cdu.kind, share, "cooling.cdu"))
    for key, part_id, count in singles:
        if part_id is None:
            continue
        part = catalog.get(part_id, where=f"{where}.{key}")
        lines.append(BomLine(part.id, part.kind, float(count), key, _unit(part)))
    return lines


def _cable_lines(design: RackDesign, catalog: Catalog, where: str) -> list[BomLine]:
    trays: dict[str, int] = {}
    for slot in design.slots:
        trays[slot.part] = trays.get(slot.part, 0) + slot.count
    lines = []
    for i, group in enumerate(design.cabling):
        key = f"{where}.cabling[{i}]"
        cable = catalog.get(group.cable, Cable, where=f"{key}.cable")
        for end in ("from_part", "to_part"):
            if getattr(group, end) not in trays:
                raise InputError("cabling end is not in any slot", None, f"{key}.{end}",
                                 getattr(group, end), "a part id used in slots")
        count = trays[group.from_part] * trays[group.to_part] * group.cables_per_pair
        lines.append(BomLine(cable.id, cable.kind, float(count), f"cabling:{group.name}"))
    return lines


def cluster_bom(bom: Bom, racks: int, fabric_lines: ExtraLines = ()) -> Bom:
    """BOM of a sized cluster: `racks` x the rack BOM plus its fabric lines (whole counts).

    `fabric_lines` are ``(part_id, count, label)`` for the whole cluster, as
    :func:`rackforge.design.cluster.fabric_bom` returns them; kinds are left as "fabric".
    """
    lines = [BomLine(line.part, line.kind, line.count * racks, line.source, line.unit)
             for line in bom.lines]
    lines += [BomLine(part, "fabric", float(count), label) for part, count, label in fabric_lines]
    return Bom(f"{bom.design} x {racks}", tuple(line for line in lines if line.count > 0))


def per_rack(fabric_lines: ExtraLines, racks: int) -> list[tuple[str, float, str]]:
    """Cluster-wide lines spread over its `racks`, as ``extra_lines`` of :func:`rack_bom`."""
    if racks <= 0:
        raise InputError("a cluster needs racks to spread its fabric over", None, "racks", racks,
                         "a count >= 1")
    return [(part, count / racks, f"{label} (1/{racks} of the cluster)")
            for part, count, label in fabric_lines]
