"""A sized cluster as plain data (for ``rackforge cluster --json`` and the reports).

Keys name their unit by suffix (see :mod:`rackforge.units`).
"""

from __future__ import annotations

import math
from typing import Any

from rackforge.design.cluster import ClusterResult, FabricResult, fabric_bom, tier_bandwidths
from rackforge.design.fabric_media import LinkGroup


def _ratio(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 6)


def link_dict(g: LinkGroup) -> dict[str, Any]:
    return {"level": g.name, "links": g.links, "part": g.cable.id, "medium": g.medium,
            "parts": g.cables, "transceivers": g.transceivers, "auto": g.chosen,
            "mean_run_m": round(g.run.mean_m, 3), "max_run_m": round(g.run.max_m, 3),
            "reach_m": g.cable.reach_m, "total_length_m": round(g.total_length_m, 1),
            "power_w": g.power_w}


def fabric_dict(f: FabricResult) -> dict[str, Any]:
    s = f.sizing
    return {
        "switch": f.switch.id, "radix": s.shape.radix, "port_gbps": f.port_gbps,
        "topology": s.shape.topology, "endpoints": s.endpoints_used,
        "max_endpoints": s.max_endpoints, "feasible": s.feasible,
        "scalable_units": s.scalable_units, "su_nodes": s.su_nodes,
        "leaf_nodes": s.leaf_nodes, "pods": s.pods, "pod_leaves": s.pod_leaves,
        "tiers": [{"tier": t.name, "switches": t.switches, "down_ports": t.down_ports,
                   "up_ports": t.up_ports, "ports_used": t.ports_used,
                   "ports_spare": t.ports_spare, "oversubscription": _ratio(t.oversubscription)}
                  for t in s.tiers],
        "links": [link_dict(g) for g in f.links],
        "switches": s.switches, "transceivers": f.transceivers, "hops": s.hops,
        "latency_s": f.latency_s, "bisection_bytes_per_s": f.bisection_bytes_per_s,
        "switch_power_w": f.switch_power_w, "optics_power_w": f.optics_power_w,
        "power_w": f.power_w,
    }


def to_dict(result: ClusterResult) -> dict[str, Any]:
    """Everything :func:`~rackforge.design.cluster.size_cluster` computed, as plain data."""
    su = result.scaleup
    return {
        "name": result.name, "rack": result.spec.rack, "racks": result.racks,
        "accelerators": result.accelerators, "nodes": result.nodes,
        "max_accelerators": result.max_accelerators,
        "network_racks": result.network_racks, "floor_area_m2": round(result.floor_area_m2, 2),
        "rack_it_power_w": result.rack_it_power_w,
        "racks_it_power_w": result.racks_it_power_w, "fabric_power_w": result.fabric_power_w,
        "it_power_w": result.it_power_w, "pue": result.spec.hall.pue,
        "facility_power_w": result.facility_power_w,
        "scaleup": {"kind": su.kind, "domain_gpus": su.domain_gpus, "domains": su.domains,
                    "bandwidth_bytes_per_s_per_gpu": su.bandwidth_bytes_per_s_per_gpu,
                    "latency_s": su.latency_s, "switches": su.switches, "power_w": su.power_w},
        "fabrics": {f.name: fabric_dict(f) for f in result.fabrics},
        "tiers": [vars(t) for t in tier_bandwidths(result)],
        "bom": [{"part": p, "count": n, "label": label} for p, n, label in fabric_bom(result)],
    }
