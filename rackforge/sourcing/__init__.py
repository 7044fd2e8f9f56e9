"""Sourcing: bill of materials, domestic content (FAR 25 / IRA) and the sourcing MIP.

Entry points (imported lazily, so that loading a scenario does not load the solver):

- :func:`~rackforge.sourcing.bom.rack_bom` ``(design, catalog, extra_lines=()) -> Bom``
- :func:`~rackforge.sourcing.bom.cluster_bom` ``(bom, racks, fabric_lines=()) -> Bom``
- :func:`~rackforge.sourcing.content.domestic_share` ``(components, rule) -> ContentShare``
- :func:`~rackforge.sourcing.suppliers.resolve_sourcing`
  ``(spec, scenario_dir, catalog, designs, file, extra_lines) -> ResolvedSourcing``
- :func:`~rackforge.sourcing.solve.plan_sourcing` ``(problem, options) -> SourcingResult``
- :func:`~rackforge.sourcing.whatif.run_what_if` ``(case, name, change, options) -> WhatIfResult``
- :func:`~rackforge.sourcing.stage.source_scenario`
  ``(scenario, what_if=None, options=None) -> SourcingReport``
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "rack_bom": "bom", "cluster_bom": "bom", "Bom": "bom",
    "domestic_share": "content", "ComponentCost": "content", "threshold": "content",
    "resolve_sourcing": "suppliers", "read_suppliers_csv": "suppliers",
    "plan_sourcing": "solve", "PlanOptions": "solve", "SourcingResult": "results",
    "run_what_if": "whatif", "build_case": "whatif", "SourcingCase": "whatif",
    "source_scenario": "stage", "SourcingReport": "stage", "SourcingSpec": "spec",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'rackforge.sourcing' has no attribute {name!r}")
    return getattr(importlib.import_module(f"rackforge.sourcing.{_WHERE[name]}"), name)


__all__ = sorted(_WHERE)
