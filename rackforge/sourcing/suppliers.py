"""Supplier tables: reading the CSV and resolving the ``sourcing:`` section against the catalog.

The CSV has one row per (supplier, part) offer with the columns of
:class:`~rackforge.sourcing.spec.SupplierOffer`::

    supplier,part,unit_price_usd,country_of_origin,capacity_per_quarter,lead_time_weeks,
    min_order_units,freight_usd_per_unit,us_content_fraction,risk

Lines starting with ``#`` are comments; a comment containing ``example: true`` marks every row
as invented example data. Empty cells take the column's default.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from rackforge.calendar import quarter_range
from rackforge.catalog import Catalog
from rackforge.design.spec import RackDesign
from rackforge.errors import InputError
from rackforge.inputs import closest, validation_to_input_error
from rackforge.sourcing.bom import Bom, ExtraLines, rack_bom
from rackforge.sourcing.spec import (
    SourcingSpec,
    SupplierOffer,
    SupplierOutage,
    format_quarter,
)

COLUMNS = tuple(f for f in SupplierOffer.model_fields if f != "example")
REQUIRED = tuple(f for f in COLUMNS if SupplierOffer.model_fields[f].is_required())


def read_suppliers_csv(path: str | Path) -> list[SupplierOffer]:
    """Offers in the CSV at `path`; any bad cell raises InputError with its row and column.
    A table read before and unchanged since (same modification time and size) is not parsed
    again: a sweep loads the same scenario thousands of times."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise InputError("cannot read supplier table", str(path),
                         expected="an existing UTF-8 CSV file") from None
    return list(_parsed_csv(path, stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=32)
def _parsed_csv(path: Path, mtime_ns: int, size: int) -> tuple[SupplierOffer, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InputError("cannot read supplier table", str(path),
                         expected="an existing UTF-8 CSV file") from None
    lines = text.splitlines()
    example = any(ln.lstrip().startswith("#") and "example: true" in ln for ln in lines)
    numbered = [(n, ln) for n, ln in enumerate(lines, 1)
                if ln.strip() and not ln.lstrip().startswith("#")]
    if not numbered:
        raise InputError("supplier table is empty", str(path), expected="a header and rows")
    rows = list(csv.reader([ln for _, ln in numbered]))
    header = [h.strip() for h in rows[0]]
    _check_header(header, str(path), numbered[0][0])
    offers = []
    for (line_no, _), row in zip(numbered[1:], rows[1:], strict=True):
        offers.append(_offer(header, row, example, (str(path), line_no)))
    return tuple(offers)


def _check_header(header: list[str], file: str, line_no: int) -> None:
    for name in header:
        if name not in COLUMNS:
            raise InputError("unknown column", file, f"line {line_no}", name,
                             f"columns among {', '.join(COLUMNS)}", closest(name, COLUMNS))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError("missing column", file, f"line {line_no}", ", ".join(missing),
                         f"the columns {', '.join(REQUIRED)}")


def _offer(header: list[str], row: list[str], example: bool,
           where: tuple[str, int]) -> SupplierOffer:
    file, line_no = where
    if len(row) != len(header):
        raise InputError("wrong number of cells", file, f"line {line_no}", len(row),
                         f"{len(header)} cells, one per column")
    data = {h: v.strip() for h, v in zip(header, row, strict=True) if v.strip() != ""}
    try:
        return SupplierOffer.model_validate({**data, "example": example})
    except ValidationError as exc:
        err = validation_to_input_error(exc, file)
        column = err.path or "?"
        raise InputError(err.message, file, f"line {line_no}, column {column}",
                         data.get(column, err.value), err.expected) from None


def load_suppliers(spec: SourcingSpec | None, scenario_dir: str | Path, catalog: Catalog,
                   file: str | None = None, plan_quarters: Sequence[date] = ()
                   ) -> SourcingSpec | None:
    """The sourcing section with ``suppliers_csv`` read into ``suppliers`` and every id
    checked: called by the scenario loader, so the stage itself reads no file. Suppliers named
    by outages and what-ifs must be in the table, and the quarters they name in the horizon:
    from the start to the last scheduled quarter, or to the end of the deployment plan
    (`plan_quarters`) when the plan sets the schedule."""
    if spec is None:
        return None
    offers = list(spec.suppliers)
    if spec.suppliers_csv:
        offers += read_suppliers_csv(Path(scenario_dir) / spec.suppliers_csv)
    _check_offers(offers, spec, catalog, file, horizon(spec, plan_quarters))
    return spec.model_copy(update={"suppliers": offers, "suppliers_csv": None})


@dataclass(frozen=True)
class ResolvedSourcing:
    """The sourcing section with its supplier rows read and every id checked."""

    spec: SourcingSpec
    design: RackDesign
    bom: Bom
    offers: tuple[SupplierOffer, ...]
    example: bool  # any supplier row is invented example data


def resolve_sourcing(spec: SourcingSpec, catalog: Catalog, design: RackDesign,
                     extra_lines: ExtraLines = ()) -> ResolvedSourcing:
    """The BOM of `design` with the section's offers (read and checked by the loader,
    :func:`load_suppliers`).

    `extra_lines` ``(part_id, count per rack, label)`` join the BOM (the cluster's fabric, see
    :func:`rackforge.sourcing.bom.per_rack`), after the section's own ``extra_lines``.
    Raises :class:`InputError` naming the key path of an unknown part id.
    """
    extra = [(e.part, e.count_per_rack, e.label) for e in spec.extra_lines] + list(extra_lines)
    for i, e in enumerate(spec.extra_lines):
        catalog.get(e.part, where=f"sourcing.extra_lines[{i}].part")
    bom = rack_bom(design, catalog, extra, where=f"racks[{design.id}]")
    offers = tuple(spec.suppliers)
    return ResolvedSourcing(spec, design, bom, offers, any(o.example for o in offers))


def horizon(spec: SourcingSpec, plan_quarters: Sequence[date] = ()) -> tuple[date, ...]:
    """The quarters orders may be delivered in; () while the plan that sets them is unknown."""
    if isinstance(spec.build_schedule, dict):
        return spec.quarters
    if not plan_quarters:
        return ()
    return tuple(quarter_range(spec.start or plan_quarters[0], plan_quarters[-1]))


def _check_offers(offers: list[SupplierOffer], spec: SourcingSpec, catalog: Catalog,
                  file: str | None, quarters: tuple[date, ...]) -> None:
    seen: set[tuple[str, str]] = set()
    for i, offer in enumerate(offers):
        where = f"sourcing.suppliers[{i}]"
        catalog.get(offer.part, where=f"{where}.part", file=file)
        if (offer.supplier, offer.part) in seen:
            raise InputError("duplicate supplier offer", file, where,
                             f"{offer.supplier} / {offer.part}", "one row per supplier and part")
        seen.add((offer.supplier, offer.part))
    suppliers = {o.supplier for o in offers}
    for i, crit in enumerate(spec.critical_parts):
        catalog.get(crit.part, where=f"sourcing.critical_parts[{i}].part", file=file)
    _check_outages(spec.outages, "sourcing.outages", suppliers, quarters, file)
    for name, case in spec.what_if.items():
        _check_outages(case.supplier_lost, f"sourcing.what_if.{name}.supplier_lost", suppliers,
                       quarters, file)
        _check_quarters([(f"sourcing.what_if.{name}.extra_racks.{format_quarter(q)}", q)
                         for q in case.extra_racks], quarters, file)


def _check_outages(outages: Sequence[SupplierOutage], where: str, suppliers: set[str],
                   quarters: tuple[date, ...], file: str | None) -> None:
    """Each outage names a supplier of the table and quarters of the horizon."""
    for j, lost in enumerate(outages):
        if lost.supplier not in suppliers:
            raise InputError("unknown supplier", file, f"{where}[{j}].supplier", lost.supplier,
                             "a supplier of the supplier table",
                             closest(lost.supplier, suppliers))
        _check_quarters([(f"{where}[{j}].quarters[{k}]", q)
                         for k, q in enumerate(lost.quarters or [])], quarters, file)


def _check_quarters(located: list[tuple[str, date]], quarters: tuple[date, ...],
                    file: str | None) -> None:
    """Each (key path, quarter) must lie in the sourcing horizon `quarters` (unchecked when
    it is not known yet)."""
    for where, q in located:
        if quarters and q not in quarters:
            raise InputError("quarter outside the sourcing horizon", file, where,
                             format_quarter(q), f"a quarter from {format_quarter(quarters[0])} "
                             f"to {format_quarter(quarters[-1])}")


def pick_designs(spec: SourcingSpec, designs: Sequence[RackDesign],
                 deployed: Sequence[str] = ()) -> list[RackDesign]:
    """The rack designs to source, the first first: ``sourcing.designs`` (with
    ``sourcing.design`` moved first when both are given) or ``sourcing.design``; else every
    design the plan deploys (`deployed`, in the plan's order), else the scenario's only design.
    Raises InputError naming the key of an unknown id."""
    if not spec.design_ids:
        if deployed:
            return [pick_design(spec, designs, d) for d in dict.fromkeys(deployed)]
        return [pick_design(spec, designs)]
    if spec.designs is None:
        return [pick_design(spec, designs)]
    by_id = {d.id: d for d in designs}
    for i, wanted in enumerate(spec.designs):
        if wanted not in by_id:
            raise InputError("unknown rack design", None, f"sourcing.designs[{i}]", wanted,
                             f"one of {', '.join(by_id)}" if by_id else "a scenario with racks",
                             closest(wanted, list(by_id)))
    return [by_id[d] for d in spec.design_ids]


def pick_design(spec: SourcingSpec, designs: Sequence[RackDesign],
                preferred: str | None = None) -> RackDesign:
    """The rack design to source: ``sourcing.design``, else `preferred` (the rack the plan
    deploys), else the scenario's only design."""
    ids = [d.id for d in designs]
    wanted = spec.design or preferred
    if wanted is None:
        if len(designs) == 1:
            return designs[0]
        raise InputError("which rack design to source?", None, "sourcing.design", None,
                         f"one of {', '.join(ids)}" if ids else "a scenario with racks")
    for d in designs:
        if d.id == wanted:
            return d
    raise InputError("unknown rack design", None, "sourcing.design", wanted,
                     f"one of {', '.join(ids)}" if ids else "a scenario with racks",
                     closest(wanted, ids))
