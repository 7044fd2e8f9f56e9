"""Run every stage a scenario has sections for, in data-flow order, and collect the results.

Each stage is a plain library call (see DESIGN.md, data flow). A stage that fails is recorded
with its error and the later stages still run; a stage whose inputs failed is skipped with the
reason. Nothing here prints or writes files: ``rackforge run`` and the report do that.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rackforge import __version__
from rackforge.catalog.models import System
from rackforge.checks import RackCheck, check_rack_budget, count
from rackforge.checks.fabric import check_cluster
from rackforge.checks.findings import Finding
from rackforge.compare import compare_summary, run_compare
from rackforge.compare import to_dict as compare_dict
from rackforge.deploy.adapters import plan_data, plan_summary, run_plan
from rackforge.design.budget import RackBudget
from rackforge.design.cluster import ClusterResult, size_cluster, variant_names
from rackforge.design.cluster_summary import to_dict as cluster_dict
from rackforge.errors import RackforgeError
from rackforge.factory.simulation import simulate
from rackforge.factory.statistics import LineResult
from rackforge.perf.api import TrainingEvaluation, TrainingOptions, evaluate_training
from rackforge.perf.spec import user_workloads
from rackforge.perf.workload import get_workload
from rackforge.report.jsonable import jsonable
from rackforge.scenario import Scenario
from rackforge.sourcing.stage import run_source, source_passed, source_summary

SCHEMA_VERSION = "1.0"
Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class Stage:
    """One stage: which scenario section enables it, how to run it and summarize the result."""

    name: str
    title: str
    enabled: Callable[[Scenario], bool]
    run: Callable[[Scenario, Mapping[str, Any]], Any]
    summary: Callable[[Any], str]
    needs: tuple[str, ...] = ()
    passed: Callable[[Any], bool] = lambda result: True  # False: the design fails this stage
    data: Callable[[Any], Any] = jsonable                 # the result as results.json data


@dataclass(frozen=True)
class Outcome:
    stage: str
    status: Status
    seconds: float
    summary: str
    result: Any = None
    error: str | None = None
    passed: bool = True
    data: Any = None


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The versioned ``results.json`` document (see docs/results-schema.md)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "rackforge_version": __version__,
            "scenario": {"name": self.scenario.name, "file": self.scenario.file},
            "stages": {name: {"status": o.status, "passed": o.passed,
                              "seconds": round(o.seconds, 4),
                              "summary": o.summary, "error": o.error,
                              "data": o.data}
                       for name, o in self.outcomes.items()},
        }


def _checks(scenario: Scenario, _: Mapping[str, Any]) -> dict[str, RackCheck]:
    site = scenario.spec.site
    return {rid: check_rack_budget(RackBudget(layout), site)
            for rid, layout in scenario.layouts.items()}


def _checks_summary(result: dict[str, RackCheck]) -> str:
    totals = count([f for rc in result.values() for f in rc.findings])
    verdict = "FAIL" if totals["error"] else "PASS"
    return (f"{verdict}: {len(result)} rack design(s), {totals['error']} error(s), "
            f"{totals['warning']} warning(s), {totals['pass']} passed")


def _evaluate(scenario: Scenario, inputs: Mapping[str, Any]) -> list[TrainingEvaluation]:
    spec = scenario.spec.evaluate
    extra = user_workloads(scenario.spec.workloads)
    cluster = inputs.get("cluster") if spec.fabric_from_cluster else None
    out = []
    for system in spec.systems:
        tiers = _cluster_tiers(scenario, cluster.base, system) if cluster else ()
        options = TrainingOptions(dtype=spec.dtype, tokens=spec.tokens, top=spec.top,
                                  scaleout_tiers=tiers)
        out += [evaluate_training(system, get_workload(wid, extra, "evaluate.workloads"),
                                  spec.gpus, options, scenario.catalog)
                for wid in spec.workloads]
    return out


def _cluster_tiers(scenario: Scenario, cluster: ClusterResult, system_id: str
                   ) -> tuple[tuple[int, float, float], ...]:
    """The cluster's scale-out tiers if `system_id` is the machine its racks hold (same
    accelerator and scale-up domain), else () for the system's flat catalog NIC rate."""
    system = scenario.catalog.get(system_id, System)
    trays = scenario.layouts[cluster.spec.rack].trays
    accelerators = {p.part.accelerator for p in trays if p.part.accelerator}
    if accelerators != {system.accelerator} or (
            cluster.scaleup.domain_gpus != system.scaleup_domain):
        return ()
    return tuple((t.span_gpus, t.bandwidth_bytes_per_s_per_gpu, t.latency_s)
                 for t in cluster.tiers[1:])


def _evaluate_summary(result: list[TrainingEvaluation]) -> str:
    best = max(result, key=lambda e: e.best.mfu)
    return (f"{len(result)} system x workload searches; highest MFU {best.best.mfu:.1%} "
            f"({best.system}, {best.workload}, {best.n_gpus} GPUs)")


@dataclass(frozen=True)
class ClusterStage:
    """Every sized cluster variant (the base first) with its findings."""

    results: dict[str, ClusterResult]
    findings: dict[str, list[Finding]]

    @property
    def base(self) -> ClusterResult:
        return next(iter(self.results.values()))


def _cluster(scenario: Scenario, _: Mapping[str, Any]) -> ClusterStage:
    results = {r.name: r for r in (size_cluster(scenario, v)
                                   for v in [None, *variant_names(scenario)])}
    return ClusterStage(results, {n: check_cluster(r) for n, r in results.items()})


def _cluster_summary(c: ClusterStage) -> str:
    b = c.base
    errors = sum(f.severity == "error" for fs in c.findings.values() for f in fs)
    return (f"{b.accelerators:,} accelerators in {b.racks} racks, "
            f"{b.fabric.sizing.switches} scale-out switches, IT {b.it_power_w / 1e6:.2f} MW, "
            f"facility {b.facility_power_w / 1e6:.2f} MW; {len(c.results)} variant(s), "
            f"{errors} error(s)")


def _cluster_data(c: ClusterStage) -> dict[str, Any]:
    return {name: {**cluster_dict(r), "findings": jsonable(c.findings[name])}
            for name, r in c.results.items()}


def _build(scenario: Scenario, _: Mapping[str, Any]) -> LineResult:
    return simulate(scenario.spec.line)


def _build_summary(r: LineResult) -> str:
    return (f"{r.racks_per_week.mean:.1f} racks/week (95% CI +-{r.racks_per_week.half_width:.1f}),"
            f" cycle time {r.cycle_time_h.mean:.1f} h, bottleneck {r.bottleneck}")


STAGES: list[Stage] = [
    Stage("checks", "Design checks", lambda s: bool(s.layouts), _checks, _checks_summary,
          passed=lambda r: not any(f.severity == "error" for rc in r.values()
                                   for f in rc.findings)),
    Stage("cluster", "Cluster and fabric", lambda s: s.spec.cluster is not None, _cluster,
          _cluster_summary, data=_cluster_data,
          passed=lambda c: not any(f.severity == "error" for fs in c.findings.values()
                                   for f in fs)),
    Stage("evaluate", "Performance", lambda s: s.spec.evaluate is not None, _evaluate,
          _evaluate_summary),
    Stage("source", "Sourcing", lambda s: s.spec.sourcing is not None, run_source,
          source_summary, passed=source_passed, data=lambda r: r.to_dict()),
    Stage("compare", "Candidate comparison", lambda s: s.spec.compare is not None, run_compare,
          compare_summary, data=compare_dict),
    Stage("build", "Assembly and test line", lambda s: s.spec.line is not None, _build,
          _build_summary),
    Stage("plan", "Deployment ramp", lambda s: s.spec.plan is not None, run_plan, plan_summary,
          needs=("build", "source"), data=plan_data),
]


def run_all(scenario: Scenario, on_stage: Callable[[Stage], None] | None = None,
            stages: list[Stage] | None = None) -> RunResult:
    """Run each enabled stage in order; `on_stage` is called before each one (for progress)."""
    outcomes: dict[str, Outcome] = {}
    for stage in stages or STAGES:
        if not stage.enabled(scenario):
            continue
        if on_stage:
            on_stage(stage)
        outcomes[stage.name] = _run_stage(stage, scenario, outcomes)
    return RunResult(scenario, outcomes)


def _run_stage(stage: Stage, scenario: Scenario, done: dict[str, Outcome]) -> Outcome:
    missing = [n for n in stage.needs if n in done and done[n].status != "ok"]
    if missing:
        return Outcome(stage.name, "skipped", 0.0, f"skipped: {', '.join(missing)} failed")
    inputs = {n: o.result for n, o in done.items() if o.status == "ok"}
    t0 = time.perf_counter()
    try:
        result = stage.run(scenario, inputs)
    except RackforgeError as exc:
        return Outcome(stage.name, "failed", time.perf_counter() - t0, f"failed: {exc}",
                       error=str(exc))
    except Exception as exc:  # a bug in one stage must not hide the others' results
        detail = "".join(traceback.format_exception_only(exc)).strip()
        return Outcome(stage.name, "failed", time.perf_counter() - t0,
                       f"failed (internal error): {detail}", error=traceback.format_exc())
    return Outcome(stage.name, "ok", time.perf_counter() - t0, stage.summary(result), result,
                   passed=stage.passed(result), data=stage.data(result))
