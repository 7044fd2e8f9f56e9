"""Sourcing: bill of materials, domestic content (FAR 25 / IRA) and the sourcing MIP.

Entry points:

- :func:`~rackforge.sourcing.bom.rack_bom` ``(design, catalog, extra_lines=()) -> Bom``
- :func:`~rackforge.sourcing.bom.cluster_bom` ``(bom, racks, fabric_lines=()) -> Bom``
- :func:`~rackforge.sourcing.content.domestic_share` ``(components, rule) -> ContentShare``
- :func:`~rackforge.sourcing.suppliers.resolve_sourcing`
  ``(spec, catalog, design, extra_lines) -> ResolvedSourcing``
- :func:`~rackforge.sourcing.capacity.supply` ``(resolved, start) -> Supply``: what the
  suppliers can deliver by each quarter
- :func:`~rackforge.sourcing.report.source` ``(resolved, racks, options) -> SourcingReport``
- :func:`~rackforge.sourcing.solve.plan_sourcing` ``(problem, options) -> SourcingResult``
- :func:`~rackforge.sourcing.whatif.run_what_if` ``(case, name, change, options) -> WhatIfResult``
"""
