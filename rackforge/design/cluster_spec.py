"""Scenario schema of a cluster: which rack, how many, the hall, the scale-up and scale-out fabrics.

The ``cluster:`` section of a scenario file. Quantities accept numbers in the unit the key names
or strings with units (see :mod:`rackforge.units`). Ids are checked by :func:`check_cluster`
(called by the scenario loader) and resolved again by :func:`resolve_cluster` when sizing.

Example::

    cluster:
      rack: nvl72-us            # a rack design id under racks
      racks: 16                 # or accelerators: 1152
      hall: {racks_per_row: 8, rack_pitch_m: 0.6 m, row_pitch_m: 3 m, pue: 1.2}
      fabric:
        topology: rail-optimized
        tiers: 2
        switch: switch-51t-64x800g
        port_gbps: 800 Gbit/s
        nics_per_accelerator: 1
        oversubscription: [1]   # leaf down/up (and spine, for three tiers)
        media: {leaf_spine: optic-800g-dr8}   # others chosen from run length
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rackforge.catalog import Catalog
from rackforge.catalog.models import Accelerator, Cable, Frozen, Tray
from rackforge.design.fabric import Topology, split_ports
from rackforge.design.rack import RackLayout
from rackforge.errors import InputError
from rackforge.inputs import closest, validate
from rackforge.units import Gbps, Length, Power, Seconds

AUTO = "auto"


class Media(Frozen):
    """Cable or optic part per link level; ``auto`` picks the lowest-power part that reaches."""

    node_leaf: str = AUTO
    leaf_spine: str = AUTO
    spine_core: str = AUTO


class FabricSpec(Frozen):
    """A switched fabric: the scale-out (back-end) one, or the front-end / storage one."""

    topology: Topology = "rail-optimized"
    tiers: int = Field(default=2, description="switch tiers: 2 (leaf-spine) or 3 (with core)")
    switch: str = Field(description="a catalog tray with role network-switch")
    port_gbps: Gbps | None = Field(default=None, gt=0,
                                   description="logical port speed; default the switch's port")
    nics_per_accelerator: int = Field(default=1, ge=1, description="fabric ports per accelerator")
    su_nodes: int | None = Field(
        default=None, ge=1, description="nodes (compute trays) per scalable unit: the fabric "
        "is built for whole SUs; rail leaves pack nodes across SUs up to their downlinks")
    oversubscription: float | list[float] = Field(
        default=1.0, description="down/up ratio per tier below the top (one value for all)")
    media: Media = Field(default_factory=Media)
    allow_lpo: bool = Field(default=True, description="let auto media pick linear-drive "
                            "optics (no DSP; needs a host channel qualified for LPO)")
    leaf_placement: Literal["rack", "row"] = Field(
        default="row", description="leaves top-of-rack, or in a network rack mid-row")
    switch_latency_s: Seconds | None = Field(default=None, gt=0,
                                             description="port-to-port; default from data")

    @model_validator(mode="after")
    def _tiers(self) -> FabricSpec:
        if self.tiers not in (2, 3):
            raise ValueError(f"tiers must be 2 or 3 (got {self.tiers}): a Clos fabric has a "
                             "leaf-spine (2) or leaf-spine-core (3) structure")
        if self.topology == "leaf-spine" and self.tiers != 2:
            raise ValueError("a leaf-spine topology has exactly 2 tiers; use fat-tree or "
                             "rail-optimized for 3")
        ratios = self.ratios
        if len(ratios) != self.tiers - 1 or any(r < 1 for r in ratios):
            raise ValueError(f"oversubscription needs {self.tiers - 1} value(s) >= 1 "
                             "(down/up per tier below the top)")
        return self

    @property
    def ratios(self) -> tuple[float, ...]:
        """Oversubscription per tier below the top (leaf[, spine])."""
        if isinstance(self.oversubscription, list):
            return tuple(float(r) for r in self.oversubscription)
        return (float(self.oversubscription),) * (self.tiers - 1)


class FrontendSpec(FabricSpec):
    """Front-end / storage network: ports per node plus storage and service endpoints."""

    topology: Topology = "leaf-spine"
    ports_per_node: int = Field(default=2, ge=1, description="front-end ports per compute tray")
    extra_endpoints: int = Field(default=0, ge=0, description="storage and service ports")
    nics_per_accelerator: int = 1


class ScaleupSpec(Frozen):
    """The scale-up domain: NVLink-class (inside the rack design) or over Ethernet switches."""

    kind: Literal["nvlink", "ethernet"] = "nvlink"
    domain_racks: int = Field(default=1, ge=1, description="racks per scale-up domain")
    domain_gpus: int | None = Field(default=None, ge=1, description="GPUs per domain when "
                                    "smaller than a rack (e.g. 8 in an HGX node)")
    switch: str | None = Field(default=None, description="Ethernet scale-up switch part")
    port_gbps: Gbps | None = Field(default=None, gt=0)
    ports_per_accelerator: int = Field(default=1, ge=1)
    media: str = AUTO
    latency_s: Seconds | None = Field(default=None, gt=0, description="one switch hop")

    @model_validator(mode="after")
    def _switch(self) -> ScaleupSpec:
        if self.kind == "ethernet" and self.switch is None:
            raise ValueError("an Ethernet scale-up domain needs its switch part")
        return self


class HallSpec(Frozen):
    """Floor layout: rows of racks, pitches, overhead cable tray, and the hall's limits."""

    racks_per_row: int = Field(default=16, ge=1)
    rack_pitch_m: Length = Field(default=0.6, gt=0, description="along a row, per rack")
    row_pitch_m: Length = Field(default=3.0, gt=0, description="row to row, aisles included")
    tray_height_m: Length = Field(default=3.0, gt=0, description="overhead cable tray height")
    port_height_m: Length = Field(default=1.2, ge=0, description="mean height of ports")
    slack_m: Length = Field(default=2.0, ge=0, description="service loops and routing, per run")
    network_rack_units: int = Field(default=40, ge=1, description="switch units per network rack")
    pue: float = Field(default=1.2, ge=1.0, le=3.0, description="facility / IT power")
    max_power_w: Power | None = Field(default=None, gt=0, description="facility power limit")
    area_m2: float | None = Field(default=None, gt=0, description="floor area available [m2]")


class ClusterSpec(Frozen):
    """The ``cluster:`` section: racks of one design on one hall floor and their fabrics."""

    name: str | None = None
    rack: str = Field(description="a rack design id under racks")
    racks: int | None = Field(default=None, ge=1)
    accelerators: int | None = Field(default=None, ge=1, description="target; rounds up")
    hall: HallSpec = Field(default_factory=HallSpec)
    scaleup: ScaleupSpec = Field(default_factory=ScaleupSpec)
    fabric: FabricSpec
    frontend: FrontendSpec | None = None
    variants: list[ClusterVariant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _size(self) -> ClusterSpec:
        if (self.racks is None) == (self.accelerators is None):
            raise ValueError("give either racks or accelerators (the cluster's size), not both")
        return self


class ClusterVariant(Frozen):
    """A variant of the cluster: another size, and optionally other fabric tiers."""

    name: str = Field(min_length=1)
    racks: int | None = Field(default=None, ge=1)
    accelerators: int | None = Field(default=None, ge=1)
    tiers: int | None = None
    oversubscription: float | list[float] | None = None
    su_nodes: int | None = Field(default=None, ge=1)
    frontend_tiers: int | None = None
    hall: HallSpec | None = Field(default=None, description="replaces the cluster's hall")

    @field_validator("tiers", "frontend_tiers")
    @classmethod
    def _tiers(cls, value: int | None) -> int | None:
        if value is not None and value not in (2, 3):
            raise ValueError("tiers must be 2 or 3")
        return value


ClusterSpec.model_rebuild()


@dataclass(frozen=True)
class ResolvedFabric:
    spec: FabricSpec
    switch: Tray
    radix: int              # logical ports at port_gbps
    port_gbps: float        # logical port speed [Gbit/s]
    physical_gbps: float    # the switch's port speed [Gbit/s]
    media: dict[str, Cable | None]  # None = auto


@dataclass(frozen=True)
class ResolvedCluster:
    """A cluster spec with its ids resolved: the input of :func:`rackforge.design.cluster`."""

    spec: ClusterSpec
    layout: RackLayout
    accelerator: Accelerator | None
    fabric: ResolvedFabric
    frontend: ResolvedFabric | None
    scaleup_fabric: ResolvedFabric | None
    catalog: Catalog
    where: str = "cluster"
    file: str | None = None


def _switch(catalog: Catalog, part_id: str, where: str, file: str | None) -> Tray:
    part = catalog.get(part_id, Tray, where=where, file=file)
    if part.role != "network-switch":
        switches = [p.id for p in catalog.of_kind("tray") if p.role == "network-switch"]
        raise InputError(f"tray is a {part.role}, not a network switch", file, where, part_id,
                         "a tray with role network-switch", closest(part_id, switches))
    if not part.ports:
        raise InputError("switch has no ports", file, where, part_id, "a switch with ports")
    return part


def _radix(switch: Tray, port_gbps: float | None, where: str, file: str | None
           ) -> tuple[int, float, float]:
    """(radix at port_gbps, port_gbps, physical port gbps) of the switch's fastest ports."""
    fastest = max(p.gbps for p in switch.ports)
    physical = sum(p.count for p in switch.ports if p.gbps == fastest)
    speed = port_gbps or fastest
    ratio = fastest / speed
    if speed > fastest or abs(ratio - round(ratio)) > 1e-9:
        raise InputError("port speed does not divide the switch's port speed", file, where,
                         f"{speed:g} Gbit/s", f"{fastest:g} Gbit/s or a breakout of it "
                         f"({fastest / 2:g}, {fastest / 4:g} Gbit/s)")
    return physical * round(ratio), speed, fastest


def _fabric(spec: FabricSpec, catalog: Catalog, where: str, file: str | None) -> ResolvedFabric:
    switch = _switch(catalog, spec.switch, f"{where}.switch", file)
    radix, speed, physical = _radix(switch, spec.port_gbps, f"{where}.port_gbps", file)
    if any(split_ports(radix, ratio)[0] < 1 for ratio in spec.ratios):
        raise InputError("the switch has too few ports at this speed for a leaf", file,
                         f"{where}.switch", spec.switch, "a switch with at least 2 ports")
    media: dict[str, Cable | None] = {}
    for name, part_id in spec.media:
        media[name] = None if part_id == AUTO else catalog.get(
            part_id, Cable, where=f"{where}.media.{name}", file=file)
    return ResolvedFabric(spec, switch, radix, speed, physical, media)


def _scaleup(spec: ScaleupSpec, catalog: Catalog, where: str, file: str | None
             ) -> ResolvedFabric | None:
    if spec.kind != "ethernet" or spec.switch is None:
        return None
    fabric = FabricSpec(topology="leaf-spine", tiers=2, switch=spec.switch,
                        port_gbps=spec.port_gbps, media=Media(node_leaf=spec.media))
    return _fabric(fabric, catalog, where, file)


def resolve_cluster(spec: ClusterSpec, catalog: Catalog, layouts: dict[str, RackLayout],
                    file: str | None = None, where: str = "cluster") -> ResolvedCluster:
    """Resolve the ids of `spec`; raise :class:`InputError` with the key path of a bad one."""
    if spec.rack not in layouts:
        raise InputError("unknown rack design id", file, f"{where}.rack", spec.rack,
                         "the id of a rack design under racks", closest(spec.rack, layouts))
    layout = layouts[spec.rack]
    if layout.accelerators == 0:
        raise InputError("the rack design holds no accelerators", file, f"{where}.rack",
                         spec.rack, "a rack design with compute trays")
    acc_id = next((p.part.accelerator for p in layout.trays if p.part.accelerator), None)
    accelerator = catalog.get(acc_id, Accelerator) if acc_id else None
    return ResolvedCluster(
        spec, layout, accelerator,
        _fabric(spec.fabric, catalog, f"{where}.fabric", file),
        _fabric(spec.frontend, catalog, f"{where}.frontend", file) if spec.frontend else None,
        _scaleup(spec.scaleup, catalog, f"{where}.scaleup", file), catalog, where, file)


def check_cluster(spec: ClusterSpec | None, catalog: Catalog, layouts: dict[str, RackLayout],
                  file: str | None = None) -> None:
    """Check the ids of a scenario's ``cluster`` section and of each variant (nothing to do
    without one)."""
    if spec is None:
        return
    resolve_cluster(spec, catalog, layouts, file)
    seen: set[str] = set()
    for i, v in enumerate(spec.variants):
        if v.name in seen:
            raise InputError("duplicate variant name", file, f"cluster.variants[{i}].name",
                             v.name, "one variant per name")
        seen.add(v.name)
        resolve_cluster(variant_spec(spec, v.name, file), catalog, layouts, file)


def variant_spec(spec: ClusterSpec, variant: str, file: str | None) -> ClusterSpec:
    """The cluster section with the named variant applied (InputError for an unknown name)."""
    names = [v.name for v in spec.variants]
    if variant not in names:
        raise InputError("unknown cluster variant", file, "cluster.variants", variant,
                         f"one of {', '.join(names) or '(none defined)'}")
    i = names.index(variant)
    v, where = spec.variants[i], f"cluster.variants[{i}]"
    update: dict = ({"racks": v.racks, "accelerators": None} if v.racks
                    else {"accelerators": v.accelerators, "racks": None} if v.accelerators
                    else {})
    fabric = {**spec.fabric.model_dump(exclude_none=True),
              **{k: getattr(v, k) for k in ("tiers", "oversubscription", "su_nodes")
                 if getattr(v, k) is not None}}
    update["fabric"] = validate(FabricSpec, fabric, file, where)
    if v.hall is not None:
        update["hall"] = v.hall
    if spec.frontend is not None and v.frontend_tiers is not None:
        front = {**spec.frontend.model_dump(exclude_none=True), "tiers": v.frontend_tiers}
        if v.frontend_tiers == 3 and front["topology"] == "leaf-spine":
            front["topology"] = "fat-tree"
        if isinstance(front.get("oversubscription"), list):
            front["oversubscription"] = front["oversubscription"][0]
        update["frontend"] = validate(FrontendSpec, front, file, where)
    return spec.model_copy(update={**update, "variants": []})
