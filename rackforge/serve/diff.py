"""What changed between two versions: the scenario's keys (old and new values) and what that
did to the answers (each stage's summary and headline figures before and after)."""

from __future__ import annotations

from typing import Any

from rackforge.inputs import parse_yaml

MISSING = "(absent)"


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by key path (``racks[0].cooling.supply_temp_c``)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out or {prefix: {}}
    if isinstance(data, list):
        out = {}
        for i, value in enumerate(data):
            out |= flatten(value, f"{prefix}[{i}]")
        return out or {prefix: []}
    return {prefix: data}


def scenario_changes(old_yaml: str, new_yaml: str) -> list[dict[str, Any]]:
    """Every key path whose value differs, with both values (``(absent)`` where missing)."""
    old, new = flatten(parse_yaml(old_yaml) or {}), flatten(parse_yaml(new_yaml) or {})
    return [{"path": path, "old": _shown(old.get(path, MISSING)),
             "new": _shown(new.get(path, MISSING))}
            for path in sorted(set(old) | set(new)) if old.get(path, MISSING) !=
            new.get(path, MISSING)]


def _shown(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def headline(results: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each stage's summary and headline figures from a ``results.json`` document."""
    if not results:
        return {}
    out = {}
    for name, stage in results.get("stages", {}).items():
        data = stage.get("data") if stage.get("status") == "ok" else None
        out[name] = {"summary": stage.get("summary"), **_figures(name, data or {})}
    return out


def _figures(stage: str, data: Any) -> dict[str, Any]:
    if stage == "checks":
        found = [f for rack in data.values() for f in rack.get("findings", [])]
        judged = [f["margin"] for f in found if f.get("margin") is not None]
        return {"errors": sum(f["severity"] == "error" for f in found),
                "worst_margin": min(judged, default=None)}
    if stage == "evaluate" and data:
        best = data[0]["top"][0]
        return {"step_s": best["step_s"], "mfu": best["mfu"]}
    if stage == "build":
        return {"racks_per_week": data.get("racks_per_week", {}).get("mean")}
    if stage == "plan":
        final = (data.get("quarters") or [{}])[-1]
        return {"racks_total": data.get("racks_total"),
                "facility_power_online_w": final.get("facility_power_online_w")}
    if stage == "source":
        cost = (data.get("result") or {}).get("cost") or {}
        return {"racks_total": data.get("racks_total"),
                "domestic_share": data.get("domestic_share"),
                "landed_cost_usd": cost.get("total_usd")}
    if stage == "compare":
        rec = data.get("recommendation") or {}
        return {"recommendation": f"{rec.get('action')} {rec.get('candidate_id')}"
                if rec else None}
    return {}


def answer_changes(before: dict[str, Any] | None, after: dict[str, Any] | None
                   ) -> list[dict[str, Any]]:
    """Per stage and figure: before and after (None where a run is missing)."""
    old, new = headline(before), headline(after)
    rows = []
    for stage in list(dict.fromkeys([*old, *new])):
        names = list(dict.fromkeys([*old.get(stage, {}), *new.get(stage, {})]))
        for name in names:
            a, b = old.get(stage, {}).get(name), new.get(stage, {}).get(name)
            rows.append({"stage": stage, "figure": name, "before": a, "after": b,
                         "changed": a != b})
    return rows
