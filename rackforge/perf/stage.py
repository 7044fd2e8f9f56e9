"""The ``evaluate`` stage of ``rackforge run``: every system x workload of the scenario's
``evaluate`` section, searched for its best layouts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rackforge.catalog.models import System
from rackforge.design.cluster import ClusterResult
from rackforge.errors import InputError
from rackforge.perf.api import TrainingEvaluation, TrainingOptions, evaluate_training
from rackforge.perf.spec import user_workloads
from rackforge.perf.workload import get_workload


def run_evaluate(scenario, results: Mapping[str, Any]) -> list[TrainingEvaluation]:  # noqa: ANN001
    """Search each system x workload; with ``fabric_from_cluster``, the system the cluster's
    racks hold runs on the cluster's per-tier scale-out bandwidth (the ``cluster`` result)."""
    spec = scenario.spec.evaluate
    extra = user_workloads(scenario.spec.workloads)
    cluster = results.get("cluster") if spec.fabric_from_cluster else None
    out = []
    for system in spec.systems:
        tiers = cluster_tiers(scenario, cluster.base, system) if cluster else ()
        options = TrainingOptions(dtype=spec.dtype, tokens=spec.tokens, top=spec.top,
                                  scaleout_tiers=tiers)
        try:
            out += [evaluate_training(system, get_workload(wid, extra, "evaluate.workloads"),
                                      spec.gpus, options, scenario.catalog)
                    for wid in spec.workloads]
        except InputError as exc:  # e.g. no layout fits: locate it in the scenario
            raise exc.at(scenario.file, "evaluate") from None
    return out


def cluster_tiers(scenario, cluster: ClusterResult, system_id: str  # noqa: ANN001
                  ) -> tuple[tuple[int, float, float], ...]:
    """The cluster's scale-out tiers if `system_id` is the machine its racks hold (same
    accelerator and scale-up domain), else () for the system's flat catalog NIC rate."""
    system = scenario.catalog.get(system_id, System)
    trays = scenario.layouts[cluster.spec.rack].trays
    accelerators = {p.part.accelerator for p in trays if p.part.accelerator}
    if accelerators != {system.accelerator} or (
            cluster.scaleup.domain_gpus != system.scaleup_domain):
        return ()
    return tuple((t.span_gpus, t.bandwidth_bytes_per_s_per_gpu, t.latency_s)
                 for t in cluster.tiers[1:])


def evaluate_summary(result: list[TrainingEvaluation]) -> str:
    best = max(result, key=lambda e: e.best.mfu)
    return (f"{len(result)} system x workload searches; highest MFU {best.best.mfu:.1%} "
            f"({best.system}, {best.workload}, {best.n_gpus} GPUs)")
