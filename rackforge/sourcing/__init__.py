"""Sourcing: bill of materials, domestic content (FAR 25 / IRA) and the sourcing MIP.

Entry points:

- :func:`~rackforge.sourcing.bom.rack_bom` ``(design, catalog, extra_lines=()) -> Bom``
- :func:`~rackforge.sourcing.bom.cluster_bom` ``(bom, racks, fabric_lines=()) -> Bom``
- :func:`~rackforge.sourcing.content.domestic_share` ``(components, rule) -> ContentShare``
- :func:`~rackforge.sourcing.suppliers.resolve_sourcing`
  ``(spec, catalog, design, extra_lines) -> ResolvedSourcing``
- :func:`~rackforge.sourcing.capacity.supply` ``(resolved or [resolved, ...], start) -> Supply``:
  what the suppliers can deliver by each quarter
- :func:`~rackforge.sourcing.report.source` ``(resolved, racks, options) -> SourcingReport``
- :func:`~rackforge.sourcing.report.source_designs`
  ``([(resolved, racks, generation), ...], options) -> SourcingReport``: several rack designs in
  one plan (shared capacity, a domestic floor per design and delivery year)
- :func:`~rackforge.sourcing.content.content_test` ``(rule, year, share) -> "threshold" |
  "fallback" | "neither"``
- :func:`~rackforge.sourcing.solve.plan_sourcing` ``(problem, options) -> SourcingResult``
- :func:`~rackforge.sourcing.whatif.run_what_if` ``(case, name, change, options) -> WhatIfResult``
"""
