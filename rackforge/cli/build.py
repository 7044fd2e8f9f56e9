"""``rackforge build`` and ``rackforge validate queueing``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rackforge.cache import DEFAULT_FOLDER
from rackforge.cli.app import (
    EXIT_FAILED,
    CacheDirOption,
    ExplainFlag,
    JsonFlag,
    NoCacheFlag,
    ScenarioFile,
    StageOptions,
    app,
    console,
    print_json,
    run_stages,
    validate_app,
)
from rackforge.errors import InputError
from rackforge.factory.spec import MAX_RACKS, MAX_REPLICATIONS, MAX_WEEKS
from rackforge.factory.statistics import Estimate, LineResult
from rackforge.factory.validate import (
    MAX_REPLICATIONS as MAX_CASE_REPLICATIONS,
)
from rackforge.factory.validate import PRECISION, TOLERANCE, read_cases, run_case
from rackforge.scenario import load, with_changes

RacksOpt = Annotated[int | None, typer.Option("--racks", min=1, max=MAX_RACKS,
                                              show_default=False,
                                              help="Racks to ship per replication.")]
WeeksOpt = Annotated[float | None, typer.Option("--weeks", min=0.01, show_default=False,
                                                help="Weeks to simulate per replication.")]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-r", min=2,
                                             max=MAX_REPLICATIONS, show_default=False,
                                             help="Replications (default: the line's run).")]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, show_default=False,
                                             help="Random seed (default: the line's run).")]
CsvFile = Annotated[Path, typer.Argument(help="Queueing reference CSV file.",
                                         show_default=False)]


def _progress(quiet: bool) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True, disable=quiet)


@app.command("build")
def build(file: ScenarioFile, racks: RacksOpt = None, weeks: WeeksOpt = None,
          replications: RepsOpt = None, seed: SeedOpt = None, json: JsonFlag = False,
          no_cache: NoCacheFlag = False, cache_dir: CacheDirOption = DEFAULT_FOLDER,
          explain: ExplainFlag = False) -> None:
    """Simulate the scenario's assembly and test line: racks per week, cycle time, bottleneck.

    The options override the line's run block (line.run), so the same run of the same line is
    shared with ``rackforge run`` through the result cache.
    """
    if racks is not None and weeks is not None:
        raise InputError("give --racks or --weeks, not both", hint="Use one of them.")
    if weeks is not None and not weeks < float("inf"):  # nan and inf pass the option's min
        raise InputError("weeks to simulate must be finite", None, "--weeks", weeks,
                         "a number of weeks of at least 0.01")
    if weeks is not None and weeks > MAX_WEEKS:
        raise InputError("too many weeks to simulate", None, "--weeks", weeks,
                         f"at most {MAX_WEEKS:g} weeks (ten years, see line.run.weeks)")
    scenario = load(file)
    if scenario.spec.line is None:
        raise InputError("the scenario has no line section", str(file), "line",
                         expected="a line: section with stations and a release policy")
    changes = {f"run.{key}": value for key, value in (
        ("replications", replications), ("seed", seed)) if value is not None}
    if racks is not None or weeks is not None:
        changes |= {"run.racks": racks, "run.weeks": weeks}
    if changes:
        scenario = with_changes(scenario, "line", changes)
    run = run_stages(scenario, ["build"], StageOptions.of(no_cache, cache_dir, explain),
                     quiet=json)
    result: LineResult = run.outcomes["build"].result
    if json:
        print_json(result.to_dict())
        return
    _print_result(result)


def _ci(e: Estimate, fmt: str = ".1f") -> str:
    return f"{e.mean:{fmt}} ± {e.half_width:{fmt}}"


def _print_result(r: LineResult) -> None:
    console.print(f"[bold]{r.line}[/]: {r.replications} replications, seed {r.seed}, "
                  f"{r.window_h / 168:.1f} weeks measured each after {r.warmup_h:.0f} h warm-up")
    pct = r.cycle_time_percentiles_h
    console.print(f"  racks per week   {_ci(r.racks_per_week)}  (95 % CI)")
    console.print(f"  cycle time       {_ci(r.cycle_time_h)} h mean; p50 {pct['p50']:.1f} h, "
                  f"p90 {pct['p90']:.1f} h, p99 {pct['p99']:.1f} h")
    console.print(f"  WIP              {_ci(r.wip_racks)} racks; Little's law L = λW within "
                  f"{r.little.relative_error:.2%}")
    if r.analytic is not None:
        a = r.analytic
        console.print(f"  {a.method}: {a.throughput_per_h * 168:.1f} racks/week, "
                      f"cycle {a.cycle_time_h:.2f} h")
    table = Table("station", "servers", "utilization", "busy", "blocked", "starved", "down",
                  "units inside", title=f"bottleneck: {r.bottleneck}")
    for s in r.stations:
        mark = "[bold red]" if s.name == r.bottleneck else ""
        table.add_row(f"{mark}{s.name}", str(s.servers), f"{mark}{s.utilization.mean:.1%}",
                      f"{s.busy:.1%}", f"{s.blocked:.1%}", f"{s.starved:.1%}", f"{s.down:.1%}",
                      f"{s.units_inside.mean:.1f}")
    console.print(table)
    console.print(f"  {r.events:,} events in {r.wall_s:.1f} s ({r.events_per_s:,.0f} events/s); "
                  f"scrapped {r.scrapped_per_week:.2f} racks/week")


PrecisionOpt = Annotated[float, typer.Option(
    "--precision", min=0.001, max=0.5,
    help="Relative precision: add replications until each 95 % CI half-width is within it "
         "of the mean (Law & Kelton's sequential procedure).")]


@validate_app.command("queueing")
def queueing(file: CsvFile, precision: PrecisionOpt = PRECISION, json: JsonFlag = False) -> None:
    """Simulate each case of a queueing reference table and compare with the reference.

    Each case runs replications until its intervals are within --precision (or
    MAX_REPLICATIONS); a case whose interval never got that narrow is inconclusive, and the
    command exits 1 only when a case failed."""
    cases = read_cases(file)
    results = []
    with _progress(json) as bar:
        task = bar.add_task("cases", total=len(cases))
        reps = bar.add_task("replications", total=MAX_CASE_REPLICATIONS)
        for case in cases:
            bar.update(task, description=f"simulating {case.name}")
            bar.reset(reps, total=MAX_CASE_REPLICATIONS)

            def step(done: int, most: int) -> None:
                bar.update(reps, completed=done, total=most)

            results.append(run_case(case, on_progress=step, precision=precision))
            bar.advance(task)
    failed = [r.case.name for r in results if r.status == "failed"]
    inconclusive = [r.case.name for r in results if r.status == "inconclusive"]
    if json:
        print_json({"tolerance": TOLERANCE, "precision": precision,
                    "max_replications": MAX_CASE_REPLICATIONS,
                    "cases": [r.to_dict() for r in results], "failed": failed,
                    "inconclusive": inconclusive})
    else:
        _print_cases(results, precision)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _print_cases(results: list, precision: float) -> None:
    table = Table("case", "TH ref \\[1/h]", "TH sim", "err", "CT ref \\[h]", "CT sim", "err",
                  "closed form", "reps", "ok", box=box.SIMPLE, pad_edge=False,
                  title=f"queueing validation (95 % CI within {precision:.1%}, pass within "
                        f"{TOLERANCE:.0%})")
    table.columns[0].no_wrap = True
    methods = {}
    for r in results:
        a = r.analytic
        closed = "-" if a is None else f"{a.throughput_per_h:.4f} / {a.cycle_time_h:.3f}"
        if a is not None:
            methods.setdefault(a.method, []).append(r.case.name)
        table.add_row(r.case.name, f"{r.case.throughput_per_h:.4f}",
                      _ci(r.throughput_per_h, ".4f").replace(" ", ""),
                      f"{r.throughput_error:+.2%}", f"{r.case.cycle_time_h:.3f}",
                      _ci(r.cycle_time_h, ".3f").replace(" ", ""),
                      f"{r.cycle_time_error:+.2%}", closed, str(r.throughput_per_h.n),
                      _STATUS[r.status])
    console.print(table)
    if any(r.status == "inconclusive" for r in results):
        console.print(f"  inconclusive: the 95 % interval did not get within {precision:.1%} "
                      f"in {MAX_CASE_REPLICATIONS} replications (try a larger --precision)")
    for method, names in methods.items():
        console.print(f"  closed form by {method}: {', '.join(names)}")


_STATUS = {"passed": "[green]yes[/]", "failed": "[red]no[/]",
           "inconclusive": "[yellow]inconclusive[/]"}
