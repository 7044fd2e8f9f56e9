"""Cluster and fabric rules: ports, oversubscription, link reach, hall power and floor area.

Like the rack rules, each rule is a pure function of a sized cluster returning findings.
Rule ids: ``FABRIC-PORTS`` (the fabric's tiers and radix reach the endpoints),
``FABRIC-OVERSUBSCRIPTION`` (achieved down/up ratio vs the declared one), ``FABRIC-LINK-REACH``
(longest run of a link level vs its medium's reach), ``SCALEUP-PORTS`` (an Ethernet scale-up
domain fits one switch), ``HALL-POWER`` and ``HALL-AREA`` (facility power and floor area vs the
hall's limits), and ``FABRIC-SIZE`` / ``CLUSTER-POWER`` (informational).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rackforge.checks.findings import SEVERITY_ORDER, Finding, failure, has_error, info, upper
from rackforge.design.cluster import ClusterResult, FabricResult
from rackforge.units import format_si


@dataclass(frozen=True)
class ClusterCheck:
    """Sized clusters (the base first, then each variant) with their findings, by name."""

    results: dict[str, ClusterResult]
    findings: dict[str, list[Finding]]

    @property
    def base(self) -> ClusterResult:
        return next(iter(self.results.values()))

    @property
    def passed(self) -> bool:
        return not any(has_error(found) for found in self.findings.values())


def check_clusters(sized: Iterable[ClusterResult]) -> ClusterCheck:
    """Every cluster rule applied to each sized cluster (see :func:`check_cluster`)."""
    results = {result.name: result for result in sized}
    return ClusterCheck(results, {name: check_cluster(r) for name, r in results.items()})


def check_cluster(result: ClusterResult) -> list[Finding]:
    """Apply every cluster rule; findings sorted worst first, then by rule."""
    findings = [f for fabric in result.fabrics for f in _fabric(fabric, result)]
    findings += _scaleup(result) + _hall(result)
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule))


def _fabric(fabric: FabricResult, result: ClusterResult) -> list[Finding]:
    return [_ports(fabric), *_oversubscription(fabric, result), *_reach(fabric),
            _size(fabric)]


def _ports(fabric: FabricResult) -> Finding:
    s = fabric.sizing
    return upper("FABRIC-PORTS", f"{fabric.name} fabric", s.endpoints_used, s.max_endpoints,
                 "ports", f"{s.endpoints_used} endpoint ports exceed the {s.max_endpoints} that "
                 f"{len(s.tiers)} tiers of radix-{s.shape.radix} switches reach "
                 f"(top tier short of ports); add a tier, use a higher-radix switch or "
                 "oversubscribe the leaves")


def _oversubscription(fabric: FabricResult, result: ClusterResult) -> list[Finding]:
    spec = (result.resolved.fabric if fabric.name == "scale-out"
            else result.resolved.frontend).spec
    out = []
    for tier, declared in zip(fabric.sizing.tiers[:-1], spec.ratios, strict=True):
        subject = f"{fabric.name} {tier.name}"
        if tier.oversubscription <= declared * (1 + 1e-9):
            out.append(Finding("FABRIC-OVERSUBSCRIPTION", "pass", subject,
                               tier.oversubscription, declared,
                               (declared - tier.oversubscription) / declared, ":1",
                               f"{tier.down_ports} down / {tier.up_ports} up per switch "
                               f"meets the declared {declared:g}:1"))
            continue
        out.append(upper("FABRIC-OVERSUBSCRIPTION", subject, tier.oversubscription, declared,
                         ":1", f"{tier.down_ports} downlinks and only {tier.up_ports} uplinks "
                         f"per {tier.name} switch: {tier.oversubscription:.2f}:1 exceeds the "
                         f"declared {declared:g}:1; wire more uplinks per switch or use a "
                         "higher-radix switch"))
    return out


def _reach(fabric: FabricResult) -> list[Finding]:
    out = []
    for g in fabric.links:
        out.append(upper("FABRIC-LINK-REACH",
                         f"{fabric.name} {g.name.replace('_', '-')} ({g.cable.id})",
                         g.run.max_m, g.cable.reach_m, "m",
                         f"longest run exceeds the {g.medium} reach; use a longer-reach part "
                         "(optics) or move the switches closer"))
    return out


def _size(fabric: FabricResult) -> Finding:
    tiers = ", ".join(f"{t.switches} {t.name}" for t in fabric.sizing.tiers)
    return info("FABRIC-SIZE", f"{fabric.name} fabric", fabric.sizing.switches, "switches",
                f"{tiers}; {fabric.transceivers} transceivers; "
                f"{format_si(fabric.power_w, 'W')} ({format_si(fabric.optics_power_w, 'W')} "
                "in optics and cables)")


def _scaleup(result: ClusterResult) -> list[Finding]:
    su = result.scaleup
    if su.switch is None:
        return []
    if su.ports_short:
        return [failure("SCALEUP-PORTS", "scale-up domain",
                        f"a {su.domain_gpus}-GPU domain needs {su.domain_gpus} ports per "
                        f"switch plane, {su.ports_short} more than {su.switch.id} has; use "
                        "fewer racks per domain or a higher-radix switch",
                        su.domain_gpus, su.domain_gpus - su.ports_short, "ports")]
    return [info("SCALEUP-PORTS", "scale-up domain", su.switches, "switches",
                 f"{su.switches} Ethernet scale-up switches for {su.domains} domains")]


def _hall(result: ClusterResult) -> list[Finding]:
    hall = result.spec.hall
    out = [info("CLUSTER-POWER", "cluster", result.facility_power_w, "W",
                f"IT {format_si(result.it_power_w, 'W')} (racks "
                f"{format_si(result.racks_it_power_w, 'W')}, fabric "
                f"{format_si(result.fabric_power_w, 'W')}) x PUE {hall.pue:g}")]
    if hall.max_power_w is not None:
        out.append(upper("HALL-POWER", "hall", result.facility_power_w, hall.max_power_w, "W",
                         "facility power exceeds the hall's supply; fewer racks, a lower PUE "
                         "or a bigger feed"))
    if hall.area_m2 is not None:
        out.append(upper("HALL-AREA", "hall", result.floor_area_m2, hall.area_m2, "m2",
                         f"{result.racks} racks and {result.network_racks} network racks need "
                         "more floor than the hall has; fewer racks or tighter pitches"))
    return out
