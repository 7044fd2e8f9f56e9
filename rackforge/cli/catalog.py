"""``rackforge catalog list|show``: every number with its unit and source."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rackforge.catalog import KINDS, load_catalog
from rackforge.catalog.models import PartBase
from rackforge.cli.app import JsonFlag, catalog_app, console, print_json
from rackforge.errors import InputError
from rackforge.inputs import closest
from rackforge.units import format_value, unit_of

META = {"id", "kind", "name", "source", "field_sources", "example", "approximate", "notes"}


@catalog_app.command("list")
def list_parts(kind: Annotated[str | None, typer.Argument(
        help=f"Only parts of this kind ({', '.join(KINDS)}).")] = None,
        json: JsonFlag = False) -> None:
    """List catalog parts, optionally of one KIND."""
    catalog = load_catalog()
    if kind is not None and kind not in KINDS:
        raise InputError("unknown part kind", None, "KIND", kind, f"one of {', '.join(KINDS)}",
                         closest(kind, KINDS))
    parts = [p for p in catalog if kind is None or p.kind == kind]
    if json:
        print_json([p.model_dump(mode="json") for p in parts])
        return
    table = Table(title=f"{len(parts)} parts")
    for col in ("id", "kind", "name", "source", "flags"):
        table.add_column(col, overflow="fold")
    for p in sorted(parts, key=lambda p: (p.kind, p.id)):
        table.add_row(p.id, p.kind, p.name, p.source.cite(), _flags(p))
    console.print(table)


@catalog_app.command("show")
def show(part_id: Annotated[str, typer.Argument(help="Part id.", show_default=False)],
         json: JsonFlag = False) -> None:
    """Show every field of one part with its unit and source."""
    part = load_catalog().get(part_id, where="ID")
    if json:
        print_json(part.model_dump(mode="json"))
        return
    table = Table(title=f"{part.id}: {part.name} ({part.kind}) {_flags(part)}",
                  title_justify="left")
    for col in ("field", "value", "source"):
        table.add_column(col, overflow="fold")
    for name, value in part:
        if name not in META:
            table.add_row(name, _text(value, unit_of(name)), part.source_of(name).cite())
    console.print(table)
    if part.notes:
        console.print(f"notes: {part.notes}")


def _flags(part: PartBase) -> str:
    return " ".join(f for f, on in (("approximate", part.approximate),
                                    ("example", part.example)) if on)


def _text(value: object, unit: str = "") -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        return format_value(value, unit)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v, unit or unit_of(str(k)))}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_text(v.model_dump() if hasattr(v, "model_dump") else v) for v in value)
    return str(value)
