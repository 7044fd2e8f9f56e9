"""The ``fabric`` stage: the sized cluster as the performance model sees it, the accelerators
its racks hold and the bandwidth and latency of each scale-out tier. A change to the racks that
leaves these the same (a coolant temperature, a power shelf) leaves ``evaluate`` cached."""

from __future__ import annotations

from rackforge.checks.fabric import ClusterCheck
from rackforge.design.cluster import MachineFabric, machine_fabric

TITLE = "Fabric seen by the performance model"
SECTIONS = ()


def run(cluster: ClusterCheck) -> MachineFabric:
    """The base cluster's fabric (its variants are sized for other questions)."""
    return machine_fabric(cluster.base)


def summary(result: MachineFabric) -> str:
    tiers = ", ".join(f"{t.name} {t.span_gpus:,} GPUs at "
                      f"{t.bandwidth_bytes_per_s_per_gpu / 1e9:.1f} GB/s" for t in result.tiers)
    return (f"{'/'.join(result.accelerators) or 'no accelerator'}, scale-up "
            f"{result.domain_gpus} GPUs; scale-out {tiers or 'none'}")
