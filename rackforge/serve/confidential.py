"""Supplier-level data stays with the organisation that owns the supplier table.

Supplier-level data is the supplier table itself (the file ``sourcing.suppliers_csv`` names, or
``sourcing.suppliers`` written inline: supplier names, offers, unit prices) and what the sourcing
plan says per supplier (the plan lines, suppliers at capacity, binding offers, the most
concentrated supplier, the BOM priced per part). Everyone else with access to the project sees
the totals: landed cost, domestic share by year, cost breakdown, spend by origin.

The owner of a version's supplier data is the organisation of the author of the version that
last changed it (walking back through the parents while the supplier data is unchanged), so a
lab engineer who edits the plan of a manufacturer's scenario does not become its owner.

Supplier names also appear outside the table (a what-if that loses a supplier, a comment, a
version message, a what-if summary in the results). Everything shown to another organisation
is therefore masked as text: each supplier name becomes a stable alias (``supplier-01``, in the
order of the sorted names); a version written back by that organisation is unmasked, so its
what-ifs still name the real suppliers.
"""

from __future__ import annotations

import copy
import csv
import re
from collections.abc import Mapping
from typing import Any

import yaml
from sqlalchemy.orm import Session

from rackforge.cache import content_key
from rackforge.inputs import parse_yaml
from rackforge.serve.models import User, Version

WITHHELD = "withheld: supplier-level data of another organisation"


def supplier_files(scenario_yaml: str) -> set[str]:
    """Names of the files the scenario's sourcing section reads as supplier tables."""
    sourcing = _sourcing(scenario_yaml)
    name = sourcing.get("suppliers_csv") if isinstance(sourcing, dict) else None
    return {name} if isinstance(name, str) else set()


def _sourcing(scenario_yaml: str) -> Any:
    try:
        data = parse_yaml(scenario_yaml)
    except Exception:  # noqa: BLE001 - a stored version always parsed; be safe anyway
        return {}
    return data.get("sourcing", {}) if isinstance(data, dict) else {}


def supplier_data_key(scenario_yaml: str, files: Mapping[str, str]) -> str:
    """Hash of a scenario's supplier data: the tables it names and inline offers."""
    tables = {name: text for name, text in files.items()
              if name in supplier_files(scenario_yaml)}
    sourcing = _sourcing(scenario_yaml)
    inline = sourcing.get("suppliers") if isinstance(sourcing, dict) else None
    return content_key({"tables": tables, "inline": repr(inline)})


def version_key(version: Version) -> str:
    return supplier_data_key(version.scenario_yaml, {f.name: f.text for f in version.files})


def new_owner(parent: Version | None, scenario_yaml: str, files: Mapping[str, str],
              author_org_id: int) -> int:
    """Who owns a new version's supplier data: the parent's owner if it is unchanged, else
    the author's organisation."""
    if parent is not None and parent.supplier_org_id is not None and \
            supplier_data_key(scenario_yaml, files) == version_key(parent):
        return parent.supplier_org_id
    return author_org_id


def supplier_owner(session: Session, version: Version) -> int:
    """The organisation that owns `version`'s supplier data (module docstring): recorded when
    it was written; for a version from before that, found by walking its parents."""
    if version.supplier_org_id is not None:
        return version.supplier_org_id
    key = version_key(version)
    while version.parent_id is not None:
        parent = session.get(Version, version.parent_id)
        if parent is None or version_key(parent) != key:
            break
        version = parent
    author = session.get(User, version.author_id)
    return author.org_id


def sees_suppliers(session: Session, user: User, version: Version) -> bool:
    return supplier_owner(session, version) == user.org_id


def supplier_names(version: Version) -> list[str]:
    """The suppliers of a version's tables and inline offers, sorted."""
    tables = supplier_files(version.scenario_yaml)
    names: set[str] = set()
    for f in version.files:
        if f.name in tables:
            rows = csv.reader(line for line in f.text.splitlines()
                              if line.strip() and not line.lstrip().startswith("#"))
            header = next(rows, [])
            column = [h.strip() for h in header].index("supplier") \
                if "supplier" in [h.strip() for h in header] else None
            names.update(row[column].strip() for row in rows
                         if column is not None and len(row) > column and row[column].strip())
    inline = _sourcing(version.scenario_yaml).get("suppliers") \
        if isinstance(_sourcing(version.scenario_yaml), dict) else None
    if isinstance(inline, list):
        names.update(str(o.get("supplier")) for o in inline if isinstance(o, dict)
                     and o.get("supplier"))
    return sorted(names)


def aliases(version: Version) -> dict[str, str]:
    """Supplier name -> alias (``supplier-01``...) for a version."""
    return {name: f"supplier-{i:02d}" for i, name in enumerate(supplier_names(version), 1)}


def mask(text: str, names: dict[str, str]) -> str:
    """`text` with every supplier name replaced by its alias (longest names first)."""
    return _replace(text, names)


def unmask(text: str, names: dict[str, str]) -> str:
    """`text` with aliases turned back into the supplier names they stand for."""
    return _replace(text, {alias: name for name, alias in names.items()})


def _replace(text: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def redact_version(version: Version) -> tuple[str, dict[str, str]]:
    """The scenario text and files as another organisation sees them: supplier tables
    withheld, inline offers removed from the scenario."""
    tables = supplier_files(version.scenario_yaml)
    files = {f.name: (WITHHELD if f.name in tables else f.text) for f in version.files}
    data = parse_yaml(version.scenario_yaml)
    if isinstance(data, dict) and isinstance(data.get("sourcing"), dict) and \
            "suppliers" in data["sourcing"]:
        data = copy.deepcopy(data)
        data["sourcing"]["suppliers"] = WITHHELD
        return yaml.safe_dump(data, sort_keys=False), files
    return version.scenario_yaml, files


def redact_results(results: dict[str, Any]) -> dict[str, Any]:
    """``results.json`` without supplier-level data (totals kept)."""
    out = copy.deepcopy(results)
    source = out.get("stages", {}).get("source", {})
    data = source.get("data") if isinstance(source, dict) else None
    if isinstance(data, dict):
        data["bom_per_rack"] = {"total_usd": data.get("bom_per_rack", {}).get("total_usd"),
                                "lines": WITHHELD, "unpriced": WITHHELD}
        result = data.get("result") or {}
        for key in ("plan", "at_capacity", "binding", "explanation"):
            if key in result:
                result[key] = WITHHELD
        if isinstance(result.get("risk"), dict):
            result["risk"]["top_supplier"] = WITHHELD
        if isinstance(data.get("what_if"), dict):
            data["what_if"] = {k: data["what_if"].get(k) for k in
                               ("name", "delta_cost_usd", "delta_share_by_year", "summary")}
    return out
