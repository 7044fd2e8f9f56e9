"""The ``cluster`` stage of ``rackforge run``: the base cluster and every variant, sized and
checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rackforge.checks.fabric import check_cluster
from rackforge.checks.findings import Finding, has_error
from rackforge.design.cluster import ClusterResult, size_cluster, variant_names
from rackforge.design.cluster_summary import to_dict
from rackforge.report.jsonable import jsonable


@dataclass(frozen=True)
class ClusterStage:
    """Every sized cluster variant (the base first) with its findings."""

    results: dict[str, ClusterResult]
    findings: dict[str, list[Finding]]

    @property
    def base(self) -> ClusterResult:
        return next(iter(self.results.values()))


def run_cluster(scenario, results: Mapping[str, Any]) -> ClusterStage:  # noqa: ANN001
    sized = {r.name: r for r in (size_cluster(scenario, v)
                                 for v in [None, *variant_names(scenario)])}
    return ClusterStage(sized, {n: check_cluster(r) for n, r in sized.items()})


def cluster_summary(c: ClusterStage) -> str:
    b = c.base
    errors = sum(f.severity == "error" for fs in c.findings.values() for f in fs)
    return (f"{b.accelerators:,} accelerators in {b.racks} racks, "
            f"{b.fabric.sizing.switches} scale-out switches, IT {b.it_power_w / 1e6:.2f} MW, "
            f"facility {b.facility_power_w / 1e6:.2f} MW; {len(c.results)} variant(s), "
            f"{errors} error(s)")


def cluster_passed(c: ClusterStage) -> bool:
    return not any(has_error(fs) for fs in c.findings.values())


def cluster_data(c: ClusterStage) -> dict[str, Any]:
    return {name: {**to_dict(r), "findings": jsonable(c.findings[name])}
            for name, r in c.results.items()}
