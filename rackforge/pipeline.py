"""Run every stage a scenario has sections for, in data-flow order, and collect the results.

Each stage is a plain library call that its own package provides in the pipeline's form
``run(scenario, results_so_far) -> result`` (see DESIGN.md, data flow). A stage that fails is
recorded with its error and the later stages still run; a stage whose inputs failed is skipped
with the reason. Nothing here prints or writes files: ``rackforge run`` and the report do that.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from rackforge import __version__
from rackforge.checks import checks_passed, checks_summary, run_checks
from rackforge.compare import compare_summary, run_compare
from rackforge.compare import to_dict as compare_dict
from rackforge.deploy.adapters import plan_data, plan_summary, run_plan
from rackforge.design.cluster_stage import (
    cluster_data,
    cluster_passed,
    cluster_summary,
    run_cluster,
)
from rackforge.errors import RackforgeError
from rackforge.factory.stage import build_summary, run_build
from rackforge.perf.stage import evaluate_summary, run_evaluate
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


STAGES: list[Stage] = [
    Stage("checks", "Design checks", lambda s: bool(s.layouts), run_checks, checks_summary,
          passed=checks_passed),
    Stage("cluster", "Cluster and fabric", lambda s: s.spec.cluster is not None, run_cluster,
          cluster_summary, passed=cluster_passed, data=cluster_data),
    Stage("evaluate", "Performance", lambda s: s.spec.evaluate is not None, run_evaluate,
          evaluate_summary),
    Stage("source", "Sourcing", lambda s: s.spec.sourcing is not None, run_source,
          source_summary, passed=source_passed, data=lambda r: r.to_dict()),
    Stage("compare", "Candidate comparison", lambda s: s.spec.compare is not None, run_compare,
          compare_summary, data=compare_dict),
    Stage("build", "Assembly and test line", lambda s: s.spec.line is not None, run_build,
          build_summary),
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
