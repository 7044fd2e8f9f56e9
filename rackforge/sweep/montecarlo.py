"""Monte Carlo risk of the ramp: N samples of the uncertain inputs (:mod:`rackforge.sweep.risk`),
each sample's scenario run through the stage graph to the ``plan`` stage (demand, the line, the
parts supply, the ramp), on the same backends as sweeps; the base scenario and each named
alternative under common random numbers, so their difference is precise.

:func:`run_sample` is the unit of work, a plain function of (:class:`RiskContext`, case,
sample index), so the local pool and Ray give the same numbers. Samples are not written to the
result cache: each is a different scenario, and a rerun with the same seed is as fast as
reading thousands of entries back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from plotly.offline import get_plotlyjs

from rackforge import pipeline
from rackforge.cache import ResultCache, content_key
from rackforge.catalog import load_catalog
from rackforge.deploy.spec import quarters_of
from rackforge.errors import InputError
from rackforge.inputs import set_key_path
from rackforge.risk_spec import RiskSpec, provenance
from rackforge.scenario import Scenario, from_dict
from rackforge.sweep.backends import Backend, run_all
from rackforge.sweep.risk import (
    Draws,
    RiskResult,
    compare_alternatives,
    draw,
    fan_chart,
    perturb,
    summarize,
)

BASE = "base"
TEMPLATES = Path(__file__).parent / "templates"
_CASES: dict[tuple[str, str], tuple[Scenario, Draws]] = {}   # a worker's loaded cases
# A worker's stage results, in memory: the stages a sample does not perturb (the racks, the
# cluster, the evaluation) run once per process, the perturbed ones miss and run.
_SAMPLE_RESULTS = ResultCache(None, in_memory=32)


@dataclass(frozen=True)
class RiskContext:
    """What every sample shares: the scenario as parsed from its file, the risk settings, the
    number of samples and the seed; `key` hashes them all."""

    file: str
    data: dict[str, Any]
    spec: RiskSpec
    samples: int
    seed: int
    key: str


def risk_context(file: str, data: dict[str, Any], spec: RiskSpec, samples: int, seed: int
                 ) -> RiskContext:
    key = content_key({"data": data, "spec": spec.model_dump(mode="json"),
                       "samples": samples, "seed": seed})
    return RiskContext(file, data, spec, samples, seed, key)


@dataclass(frozen=True)
class RiskReport:
    """The base case and each alternative, with each alternative's paired difference."""

    cases: dict[str, RiskResult]
    differences: dict[str, dict[str, Any]]
    failed: dict[str, int]          # samples whose ramp could not be planned, by case

    def to_dict(self) -> dict[str, Any]:
        base = self.cases[BASE].to_dict()
        return base | {"failed_samples": self.failed[BASE],
                       "alternatives": {name: {**result.to_dict(),
                                               "failed_samples": self.failed[name],
                                               "against_base": self.differences[name]}
                                        for name, result in self.cases.items() if name != BASE}}


def case(context: RiskContext, name: str) -> tuple[Scenario, Draws]:
    """The scenario of case `name` (the file, or the file with an alternative's overrides)
    and its draws; loaded once per process."""
    if (context.key, name) not in _CASES:
        raw = copy.deepcopy(context.data)
        for path, value in context.spec.alternatives.get(name, {}).items():
            try:
                set_key_path(raw, path, value)
            except (KeyError, IndexError, TypeError):
                raise InputError("no such key in the scenario", context.file,
                                 f"risk.alternatives.{name}.{path}", value,
                                 "a key path of the scenario file") from None
        scenario = from_dict(raw, load_catalog(), context.file)
        _CASES[(context.key, name)] = (scenario, draw(context.spec, scenario, context.samples,
                                                      context.seed))
    return _CASES[(context.key, name)]


def run_sample(context: RiskContext, name: str, i: int) -> tuple[str, int, list[float] | None,
                                                                   list[float] | None]:
    """Sample i of case `name`: the power online on the target's basis [W] and the racks
    online, by quarter (None when the sample's ramp could not be planned)."""
    scenario, draws = case(context, name)
    run = pipeline.run(perturb(scenario, draws, i, context.spec), ["plan"], _SAMPLE_RESULTS)
    plan = run.outcomes.get("plan")
    if plan is None or plan.status != "ok":
        return name, i, None, None
    ramp = plan.result
    return (name, i, [ramp.power_online_w(q) for q in ramp.quarters],
            [q.racks_online for q in ramp.quarters])


Progress = Callable[[int, int], None]


def run_risk(context: RiskContext, backend: Backend = "local", workers: int = 1,
             ray_address: str | None = None, progress: Progress | None = None) -> RiskReport:
    """Every sample of the base and of each alternative, summarized."""
    names = [BASE, *context.spec.alternatives]
    for name in names:
        case(context, name)                      # bad input shows before any sample runs
    tasks = [(name, i) for name in names for i in range(context.samples)]
    power: dict[str, list] = {n: [None] * context.samples for n in names}
    racks: dict[str, list] = {n: [None] * context.samples for n in names}
    for done, (name, i, watts, count) in enumerate(
            run_all(run_sample, context, tasks, backend, workers, ray_address), 1):
        power[name][i], racks[name][i] = watts, count
        if progress is not None:
            progress(done, len(tasks))
    return _report(context, names, power, racks)


def _report(context: RiskContext, names: list[str], power: dict[str, list],
            racks: dict[str, list]) -> RiskReport:
    scenario, _ = case(context, BASE)
    quarters, target = quarters_of(scenario.spec.plan), scenario.spec.plan.target_w
    cases, failed, finals = {}, {}, {}
    for name in names:
        draws = case(context, name)[1]
        ok = np.array([p is not None for p in power[name]])
        failed[name] = int((~ok).sum())
        watts = np.array([p for p in power[name] if p is not None], float)
        count = np.array([r for r in racks[name] if r is not None], float)
        kept = Draws({k: v[ok] for k, v in draws.values.items()}, draws.line_seed[ok])
        cases[name] = summarize(quarters, watts, count, target, kept)
        finals[name] = np.array([p[-1] if p is not None else np.nan for p in power[name]])
    both = {name: np.isfinite(finals[name]) & np.isfinite(finals[BASE]) for name in names}
    differences = {name: compare_alternatives(finals[BASE][both[name]],
                                              finals[name][both[name]], target)
                   for name in names if name != BASE}
    return RiskReport(cases, differences, failed)


def risk_page(report: RiskReport, spec: RiskSpec, title: str) -> str:
    """The risk report: a fan chart, quantiles and drivers for each case, the distributions."""
    cases = []
    for name, result in report.cases.items():
        data = result.to_dict()
        rows = [{"quarter": q["quarter"],
                 "cells": [_shown(q[k], 3) for k in ("p10_gw", "p50_gw", "p90_gw")]
                 + [_shown(q[k], 0) for k in ("p10_racks", "p50_racks", "p90_racks")]}
                for q in data["quarters"]]
        cases.append({"name": name, "summary": case_line(report, name),
                      "figure": fan_chart(result).to_json(), "quarters": rows,
                      "drivers": [{"input": d["input"], "value": _shown(d["rank_correlation"], 2)}
                                  for d in data["drivers"]]})
    assumptions = [{"name": a["name"], "value": a["value"], "origin": a["origin"]}
                   for a in provenance(spec)]
    return _environment().get_template("risk.html.j2").render(
        title=title, headline=case_line(report, BASE), cases=cases, assumptions=assumptions,
        plotly_js=get_plotlyjs())


def case_line(report: RiskReport, name: str) -> str:
    result = report.cases[name]
    text = f"{result.samples:,} samples"
    if report.failed[name]:
        text += f" ({report.failed[name]:,} could not be planned, left out)"
    if result.p_target is not None:
        p = result.p_target
        text += (f"; P(target {result.target_w / 1e9:.2f} GW by the end) = {p.value:.1%} "
                 f"(95% CI {p.low:.1%}-{p.high:.1%})")
    if name != BASE:
        diff = report.differences[name]["final_gw_difference"]
        text += (f"; final GW against base {diff['value']:+.3f} "
                 f"({_shown(diff['low'], 3)} to {_shown(diff['high'], 3)})")
    return text


def _shown(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html", "j2"]),
                              undefined=jinja2.StrictUndefined)
