"""The ``evaluate`` stage: every system x workload of the ``evaluate`` section, searched for its
best training layouts (:mod:`rackforge.perf`)."""

from __future__ import annotations

from collections.abc import Sequence

from rackforge.catalog import Catalog
from rackforge.catalog.models import System
from rackforge.design.cluster import MachineFabric
from rackforge.errors import InputError
from rackforge.perf.api import TrainingEvaluation, TrainingOptions, evaluate_training
from rackforge.perf.spec import EvaluateSpec, user_workloads
from rackforge.perf.workload import Workload, get_workload

TITLE = "Performance"
SECTIONS = ("evaluate", "workloads", "catalog")
Tiers = tuple[tuple[int, float, float], ...]


def run(evaluate: EvaluateSpec, catalog: Catalog, workloads: Sequence[Workload] = (),
        fabric: MachineFabric | None = None) -> list[TrainingEvaluation]:
    """Search each system x workload. With ``fabric_from_cluster``, the system the cluster's
    racks hold runs on the sized cluster's per-tier scale-out bandwidth and latency."""
    extra = user_workloads(list(workloads))
    base = fabric if evaluate.fabric_from_cluster else None
    out = []
    for system_id in evaluate.systems:
        system = catalog.get(system_id, System)
        options = TrainingOptions(dtype=evaluate.dtype, tokens=evaluate.tokens, top=evaluate.top,
                                  scaleout_tiers=cluster_tiers(base, system) if base else (),
                                  checkpoint=evaluate.goodput.checkpoint(),
                                  recovery=evaluate.goodput.recovery(),
                                  framework=evaluate.framework,
                                  moe_dispatcher=evaluate.moe_dispatcher,
                                  ep_overlap=evaluate.ep_overlap,
                                  grouped_experts=evaluate.grouped_experts,
                                  cuda_graphs=evaluate.cuda_graphs)
        try:
            out += [evaluate_training(system, get_workload(wid, extra, "evaluate.workloads"),
                                      evaluate.gpus, options, catalog)
                    for wid in evaluate.workloads]
        except InputError as exc:  # e.g. no layout fits: locate it in the scenario
            raise exc.at(None, "evaluate") from None
    return out


def cluster_tiers(fabric: MachineFabric, system: System) -> Tiers:
    """The cluster's scale-out tiers if `system` is the machine its racks hold (same
    accelerator and scale-up domain), else () for the system's flat catalog NIC rate."""
    if fabric.accelerators != (system.accelerator,) or \
            fabric.domain_gpus != system.scaleup_domain:
        return ()
    return tuple((t.span_gpus, t.bandwidth_bytes_per_s_per_gpu, t.latency_s)
                 for t in fabric.tiers)


def summary(result: list[TrainingEvaluation]) -> str:
    best = max(result, key=lambda e: e.best.mfu)
    line = (f"{len(result)} system x workload searches; highest MFU {best.best.mfu:.1%} "
            f"({best.system}, {best.workload}, {best.n_gpus} GPUs)")
    with_goodput = [e for e in result if e.goodput is not None]
    if with_goodput:
        low = min(with_goodput, key=lambda e: e.goodput.fraction)
        line += (f"; goodput {low.goodput.fraction:.1%} at the lowest ({low.system}, "
                 f"{low.workload}: {low.goodput.interruptions_per_day:.1f} interruptions a day)")
    return line
