"""A sweep end to end: the points of a space, each run (or found done in the output folder),
their rows in ``results.parquet`` and the report in ``report.html``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from rackforge import pipeline
from rackforge.errors import InputError
from rackforge.inputs import closest, read_yaml, validate
from rackforge.sweep.backends import Backend, run_all
from rackforge.sweep.points import context, point_key, run_point
from rackforge.sweep.report import sweep_report
from rackforge.sweep.space import SpaceSpec, points
from rackforge.sweep.table import PartWriter, done_keys, gather, schema

Progress = Callable[[int, int], None]   # points done, points in the sweep


@dataclass(frozen=True)
class SweepOptions:
    backend: Backend = "local"
    workers: int = 1
    ray_address: str | None = None
    cache_dir: str | None = None


@dataclass(frozen=True)
class SweepSummary:
    points: int
    ran: int            # points run now (the others were in the output folder already)
    table: pa.Table


def load_space(path: str | Path) -> SpaceSpec:
    """The space file, validated (InputError with its key path for a mistake)."""
    space = validate(SpaceSpec, read_yaml(path), str(path))
    for i, name in enumerate(space.stages or []):
        if name not in pipeline.BY_NAME:
            raise InputError("unknown stage", str(path), f"stages[{i}]", name,
                             f"one of {', '.join(pipeline.BY_NAME)}",
                             closest(name, pipeline.BY_NAME))
    return space


def sweep(scenario_file: str | Path, space: SpaceSpec, out: Path, options: SweepOptions,
          progress: Progress | None = None) -> SweepSummary:
    """Run every point of `space` not already in `out`; write results.parquet and
    report.html there."""
    data = read_yaml(scenario_file)
    stages = tuple(space.stages) if space.stages else None
    shared = context(str(scenario_file), data, stages, options.cache_dir)
    overrides = points(space, str(scenario_file))
    keys = [point_key(shared.key, o) for o in overrides]
    columns = {name: [o[name] for o in overrides] for name in space.parameters}
    table_schema = schema(columns)
    parts = out / "parts"
    done = done_keys(parts)
    todo = [(i, o) for i, (o, k) in enumerate(zip(overrides, keys, strict=True))
            if k not in done]
    writer = PartWriter(parts, table_schema)
    finished = len(overrides) - len(todo)
    for row in run_all(run_point, shared, todo, options.backend, options.workers,
                       options.ray_address):
        writer.add(row)
        finished += 1
        if progress is not None:
            progress(finished, len(overrides))
    writer.flush()
    table = gather(parts, keys, table_schema)
    pq.write_table(table, out / "results.parquet")
    title = f"Sweep of {Path(scenario_file).name}: {len(overrides):,} points"
    (out / "report.html").write_text(sweep_report(table, list(space.parameters), title),
                                     encoding="utf-8")
    return SweepSummary(len(overrides), len(todo), table)
