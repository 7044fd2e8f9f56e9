"""``rackforge sweep FILE --space SPACE.yaml -o DIR``: many variants of one scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rackforge.cache import DEFAULT_FOLDER
from rackforge.cli.app import CacheDirOption, NoCacheFlag, ScenarioFile, app, console, err_console
from rackforge.errors import InputError
from rackforge.scenario import load
from rackforge.sweep.backends import Backend, default_workers
from rackforge.sweep.run import SweepOptions, load_space, sweep

SpaceOption = Annotated[Path, typer.Option("--space", help="Space file: the scenario keys to "
                                           "vary and how.", show_default=False)]
OutOption = Annotated[Path, typer.Option("-o", "--out", help="Folder for results.parquet and "
                                         "report.html (a rerun skips the points it holds).")]
WorkersOption = Annotated[int | None, typer.Option(
    "--workers", min=1, help="Processes (Ray: CPUs) to run points on; default: all cores.",
    show_default=False)]
BackendOption = Annotated[str, typer.Option(
    "--backend", help="local (a process pool) or ray (the optional extra rackforge[ray]).")]
RayAddressOption = Annotated[str | None, typer.Option(
    "--ray-address", help="A Ray cluster to join (default: start Ray on this machine).")]


def backend_of(name: str) -> Backend:
    if name not in ("local", "ray"):
        raise InputError("unknown backend", None, "--backend", name, "local or ray")
    return name  # type: ignore[return-value]


def progress_bar(quiet: bool = False) -> Progress:
    """Points done of all, rate, elapsed time and time left, on stderr."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err_console, transient=True, disable=quiet)


@app.command(name="sweep")
def sweep_cmd(file: ScenarioFile, space: SpaceOption, out: OutOption = Path("sweep-out"),
              workers: WorkersOption = None, backend: BackendOption = "local",
              ray_address: RayAddressOption = None, no_cache: NoCacheFlag = False,
              cache_dir: CacheDirOption = DEFAULT_FOLDER) -> None:
    """Run every point of a space of overrides of FILE through the stages it names.

    Each point is FILE with its overrides applied, checked by the same loader (a point that
    makes bad input is a row with its one-line error). Writes DIR/results.parquet (one row per
    point: overrides, status, headline figures) and DIR/report.html (Pareto front, parallel
    coordinates, best points). Stages shared between points come from the result cache.
    """
    load(file)                     # the scenario itself must load before its variants run
    spec = load_space(space)
    options = SweepOptions(backend_of(backend), workers or default_workers(), ray_address,
                           None if no_cache else str(cache_dir))
    out.mkdir(parents=True, exist_ok=True)
    with progress_bar() as bar:
        task = bar.add_task("points", total=None, rate="")

        def advance(done: int, total: int) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            bar.update(task, completed=done, total=total,
                       rate=f"{done / elapsed:,.1f} points/s" if elapsed > 0 else "")

        summary = sweep(file, spec, out, options, advance)
    statuses = summary.table.column("status").to_pylist()
    console.print(f"{summary.points:,} points ({summary.ran:,} run now): "
                  f"{statuses.count('ok'):,} ok, {statuses.count('bad input'):,} bad input, "
                  f"{statuses.count('failed'):,} failed")
    console.print(f"wrote {out / 'results.parquet'} and {out / 'report.html'}")
