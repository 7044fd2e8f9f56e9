"""The scenario file: schema and :func:`load`, the only place that reads a scenario.

A scenario is one YAML mapping. Each top-level section belongs to one domain and its schema lives
in that domain's package (``design/spec.py`` for racks, ``factory/spec.py`` for the line, ...);
this module only composes them, resolves catalog ids and reports errors with the file and key path.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from rackforge.catalog import Catalog, load_catalog
from rackforge.catalog.loader import check_replacements, parse_parts
from rackforge.catalog.models import Frozen, PartBase
from rackforge.compare_spec import CompareSpec
from rackforge.deploy.spec import PlanSpec, quarters_of
from rackforge.design.cluster_spec import ClusterSpec, check_cluster
from rackforge.design.rack import RackLayout
from rackforge.design.rack import resolve as resolve_rack
from rackforge.design.spec import RackDesign, SiteSpec
from rackforge.economics import EconomicsSpec
from rackforge.errors import InputError
from rackforge.factory.spec import LineSpec
from rackforge.inputs import read_yaml, set_key_path, validate
from rackforge.perf.spec import EvaluateSpec
from rackforge.perf.spec import resolve as resolve_perf
from rackforge.perf.workload import Workload
from rackforge.risk_spec import RiskSpec
from rackforge.sourcing.spec import SourcingSpec
from rackforge.sourcing.suppliers import load_suppliers


class ScenarioSpec(Frozen):
    """Top-level keys of a scenario file. Every section but ``name`` is optional."""

    name: str = Field(min_length=1)
    description: str | None = None
    parts: list[dict[str, Any]] = Field(default_factory=list,
                                        description="extra catalog parts, each with its kind")
    site: SiteSpec | None = None
    racks: list[RackDesign] = Field(default_factory=list)
    workloads: list[Workload] = Field(default_factory=list)
    evaluate: EvaluateSpec | None = None
    cluster: ClusterSpec | None = None
    line: LineSpec | None = None
    economics: EconomicsSpec | None = None
    compare: CompareSpec | None = None
    plan: PlanSpec | None = None
    sourcing: SourcingSpec | None = None
    risk: RiskSpec | None = None

    @field_validator("racks")
    @classmethod
    def _unique_rack_ids(cls, racks: list[RackDesign]) -> list[RackDesign]:
        ids = [r.id for r in racks]
        for i, rid in enumerate(ids):
            if rid in ids[:i]:
                raise ValueError(f"duplicate rack id {rid!r} at racks[{i}]")
        return racks


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: its validated sections and the catalog its ids resolve against."""

    spec: ScenarioSpec
    catalog: Catalog
    file: str | None = None
    layouts: dict[str, RackLayout] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name


def load(path: str | Path, catalog: Catalog | None = None) -> Scenario:
    """Read, validate and resolve a scenario file; raise :class:`InputError` on any mistake."""
    data = read_yaml(path)
    return from_dict(data, catalog, str(path))


def from_dict(data: Any, catalog: Catalog | None = None, file: str | None = None,
              folder: Path | None = None) -> Scenario:
    """Validate an already-parsed scenario mapping (see :func:`load`); files it names (a
    supplier table) are read from `folder`, by default the folder of `file`, the name errors
    give."""
    if not isinstance(data, dict):
        raise InputError("a scenario must be a YAML mapping", file, None, None,
                         "keys such as name, racks")
    spec = validate(ScenarioSpec, data, file)
    extra: list[PartBase] = parse_parts(spec.parts, file, "parts")
    catalog = catalog or load_catalog()
    check_replacements(catalog, extra, file, "parts")
    catalog = catalog.with_parts(extra, file)
    layouts = {r.id: resolve_rack(r, catalog, f"racks[{i}]", file)
               for i, r in enumerate(spec.racks)}
    check_cluster(spec.cluster, catalog, layouts, file)
    resolve_perf(spec.evaluate, spec.workloads, catalog, file)
    if spec.evaluate is not None and spec.evaluate.fabric_from_cluster and spec.cluster is None:
        raise InputError("fabric_from_cluster needs a cluster section", file,
                         "evaluate.fabric_from_cluster", True,
                         "a cluster: section to take the fabric from, or false")
    _check_schedules(spec, file)
    folder = folder or (Path(file).parent if file else Path("."))
    plan_quarters = quarters_of(spec.plan) if spec.plan is not None else ()
    sourcing = load_suppliers(spec.sourcing, folder, catalog, file, plan_quarters)
    return Scenario(spec.model_copy(update={"sourcing": sourcing}), catalog, file, layouts)


def _check_schedules(spec: ScenarioSpec, file: str | None) -> None:
    """One demand: with a plan, sourcing buys for the racks its ramp builds, and without one it
    needs a schedule of its own."""
    if spec.sourcing is None:
        return
    schedule = spec.sourcing.build_schedule
    if isinstance(schedule, dict) and spec.plan is not None:
        raise InputError("a build schedule of its own beside a plan: section", file,
                         "sourcing.build_schedule", "racks per quarter",
                         "'plan' (or no build_schedule): sourcing buys for the racks the "
                         "deployment ramp builds, so the two cannot disagree")
    if schedule == "plan" and spec.plan is None:
        raise InputError("build_schedule 'plan' needs a plan: section", file,
                         "sourcing.build_schedule", "plan",
                         "racks per quarter, or a plan: section whose ramp sets them")


def with_changes(scenario: Scenario, section: str, changes: dict[str, Any]) -> Scenario:
    """`scenario` with values in one section replaced, by key path within it
    (``{"run.seed": 3, "stations[2].servers": 12}``), and the section validated again by its
    schema; raises :class:`InputError` for a path that is not there or a value it rejects."""
    current = getattr(scenario.spec, section)
    if current is None:
        raise InputError(f"the scenario has no {section}: section", scenario.file, section)
    data = current.model_dump()
    for path, value in changes.items():
        try:
            set_key_path(data, path, value)
        except (KeyError, IndexError, TypeError):
            raise InputError("no such key", scenario.file, f"{section}.{path}", None,
                             "a key path that exists in the section") from None
    updated = validate(type(current), data, scenario.file, section)
    return replace(scenario, spec=scenario.spec.model_copy(update={section: updated}))
