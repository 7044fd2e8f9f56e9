"""One point of a sweep: the scenario with its overrides applied, validated by the scenario
loader, run through the stage graph and its cache, and reduced to one row of headline figures.

:func:`run_point` is a plain function of (:class:`SweepContext`, point index, overrides), so a
local process pool and Ray run the same function and give the same row. A point whose overrides
make bad input is a row with status ``bad input`` and the loader's one-line error.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from rackforge import pipeline
from rackforge.cache import ResultCache, content_key
from rackforge.catalog import Catalog, load_catalog
from rackforge.code_version import code_version
from rackforge.errors import InputError
from rackforge.inputs import set_key_path, validate
from rackforge.scenario import Scenario, ScenarioSpec, from_dict

FIGURES = ("worst_margin", "worst_rule", "design_passed", "step_s", "mfu",
           "tokens_per_s_per_gpu", "cost_per_gpu_hour_usd", "landed_cost_usd", "domestic_share",
           "racks_per_week", "gw_by_end", "racks_total")


@dataclass(frozen=True)
class SweepContext:
    """What every point shares: the scenario as parsed from its file, the stages to run, the
    result cache folder (None: no cache) and `key`, the hash of the scenario, the stages and
    the code of every stage (a point's row is reused only by a sweep that agrees on all three).
    """

    file: str
    data: dict[str, Any]
    stages: tuple[str, ...] | None
    cache_dir: str | None
    key: str


def context(file: str, data: dict[str, Any], stages: tuple[str, ...] | None = None,
            cache_dir: str | None = None) -> SweepContext:
    code = [code_version(stage.module) for stage in pipeline.STAGES]
    key = content_key({"data": data, "stages": stages, "code": code})
    return SweepContext(file, data, stages, cache_dir, key)


def point_key(context_key: str, overrides: Mapping[str, Any]) -> str:
    return content_key({"context": context_key, "overrides": dict(sorted(overrides.items()))})


def load_point(context: SweepContext, overrides: Mapping[str, Any]) -> Scenario:
    """The scenario with `overrides` (key path -> value) applied, through the loader. Only the
    sections an override touches are copied and validated again: the others go in as the
    base scenario validated them (pydantic takes a model instance as it is)."""
    touched = {path.split(".")[0].split("[")[0] for path in overrides}
    validated = _validated_sections(context)
    data = {key: copy.deepcopy(value) if key in touched else validated.get(key, value)
            for key, value in context.data.items()}
    for path, value in overrides.items():
        try:
            set_key_path(data, path, value)
        except (KeyError, IndexError, TypeError):
            raise InputError("no such key in the scenario", context.file, path, value,
                             "a key path of the scenario file") from None
    return from_dict(data, _catalog(), context.file)


_VALIDATED: dict[str, dict[str, Any]] = {}


def _validated_sections(context: SweepContext) -> dict[str, Any]:
    """The base scenario's sections as its schema validated them, once per process (none if
    the base itself is bad input: then every point says so)."""
    if context.key not in _VALIDATED:
        try:
            spec = validate(ScenarioSpec, context.data, context.file)
        except InputError:
            _VALIDATED[context.key] = {}
        else:
            _VALIDATED[context.key] = {name: getattr(spec, name) for name in context.data
                                       if name in ScenarioSpec.model_fields}
    return _VALIDATED[context.key]


@cache
def _catalog() -> Catalog:
    return load_catalog()


@cache
def _cache(folder: str | None) -> ResultCache | None:
    return ResultCache(Path(folder)) if folder else None


def run_point(context: SweepContext, index: int, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The row of one point: index, key, status, error, its overrides and headline figures."""
    row = {"point": index, "key": point_key(context.key, overrides), "status": "ok",
           "error": None, **overrides, **dict.fromkeys(FIGURES)}
    try:
        scenario = load_point(context, overrides)
    except InputError as exc:
        return row | {"status": "bad input", "error": str(exc)}
    run = pipeline.run(scenario, context.stages, _cache(context.cache_dir))
    failed = [o for o in run.outcomes.values() if o.status == "failed"]
    if failed:
        row |= {"status": "failed", "error": f"{failed[0].stage}: {failed[0].summary}"}
    return row | headline(run)


def headline(run: pipeline.RunResult) -> dict[str, Any]:
    """The figures a sweep compares, from whichever stages ran (None where a stage did not)."""
    ok = {name: o for name, o in run.outcomes.items() if o.status == "ok"}
    out: dict[str, Any] = {}
    if "checks" in ok:
        out |= _checks(ok["checks"])
    if "evaluate" in ok and ok["evaluate"].result:
        best = ok["evaluate"].result[0].best   # the first system x workload of the section
        out |= {"step_s": best.step_s, "mfu": best.mfu,
                "tokens_per_s_per_gpu": best.tokens_per_s_per_gpu}
    if "compare" in ok:
        out["cost_per_gpu_hour_usd"] = _cost_per_gpu_hour(ok["compare"].result)
    if "source" in ok and ok["source"].passed:
        report = ok["source"].result
        out |= {"landed_cost_usd": report.bom.total_usd,
                "domestic_share": report.domestic_share}
    if "build" in ok:
        out["racks_per_week"] = float(ok["build"].result.racks_per_week.mean)
    if "plan" in ok:
        ramp = ok["plan"].result
        out |= {"gw_by_end": ramp.power_online_w(ramp.final) / 1e9,
                "racks_total": ramp.racks_total}
    return out


def _checks(outcome: pipeline.Outcome) -> dict[str, Any]:
    judged = [f for rc in outcome.result.values() for f in rc.findings if f.margin is not None]
    worst = min(judged, key=lambda f: f.margin, default=None)
    return {"worst_margin": worst.margin if worst else None,
            "worst_rule": worst.rule if worst else None, "design_passed": outcome.passed}


def _cost_per_gpu_hour(comparison: Any) -> float:
    """The candidate built of the sourced rack design, else the recommended one [USD/GPU-h]."""
    results = comparison.results
    chosen = next((r for r in results if r.domestic_basis == "sourced"), None) or next(
        r for r in results if r.id == comparison.recommendation.candidate_id)
    return chosen.tco.cost_per_accelerator_hour_usd
