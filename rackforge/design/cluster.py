"""Cluster sizing: racks of one design on a hall floor, their scale-up and scale-out fabrics,
power and floor area; the per-tier bandwidth the performance model needs; the fabric's BOM.

Entry points
------------
- :func:`size_cluster` (the ``cluster`` section, the catalog and the resolved racks, optionally
  a variant) -> :class:`ClusterResult`
- :func:`size_resolved` (a :class:`~rackforge.design.cluster_spec.ResolvedCluster`)
- :func:`tier_bandwidths` -> ``[Tier(name, span_gpus, bandwidth_bytes_per_s_per_gpu,
  latency_s)]``: bandwidth per GPU of a collective spanning up to ``span_gpus`` GPUs
- :func:`fabric_bom` -> ``[(part_id, count, label)]`` for switches, cables and optics

Everything is closed-form (see :mod:`rackforge.design.fabric`): no object per switch or cable.

Power: switch boxes draw their catalog ``max_power_w`` (silicon, CPU, fans; optics excluded);
every link part draws its ``power_w`` (both ends, so an optical link counts two transceivers).
Facility power is IT power times the hall's PUE (The Green Grid, "PUE: A Comprehensive
Examination of the Metric", White Paper 49, 2012). Latency per path: switch hops times the
port-to-port latency plus 5 ns/m of propagation (``design/data/fabric.yaml``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from rackforge.catalog import Catalog
from rackforge.catalog.models import Tray
from rackforge.design import hall as hall_mod
from rackforge.design.budget import RackBudget
from rackforge.design.cluster_spec import (
    ClusterSpec,
    ResolvedCluster,
    ResolvedFabric,
    resolve_cluster,
    variant_spec,
)
from rackforge.design.fabric import FabricShape, FabricSizing, size_fabric
from rackforge.design.fabric_media import LinkGroup, LinkRequest, link_group
from rackforge.design.rack import RackLayout
from rackforge.inputs import read_yaml
from rackforge.units import parse_quantity

DATA_FILE = Path(__file__).parent / "data" / "fabric.yaml"
BITS_PER_BYTE = 8
GBIT = 1e9


@lru_cache(maxsize=2)
def fabric_data(path: Path = DATA_FILE) -> dict[str, dict[str, float]]:
    """Latency and propagation figures of ``data/fabric.yaml`` in seconds (and s/m)."""
    data = read_yaml(path)
    out = {"propagation_s_per_m": {"value": parse_quantity(
        data["propagation_s_per_m"]["value"], "time")}}
    for key in ("switch_latency_s", "scaleup_latency_s"):
        out[key] = {k: parse_quantity(v["value"], "time") for k, v in data[key].items()}
    return out


@dataclass(frozen=True)
class FabricResult:
    """A sized switched fabric (scale-out or front-end)."""

    name: str
    switch: Tray
    port_gbps: float                 # logical port speed [Gbit/s]
    sizing: FabricSizing
    links: tuple[LinkGroup, ...]     # node-leaf, leaf-spine[, spine-core]
    switch_latency_s: float
    propagation_s_per_m: float

    @property
    def switch_power_w(self) -> float:
        return self.sizing.switches * self.switch.max_power_w

    @property
    def optics_power_w(self) -> float:
        """All link parts, both ends (transceivers, AEC retimers, DAC EEPROMs) [W]."""
        return sum(g.power_w for g in self.links)

    @property
    def power_w(self) -> float:
        return self.switch_power_w + self.optics_power_w

    @property
    def transceivers(self) -> int:
        return sum(g.transceivers for g in self.links)

    @property
    def switch_units(self) -> int:
        return self.sizing.switches * self.switch.rack_units

    @property
    def port_bytes_per_s(self) -> float:
        return self.port_gbps * GBIT / BITS_PER_BYTE

    @property
    def bisection_bytes_per_s(self) -> float:
        """Capacity across the narrowest cut of the folded Clos, one direction [B/s]:
        half of the endpoint, leaf-uplink or spine-uplink capacity, whichever is least."""
        caps = [self.sizing.node_links, *(t.links_up for t in self.sizing.tiers[:-1])]
        return min(caps) / 2 * self.port_bytes_per_s

    def path_latency_s(self, levels: int, worst: bool = False) -> float:
        """Latency up `levels` link levels and down again: 2*levels-1 switches [s]."""
        lengths = [g.run.max_m if worst else g.run.mean_m for g in self.links[:levels]]
        return ((2 * levels - 1) * self.switch_latency_s
                + 2 * sum(lengths) * self.propagation_s_per_m)

    @property
    def latency_s(self) -> float:
        """Worst-case unloaded latency between two endpoints [s]."""
        return self.path_latency_s(len(self.links), worst=True)


@dataclass(frozen=True)
class ScaleupResult:
    """The scale-up domains: NVLink-class inside the rack, or Ethernet switches."""

    kind: str
    domain_gpus: int
    domains: int
    bandwidth_bytes_per_s_per_gpu: float
    latency_s: float
    switch: Tray | None = None
    switches: int = 0
    links: LinkGroup | None = None
    ports_short: int = 0        # ports a domain needs beyond one switch's radix

    @property
    def power_w(self) -> float:
        if self.switch is None:
            return 0.0
        return self.switches * self.switch.max_power_w + (self.links.power_w if self.links
                                                          else 0.0)


@dataclass(frozen=True)
class ClusterResult:
    """A sized cluster. Powers in W, areas in m2; see :func:`size_cluster`."""

    name: str
    resolved: ResolvedCluster
    racks: int
    accelerators: int
    nodes: int                      # compute trays
    rack_it_power_w: float          # one rack
    scaleup: ScaleupResult
    fabric: FabricResult
    frontend: FabricResult | None
    network_racks: int

    @property
    def spec(self) -> ClusterSpec:
        return self.resolved.spec

    @property
    def fabrics(self) -> tuple[FabricResult, ...]:
        return (self.fabric,) + ((self.frontend,) if self.frontend else ())

    @property
    def racks_it_power_w(self) -> float:
        return self.racks * self.rack_it_power_w

    @property
    def fabric_power_w(self) -> float:
        """Scale-out and front-end switches and optics, plus Ethernet scale-up [W]."""
        return sum(f.power_w for f in self.fabrics) + self.scaleup.power_w

    @property
    def it_power_w(self) -> float:
        return self.racks_it_power_w + self.fabric_power_w

    @property
    def facility_power_w(self) -> float:
        return self.it_power_w * self.spec.hall.pue

    @property
    def max_accelerators(self) -> int:
        """Largest cluster the scale-out fabric's radix, tiers and oversubscription reach."""
        return self.fabric.sizing.max_endpoints // self.resolved.fabric.spec.nics_per_accelerator

    @property
    def floor_area_m2(self) -> float:
        return hall_mod.floor_area_m2(self.racks + self.network_racks, self.spec.hall)

    @cached_property
    def tiers(self) -> list[Tier]:
        return tier_bandwidths(self)


@dataclass(frozen=True)
class Tier:
    """Bandwidth per GPU [B/s, one direction] and latency [s] of a collective spanning up to
    `span_gpus` GPUs."""

    name: str
    span_gpus: int
    bandwidth_bytes_per_s_per_gpu: float
    latency_s: float


@dataclass(frozen=True)
class _Counts:
    racks: int
    accelerators: int
    nodes_per_rack: int
    accelerators_per_node: int

    @property
    def nodes(self) -> int:
        return self.racks * self.nodes_per_rack


def _counts(rc: ResolvedCluster) -> _Counts:
    layout, spec = rc.layout, rc.spec
    per_rack = layout.accelerators
    nodes_per_rack = sum(1 for p in layout.trays if p.part.accelerators > 0)
    racks = spec.racks or math.ceil(spec.accelerators / per_rack)
    return _Counts(racks, racks * per_rack, nodes_per_rack, per_rack // nodes_per_rack)


def _runs(rc: ResolvedCluster, fabric: ResolvedFabric, sizing: FabricSizing,
          counts: _Counts) -> list[hall_mod.Run]:
    """Run lengths of each link level of a fabric, from the hall layout."""
    hall, spec = rc.spec.hall, fabric.spec
    if spec.leaf_placement == "rack":
        first = hall_mod.in_rack_run(rc.layout.rack.height_m)
    else:
        ends_per_rack = max(1, sizing.node_links // counts.racks)
        first = hall_mod.block_run(hall, math.ceil(_group_endpoints(sizing) / ends_per_rack))
    runs = [first]
    if len(sizing.tiers) == 2:
        runs.append(hall_mod.block_run(hall, counts.racks))
    else:
        runs.append(hall_mod.block_run(hall, math.ceil(counts.racks / sizing.pods)))
        runs.append(hall_mod.block_run(hall, counts.racks))
    return runs


def _size_fabric(rc: ResolvedCluster, fabric: ResolvedFabric, shape: FabricShape,
                 counts: _Counts, name: str) -> FabricResult:
    sizing = size_fabric(shape)
    runs = _runs(rc, fabric, sizing, counts)
    names = ("node_leaf", "leaf_spine", "spine_core")
    where = f"{rc.where}.{'fabric' if name == 'scale-out' else 'frontend'}.media"
    groups = tuple(link_group(LinkRequest(n, links, run, fabric.port_gbps, fabric.physical_gbps,
                                          fabric.media[n], fabric.spec.allow_lpo,
                                          n == "node_leaf"),
                              rc.catalog, f"{where}.{n}", rc.file)
                   for n, links, run in zip(names, sizing.links, runs, strict=False))
    data = fabric_data()
    latency = fabric.spec.switch_latency_s or data["switch_latency_s"].get(
        fabric.switch.id, data["switch_latency_s"]["default"])
    return FabricResult(name, fabric.switch, fabric.port_gbps, sizing, groups, latency,
                        data["propagation_s_per_m"]["value"])


def _scaleout(rc: ResolvedCluster, counts: _Counts) -> FabricResult:
    spec = rc.fabric.spec
    shape = FabricShape(counts.accelerators * spec.nics_per_accelerator, rc.fabric.radix,
                        spec.tiers, spec.ratios, spec.topology,
                        counts.accelerators_per_node * spec.nics_per_accelerator, spec.su_nodes)
    return _size_fabric(rc, rc.fabric, shape, counts, "scale-out")


def _frontend(rc: ResolvedCluster, counts: _Counts) -> FabricResult | None:
    if rc.frontend is None:
        return None
    spec = rc.spec.frontend
    endpoints = counts.nodes * spec.ports_per_node + spec.extra_endpoints
    shape = FabricShape(endpoints, rc.frontend.radix, spec.tiers, spec.ratios, spec.topology,
                        spec.ports_per_node, spec.su_nodes)
    return _size_fabric(rc, rc.frontend, shape, counts, "front-end")


def _scaleup(rc: ResolvedCluster, counts: _Counts) -> ScaleupResult:
    spec = rc.spec.scaleup
    domain = min(counts.accelerators,
                 spec.domain_gpus or rc.layout.accelerators * spec.domain_racks)
    domains = math.ceil(counts.accelerators / domain)
    latency = spec.latency_s or fabric_data()["scaleup_latency_s"][spec.kind]
    if rc.scaleup_fabric is None:
        bw = rc.accelerator.scaleup_bandwidth_bytes_per_s if rc.accelerator else 0.0
        return ScaleupResult("nvlink", domain, domains, bw, latency)
    sf = rc.scaleup_fabric
    per_domain = spec.ports_per_accelerator * math.ceil(domain / sf.radix)
    links = counts.accelerators * spec.ports_per_accelerator
    run = (hall_mod.in_rack_run(rc.layout.rack.height_m) if spec.domain_racks == 1
           else hall_mod.block_run(rc.spec.hall, spec.domain_racks))
    group = link_group(LinkRequest("scaleup", links, run, sf.port_gbps, sf.physical_gbps,
                                   sf.media["node_leaf"], True, True), rc.catalog,
                       f"{rc.where}.scaleup.media", rc.file)
    bw = spec.ports_per_accelerator * sf.port_gbps * GBIT / BITS_PER_BYTE
    return ScaleupResult("ethernet", domain, domains, bw, latency, sf.switch,
                         per_domain * domains, group, max(0, domain - sf.radix))


def size_resolved(rc: ResolvedCluster, name: str | None = None) -> ClusterResult:
    """Size the resolved cluster `rc` (see the module docstring)."""
    counts = _counts(rc)
    fabric = _scaleout(rc, counts)
    frontend = _frontend(rc, counts)
    units = sum(f.switch_units for f in (fabric, frontend) if f)
    return ClusterResult(
        name or rc.spec.name or rc.spec.rack, rc, counts.racks, counts.accelerators,
        counts.nodes, RackBudget(rc.layout).power.it_power_w, _scaleup(rc, counts), fabric,
        frontend, hall_mod.network_racks(units, rc.spec.hall))


def size_cluster(spec: ClusterSpec, catalog: Catalog, layouts: Mapping[str, RackLayout],
                 variant: str | None = None, file: str | None = None) -> ClusterResult:
    """Size the ``cluster`` section `spec` against the `catalog` and the scenario's resolved
    rack `layouts`; `variant` names one of ``cluster.variants`` (another size or tier count).
    Raises :class:`InputError` (located in `file`) when there is no such variant.
    """
    name = spec.name
    if variant is not None:
        spec, name = variant_spec(spec, variant, file), variant
    return size_resolved(resolve_cluster(spec, catalog, layouts, file), name)


def tier_bandwidths(result: ClusterResult) -> list[Tier]:
    """Per-tier bandwidth per GPU and latency, innermost first, for the performance model.

    Tiers: the scale-up domain, then the leaf group (when rail-optimized, the nodes whose rail
    NICs share leaf i of every rail: one hop through a rail leaf), the spine (the whole fabric
    in two tiers, a pod in three) and the core. Each tier's bandwidth is the GPU's NIC
    bandwidth divided by the oversubscription of every tier below it (a tier with more uplink
    than downlink capacity adds none); tiers that span no more GPUs than the one before are
    dropped and spans are capped at the cluster size.
    """
    su = result.scaleup
    out = [Tier("scale-up", su.domain_gpus, su.bandwidth_bytes_per_s_per_gpu, su.latency_s)]
    fabric, spec = result.fabric, result.resolved.fabric.spec
    nic_bw = spec.nics_per_accelerator * fabric.port_bytes_per_s
    sizing = fabric.sizing
    leaf_span = _group_endpoints(sizing) // spec.nics_per_accelerator
    bandwidth = nic_bw
    for level, tier in enumerate(sizing.tiers):
        name = tier.name
        span = leaf_span
        if level > 0:
            bandwidth /= max(1.0, sizing.tiers[level - 1].oversubscription)
            span = result.accelerators if level == len(sizing.tiers) - 1 else (
                leaf_span * (sizing.pod_leaves // _leaves_per_group(sizing)))
        span = min(span, result.accelerators)
        if span > out[-1].span_gpus:
            out.append(Tier(name, span, bandwidth, fabric.path_latency_s(level + 1)))
    return out


@dataclass(frozen=True)
class MachineFabric:
    """What a sized cluster offers the performance model: the accelerators its racks hold, its
    scale-up domain [GPUs] and the scale-out tiers beyond that domain (:func:`tier_bandwidths`
    without the scale-up tier)."""

    accelerators: tuple[str, ...]
    domain_gpus: int
    tiers: tuple[Tier, ...]


def machine_fabric(result: ClusterResult) -> MachineFabric:
    """The fabric `result` gives the machine its racks hold."""
    trays = result.resolved.layout.trays
    accelerators = tuple(sorted({p.part.accelerator for p in trays if p.part.accelerator}))
    return MachineFabric(accelerators, result.scaleup.domain_gpus,
                         tuple(tier_bandwidths(result)[1:]))


def tier_lookup(tiers: Sequence[Tier], span_gpus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bandwidth per GPU [B/s], latency [s]) of collectives spanning `span_gpus` GPUs: those of
    the innermost tier whose span covers the group (the outermost tier beyond the cluster).
    Vectorized over `span_gpus`, for the performance model's layout search."""
    spans = np.array([t.span_gpus for t in tiers])
    bw = np.array([t.bandwidth_bytes_per_s_per_gpu for t in tiers])
    lat = np.array([t.latency_s for t in tiers])
    idx = np.minimum(np.searchsorted(spans, np.asarray(span_gpus), side="left"), len(tiers) - 1)
    return bw[idx], lat[idx]


def _leaves_per_group(sizing: FabricSizing) -> int:
    """Leaves that serve the same endpoints: one per rail when rail-optimized, else one."""
    return sizing.shape.rails if sizing.shape.topology == "rail-optimized" else 1


def _group_endpoints(sizing: FabricSizing) -> int:
    """Endpoints one hop apart through a leaf: a leaf group's nodes' NICs on every rail
    (rail-optimized), or one leaf's endpoints."""
    return sizing.leaf_nodes * _leaves_per_group(sizing)


def fabric_bom(result: ClusterResult) -> list[tuple[str, int, str]]:
    """``(part_id, count, label)`` lines for every switch and link part of the cluster's
    fabrics (scale-out, front-end, Ethernet scale-up). Optical link parts stand for two
    transceivers and their fibre; the label says how many transceivers."""
    lines: list[tuple[str, int, str]] = []
    for f in result.fabrics:
        tiers = ", ".join(f"{t.name} {t.switches}" for t in f.sizing.tiers)
        lines.append((f.switch.id, f.sizing.switches, f"{f.name} switches ({tiers})"))
        lines += [_link_line(f.name, g) for g in f.links]
    su = result.scaleup
    if su.switch is not None:
        lines.append((su.switch.id, su.switches, "scale-up Ethernet switches"))
        if su.links is not None:
            lines.append(_link_line("scale-up", su.links))
    return lines


def _link_line(fabric: str, group: LinkGroup) -> tuple[str, int, str]:
    optics = f", {group.transceivers} transceivers" if group.transceivers else ""
    label = f"{fabric} {group.name.replace('_', '-')} links ({group.medium}{optics})"
    return group.cable.id, group.cables, label
