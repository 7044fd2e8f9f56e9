"""``rackforge sweep FILE --space SPACE.yaml -o DIR``: many variants of one scenario."""

from __future__ import annotations

from json import dumps
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
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
from rackforge.cli.app import (
    CacheDirOption,
    JsonFlag,
    NoCacheFlag,
    ScenarioFile,
    app,
    console,
    err_console,
    print_json,
    simple_table,
)
from rackforge.errors import InputError
from rackforge.inputs import read_yaml
from rackforge.risk_spec import RiskSpec
from rackforge.scenario import load
from rackforge.sweep.backends import Backend, default_workers
from rackforge.sweep.montecarlo import (
    BASE,
    RiskReport,
    case_line,
    risk_context,
    risk_page,
    run_risk,
)
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


@app.command(name="risk")
def risk_cmd(file: ScenarioFile,
             samples: Annotated[int | None, typer.Option(
                 "--samples", min=2, max=1_000_000, show_default=False,
                 help="Monte Carlo samples (default: risk.samples of FILE, else 200).")] = None,
             seed: Annotated[int | None, typer.Option(
                 "--seed", min=0, show_default=False, help="Random seed (default: risk.seed).")
             ] = None,
             out: Annotated[Path | None, typer.Option(
                 "-o", "--out", help="Also write DIR/risk.json and DIR/report.html (fan chart)."
             )] = None,
             workers: WorkersOption = None, backend: BackendOption = "local",
             ray_address: RayAddressOption = None, json: JsonFlag = False) -> None:
    """Monte Carlo risk of the deployment ramp of FILE.

    Each sample draws supplier lead-time slips and failures, line yield and MTBF, and site power
    dates (the risk: section of FILE, or documented defaults) and plans the ramp. Prints, for
    each quarter, P10/P50/P90 of GW online and racks, the probability of reaching the target
    with its 95% interval, and the inputs that drive the spread; each named alternative of
    risk.alternatives is run on the same random numbers and compared with the base.
    """
    scenario = load(file)
    if scenario.spec.plan is None:
        raise InputError("the scenario has no plan: section", str(file), "plan",
                         expected="a plan: section, whose ramp the samples vary")
    spec = scenario.spec.risk or RiskSpec()
    context = risk_context(str(file), read_yaml(file), spec, samples or spec.samples,
                           spec.seed if seed is None else seed)
    with progress_bar(quiet=json) as bar:
        task = bar.add_task("samples", total=None, rate="")
        report = run_risk(context, backend_of(backend), workers or default_workers(),
                          ray_address, lambda done, total: bar.update(task, completed=done,
                                                                      total=total))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "risk.json").write_text(dumps(report.to_dict(), indent=1), encoding="utf-8")
        (out / "report.html").write_text(risk_page(report, spec, Path(file).name),
                                         encoding="utf-8")
    if json:
        print_json(report.to_dict())
        return
    _print_risk(report, out)


def _print_risk(report: RiskReport, out: Path | None) -> None:
    base = report.cases[BASE].to_dict()
    table = simple_table("GW online and racks by quarter (P10 / P50 / P90)",
                         ["quarter", "P10 GW", "P50 GW", "P90 GW", "P10 racks", "P50 racks",
                          "P90 racks"])
    for q in base["quarters"]:
        table.add_row(q["quarter"], *(_num(q[k], 3) for k in ("p10_gw", "p50_gw", "p90_gw")),
                      *(_num(q[k], 0) for k in ("p10_racks", "p50_racks", "p90_racks")))
    console.print(table)
    for name in report.cases:
        console.print(f"[bold]{escape(name)}[/]: {escape(case_line(report, name))}",
                      highlight=False)
    drivers = ", ".join(f"{d['input']} {_num(d['rank_correlation'], 2)}"
                        for d in base["drivers"][:5])
    console.print(f"drivers of the final power (rank correlation): {escape(drivers)}",
                  highlight=False)
    if out is not None:
        console.print(f"wrote {out / 'risk.json'} and {out / 'report.html'}")


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"
