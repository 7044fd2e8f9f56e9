"""The stage graph: its order, a run of the stages a question needs, and the result cache.

Each module of :mod:`rackforge.stages` is one stage: a ``run`` function whose parameters name
what it reads, ``TITLE``, ``SECTIONS`` (which of those parameters are scenario sections) and
``summary`` (``passed`` and ``data`` are optional). Every other parameter of ``run`` is the
result of the upstream stage of that name; a parameter with a default may be absent (the
section is not in the scenario, or the upstream stage does not run on it). So the graph is read
from the code: :func:`order` sorts the stages topologically when this module is imported and a
cycle, an unknown upstream or an unknown section is an error then.

:func:`run` runs the stages that the asked-for targets need, in that order, each on exactly
the sections and upstream results it declares. A stage is enabled when its required sections
are in the scenario and its required upstream stages are enabled. A stage that fails is recorded
with its error and the others still run; a stage whose input (required or optional) failed is
skipped with the reason, never run on part of its inputs. With a :class:`ResultCache`, a stage
whose key (:func:`stage_key`: its code version, the hashes of its sections and of its upstream
results) is stored is not run again. Keys are built on the upstream results' content, not on
their keys, so a stage that re-runs and gives the same answer leaves its downstream cached.
Nothing here prints or writes files except the cache: ``rackforge run``, the report, the server
and sweeps do that.

References
----------
.. [1] Kahn, A. B. "Topological sorting of large networks", Communications of the ACM 5 (11),
   1962, 558-562 (the ordering algorithm of :func:`order`).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from rackforge import __version__, stages
from rackforge.cache import CachedResult, ResultCache, content_key
from rackforge.code_version import code_version
from rackforge.errors import InputError, RackforgeError
from rackforge.jsonable import content_hash, jsonable
from rackforge.scenario import Scenario, ScenarioSpec

SCHEMA_VERSION = "1.2"
Status = Literal["ok", "failed", "skipped"]
RESOLVED_INPUTS = ("layouts", "catalog")   # derived at load: racks resolved, catalog with parts
PROGRESS = "progress"    # a run parameter of this name receives progress(done, total)
Progress = Callable[[str, int, int], None]


class StageGraphError(RackforgeError):
    """The stages' declarations do not form an acyclic graph of known names."""


@dataclass(frozen=True)
class Stage:
    """One stage: what it reads (sections, upstream results), how to run and show it."""

    name: str
    title: str
    run: Callable[..., Any]
    sections: tuple[str, ...]
    upstream: tuple[str, ...]
    optional: frozenset[str]
    summary: Callable[[Any], str]
    passed: Callable[[Any], bool] = lambda result: True  # False: the design fails this stage
    data: Callable[[Any], Any] = jsonable                 # the result as results.json data
    module: str = ""
    takes_progress: bool = False

    @classmethod
    def of(cls, module: ModuleType) -> Stage:
        """The stage a :mod:`rackforge.stages` module declares (see the module docstring)."""
        name = module.__name__.rsplit(".", 1)[-1]
        params = inspect.signature(module.run).parameters
        sections = tuple(p for p in params if p in module.SECTIONS)
        unknown = set(module.SECTIONS) - set(params)
        if unknown:
            raise StageGraphError(f"stage {name}: SECTIONS names {sorted(unknown)}, which "
                                  "run() does not take")
        bad = [s for s in sections if s not in ScenarioSpec.model_fields
               and s not in RESOLVED_INPUTS]
        if bad:
            raise StageGraphError(f"stage {name}: {bad} are not scenario sections")
        upstream = tuple(p for p in params if p not in sections and p != PROGRESS)
        optional = frozenset(p for p, v in params.items() if v.default is not v.empty)
        extras = {k: getattr(module, k) for k in ("passed", "data") if hasattr(module, k)}
        return cls(name, module.TITLE, module.run, sections, upstream, optional,
                   module.summary, module=module.__name__,
                   takes_progress=PROGRESS in params, **extras)


def order(declared: Iterable[Stage]) -> tuple[Stage, ...]:
    """The stages in data-flow order: Kahn's algorithm [1], taking among the stages ready at
    each step the one whose own section comes first in a scenario file (then by name), so the
    order reads like the file. Raises :class:`StageGraphError` on a cycle or an upstream
    no stage provides."""
    by_name = {s.name: s for s in declared}
    for stage in by_name.values():
        missing = [u for u in stage.upstream if u not in by_name]
        if missing:
            raise StageGraphError(f"stage {stage.name} reads {missing}, which no stage makes")
    waiting = {name: set(s.upstream) for name, s in by_name.items()}
    out: list[Stage] = []
    while waiting:
        ready = [name for name, needs in waiting.items() if not needs]
        if not ready:
            raise StageGraphError("the stages' inputs form a cycle: "
                                  + ", ".join(sorted(waiting)))
        name = min(ready, key=lambda n: (_file_position(by_name[n], by_name), n))
        out.append(by_name[name])
        del waiting[name]
        for needs in waiting.values():
            needs.discard(name)
    return tuple(out)


def _file_position(stage: Stage, by_name: Mapping[str, Stage]) -> int:
    """Where a stage's own section (the first it reads) stands among a scenario's keys; a
    stage that reads no section stands where its first upstream stage does."""
    if not stage.sections:
        return _file_position(by_name[stage.upstream[0]], by_name) if stage.upstream else 0
    keys = list(ScenarioSpec.model_fields)
    return keys.index({"layouts": "racks", "catalog": "parts"}.get(stage.sections[0],
                                                                   stage.sections[0]))


def _discover() -> tuple[Stage, ...]:
    names = sorted(m.name for m in pkgutil.iter_modules(stages.__path__))
    return order(Stage.of(importlib.import_module(f"{stages.__name__}.{n}")) for n in names)


STAGES: tuple[Stage, ...] = _discover()
BY_NAME: dict[str, Stage] = {s.name: s for s in STAGES}


@dataclass(frozen=True)
class Outcome:
    """What became of one stage in a run."""

    stage: str
    status: Status
    seconds: float
    summary: str
    result: Any = None
    error: str | None = None
    passed: bool = True
    data: Any = None
    key: str | None = None
    result_hash: str | None = None    # content hash of the result (None unless ok)
    inputs: tuple[str, ...] = ()      # upstream stages whose results it read
    sections: tuple[str, ...] = ()    # scenario sections it read
    cached: bool = False
    exception: RackforgeError | None = field(default=None, compare=False)


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
                              "seconds": round(o.seconds, 4), "summary": o.summary,
                              "error": o.error, "key": o.key, "result_hash": o.result_hash,
                              "inputs": list(o.inputs),
                              "sections": list(o.sections), "cached": o.cached,
                              "data": o.data}
                       for name, o in self.outcomes.items()},
        }

    def explain(self) -> list[str]:
        """One line per stage: how it ended and what it consumed."""
        lines = []
        for name, o in self.outcomes.items():
            how = "cached" if o.cached else {"ok": "ran"}.get(o.status, o.status)
            reads = ", ".join(o.sections) or "-"
            results = ", ".join(o.inputs) or "-"
            lines.append(f"{name:<9} {how:<7} sections: {reads}; results of: {results}")
        return lines

    def first_error(self, names: Iterable[str]) -> RackforgeError | None:
        """The error of the first of `names` that failed, for a front end to report."""
        return next((self.outcomes[n].exception for n in names if n in self.outcomes
                     and self.outcomes[n].exception is not None), None)


def needed(targets: Iterable[str], graph: Mapping[str, Stage] = BY_NAME) -> set[str]:
    """`targets` and every stage they read from, transitively."""
    out: set[str] = set()
    todo = list(targets)
    while todo:
        name = todo.pop()
        if name not in graph:
            raise InputError("unknown stage", None, None, name,
                             f"one of {', '.join(graph)}")
        if name not in out:
            out.add(name)
            todo += graph[name].upstream
    return out


def enabled(scenario: Scenario, graph: Iterable[Stage] = STAGES) -> dict[str, bool]:
    """Whether each stage runs on `scenario`: its required sections are present and its
    required upstream stages run."""
    out: dict[str, bool] = {}
    for stage in graph:
        sections = all(_present(section_value(scenario, s)) for s in stage.sections
                       if s not in stage.optional)
        upstream = all(out.get(u, False) for u in stage.upstream if u not in stage.optional)
        out[stage.name] = sections and upstream
    return out


def missing_sections(scenario: Scenario, name: str, graph: Mapping[str, Stage] = BY_NAME
                     ) -> list[str]:
    """The required sections a stage (or a stage it requires) lacks, so it cannot run; the
    resolved rack layouts are named by their section, ``racks``."""
    stage = graph[name]
    missing = ["racks" if s == "layouts" else s for s in stage.sections
               if s not in stage.optional and not _present(section_value(scenario, s))]
    for upstream in stage.upstream:
        if upstream not in stage.optional:
            missing += [m for m in missing_sections(scenario, upstream, graph) if m not in missing]
    return missing


def section_value(scenario: Scenario, name: str) -> Any:
    """A scenario section (or a resolved input: ``layouts``, ``catalog``) by name."""
    if name in RESOLVED_INPUTS:
        return getattr(scenario, name)
    return getattr(scenario.spec, name)


def _present(value: Any) -> bool:
    return value is not None and (not hasattr(value, "__len__") or len(value) > 0)


class SectionHashes:
    """Content hashes of a scenario's sections, computed once each."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self._done: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._done:
            self._done[name] = self._hash(name)
        return self._done[name]

    def _hash(self, name: str) -> str:
        if name == "catalog":
            return self.scenario.catalog.content_key
        if name == "layouts":   # the rack designs resolved against the catalog
            return content_key([self["racks"], self["catalog"]])
        return content_hash(section_value(self.scenario, name))


def stage_key(stage: Stage, sections: SectionHashes,
              upstream_hashes: Mapping[str, str | None]) -> str:
    """The cache key of `stage`: its name, code version, the hashes of its sections and the
    content hashes of its upstream results (None for an optional one that did not run)."""
    return content_key({"stage": stage.name, "code": code_version(stage.module),
                        "sections": {s: sections[s] for s in stage.sections},
                        "inputs": {u: upstream_hashes.get(u) for u in stage.upstream}})


def result_hash(result: Any) -> str:
    """Content hash of a stage result: every field (:func:`rackforge.jsonable.content_hash`)."""
    return content_hash(result)


@dataclass
class _Runner:
    scenario: Scenario
    cache: ResultCache | None
    progress: Progress | None
    hashes: SectionHashes
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def run(self, stage: Stage) -> Outcome:
        bad = [u for u in stage.upstream if u in self.outcomes
               and self.outcomes[u].status != "ok"]
        if bad:
            return Outcome(stage.name, "skipped", 0.0,
                           f"skipped: {', '.join(bad)} {self._why(bad)}",
                           inputs=stage.upstream, sections=stage.sections)
        hashes = {u: self.outcomes[u].result_hash for u in stage.upstream
                  if u in self.outcomes}
        key = stage_key(stage, self.hashes, hashes)
        began = time.perf_counter()
        hit = self.cache.get(key) if self.cache else None
        if hit is not None:
            return self._outcome(stage, key, hit, time.perf_counter() - began, cached=True)
        kwargs = {s: section_value(self.scenario, s) for s in stage.sections}
        kwargs |= {u: self.outcomes[u].result for u in stage.upstream if u in self.outcomes}
        if stage.takes_progress and self.progress is not None:
            kwargs[PROGRESS] = lambda done, total: self.progress(stage.name, done, total)
        try:
            result = stage.run(**kwargs)
        except RackforgeError as exc:
            located = exc.at(self.scenario.file) if isinstance(exc, InputError) and \
                exc.file is None else exc
            return Outcome(stage.name, "failed", time.perf_counter() - began,
                           f"failed: {located}", error=str(located), key=key,
                           inputs=stage.upstream, sections=stage.sections, exception=located)
        except Exception as exc:  # a bug in one stage must not hide the others' results
            detail = "".join(traceback.format_exception_only(exc)).strip()
            return Outcome(stage.name, "failed", time.perf_counter() - began,
                           f"failed (internal error): {detail}", error=traceback.format_exc(),
                           key=key, inputs=stage.upstream, sections=stage.sections)
        seconds = time.perf_counter() - began
        data = stage.data(result)
        if stage.data is not jsonable:     # a stage's own to_dict: its NaN / inf become null too
            data = jsonable(data)
        entry = CachedResult(result, stage.summary(result), bool(stage.passed(result)),
                             data, seconds, result_hash(result))
        if self.cache is not None:
            self._store(key, entry)
        return self._outcome(stage, key, entry, seconds, cached=False)

    def _why(self, bad: list[str]) -> str:
        statuses = {self.outcomes[u].status for u in bad}
        return "failed" if statuses == {"failed"} else "failed or skipped"

    def _store(self, key: str, entry: CachedResult) -> None:
        try:
            self.cache.put(key, entry)
        except OSError:
            pass   # a read-only or full cache folder costs speed, never the answer

    @staticmethod
    def _outcome(stage: Stage, key: str, entry: CachedResult, seconds: float, cached: bool
                 ) -> Outcome:
        return Outcome(stage.name, "ok", seconds, entry.summary, entry.result,
                       passed=entry.passed, data=entry.data, key=key,
                       result_hash=entry.result_hash, inputs=stage.upstream,
                       sections=stage.sections, cached=cached)


def run(scenario: Scenario, targets: Iterable[str] | None = None,
        cache: ResultCache | None = None, on_stage: Callable[[Stage], None] | None = None,
        progress: Progress | None = None, graph: tuple[Stage, ...] = STAGES) -> RunResult:
    """Run the stages `targets` need (default: every stage) that are enabled on `scenario`,
    in order; `on_stage` is called before each one and `progress(stage, done, total)` by
    stages that report it. Returns every outcome, in run order."""
    by_name = {s.name: s for s in graph}
    wanted = needed(targets, by_name) if targets is not None else set(by_name)
    on = enabled(scenario, graph)
    runner = _Runner(scenario, cache, progress, SectionHashes(scenario))
    for stage in graph:
        if stage.name in wanted and on[stage.name]:
            if on_stage is not None:
                on_stage(stage)
            runner.outcomes[stage.name] = runner.run(stage)
    return RunResult(scenario, runner.outcomes)
