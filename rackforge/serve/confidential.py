"""Supplier-level data stays with the organisation that owns the supplier table.

Supplier-level data is the supplier table itself (the file ``sourcing.suppliers_csv`` names, or
``sourcing.suppliers`` written inline: supplier names, offers, unit prices) and what the sourcing
plan says per supplier (the plan lines, suppliers at capacity, binding offers, the most
concentrated supplier, the BOM priced per part). Everyone else with access to the project sees
the totals: landed cost, domestic share by year, cost breakdown, spend by origin.

The owner of a version's supplier data is the organisation of the author of the version that
last changed it (walking back through the parents while the supplier data is unchanged), so a
lab engineer who edits the plan of a manufacturer's scenario does not become its owner.
"""

from __future__ import annotations

import copy
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


def supplier_data_key(version: Version) -> str:
    """Hash of a version's supplier data: the tables it names and inline offers."""
    tables = {f.name: f.text for f in version.files if f.name in
              supplier_files(version.scenario_yaml)}
    sourcing = _sourcing(version.scenario_yaml)
    inline = sourcing.get("suppliers") if isinstance(sourcing, dict) else None
    return content_key({"tables": tables, "inline": repr(inline)})


def supplier_owner(session: Session, version: Version) -> int:
    """The organisation that owns `version`'s supplier data (module docstring)."""
    key = supplier_data_key(version)
    while version.parent_id is not None:
        parent = session.get(Version, version.parent_id)
        if parent is None or supplier_data_key(parent) != key:
            break
        version = parent
    author = session.get(User, version.author_id)
    return author.org_id


def sees_suppliers(session: Session, user: User, version: Version) -> bool:
    return supplier_owner(session, version) == user.org_id


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
