"""The ``cluster`` stage: the base cluster and every variant, sized (:mod:`rackforge.design`)
and checked (:mod:`rackforge.checks.fabric`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rackforge.catalog import Catalog
from rackforge.checks.fabric import ClusterCheck, check_clusters
from rackforge.design.cluster import size_cluster
from rackforge.design.cluster_spec import ClusterSpec
from rackforge.design.cluster_summary import to_dict
from rackforge.design.rack import RackLayout
from rackforge.jsonable import jsonable

TITLE = "Cluster and fabric"
SECTIONS = ("cluster", "layouts", "catalog")


def run(cluster: ClusterSpec, layouts: Mapping[str, RackLayout], catalog: Catalog
        ) -> ClusterCheck:
    """The cluster as given, then each of ``cluster.variants``, sized and checked."""
    names = [None, *(v.name for v in cluster.variants)]
    return check_clusters(size_cluster(cluster, catalog, layouts, name) for name in names)


def summary(result: ClusterCheck) -> str:
    base = result.base
    errors = sum(f.severity == "error" for found in result.findings.values() for f in found)
    return (f"{base.accelerators:,} accelerators in {base.racks} racks, "
            f"{base.fabric.sizing.switches} scale-out switches, IT "
            f"{base.it_power_w / 1e6:.2f} MW, facility {base.facility_power_w / 1e6:.2f} MW; "
            f"{len(result.results)} variant(s), {errors} error(s)")


def passed(result: ClusterCheck) -> bool:
    return result.passed


def data(result: ClusterCheck) -> dict[str, Any]:
    return {name: {**to_dict(r), "findings": jsonable(result.findings[name])}
            for name, r in result.results.items()}
